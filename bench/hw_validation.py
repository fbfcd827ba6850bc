"""Published vs predicted training throughput (TFLOP/s per GPU) for every throughput case.

Run: .venv/bin/python bench/hw_validation.py
Inputs come from /work/shared/reference/published_cases.yaml (transcribed here so the
script runs anywhere); where a source leaves a plan detail open, the choice is stated
in `assumed`. Each case is compared in its source's convention: hardware FLOPs
(incl. recompute) for Megatron 2021 / MT-NLG, model FLOPs otherwise.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any, Literal

from graders.hw import ModelSpec, TrainingInput, estimate_training


def gpt(layers: int, hidden: int, heads: int, vocab: int = 51200, seq: int = 2048) -> ModelSpec:
    """GPT-3-style model as Megatron trains it: biases, LayerNorm, learned positions, tied."""
    return ModelSpec(num_layers=layers, hidden_size=hidden, num_attention_heads=heads,
                     vocab_size=vocab, bias=True, norm="layernorm", tied_embeddings=True,
                     max_position_embeddings=seq)


@dataclass
class Case:
    id: str
    source: str
    model: ModelSpec | str
    gpu: str
    plan: dict[str, Any]
    published_tflops: float
    convention: Literal["model", "hardware"]
    assumed: str = ""
    cluster: dict[str, Any] = field(default_factory=dict)


MLM2021 = dict(recompute="full", precision="fp16",
               sequence_parallel=False, zero_stage=0, overlap_grad_reduce=False)
KOR_SEL = dict(recompute="selective", precision="fp16",
               sequence_parallel=True, zero_stage=0, micro_batch_size=1)
KOR_FULL = dict(recompute="full", precision="fp16",
                sequence_parallel=False, zero_stage=0, micro_batch_size=1)
NEMO = dict(recompute="none", precision="fp8",
            sequence_parallel=True, zero_stage=1, tp_comm_overlap=True, overlap_p2p_comm=True,
            micro_batch_size=1)
LLAMA3 = dict(recompute="none", precision="bf16",
              sequence_parallel=True, zero_stage=1, micro_batch_size=1)


def _kor_model_tflops(layers: int, h: int, s: int, v: int, batch: int, t: float, n: int) -> float:
    """Model TFLOP/s per GPU from a published iteration time (Korthikanti 72-formula)."""
    f = 72 * batch * s * layers * h**2 * (1 + s / (6 * h) + v / (12 * layers * h))
    return f / t / n / 1e12


CASES: list[Case] = [
    Case("mlm2021-t1-1.7b", "Narayanan 2021 Table 1", gpt(24, 2304, 24), "A100-SXM4-80GB",
         dict(MLM2021, tp=1, pp=1, dp=32, global_batch_size=512, seq_len=2048,
              micro_batch_size=1), 137, "hardware", "micro-batch 1"),
    Case("mlm2021-t1-76.1b", "Narayanan 2021 Table 1", gpt(60, 10240, 80), "A100-SXM4-80GB",
         dict(MLM2021, tp=8, pp=4, dp=32, global_batch_size=1792, seq_len=2048,
              micro_batch_size=1), 140, "hardware", "micro-batch 1, no interleaving"),
    Case("mlm2021-t1-529.6b", "Narayanan 2021 Table 1", gpt(105, 20480, 128), "A100-SXM4-80GB",
         dict(MLM2021, tp=8, pp=35, dp=9, global_batch_size=2520, seq_len=2048,
              micro_batch_size=1), 163, "hardware", "micro-batch 1, no interleaving"),
    Case("mtnlg-530b-2240", "MT-NLG §2.4", gpt(105, 20480, 128), "A100-SXM4-80GB",
         dict(MLM2021, tp=8, pp=35, dp=8, global_batch_size=1920, seq_len=2048,
              micro_batch_size=1), 126, "hardware", "micro-batch 1, full recompute"),
    Case("mtnlg-530b-3360", "MT-NLG §2.4", gpt(105, 20480, 128), "A100-SXM4-80GB",
         dict(MLM2021, tp=8, pp=35, dp=12, global_batch_size=1920, seq_len=2048,
              micro_batch_size=1), 113, "hardware", "micro-batch 1, full recompute"),
    Case("kor2022-t5-175b", "Korthikanti 2022 Table 5 / README MFU", gpt(96, 12288, 96),
         "A100-SXM4-80GB", dict(KOR_SEL, tp=8, pp=8, dp=1, virtual_stages=3,
                                 global_batch_size=64, seq_len=2048),
         0.514 * 312, "model", "v=3 (calculon)"),
    Case("kor2022-t5-1t", "Korthikanti 2022 Table 5 / README MFU", gpt(128, 25600, 160),
         "A100-SXM4-80GB", dict(KOR_SEL, tp=8, pp=64, dp=1, global_batch_size=512,
                                 seq_len=2048), 0.563 * 312, "model"),
    Case("kor2022-t5-175b-full", "Korthikanti 2022 Table 5 time 18.13 s (secondary)",
         gpt(96, 12288, 96), "A100-SXM4-80GB",
         dict(KOR_FULL, tp=8, pp=8, dp=1, virtual_stages=3, global_batch_size=64, seq_len=2048),
         _kor_model_tflops(96, 12288, 2048, 51200, 64, 18.13, 64), "model", "v=3 (calculon)"),
    Case("kor2022-t5-1t-full", "Korthikanti 2022 Table 5 time 94.42 s (secondary)",
         gpt(128, 25600, 160), "A100-SXM4-80GB",
         dict(KOR_FULL, tp=8, pp=64, dp=1, global_batch_size=512, seq_len=2048),
         _kor_model_tflops(128, 25600, 2048, 51200, 512, 94.42, 512), "model"),
    Case("mlm-h100-weak-32b", "Megatron-LM README model_table",
         ModelSpec(num_layers=48, hidden_size=7168, num_attention_heads=56, vocab_size=131072,
                   bias=False, norm="layernorm"),
         "H100-SXM-80GB", dict(LLAMA3, tp=8, pp=1, dp=48, global_batch_size=192, seq_len=4096,
                               tp_comm_overlap=True),
         459.6, "model", "bf16, GPT 4h MLP untied, flash, no recompute, SP, TP comm overlap"),
    Case("llama3-t4-8k-gpus", "Llama 3 Table 4", "llama3.1-405b", "H100-SXM-80GB",
         dict(LLAMA3, tp=8, pp=16, dp=64, virtual_stages=2, global_batch_size=2048,
              seq_len=8192), 430, "model",
         "RoCE; v=2 (interleaving stated, v not published); full-attention FLOPs",
         cluster={"scale_out_link": "RoCE-400G"}),
    Case("llama3-t4-16k-gpus", "Llama 3 Table 4", "llama3.1-405b", "H100-SXM-80GB",
         dict(LLAMA3, tp=8, pp=16, dp=128, virtual_stages=2, global_batch_size=2048,
              seq_len=8192), 400, "model",
         "RoCE; v=2 (interleaving stated, v not published); full-attention FLOPs",
         cluster={"scale_out_link": "RoCE-400G"}),
    Case("nemo2407-llama3-70b", "NeMo 24.07 performance summary", "llama3-70b",
         "H100-SXM-80GB", dict(NEMO, tp=4, pp=4, cp=2, dp=2, virtual_stages=5,
                                global_batch_size=128, seq_len=8192), 738, "model"),
    Case("nemo2407-llama2-70b", "NeMo 24.07 performance summary", "llama2-70b",
         "H100-SXM-80GB", dict(NEMO, tp=4, pp=4, dp=4, virtual_stages=20,
                                global_batch_size=128, seq_len=4096), 759, "model"),
]


# The other rows of the NeMo 24.07 table the two nemo2407 cases come from (DGX-H100, FP8,
# NeMo 24.07 performance summary, NVIDIA/NeMo docs/source/performance/performance_summary.md).
# They are not in published_cases.yaml and no term was set with them in view: printed as a
# check the model has not seen. Nemotron rows are left out (their MLP is not modelled).
def _nemo(n: int, gbs: int, mbs: int, seq: int, tp: int, pp: int,
          cp: int, vp: int) -> dict[str, Any]:
    plan = dict(NEMO, tp=tp, pp=pp, cp=cp, dp=n // (tp * pp * cp), virtual_stages=vp,
                global_batch_size=gbs, micro_batch_size=mbs, seq_len=seq)
    if tp == 1:
        plan.update(sequence_parallel=False, tp_comm_overlap=False)
    return plan


UNSEEN: list[Case] = [
    Case("nemo2407-gpt3-5b", "NeMo 24.07", gpt(24, 4096, 32), "H100-SXM-80GB",
         _nemo(64, 2048, 4, 2048, 1, 1, 1, 1), 736, "model"),
    Case("nemo2407-gpt3-20b", "NeMo 24.07", gpt(44, 6144, 48), "H100-SXM-80GB",
         _nemo(64, 256, 2, 2048, 2, 1, 1, 1), 750, "model"),
    Case("nemo2407-gpt3-175b-128", "NeMo 24.07", "gpt3-175b", "H100-SXM-80GB",
         _nemo(128, 256, 1, 2048, 4, 8, 1, 6), 782, "model"),
    Case("nemo2407-gpt3-175b-512", "NeMo 24.07", "gpt3-175b", "H100-SXM-80GB",
         _nemo(512, 2048, 2, 2048, 4, 8, 1, 6), 842, "model"),
    Case("nemo2407-llama2-7b", "NeMo 24.07", "llama2-7b", "H100-SXM-80GB",
         _nemo(8, 128, 1, 4096, 1, 1, 1, 1), 776, "model"),
    Case("nemo2407-llama2-13b", "NeMo 24.07", "llama2-13b", "H100-SXM-80GB",
         _nemo(16, 128, 1, 4096, 1, 4, 1, 10), 754, "model"),
    Case("nemo2407-llama3-8b", "NeMo 24.07", "llama3-8b", "H100-SXM-80GB",
         _nemo(8, 128, 1, 8192, 1, 1, 2, 1), 697, "model"),
]


def predict(case: Case) -> float:
    n = case.plan["tp"] * case.plan["pp"] * case.plan["dp"] * case.plan.get("cp", 1)
    inp = TrainingInput.model_validate(
        {"model": case.model, "cluster": {"gpu": case.gpu, "num_gpus": n, **case.cluster},
         "plan": case.plan}
    )
    r = estimate_training(inp)
    return r.hardware_tflops_per_gpu if case.convention == "hardware" else r.model_tflops_per_gpu


def report(cases: list[Case], label: str) -> None:
    """One line per case, then the median and worst absolute error."""
    errors = []
    for case in cases:
        pred = predict(case)
        err = (pred - case.published_tflops) / case.published_tflops
        errors.append(abs(err))
        print(f"{case.id:26} {case.convention:8} {case.published_tflops:9.1f} {pred:9.1f} "
              f"{err:+7.1%}")
    print(f"{label}: {len(errors)}  median |error|: {statistics.median(errors):.1%}  "
          f"worst |error|: {max(errors):.1%}")


def main() -> None:
    print(f"{'case':26} {'conv':8} {'published':>9} {'predicted':>9} {'error':>7}")
    report(CASES, "\ncases")
    print("\nnot in published_cases.yaml (the rest of the NeMo 24.07 FP8 table; no term was "
          "set with these in view):")
    report(UNSEEN, "unseen cases")
    relative_effects()


def relative_effects() -> None:
    """mlm2021-fusion-and-recompute-effects: 145B, 128 GPUs, TP8 PP16 (§5.6), relative only."""
    m = gpt(80, 12288, 96)

    def seq_per_s(batch: int, recompute: str) -> float:
        doc = {"model": m, "cluster": {"gpu": "A100-SXM4-80GB", "num_gpus": 128},
               "plan": dict(MLM2021, tp=8, pp=16, dp=1, global_batch_size=batch,
                            seq_len=2048, micro_batch_size=1, recompute=recompute)}
        r = estimate_training(TrainingInput.model_validate(doc))
        return r.tokens_per_s / 2048

    small = 1 - seq_per_s(16, "full") / seq_per_s(16, "none")
    print("\nrelative effects (Narayanan 2021 §5.6, 145B on 128 A100, TP8 PP16):")
    print(f"  full recompute throughput loss at batch 16: predicted {small:.0%}, "
          "published 'up to 33%'")
    big_none = estimate_training(TrainingInput.model_validate(
        {"model": m, "cluster": {"gpu": "A100-SXM4-80GB", "num_gpus": 128},
         "plan": dict(MLM2021, tp=8, pp=16, dp=1, global_batch_size=256, seq_len=2048,
                      micro_batch_size=1, recompute="none")}))
    gain = seq_per_s(256, "full") / seq_per_s(16, "none")
    print(f"  batch 256 with recompute vs batch 16 without: predicted {gain:.1f}x, published "
          f"'up to 2x'; batch 256 without recompute fits: {big_none.fits}")


if __name__ == "__main__":
    main()
