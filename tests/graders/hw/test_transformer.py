"""Formula-defined published cases (published_cases.yaml, FORMULAS.md), each within 1%."""

import pytest

from graders.hw import ModelSpec
from graders.hw.catalog import get_model
from graders.hw.transformer import (
    GIB,
    activation_bytes_per_token_layer,
    bubble_fraction,
    count_params,
    interleave_memory_factor,
    korthikanti_72_flops,
    megatron_96_flops,
    model_flops_per_token,
    recompute_flops_per_token,
    state_bytes_per_param,
    zero_sharded_bytes,
)


def gpt(layers: int, hidden: int, heads: int, vocab: int = 51200, seq: int = 2048) -> ModelSpec:
    return ModelSpec(num_layers=layers, hidden_size=hidden, num_attention_heads=heads,
                     vocab_size=vocab, bias=True, norm="layernorm", tied_embeddings=True,
                     max_position_embeddings=seq)


@pytest.mark.parametrize(
    ("layers", "hidden", "heads", "billions"),
    [(24, 2304, 24, 1.7), (60, 10240, 80, 76.1), (105, 20480, 128, 529.6),
     (128, 25600, 160, 1008.0)],
)
def test_megatron_table1_parameter_counts(layers: int, hidden: int, heads: int,
                                          billions: float) -> None:
    # Table 1 prints billions to one decimal: 1.652 is printed "1.7", so the tolerance is
    # half the last printed digit (0.05 B) or 1%, whichever is larger.
    got = count_params(gpt(layers, hidden, heads)).total / 1e9
    assert got == pytest.approx(billions, abs=max(0.05, 0.01 * billions))


def test_general_count_equals_megatron_eq2() -> None:
    n_l, h, v, s = 96, 12288, 51200, 2048
    eq2 = 12 * n_l * h**2 * (1 + 13 / (12 * h) + (v + s) / (12 * n_l * h))
    # eq.(2) leaves out the final LayerNorm (2h parameters).
    assert count_params(gpt(n_l, h, 96)).total - 2 * h == pytest.approx(eq2, rel=1e-12)


def test_model_flops_equal_korthikanti_72_formula_for_gpt() -> None:
    per_token = model_flops_per_token(gpt(96, 12288, 96), 2048)
    assert per_token == pytest.approx(korthikanti_72_flops(1, 2048, 96, 12288, 51200) / 2048,
                                      rel=1e-12)
    assert per_token / 1e9 == pytest.approx(1076.5, rel=0.01)


def test_full_recompute_hardware_flops_equal_megatron_96_formula() -> None:
    m, s = gpt(105, 20480, 128), 2048
    hw = (model_flops_per_token(m, s) + recompute_flops_per_token(m, s, "full")) * 1920 * s
    assert hw == pytest.approx(megatron_96_flops(1920, s, 105, 20480, 51200), rel=1e-12)


@pytest.mark.parametrize(
    ("gpus", "seconds", "tflops"), [(2240, 60.1, 126), (3360, 44.4, 113)]
)
def test_mtnlg_hardware_tflops_from_96_formula(gpus: int, seconds: float, tflops: float) -> None:
    f = megatron_96_flops(1920, 2048, 105, 20480, 51200)
    assert f / seconds / gpus / 1e12 == pytest.approx(tflops, rel=0.01)


@pytest.mark.parametrize(
    ("model", "seq", "convention", "gflops"),
    [
        ("llama3-70b", 8192, "full", 481.4),  # NeMo 24.07: 738 TF / 1533 tok/s
        ("llama2-70b", 4096, "full", 444.5),  # NeMo 24.07: 759 TF / 1707 tok/s
        ("llama3-70b", 8192, "causal", 449.2),  # Megatron-Bridge 25.09
        ("llama3.1-405b", 8192, "causal", 2524.0),  # Megatron-Bridge 25.09
    ],
)
def test_nvidia_model_flops_per_token(model: str, seq: int, convention: str,
                                      gflops: float) -> None:
    got = model_flops_per_token(get_model(model), seq, convention)  # type: ignore[arg-type]
    assert got / 1e9 == pytest.approx(gflops, rel=0.01)


def test_nemo_published_throughput_matches_flops_per_token() -> None:
    assert 1533 * model_flops_per_token(get_model("llama3-70b"), 8192) / 1e12 == \
        pytest.approx(738, rel=0.01)
    assert 1707 * model_flops_per_token(get_model("llama2-70b"), 4096) / 1e12 == \
        pytest.approx(759, rel=0.01)


