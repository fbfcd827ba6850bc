"""Published GPU-hour and cost-per-run figures vs graders.hw.costing, with the error of each.

Run: .venv/bin/python bench/costing_validation.py
The costing model turns a job's work (6 x parameters x tokens) into GPU-hours from the
training model's MFU at pilot scale (`pilot_mfu`, 256 GPUs) and the checkpoint model's
goodput at the job's scale (`job_goodput`). Meta publishes the GPU-hours of the Llama 3 and
3.1 runs and the MFU of the 405B run; DeepSeek publishes its GPU-hours and the $2/GPU-hour
rental price its cost figure assumes. Each row says what the model assumes where the source
is silent (the job's GPU count, restart time and checkpoint stall); prices are quotes, so
the cost row checks the billing rule the scenario uses, not a price model.
"""

from __future__ import annotations

from published import Case, print_table

from graders.hw.catalog import get_gpu
from graders.hw.costing import job_goodput, pilot_mfu
from graders.hw.reliability import LLAMA3_DAYS, LLAMA3_GPUS, LLAMA3_UNEXPECTED

# Meta's fleet rate: 419 unexpected interruptions in 54 days on 16,384 GPUs.
GPU_MTBF_H = LLAMA3_GPUS * LLAMA3_DAYS * 24 / LLAMA3_UNEXPECTED
STALL_S, RESTART_S = 30.0, 300.0  # as in bench/reliability_validation.py (Meta is silent)
H100 = "H100-SXM-80GB"


def gpu_hours(model: str, tokens: float, job_gpus: int) -> float:
    """GPU-hours of a run: 6ND over the pilot MFU's sustained FLOP/s and the job's goodput."""
    mfu, params = pilot_mfu(model, H100)
    sustained = get_gpu(H100).peak("bf16") * 1e12 * mfu
    goodput = job_goodput(job_gpus, GPU_MTBF_H, STALL_S, RESTART_S)
    return 6 * params * tokens / (sustained * goodput) / 3600


def cases() -> list[Case]:
    assumed_small = ("15T tokens (the card's '15T+'), H100 BF16, a 2,048-GPU job at Meta's "
                     f"interruption rate ({GPU_MTBF_H:,.0f} GPU-h each), 30-s stall, 5-min "
                     "restart; the card's hours may include runs the paper does not count")
    mfu_405b, _ = pilot_mfu("llama3.1-405b", H100)
    deepseek_h = 180_000 * 14.8 + 119_000 + 5_000  # pre-training + context + post-training
    return [
        Case("llama3-8b-gpu-hours", "Meta Llama 3 model card (Apr 2024): Llama 3 8B, 1.3M "
             "H100-80GB GPU-hours", 1.3, "M GPU-h", gpu_hours("llama3-8b", 15e12, 2048) / 1e6,
             assumed_small),
        Case("llama3-70b-gpu-hours", "Meta Llama 3 model card (Apr 2024): Llama 3 70B, 6.4M "
             "H100-80GB GPU-hours", 6.4, "M GPU-h", gpu_hours("llama3-70b", 15e12, 2048) / 1e6,
             assumed_small),
        Case("llama3.1-405b-gpu-hours", "Meta Llama 3.1 model card (Jul 2024): 405B, 30.84M "
             "H100-80GB GPU-hours; 15.6T tokens (Dubey et al. 2024, 3.4)", 30.84, "M GPU-h",
             gpu_hours("llama3.1-405b", 15.6e12, 16384) / 1e6,
             "16,384 GPUs, otherwise as above; the card's total includes the 128K-context and "
             "annealing stages and post-training"),
        Case("llama3.1-405b-mfu", "Dubey et al. 2024, Table 4: BF16 MFU 38-43% on 8,192-16,384 "
             "H100 (middle 40.5%)", 40.5, "%", 100 * mfu_405b,
             "the model's best plan at 256 GPUs, 8,192-token sequences, 512 per step (Meta "
             "used 16M-token batches, TP8 CP1-16 PP16)"),
        Case("deepseek-v3-cost", "DeepSeek-V3 technical report (arXiv:2412.19437, Table 1): "
             "2.788M H800 GPU-hours at an assumed $2/GPU-hour = $5.576M", 5.576, "M$",
             deepseek_h * 2.0 / 1e6,
             "the on-demand billing rule (GPU-hours held x price) over the report's parts: "
             "180K GPU-h per trillion tokens x 14.8T, 119K context extension, 5K "
             "post-training; no MFU modelled (the catalog has no DeepSeek-V3 or FP8 MoE plan)"),
    ]


def main() -> None:
    print_table(cases())


if __name__ == "__main__":
    main()
