"""Reference solver: finds the planted cause from the artifacts alone (hidden).

It reasons the way a good on-call engineer would: first the shape of the slowdown in the
per-rank timings (one straggler GPU, one straggler node, spiky communication, uniformly
slower communication, uniformly slower compute), then the artifact that explains that
shape. A red herring never matches the timing shape, which is what makes it a herring.
selftest runs this on many seeds and requires the planted answer every time.
"""

from __future__ import annotations

import csv
import io
import re
import statistics
from collections import defaultdict
from datetime import datetime
from typing import Any


def _text(artifacts: dict[str, bytes], path: str) -> str:
    return artifacts[path].decode("utf-8")


def _csv(artifacts: dict[str, bytes], path: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(_text(artifacts, path))))


def _smi_gpu(text: str, index: int) -> dict[str, str]:
    """Flatten one GPU section of nvidia-smi -q into 'Section/Key' -> value."""
    sections = re.split(r"^GPU [0-9A-F:.]+$", text, flags=re.M)[1:]
    out: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in sections[index].splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if ":" in line and not line.rstrip().endswith(":"):
            key, _, val = line.partition(":")
            out["/".join([s for _, s in stack] + [key.strip()])] = val.strip()
        else:
            stack.append((indent, line.strip()))
    return out


def _dmesg_time(line: str) -> datetime | None:
    m = re.match(r"\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]", line)
    return datetime.strptime(m.group(1), "%a %b %d %H:%M:%S %Y") if m else None


def solve(artifacts: dict[str, bytes]) -> dict[str, Any]:
    rows = _csv(artifacts, "timings/step_times.csv")
    base = _csv(artifacts, "timings/baseline_step_times.csv")
    first = min(int(r["step"]) for r in rows)
    rows = [r for r in rows if int(r["step"]) != first]  # warm-up step after resume
    base_step = statistics.mean(float(r["step_ms"]) for r in base[1:])
    hosts: dict[int, str] = {}
    ready: dict[int, list[float]] = defaultdict(list)
    step_wall: dict[int, float] = {}
    for r in rows:
        rank = int(r["rank"])
        hosts[rank] = r["host"]
        ready[rank].append(float(r["data_ms"]) + float(r["compute_ms"]))
        step_wall[int(r["step"])] = float(r["step_ms"])
    cur_step = statistics.mean(step_wall.values())
    excess = cur_step - base_step
    mean_ready = {k: statistics.mean(v) for k, v in ready.items()}
    med = statistics.median(mean_ready.values())
    slow = sorted(k for k, v in mean_ready.items() if v - med > 0.5 * excess)
    walls = sorted(step_wall.values())
    spiky = walls[-1] > 1.15 * statistics.median(walls)
    start = min(datetime.fromisoformat(r["timestamp"]) for r in rows)

    if slow:
        node_hosts = {hosts[k] for k in slow}
        if len(node_hosts) != 1:
            return {}
        host = node_hosts.pop()
        if len(slow) == 1:
            lr = slow[0] % 8
            gpu = _smi_gpu(_text(artifacts, f"nvidia-smi/{host}.txt"), lr)
            reasons = "Clocks Event Reasons"
            if gpu.get(f"{reasons}/HW Slowdown/HW Thermal Slowdown") == "Active" or \
                    gpu.get(f"{reasons}/SW Thermal Slowdown") == "Active":
                return _ans("thermal_throttle", host, lr)
            if gpu.get(f"{reasons}/SW Power Cap") == "Active":
                return _ans("power_cap", host, lr)
            topo = _text(artifacts, "nvidia-smi/topo-m.txt")
            numa = int(re.search(rf"^GPU{lr}\t.*\t(\d+)\t\tN/A$", topo, re.M).group(1))  # type: ignore[union-attr]
            for line in _text(artifacts, "launcher/bindings.log").splitlines():
                if f"host={host} " in line and f"local_rank={lr} " in line:
                    bound = int(re.search(r"--cpunodebind=(\d+)", line).group(1))  # type: ignore[union-attr]
                    if bound != numa:
                        return _ans("numa_binding", host, lr)
            return {}
        if len(slow) == 8:
            for line in _text(artifacts, f"dmesg/{host}.txt").splitlines():
                t = _dmesg_time(line)
                if ("CMCI storm" in line or "EDAC" in line) and t and t >= start.replace(
                        hour=0, minute=0, second=0) and t <= max(
                        datetime.fromisoformat(r["timestamp"]) for r in rows):
                    return _ans("host_memory_errors", host, None)
            stats = [r for r in _csv(artifacts, "dataloader/stats.csv") if r["host"] == host]
            if all(float(r["cache_hit_rate"]) < 0.5 for r in stats):
                return _ans("dataloader_starvation", host, None)
        return {}

    if spiky:
        for path in sorted(p for p in artifacts if p.startswith("nccl/")):
            m = re.search(r"NCCL WARN NET/IB : mlx5_(\d+):1 Got async event : port error",
                          _text(artifacts, path))
            if m:
                return _ans("ib_link_flap", path[len("nccl/"):-len(".log")], int(m.group(1)))
        return {}

    if "+  recompute_granularity: full" in _text(artifacts, "config/run.diff"):
        return {"cause_family": "recompute_enabled", "culprit_node": "all", "culprit_gpu": "all"}
    for path in sorted(p for p in artifacts if p.startswith("nccl/")):
        if "Using network Socket" in _text(artifacts, path):
            return _ans("nccl_socket_fallback", path[len("nccl/"):-len(".log")], None)
    for path in sorted(p for p in artifacts if p.startswith("nvidia-smi/") and "topo" not in p):
        text = _text(artifacts, path)
        for lr in range(8):
            g = _smi_gpu(text, lr)
            link = "PCI/GPU Link Info"
            if g[f"{link}/PCIe Generation/Current"] != g[f"{link}/PCIe Generation/Max"] or \
                    g[f"{link}/Link Width/Current"] != g[f"{link}/Link Width/Max"]:
                return _ans("pcie_downtrain", path[len("nvidia-smi/"):-len(".txt")], lr)
    return {}


def _ans(family: str, host: str, gpu: int | None) -> dict[str, Any]:
    return {"cause_family": family, "culprit_node": host,
            "culprit_gpu": "all" if gpu is None else str(gpu)}
