"""Reference solver: finds the planted cause from the artifacts alone (hidden).

It reasons the way a good on-call engineer would. First the timings: which timer grew
against the last good run (rank 0's timers are in the baseline file), and on which ranks
(one straggler GPU, one node, every rank, every N steps, at random steps). Then only the
artifacts of that rank, node or phase, in the job's time window: a decoy carries the same
signature somewhere the timings say nothing is wrong (a spare, the login node, a job node
whose ranks are on time, a line from before the job, a no-op config line).
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

PHASES = ("data_ms", "compute_ms", "tp_comm_ms", "dp_comm_ms", "optim_ms", "ckpt_ms")


def _text(artifacts: dict[str, bytes], path: str) -> str:
    return artifacts[path].decode("utf-8")


def _csv(artifacts: dict[str, bytes], path: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(_text(artifacts, path))))


def smi_gpu(text: str, index: int) -> dict[str, str]:
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


def _dmesg_during(artifacts: dict[str, bytes], host: str, start: datetime, end: datetime,
                  pattern: str) -> bool:
    """A kernel message matching pattern from an hour before the timed window to its end."""
    for line in _text(artifacts, f"dmesg/{host}.txt").splitlines():
        t = _dmesg_time(line)
        if t and re.search(pattern, line) and start.timestamp() - 3600 <= t.timestamp() <= \
                end.timestamp():
            return True
    return False


class Timings:
    def __init__(self, artifacts: dict[str, bytes]) -> None:
        rows = _csv(artifacts, "timings/step_times.csv")
        first = min(int(r["step"]) for r in rows)
        rows = [r for r in rows if int(r["step"]) != first]  # warm-up step after resume
        base = _csv(artifacts, "timings/baseline_step_times.csv")[1:]
        self.base_step = statistics.mean(float(r["step_ms"]) for r in base)
        self.base = {p: statistics.mean(float(r[f"rank0_{p}"]) for r in base) for p in PHASES}
        self.host: dict[int, str] = {}
        self.local: dict[int, int] = {}
        per: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        wall: dict[int, float] = {}
        dp_step: dict[int, float] = defaultdict(float)
        for r in rows:
            rank = int(r["rank"])
            self.host[rank], self.local[rank] = r["host"], int(r["local_rank"])
            for p in PHASES:
                per[rank][p].append(float(r[p]))
            wall[int(r["step"])] = float(r["step_ms"])
            dp_step[int(r["step"])] = max(dp_step[int(r["step"])], float(r["dp_comm_ms"]))
        self.mean = {k: {p: statistics.mean(v[p]) for p in PHASES} for k, v in per.items()}
        self.step = statistics.mean(wall.values())
        self.excess = self.step - self.base_step
        self.dp_steps = sorted(dp_step.values())
        self.start = min(datetime.fromisoformat(r["timestamp"]) for r in rows)
        self.end = max(datetime.fromisoformat(r["timestamp"]) for r in rows)

    def median(self, phase: str) -> float:
        return statistics.median(m[phase] for m in self.mean.values())

    def outliers(self, value: Any) -> list[int]:
        vals = {k: value(m) for k, m in self.mean.items()}
        med = statistics.median(vals.values())
        return sorted(k for k, v in vals.items() if v - med > 0.5 * self.excess)


def solve(artifacts: dict[str, bytes]) -> dict[str, Any]:
    t = Timings(artifacts)
    job_hosts = sorted(set(t.host.values()))
    slow = t.outliers(lambda m: m["data_ms"] + m["compute_ms"])
    if slow:
        hosts = {t.host[k] for k in slow}
        if len(hosts) != 1:
            return {}
        host = hosts.pop()
        if len(slow) == 1:
            return _straggler_gpu(artifacts, host, t.local[slow[0]])
        if len(slow) == 8:
            return _straggler_node(artifacts, t, host, slow)
        return {}
    slow_tp = t.outliers(lambda m: m["tp_comm_ms"])
    if slow_tp:
        hosts = {t.host[k] for k in slow_tp}
        if len(hosts) == 1 and len(slow_tp) == 8:
            host = hosts.pop()
            for gpu, links in _nvlink_status(_text(artifacts, f"nvlink/{host}.txt")).items():
                if "<inactive>" in links:
                    return _ans("nvlink_degraded", host, gpu)
        return {}
    grew = {p: t.median(p) - t.base[p] for p in PHASES}
    phase = max(grew, key=grew.__getitem__)
    if phase == "compute_ms":
        return _ans("recompute_enabled", "all", None)
    if phase == "tp_comm_ms":
        return _ans("rank_order", "all", None)
    if phase == "ckpt_ms":
        return _ans("checkpoint_blocking", "all", None)
    if phase != "dp_comm_ms":
        return {}
    if t.dp_steps[-1] > 1.5 * statistics.median(t.dp_steps):  # spikes at some steps only
        # The HCA with the most port errors (one flap costs one small spike).
        errors = []
        for host in job_hosts:
            found = re.findall(r"NCCL WARN NET/IB : mlx5_(\d+):1 Got async event : port error",
                               _text(artifacts, f"nccl/{host}.log"))
            if found:
                errors.append((len(found), host, int(found[0])))
        if errors:
            _, host, gpu = max(errors)
            return _ans("ib_link_flap", host, gpu)
        return {}
    for host in job_hosts:
        if "Using network Socket" in _text(artifacts, f"nccl/{host}.log"):
            return _ans("nccl_socket_fallback", host, None)
    # The GPU whose link lost the most bandwidth (one generation down costs a few percent,
    # a link at x4 or Gen1 is the cause).
    rate = {1: 2.0, 2: 4.0, 3: 7.88, 4: 15.75, 5: 31.5}  # GB/s per lane after encoding
    worst: tuple[float, str, int] | None = None
    for host in job_hosts:
        text = _text(artifacts, f"nvidia-smi/{host}.txt")
        for lr in range(8):
            g = smi_gpu(text, lr)
            link = "PCI/GPU Link Info"
            bw = rate[int(g[f"{link}/PCIe Generation/Current"])] * int(
                g[f"{link}/Link Width/Current"].rstrip("x"))
            full = rate[int(g[f"{link}/PCIe Generation/Max"])] * 16
            if bw < full and (worst is None or bw < worst[0]):
                worst = (bw, host, lr)
    if worst and worst[0] <= 0.25 * full:
        return _ans("pcie_downtrain", worst[1], worst[2])
    return {}


def _straggler_gpu(artifacts: dict[str, bytes], host: str, lr: int) -> dict[str, Any]:
    gpu = smi_gpu(_text(artifacts, f"nvidia-smi/{host}.txt"), lr)
    reasons = "Clocks Event Reasons"
    if gpu.get(f"{reasons}/HW Slowdown/HW Thermal Slowdown") == "Active" or \
            gpu.get(f"{reasons}/SW Thermal Slowdown") == "Active":
        return _ans("thermal_throttle", host, lr)
    power = "GPU Power Readings"
    if gpu.get(f"{reasons}/SW Power Cap") == "Active" and float(
            gpu[f"{power}/Current Power Limit"].split()[0]) < float(
            gpu[f"{power}/Default Power Limit"].split()[0]):
        return _ans("power_cap", host, lr)
    topo = _text(artifacts, "nvidia-smi/topo-m.txt")
    m = re.search(rf"^GPU{lr}\t.*\t(\d+)\t\tN/A$", topo, re.M)
    numa = int(m.group(1)) if m else -1
    training = _text(artifacts, "launcher/bindings.log").split("job step 1 ", 1)[-1]
    for line in training.splitlines():
        if f"host={host} " in line and f"local_rank={lr} " in line:
            b = re.search(r"--cpunodebind=(\d+)", line)
            if b and int(b.group(1)) != numa:
                return _ans("numa_binding", host, lr)
    return {}


def _straggler_node(artifacts: dict[str, bytes], t: Timings, host: str,
                    ranks: list[int]) -> dict[str, Any]:
    data = statistics.mean(t.mean[k]["data_ms"] for k in ranks) - t.median("data_ms")
    compute = statistics.mean(t.mean[k]["compute_ms"] for k in ranks) - t.median("compute_ms")
    stats = [r for r in _csv(artifacts, "dataloader/stats.csv") if r["host"] == host]
    if compute < 0.2 * data:  # only waiting for data
        if statistics.mean(float(r["cache_hit_rate"]) for r in stats) < 0.5:
            return _ans("dataloader_starvation", host, None)
        if _dmesg_during(artifacts, host, t.start, t.end, r"md/raid\d+:md0: Disk failure"):
            return _ans("slow_storage", host, None)
        return {}
    if _dmesg_during(artifacts, host, t.start, t.end, r"EDAC|CMCI storm"):
        return _ans("host_memory_errors", host, None)
    if re.search(r'The governor "powersave"', _text(artifacts, f"cpufreq/{host}.txt")):
        return _ans("cpu_governor", host, None)
    return {}


def _nvlink_status(text: str) -> dict[int, list[str]]:
    status = text.split("$ nvidia-smi nvlink -e", 1)[0]
    out: dict[int, list[str]] = {}
    gpu = -1
    for line in status.splitlines():
        m = re.match(r"GPU (\d+):", line)
        if m:
            gpu = int(m.group(1))
            out[gpu] = []
        elif "Link" in line and gpu >= 0:
            out[gpu].append(line.split(":", 1)[1].strip())
    return out


def _ans(family: str, host: str, gpu: int | None) -> dict[str, Any]:
    return {"cause_family": family, "culprit_node": host,
            "culprit_gpu": "all" if gpu is None else str(gpu)}
