"""Speed of the hardware models: one training estimate, a 512-GPU plan search, the CLI.

Run: .venv/bin/python bench/hw_speed.py
Each figure is the median of repeated runs, with a trivial baseline measured in the
same run (validating the input document; an empty function call; `python -c pass` for the
CLI's start-up) for the ratio.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

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


def _child_cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _process_s(argv: list[str], repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds of a whole process (CPU is steadier on a busy machine)."""
    walls, cpus = [], []
    for _ in range(repeat + 1):
        c0, t0 = _child_cpu_s(), time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - t0)
        cpus.append(_child_cpu_s() - c0)
    return statistics.median(walls[1:]), statistics.median(cpus[1:])


def cli_seconds(repeat: int = 15) -> tuple[tuple[float, float], tuple[float, float]]:
    """(wall, CPU) of `burnin hw training --json FILE` and of `python -c pass`."""
    burnin = Path(sys.executable).with_name("burnin")
    with tempfile.TemporaryDirectory() as tmp:
        doc = Path(tmp) / "in.json"
        doc.write_text(json.dumps(DOC))
        hw = _process_s([str(burnin), "hw", "training", "--json", str(doc)], repeat)
        base = _process_s([sys.executable, "-c", "pass"], repeat)
    return hw, base


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
    (cli, cli_cpu), (base, base_cpu) = cli_seconds()
    print(f"baseline python -c pass:         {base * 1e3:9.1f} ms wall, {base_cpu * 1e3:6.1f} ms CPU")
    print(f"burnin hw training --json:       {cli * 1e3:9.1f} ms wall, {cli_cpu * 1e3:6.1f} ms CPU"
          f"  = {cli / base:.1f}x / {cli_cpu / base_cpu:.1f}x starting Python, goal < 300 ms")
    print(f"load average while measuring:    {os.getloadavg()[0]:9.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