def test_six_n_d_for_llama3_405b_budget() -> None:
    assert 6 * 405e9 * 15.6e12 == pytest.approx(3.8e25, rel=0.01)


def _first_stage_activation_gib(m: ModelSpec, s: int, t: int, p: int, v: int, sp: bool,
                                recompute: str) -> float:
    per = activation_bytes_per_token_layer(m, s, t, sp, recompute, "standard")  # type: ignore[arg-type]
    return per * s * m.num_layers * interleave_memory_factor(p, v) / GIB


@pytest.mark.parametrize(
    ("layers", "hidden", "heads", "p", "v", "baseline", "sp_selective", "state"),
    [
        (128, 25600, 160, 64, 1, 131.25, 26.5625, 32.958984375),
        (105, 20480, 128, 35, 3, 114.0234375, 23.076171875, 31.640625),
    ],
)
def test_korthikanti_fig1_memory(layers: int, hidden: int, heads: int, p: int, v: int,
                                 baseline: float, sp_selective: float, state: float) -> None:
    m = gpt(layers, hidden, heads)
    assert _first_stage_activation_gib(m, 2048, 8, p, v, False, "none") == \
        pytest.approx(baseline, rel=0.01)
    assert _first_stage_activation_gib(m, 2048, 8, p, v, True, "selective") == \
        pytest.approx(sp_selective, rel=0.01)
    params = 12 * layers * hidden**2 / (8 * p)
    sb = state_bytes_per_param("bf16", fp32_grads=True)
    assert sum(zero_sharded_bytes(params, sb, 0, 1)) / GIB == pytest.approx(state, rel=0.01)


def test_korthikanti_table2_rows() -> None:
    m = gpt(1, 12288, 96)
    s, h, a, t = 2048, 12288, 96, 8
    rows = {
        (1, False, "none"): 34 + 5 * a * s / h,
        (t, False, "none"): 10 + 24 / t + 5 * a * s / (h * t),
        (t, True, "none"): 34 / t + 5 * a * s / (h * t),
        (t, False, "selective"): 10 + 24 / t,
        (t, True, "selective"): 34 / t,
        (t, False, "full"): 2,
    }
    for (tp, sp, rc), per_sbh in rows.items():
        got = activation_bytes_per_token_layer(m, s, tp, sp, rc, "standard")  # type: ignore[arg-type]
        assert got / h == pytest.approx(per_sbh, rel=1e-9), (tp, sp, rc)


def test_zero_paper_model_state_examples() -> None:
    sb = state_bytes_per_param("fp16", fp32_grads=False)
    psi = 7.5e9
    assert sum(zero_sharded_bytes(psi, sb, 0, 64)) / 1e9 == pytest.approx(120, rel=0.01)
    assert sum(zero_sharded_bytes(psi, sb, 1, 64)) / 1e9 == pytest.approx(31.4, rel=0.01)
    assert sum(zero_sharded_bytes(psi, sb, 2, 64)) / 1e9 == pytest.approx(16.6, rel=0.01)
    assert sum(zero_sharded_bytes(psi, sb, 3, 64)) / 1e9 == pytest.approx(1.9, rel=0.02)
    assert sum(zero_sharded_bytes(1.5e9, sb, 0, 1)) / 1e9 == pytest.approx(24, rel=0.01)


def test_accelerate_heuristic_undercounts_mixed_precision_adam() -> None:
    # accelerate: "Adam ~ 4x model size" = 8 B/param at fp16; the real count is 16-18.
    sb = state_bytes_per_param("bf16", fp32_grads=True)
    assert sb.weights + sb.gradients + sb.optimizer == 18
    assert sb.weights + sb.gradients + sb.optimizer > 4 * 2


def test_pipeline_bubble() -> None:
    assert bubble_fraction(8, 64) == pytest.approx(7 / 64)
    assert bubble_fraction(8, 64, 3) == pytest.approx(7 / (3 * 64))
    assert bubble_fraction(1, 5) == 0
    assert interleave_memory_factor(35, 3) == pytest.approx(1 + 34 / 105)


def test_deepspeed_zero3_estimator_t0_3b() -> None:
    from graders.hw.transformer import deepspeed_zero3_gpu_bytes

    p, largest = 2783e6, 65e6
    assert deepspeed_zero3_gpu_bytes(p, largest, 1) / GIB == pytest.approx(46.91, rel=0.01)
    assert deepspeed_zero3_gpu_bytes(p, largest, 2) / GIB == pytest.approx(23.58, rel=0.01)
    assert deepspeed_zero3_gpu_bytes(p, largest, 1, "all") == pytest.approx(4 * largest)


