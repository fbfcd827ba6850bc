"""Small typed factories for hardware-model inputs."""

from typing import Any

from graders.hw import TrainingInput


def training_input(
    *,
    model: Any = "llama3-70b",
    gpu: str = "H100-SXM-80GB",
    tp: int = 8,
    pp: int = 4,
    dp: int = 16,
    cp: int = 1,
    virtual_stages: int = 1,
    micro_batch_size: int = 1,
    global_batch_size: int = 1024,
    seq_len: int = 4096,
    recompute: str = "selective",
    sequence_parallel: bool = True,
    precision: str = "bf16",
    zero_stage: int = 1,
    **plan_extra: Any,
) -> TrainingInput:
    return TrainingInput.model_validate({
        "model": model,
        "cluster": {"gpu": gpu, "num_gpus": tp * pp * dp * cp},
        "plan": {"tp": tp, "pp": pp, "dp": dp, "cp": cp, "virtual_stages": virtual_stages,
                 "micro_batch_size": micro_batch_size, "global_batch_size": global_batch_size,
                 "seq_len": seq_len, "recompute": recompute, "zero_stage": zero_stage,
                 "sequence_parallel": sequence_parallel, "precision": precision, **plan_extra},
    })
