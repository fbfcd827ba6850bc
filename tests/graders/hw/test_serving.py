import pytest
from pydantic import ValidationError

from graders.hw import ServingInput, estimate_serving
from graders.hw.catalog import get_model
from graders.hw.serving import kv_bytes_per_token, max_concurrency


@pytest.mark.parametrize(
    ("model", "expected"),
    [("opt-13b", 800 * 1024), ("llama3-8b", 128 * 1024), ("llama3-70b", 320 * 1024),
     ("llama3.1-405b", 504 * 1024)],
)
def test_kv_bytes_per_token(model: str, expected: int) -> None:
    # vLLM paper: OPT-13B = 2 x 5120 x 40 x 2 B = 800 KB ("KB" = 1000 B there).
    if model == "opt-13b":
        expected = 2 * 5120 * 40 * 2
    assert kv_bytes_per_token(get_model(model), "bf16") == pytest.approx(expected, rel=0.01)


def test_opt13b_request_of_2048_tokens_is_1_6_gb() -> None:
    assert 2048 * kv_bytes_per_token(get_model("opt-13b"), "fp16") / 1e9 == \
        pytest.approx(1.6, rel=0.05)


def test_405b_tp8_kv_per_gpu() -> None:
    r = estimate_serving(ServingInput(model="llama3.1-405b", gpu="H100", tp=8, weight_dtype="fp8",
                                      max_model_len=8192))
    assert r.kv_bytes_per_token_per_gpu == 64512
    assert r.kv_heads_per_gpu == 1


def test_kv_replicated_when_tp_exceeds_kv_heads() -> None:
    r = estimate_serving(ServingInput(model="llama3-8b", gpu="H100", tp=16, max_model_len=4096))
    assert r.kv_heads_per_gpu == 1
    assert r.kv_bytes_per_token_per_gpu == 2 * 32 * 128 * 2
    assert any(p.code == "kv_heads_replicated" for p in r.problems)


def test_tp_must_divide_kv_heads() -> None:
    model = {"num_layers": 2, "hidden_size": 3072, "num_attention_heads": 24, "num_kv_heads": 6,
             "vocab_size": 1000}
    with pytest.raises(ValidationError, match="num_kv_heads"):
        ServingInput.model_validate({"model": model, "gpu": "H100", "tp": 4,
                                     "max_model_len": 4096})


def test_w8a8_llama31_70b_weights_and_concurrency() -> None:
    # vLLM PR #12569 log: weights 67.7229 GiB; 1381 blocks x 16 / 2048 = 10.79x.
    r = estimate_serving(ServingInput(model="llama3-70b", gpu="H100", weight_dtype="int8",
                                      gpu_memory_utilization=0.98, max_model_len=2048))
    assert r.weights_gib_per_gpu == pytest.approx(67.7229, rel=0.01)
    assert max_concurrency(1381, 16, 2048) == pytest.approx(10.79, rel=0.001)


def test_vllm_pool_rule_with_measured_overheads() -> None:
    # RTX-3090 log: 0.9 x 23.58 - 17.06 - 0.35 = 3.81 GiB = 1952 blocks (128 KiB/token).
    r = estimate_serving(ServingInput(model="llama3-8b", gpu="A100-40GB", memory_gib=23.58,
                                      gpu_memory_utilization=0.9, weights_gib=17.06,
                                      activation_peak_gib=0.0, non_torch_gib=0.35,
                                      max_model_len=20000))
    assert r.kv_pool_gib_per_gpu == pytest.approx(3.81, rel=0.01)
    assert r.num_blocks == pytest.approx(1952, rel=0.01)
    assert r.max_concurrency_at_max_len == pytest.approx(1.56, rel=0.01)


def test_does_not_fit_when_weights_exceed_memory() -> None:
    r = estimate_serving(ServingInput(model="llama3-70b", gpu="A100-40GB", tp=1,
                                      max_model_len=4096))
    assert not r.fits
    assert r.kv_capacity_tokens == 0
    assert [p.code for p in r.problems] == ["weights_do_not_fit"]


def test_decode_is_memory_bound_and_prefill_compute_bound_at_batch_1() -> None:
    r = estimate_serving(ServingInput(model="llama3-8b", gpu="H100", max_model_len=8192,
                                      batch_size=1, prompt_len=4096))
    assert r.decode_bound == "memory"
    assert r.prefill_bound == "compute"
    # One decode step reads all weights once: ~16 GB / 3.35 TB/s ~ 5 ms.
    assert r.decode_s_per_token == pytest.approx(16.1e9 / 3.35e12, rel=0.1)


def test_extra_field_rejected() -> None:
    with pytest.raises(ValidationError, match="colour"):
        ServingInput.model_validate({"model": "llama3-8b", "gpu": "H100", "max_model_len": 10,
                                     "colour": "red"})


def test_tp_decode_pays_latency_bound_all_reduces() -> None:
    one = estimate_serving(ServingInput(model="llama3-70b", gpu="H100", tp=1,
                                        weight_dtype="fp8", max_model_len=4096))
    eight = estimate_serving(ServingInput(model="llama3-70b", gpu="H100", tp=8,
                                          max_model_len=4096))
    assert one.tp_allreduce_s_per_token == 0
    # 160 all-reduces of 16 KB: latency-bound, tree 2*log2(8) steps x 3 us -> ~2.9 ms.
    assert eight.tp_allreduce_s_per_token == pytest.approx(160 * 6 * 3e-6, rel=0.05)
    assert eight.decode_s_per_token < one.decode_s_per_token


def test_qwen3_moe_preset_and_kv_per_gpu_matches_sglang_log() -> None:
    from graders.hw.transformer import count_params

    q = get_model("qwen3-235b-a22b")
    pc = count_params(q)
    assert pc.total / 1e9 == pytest.approx(235, rel=0.01)
    assert pc.active / 1e9 == pytest.approx(22, rel=0.02)
    # SGLang on 4 x H100: K = V = 8.23 GiB for 367,404 tokens -> bytes/token/GPU.
    r = estimate_serving(ServingInput(model="qwen3-235b-a22b", gpu="H100", tp=4,
                                      weight_dtype="fp8", max_model_len=4096))
    assert r.kv_bytes_per_token_per_gpu == pytest.approx(2 * 8.23 * 2**30 / 367404, rel=0.01)
