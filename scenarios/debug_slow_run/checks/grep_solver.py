"""Grep-only solver: the shortcut this scenario must resist (hidden; used by the self-test).

It knows every artifact format but does no timing analysis: it looks for each cause
family's surface signature in a fixed order and answers with the first hit (host and GPU
from the file or line it found). The slowdown is read off the prompt's words. With
job_hosts_only it skips files of hosts that are not in the timings (a slightly smarter
grep: it reads the host column but still no timer).

The self-test grades its answers with the rubric over many seeds: the mean must stay
under 30 (docs/scenarios.md, "Checking a scenario for shortcuts").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

WORDS_PCT = {"noticeably slower": 18.0, "roughly a quarter slower": 25.0,
             "about a third slower": 33.0, "well over a third slower": 42.0}
Hit = tuple[str, str | None, int | None]  # (family, host or None for all, gpu or None)


def _files(artifacts: dict[str, bytes], prefix: str, hosts: set[str] | None
           ) -> list[tuple[str, str]]:
    out = []
    for path in sorted(artifacts):
        if not path.startswith(prefix) or "topo" in path:
            continue
        host = path[len(prefix):].rsplit(".", 1)[0]
        if hosts is not None and host not in hosts:
            continue
        out.append((host, artifacts[path].decode("utf-8", "replace")))
    return out


def _gpu_sections(text: str) -> list[str]:
    return re.split(r"^GPU [0-9A-F:.]+$", text, flags=re.M)[1:]


def _smi(pattern: str) -> Callable[[dict[str, bytes], set[str] | None], Hit | None]:
    def find(a: dict[str, bytes], hosts: set[str] | None) -> Hit | None:
        for host, text in _files(a, "nvidia-smi/", hosts):
            for i, sec in enumerate(_gpu_sections(text)):
                if re.search(pattern, sec, re.M):
                    return ("", host, i)
        return None
    return find


def _pcie(a: dict[str, bytes], hosts: set[str] | None) -> Hit | None:
    for host, text in _files(a, "nvidia-smi/", hosts):
        for i, sec in enumerate(_gpu_sections(text)):
            width = re.search(r"Link Width\s+Max\s+: 16x\s+Current\s+: (\d+)x", sec)
            if width and int(width.group(1)) < 16:
                return ("", host, i)
    for host, text in _files(a, "dmesg/", hosts):
        if re.search(r"limited by .* PCIe x(1|2|4|8) link", text):
            return ("", host, None)
    return None


def _grep(prefix: str, pattern: str, gpu_group: bool = False
          ) -> Callable[[dict[str, bytes], set[str] | None], Hit | None]:
    def find(a: dict[str, bytes], hosts: set[str] | None) -> Hit | None:
        for host, text in _files(a, prefix, hosts):
            m = re.search(pattern, text, re.M)
            if m:
                return ("", host, int(m.group(1)) if gpu_group else None)
        return None
    return find


def _global(path: str, pattern: str) -> Callable[[dict[str, bytes], set[str] | None], Hit | None]:
    def find(a: dict[str, bytes], hosts: set[str] | None) -> Hit | None:
        if re.search(pattern, a[path].decode(), re.M):
            return ("", None, None)
        return None
    return find


def _csv_host(a: dict[str, bytes], hosts: set[str] | None) -> Hit | None:
    for line in a["dataloader/stats.csv"].decode().splitlines()[1:]:
        f = line.split(",")
        if f[5] == "objstore-remote" and (hosts is None or f[0] in hosts):
            return ("", f[0], None)
    return None


def _numa(a: dict[str, bytes], hosts: set[str] | None) -> Hit | None:
    for line in a["launcher/bindings.log"].decode().splitlines():
        m = re.search(r"host=(\S+) rank=\d+ local_rank=(\d) .*--cpunodebind=(\d)", line)
        if m and int(m.group(3)) != int(m.group(2)) // 4 and (hosts is None or m.group(1) in hosts):
            return ("", m.group(1), int(m.group(2)))
    return None


def _nvlink(a: dict[str, bytes], hosts: set[str] | None) -> Hit | None:
    for host, text in _files(a, "nvlink/", hosts):
        gpu = -1
        for line in text.split("$ nvidia-smi nvlink -e")[0].splitlines():
            m = re.match(r"GPU (\d+):", line)
            if m:
                gpu = int(m.group(1))
            elif "<inactive>" in line:
                return ("", host, gpu)
    return None


ORDER: list[tuple[str, Callable[[dict[str, bytes], set[str] | None], Hit | None]]] = [
    ("power_cap", _smi(r"SW Power Cap\s+: Active")),
    ("thermal_throttle", _smi(r"(HW|SW) Thermal Slowdown\s+: Active")),
    ("pcie_downtrain", _pcie),
    ("recompute_enabled", _global("config/run.diff", r"^\+.*recompute")),
    ("nccl_socket_fallback", _grep("nccl/", r"NET/Socket")),
    ("ib_link_flap", _grep("nccl/", r"mlx5_(\d+):1 Got async event : port error", True)),
    ("host_memory_errors", _grep("dmesg/", r"EDAC|CMCI storm")),
    ("slow_storage", _grep("dmesg/", r"md/raid\d+:md0: Disk failure")),
    ("nvlink_degraded", _nvlink),
    ("dataloader_starvation", _csv_host),
    ("numa_binding", _numa),
    ("rank_order", _global("launcher/bindings.log", r"--distribution=cyclic")),
    ("checkpoint_blocking", _global("config/run.diff", r"^\+\s+save_interval")),
    ("cpu_governor", _grep("cpufreq/", r'governor "powersave"')),
]


def job_hosts(artifacts: dict[str, bytes]) -> set[str]:
    lines = artifacts["timings/step_times.csv"].decode().splitlines()[1:]
    return {line.split(",")[3] for line in lines}


def solve(artifacts: dict[str, bytes], slowdown_words: str = "",
          job_hosts_only: bool = False) -> dict[str, Any]:
    """The first signature found, as a full answer with three-word write-ups."""
    hosts = job_hosts(artifacts) if job_hosts_only else None
    answer: dict[str, Any] = {"cause_family": "thermal_throttle", "culprit_node": "all",
                              "culprit_gpu": "all"}
    for family, find in ORDER:
        hit = find(artifacts, hosts)
        if hit:
            _, host, gpu = hit
            answer = {"cause_family": family, "culprit_node": host or "all",
                      "culprit_gpu": "all" if gpu is None else str(gpu)}
            break
    answer["slowdown_pct"] = WORDS_PCT.get(slowdown_words, 30.0)
    host = answer["culprit_node"]
    answer["evidence"] = f"{answer['cause_family']} on {host}."
    answer["fix"] = f"Drain {host}, fix it."
    answer["verification"] = "Compare step time."
    return answer


def _power_below_default(a: dict[str, bytes], hosts: set[str] | None) -> Hit | None:
    for host, text in _files(a, "nvidia-smi/", hosts):
        for i, sec in enumerate(_gpu_sections(text)):
            cur = re.search(r"Current Power Limit\s+: ([\d.]+) W", sec)
            dflt = re.search(r"Default Power Limit\s+: ([\d.]+) W", sec)
            if cur and dflt and float(cur.group(1)) < float(dflt.group(1)):
                return ("", host, i)
    return None


def _pcie_gpu(a: dict[str, bytes], hosts: set[str] | None) -> Hit | None:
    for host, text in _files(a, "nvidia-smi/", hosts):
        for i, sec in enumerate(_gpu_sections(text)):
            gen = re.search(r"PCIe Generation\s+Max\s+: (\d)\s+Current\s+: (\d)", sec)
            width = re.search(r"Link Width\s+Max\s+: 16x\s+Current\s+: (\d+)x", sec)
            if (gen and gen.group(1) != gen.group(2)) or (width and width.group(1) != "16"):
                return ("", host, i)
    return None


def _starved(a: dict[str, bytes], hosts: set[str] | None) -> Hit | None:
    for line in a["dataloader/stats.csv"].decode().splitlines()[1:]:
        f = line.split(",")
        if float(f[10]) > 0.5 and (hosts is None or f[0] in hosts):
            return ("", f[0], None)
    return None


# The strongest grep without timings: job hosts only, and each signature in the form that
# only the harmful state has (a limit below default, full recompute, the training step's
# placement, a short synchronous save interval), the families whose harmful form has no
# look-alike on a job node first. The self-test prints how often it is right; it is not
# bounded: ten families have a look-alike of the harmful form on a job node (mild ones
# costing a few percent, or a harmless variant such as synchronous saves to local NVMe);
# recompute, socket fallback, rank order and the CPU governor do not.
SPECIFIC: list[tuple[str, Callable[[dict[str, bytes], set[str] | None], Hit | None]]] = [
    ("recompute_enabled", _global("config/run.diff", r"^\+\s+recompute_granularity: full")),
    ("nccl_socket_fallback", _grep("nccl/", r"Using network Socket")),
    ("rank_order", _global("launcher/bindings.log", r"job step 1 .*--distribution=cyclic")),
    ("cpu_governor", _grep("cpufreq/", r'governor "powersave"[\s\S]*800 MHz')),
    ("checkpoint_blocking", _global("config/run.diff",
                                    r"^\+\s+save_interval: \d{1,2}\n[^@]*async_save: false")),
    ("ib_link_flap", _grep("nccl/", r"mlx5_(\d+):1 Got async event : port error", True)),
    ("slow_storage", _grep("iostat/", r"^md0 .* 100\.0$")),
    ("dataloader_starvation", _starved),
    ("power_cap", _power_below_default),
    ("thermal_throttle", _smi(r"HW Thermal Slowdown\s+: Active")),
    ("pcie_downtrain", _pcie_gpu),
    ("nvlink_degraded", _nvlink),
    ("host_memory_errors", _grep("dmesg/", r"CMCI storm")),
    ("numa_binding", _numa),
]


def solve_specific(artifacts: dict[str, bytes], slowdown_words: str = "") -> dict[str, Any]:
    hosts = job_hosts(artifacts)
    for family, find in SPECIFIC:
        hit = find(artifacts, hosts)
        if hit:
            _, host, gpu = hit
            return {"cause_family": family, "culprit_node": host or "all",
                    "culprit_gpu": "all" if gpu is None else str(gpu),
                    "slowdown_pct": WORDS_PCT.get(slowdown_words, 30.0)}
    return {"slowdown_pct": WORDS_PCT.get(slowdown_words, 30.0)}
