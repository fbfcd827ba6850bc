"""Speed of the hardware models: one training estimate and a 512-GPU plan search.

Run: .venv/bin/python bench/hw_speed.py
Each figure is the median of repeated runs, with a trivial baseline measured in the
same run (validating the input document; an empty function call) for the ratio.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable

from graders.hw import TrainingInput, estimate_training, search_training

DOC = {
    "model": "llama3-70b",
    "cluster": {"gpu": "H100-SXM-80GB", "num_gpus": 512, "gpus_per_node": 8},
    "plan": {"tp": 8, "pp": 4, "dp": 16, "cp": 1, "virtual_stages": 1, "micro_batch_size": 1,
             "global_batch_size": 1024, "seq_len": 4096, "zero_stage": 1,
             "recompute": "selective", "sequence_parallel": True, "precision": "bf16"},
}


def median_s(fn: Callable[[], object], repeat: int, inner: int = 1) -> float:
    fn()  # warm caches and imports
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - t0) / inner)
    return statistics.median(samples)


def _noop() -> None:
    return None


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    inp = TrainingInput.model_validate(DOC)
    noop = median_s(_noop, 50, 10000)
    validate = median_s(lambda: TrainingInput.model_validate(DOC), 50, 100)
    one = median_s(lambda: estimate_training(inp), 50, 100)
    search = median_s(
        lambda: search_training("llama3-70b", {"gpu": "H100-SXM-80GB", "num_gpus": 512},
                                1024, 4096), 7)
    result = search_training("llama3-70b", {"gpu": "H100-SXM-80GB", "num_gpus": 512}, 1024, 4096)
    print(f"machine: {os.cpu_count()} CPUs, {cpu_model()}, Python {platform.python_version()}")
    print(f"baseline empty call:            {noop * 1e9:10.1f} ns")
    print(f"baseline validate TrainingInput: {validate * 1e6:9.1f} us")
    print(f"estimate_training (one plan):    {one * 1e6:9.1f} us  "
          f"= {one / validate:.1f}x validating the input, goal < 1 ms")
    print(f"search_training 512 GPUs:        {search * 1e3:9.1f} ms  "
          f"({result.evaluated} plans estimated, {result.feasible_count} feasible) "
          f"= {search / one:.0f}x one estimate, goal < 2 s")


if __name__ == "__main__":
    main()