def test_accelerate_heuristic_for_zephyr() -> None:
    from graders.hw.transformer import accelerate_adam_training_bytes

    # 13.74 GB fp16 weights -> 54.98 "training with Adam" (4x), in the report's units.
    fp16_params = 13.74 / 2
    assert accelerate_adam_training_bytes(fp16_params, 2) == pytest.approx(54.98, rel=0.01)


def test_checkpoint_size_14_bytes_per_param() -> None:
    from graders.hw.transformer import checkpoint_bytes

    assert checkpoint_bytes(1008e9) / 1e12 == pytest.approx(13.8, rel=0.03)
    assert 176e9 * 2 / GIB == pytest.approx(329, rel=0.01)  # BLOOM bf16 weights only


def test_palm_540b_parameters_and_mfu() -> None:
    from graders.hw.transformer import mfu_from_throughput

    palm = get_model("palm-540b")
    assert count_params(palm).total / 1e9 == pytest.approx(540.35, rel=0.01)
    # PaLM §4.1: 238.3K tokens/s on 6144 TPU v4 (275 TF) -> 46.2% MFU incl. attention.
    assert mfu_from_throughput(palm, 2048, 238.3e3, 6144, 275) == pytest.approx(0.462, rel=0.01)


def test_mtnlg_mfu_as_recomputed_by_palm() -> None:
    from graders.hw.transformer import mfu_from_throughput

    mtnlg = gpt(105, 20480, 128)
    tok_s = 1920 * 2048 / 60.1
    assert mfu_from_throughput(mtnlg, 2048, tok_s, 2240, 312) == pytest.approx(0.302, rel=0.01)


@pytest.mark.parametrize(
    ("layers", "hidden", "heads", "mfu", "hfu"),
    [(96, 12288, 96, 51.4, 52.8), (128, 25600, 160, 56.3, 57.0)],
)
def test_korthikanti_hfu_over_mfu_with_selective_recompute(layers: int, hidden: int,
                                                           heads: int, mfu: float,
                                                           hfu: float) -> None:
    m = gpt(layers, hidden, heads)
    model = model_flops_per_token(m, 2048)
    hardware = model + recompute_flops_per_token(m, 2048, "selective")
    assert mfu * hardware / model == pytest.approx(hfu, rel=0.001)


def test_end_to_end_training_time_examples() -> None:
    from graders.hw.transformer import days_for_tokens, megatron_training_days

    # Megatron 2021 §5.1: GPT-3 175B, 300B tokens, 1024 A100 at 140 TF -> 34 days;
    # 1T, 450B tokens, 3072 GPUs at 163 TF -> 84 days.
    assert megatron_training_days(175e9, 300e9, 1024, 140) == pytest.approx(34, rel=0.02)
    assert megatron_training_days(1e12, 450e9, 3072, 163) == pytest.approx(84, rel=0.02)
    # NeMo 24.07: 10T tokens on 1k (1024) GPUs: Llama 3 70B 74 days, Llama 2 70B 66 days.
    assert days_for_tokens(10e12, 1533, 1024) == pytest.approx(74, rel=0.01)
    assert days_for_tokens(10e12, 1707, 1024) == pytest.approx(66, rel=0.01)


def test_fp8_saves_gemm_inputs_in_one_byte_and_no_dropout_stores_no_masks() -> None:
    h, s, t = 12288, 2048, 8
    m = gpt(1, h, 96)
    bf16 = activation_bytes_per_token_layer(m, s, t, False, "selective", "flash")
    fp8 = activation_bytes_per_token_layer(m, s, t, False, "selective", "flash", fp8=True)
    # QKV and MLP inputs (replicated, h each), projection input (h/t), FC2 input (4h/t).
    assert bf16 - fp8 == pytest.approx(2 * h + (h + 4 * h) / t)
    no_drop = activation_bytes_per_token_layer(m.model_copy(update={"dropout": False}), s, t,
                                               False, "none", "standard")
    with_drop = activation_bytes_per_token_layer(m, s, t, False, "none", "standard")
    # Two hidden masks (2h, replicated) and the attention mask + dropout output (3 B/score).
    assert with_drop - no_drop == pytest.approx(2 * h + 3 * 96 * s / t)
    assert not get_model("llama3-70b").dropout and get_model("gpt3-175b").dropout
