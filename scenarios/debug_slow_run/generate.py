"""Artifacts of a multi-node training job that runs 15-45% slower than its last good run.

One root cause is planted per seed (family, node, GPU). Every family's surface signature
also appears on a decoy where it is harmless (a spare node, a login node, a timestamp before
the job, a no-op config line, a job node whose ranks are not slow), so only the per-rank
timers separate the cause from the decoys. Timings follow a synchronous step model with
tensor-parallel (TP) groups of 8 consecutive ranks:

    ready_i = data_i + compute_i                                   (per rank)
    group_g = max_{i in g} ready_i + tp_g                          (TP collectives, per layer)
    tp_i    = group_g - ready_i                                    (TP time incl. waiting)
    dp_i    = max_g group_g - group_g + exposed_dp                 (DP/PP time incl. waiting)
    step    = max_g group_g + exposed_dp + optimizer + checkpoint

so a straggler GPU makes its TP peers wait in tp_comm and every other node wait in dp_comm;
a slow NVLink raises one node's tp_comm; a cross-node TP placement raises every rank's
tp_comm; a network problem raises exposed dp_comm everywhere; a blocking checkpoint adds
ckpt_ms to every rank every N steps. Text formats live in formats.py. Everything is drawn
from random.Random(seed): the same seed gives byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import random
from types import ModuleType
from typing import Any

from scenarios.hooks import sibling

FAMILIES = [
    "thermal_throttle", "power_cap", "pcie_downtrain", "nccl_socket_fallback",
    "ib_link_flap", "dataloader_starvation", "numa_binding", "host_memory_errors",
    "recompute_enabled", "slow_storage", "nvlink_degraded", "rank_order",
    "checkpoint_blocking", "cpu_governor",
]
GPU_SCOPE = {"thermal_throttle", "power_cap", "pcie_downtrain", "ib_link_flap", "numa_binding",
             "nvlink_degraded"}
NODE_SCOPE = {"nccl_socket_fallback", "dataloader_starvation", "host_memory_errors",
              "slow_storage", "cpu_governor"}
GLOBAL_SCOPE = {"recompute_enabled", "rank_order", "checkpoint_blocking"}
# Decoys on job nodes whose ranks are not slow (one node each, never the culprit's).
JOB_DECOYS = ["power_at_tdp", "pcie_replays", "ib_flap_old", "loader_remote", "numa_preflight",
              "hostmem_old", "sda_busy", "nvlink_crc", "cpu_ondemand", "old_xid", "ecc_history",
              "warm_gpu", "nccl_retry", "eth_flap", "aer_nvme", "frontend_nic_x8", "md_recovered"]
# The same harmful state as a cause, on a job node, with a small effect (1.5-3% on one rank
# or one node): a power limit a little under default, a mild thermal slowdown, one inactive
# NVLink, a CMCI storm, a cross-socket binding, a GPU link one PCIe generation down.
MILD_DECOYS = ["mild_power", "mild_thermal", "mild_nvlink", "mild_cmci", "mild_numa",
               "mild_pcie", "mild_loader", "mild_storage", "mild_flap"]
# Decoys on the two hot spares (not in the job) and the login node.
SPARE_DECOYS = ["burnin_thermal", "idle_power_limit", "spare_nic_x8", "spare_ib_flap",
                "md_rebuild", "nvlink_inactive", "cpu_powersave"]

GPUS: dict[str, dict[str, Any]] = {
    "H100-SXM-80GB": dict(
        product="NVIDIA H100 80GB HBM3", arch="Hopper", brand="NVIDIA", dev_id="0x233010DE",
        vbios="96.00.74.00.1C", sm_max=1980, mem_clk=2619, video=1545, power=700.0,
        min_power=200.0, pcie_gen=5, fb_total=81559, slowdown=90, shutdown=92, maxop=85,
        peak_tflops=989.0, buses=["18", "2a", "3a", "5d", "9a", "ab", "ba", "db"],
        nic_buses=["1a", "3c", "4d", "5e", "9c", "bc", "cc", "dc"], mfu=0.41, sku="H100",
        nvlinks=18, link_gbs=26.562,
    ),
    "A100-SXM4-80GB": dict(
        product="NVIDIA A100-SXM4-80GB", arch="Ampere", brand="NVIDIA", dev_id="0x20B210DE",
        vbios="92.00.36.00.10", sm_max=1410, mem_clk=1593, video=1290, power=400.0,
        min_power=100.0, pcie_gen=4, fb_total=81920, slowdown=89, shutdown=92, maxop=85,
        peak_tflops=312.0, buses=["07", "0f", "47", "4e", "87", "90", "b7", "bd"],
        nic_buses=["0c", "12", "4b", "54", "8d", "94", "ba", "c1"], mfu=0.47, sku="A100",
        nvlinks=12, link_gbs=25.0,
    ),
}
MODELS = {  # name -> (parameters, layers, tp, pp, global batch in tokens)
    "llama-70b": (70.6e9, 80, 8, 4, 4 * 1024 * 1024),
    "llama-34b": (33.7e9, 48, 8, 2, 4 * 1024 * 1024),
    "gpt-175b": (175.0e9, 96, 8, 8, 3 * 1024 * 1024),
}
STEPS = 40
FIRST_STEP = 18400


def host_names(n: int, sku: str) -> list[str]:
    return [f"{sku.lower()}-r{i // 4 + 1:02d}-n{i % 4 + 1}" for i in range(n)]


def slowdown_words(pct: float) -> str:
    """How the researchers describe it: a range in words, never the number."""
    if pct < 21:
        return "noticeably slower"
    if pct < 29:
        return "roughly a quarter slower"
    if pct < 38:
        return "about a third slower"
    return "well over a third slower"


def _formats() -> ModuleType:
    return sibling(__file__, "formats.py")


class Job:
    def __init__(self, seed: int, params: dict[str, Any]) -> None:
        self.rng = random.Random(f"debug-slow-run:v2:{seed}")
        r = self.rng
        self.n_nodes = int(params["num_nodes"])
        self.gpu_name = params["gpu_model"]
        self.g = GPUS[self.gpu_name]
        self.model = params["model"]
        slots = host_names(self.n_nodes + 2, self.g["sku"])
        spare_idx = sorted(r.sample(range(len(slots)), 2))
        self.spares = [slots[i] for i in spare_idx]
        self.hosts = [h for i, h in enumerate(slots) if i not in spare_idx]
        self.login = f"{self.g['sku'].lower()}-login-01"
        self.n_ranks = self.n_nodes * 8
        self.family = FAMILIES[r.randrange(len(FAMILIES))]
        self.node = r.randrange(self.n_nodes)
        self.gpu = r.randrange(8)
        if self.family not in GPU_SCOPE:
            self.gpu = -1
        if self.family in GLOBAL_SCOPE:
            self.node = -1
        others = [i for i in range(self.n_nodes) if i != self.node]
        picks = r.sample(others, len(JOB_DECOYS))
        self.decoy_node = dict(zip(JOB_DECOYS, picks, strict=True))
        self.decoy_gpu = {d: r.randrange(8) for d in JOB_DECOYS + SPARE_DECOYS}
        a, b = self.spares
        self.spare_of = {d: (a if d in ("burnin_thermal", "md_rebuild", "cpu_powersave") else b)
                         for d in SPARE_DECOYS}
        self.slowdown = r.uniform(0.15, 0.45)
        params_n, layers, tp, pp, gbs = MODELS[self.model]
        self.tp, self.pp, self.layers = tp, pp, layers
        self.dp = self.n_ranks // (tp * pp)
        self.gbs_tokens = gbs
        flops = 6 * params_n * gbs
        self.t0 = flops / (self.n_ranks * self.g["peak_tflops"] * 1e12 * self.g["mfu"]) * 1000
        self.start = dt.datetime(2026, 11, 12, 6, 0) + dt.timedelta(
            minutes=r.randrange(0, 3 * 24 * 60))
        self.base_start = self.start - dt.timedelta(days=r.randint(3, 6), hours=r.randint(1, 9))
        self.boot = self.start - dt.timedelta(days=r.randint(4, 20), minutes=r.randrange(600))
        self.pids = [r.randrange(20000, 90000) for _ in range(self.n_nodes)]
        self.uuids = {(h, i): "".join(r.choice("0123456789abcdef") for _ in range(32))
                      for h in self.hosts + self.spares for i in range(8)}
        self.cyclic = self.family == "rank_order"
        self.flap_steps: list[int] = []
        self.ckpt_steps: list[int] = []
        self.ckpt_mode = "cause" if self.family == "checkpoint_blocking" else r.choice(
            ["sync_rare", "async_often"])
        self.ckpt_interval = r.choice([5, 8, 10]) if self.ckpt_mode != "sync_rare" else 1000
        self.pcie_link = r.choice([(1, 16), (self.g["pcie_gen"], 4), (2, 8), (3, 4),
                                   (self.g["pcie_gen"], 4)])
        self.dead_links = sorted(r.sample(range(self.g["nvlinks"]), r.randint(4, 9)))
        self.end = self.start
        # Mild look-alikes on job nodes: the harmful state itself, but so small that the
        # rank is a few percent slow at most (drawn from their own stream, so the main
        # draws do not move). Only the size of the effect in the timers tells them apart.
        m = random.Random(f"debug-slow-run:mild:{seed}")
        free = [i for i in others if i not in picks]
        mild_nodes = m.sample(free, len(MILD_DECOYS))
        self.mild_node = dict(zip(MILD_DECOYS, mild_nodes, strict=True))
        self.mild_gpu = {d: m.randrange(8) for d in MILD_DECOYS}
        self.mild_cost = {d: m.uniform(0.015, 0.03) for d in MILD_DECOYS}
        self.mild_link = m.randrange(self.g["nvlinks"])
        if self.ckpt_mode == "async_often" and m.random() < 0.5:
            self.ckpt_mode = "sync_local"  # synchronous, but to local NVMe: a fraction of a second
        self.mild_flap_step = m.randrange(3, STEPS)

    def place(self, rank: int) -> tuple[int, int]:
        """(node index, local rank) of a global rank."""
        if self.cyclic:
            return rank % self.n_nodes, rank // self.n_nodes
        return divmod(rank, 8)

    def rank_of(self, node: int, lr: int) -> int:
        return lr * self.n_nodes + node if self.cyclic else node * 8 + lr

    # ------------------------------------------------------------------ timing model
    def timings(self) -> tuple[list[list[list[float]]], list[float], list[dt.datetime]]:
        """Per step, per rank: (data, compute, tp, dp, optim, ckpt) and the step wall times."""
        r = self.rng
        t0 = self.t0
        d0, c0, tp0, e0, k0 = 0.004 * t0, 0.70 * t0, 0.10 * t0, 0.12 * t0, 0.0
        o0 = t0 - d0 - c0 - tp0 - e0 - k0
        delta = self.slowdown * t0
        fam, node, gpu = self.family, self.node, self.gpu
        culprit: set[int] = set()
        if fam in GPU_SCOPE:
            culprit = {self.rank_of(node, gpu)}
        elif fam in NODE_SCOPE or fam == "nvlink_degraded":
            culprit = {self.rank_of(node, i) for i in range(8)}
        measured = list(range(1, STEPS))
        if fam == "ib_link_flap":
            k = r.randint(6, 10)
            self.flap_steps = sorted(r.sample(range(2, STEPS), k))
            spike = delta * len(measured) / k
        self.ckpt_steps = [s for s in measured if (FIRST_STEP + s) % self.ckpt_interval == 0]
        save_ms = delta * len(measured) / max(1, len(self.ckpt_steps))
        mild_c: dict[int, float] = {}
        for dname in ("mild_power", "mild_thermal", "mild_numa"):
            mild_c[self.rank_of(self.mild_node[dname], self.mild_gpu[dname])] = \
                self.mild_cost[dname]
        for lr in range(8):
            rk = self.rank_of(self.mild_node["mild_cmci"], lr)
            mild_c[rk] = mild_c.get(rk, 0.0) + self.mild_cost["mild_cmci"] * 0.5
        mild_d = {self.rank_of(self.mild_node["mild_loader"], self.mild_gpu["mild_loader"]):
                   self.mild_cost["mild_loader"]}
        for lr in range(8):
            mild_d[self.rank_of(self.mild_node["mild_storage"], lr)] = \
                self.mild_cost["mild_storage"]
        mild_tp = {self.rank_of(self.mild_node["mild_nvlink"], 0) // 8:
                   self.mild_cost["mild_nvlink"]}
        rows: list[list[list[float]]] = []
        walls: list[float] = []
        stamps: list[dt.datetime] = []
        now = self.start + dt.timedelta(seconds=r.randint(240, 420))
        for s in range(STEPS):
            warm = 2.4 if s == 0 else 1.0  # first step after resume: allocator + graph warm-up
            e_extra = 0.0
            if fam in ("pcie_downtrain", "nccl_socket_fallback"):
                e_extra = delta * r.uniform(0.97, 1.03)
            if fam == "ib_link_flap" and s in self.flap_steps:
                e_extra = spike * r.uniform(0.85, 1.15)
            ckpt = 0.0
            if s in self.ckpt_steps:
                ckpt = save_ms * r.uniform(0.95, 1.05) if self.ckpt_mode == "cause" else \
                    r.uniform(350, 700) if self.ckpt_mode in ("async_often", "sync_local") \
                    else 0.0
            if s == self.mild_flap_step:
                e_extra += self.mild_cost["mild_flap"] * t0
            per: list[list[float]] = []
            for rank in range(self.n_ranks):
                d = d0 * r.uniform(0.7, 1.3)
                c = c0 * warm * r.gauss(1.0, 0.004)
                if fam == "recompute_enabled":
                    c += delta * r.gauss(1.0, 0.004)
                elif rank in culprit:
                    if fam in ("thermal_throttle", "power_cap"):
                        c += delta * r.gauss(1.0, 0.01)
                    elif fam in ("numa_binding", "host_memory_errors", "cpu_governor"):
                        d += 0.35 * delta * r.uniform(0.8, 1.2)
                        c += 0.65 * delta * r.gauss(1.0, 0.02)
                    elif fam in ("dataloader_starvation", "slow_storage"):
                        d += delta * r.uniform(0.85, 1.15)
                c += mild_c.get(rank, 0.0) * c0
                d += mild_d.get(rank, 0.0) * t0
                per.append([d, c])
            group_t: list[float] = []
            for gi in range(self.n_ranks // 8):
                ranks = range(gi * 8, gi * 8 + 8)
                tp = tp0 * r.gauss(1.0, 0.01)
                if fam == "rank_order" or (fam == "nvlink_degraded" and culprit & set(ranks)):
                    tp += delta * r.gauss(1.0, 0.01)
                if not self.cyclic:
                    tp += mild_tp.get(gi, 0.0) * tp0
                group_t.append(max(per[i][0] + per[i][1] for i in ranks) + tp)
            top = max(group_t)
            e = e0 * r.gauss(1.0, 0.01) + e_extra + self.mild_cost["mild_pcie"] * 0.5 * e0
            o = o0 * r.gauss(1.0, 0.003)
            out = []
            for rank, (d, c) in enumerate(per):
                gt = group_t[rank // 8]
                out.append([d, c, gt - d - c, top - gt + e, o, ckpt])
            rows.append(out)
            wall = top + e + o + ckpt
            walls.append(wall)
            stamps.append(now)
            now += dt.timedelta(milliseconds=wall)
        self.end = now
        return rows, walls, stamps

    def baseline(self) -> tuple[list[list[float]], list[dt.datetime]]:
        """Rank 0's timers of the last good run: (data, compute, tp, dp, optim, ckpt)."""
        r = self.rng
        t0 = self.t0
        out, stamps = [], []
        now = self.base_start + dt.timedelta(seconds=r.randint(240, 420))
        for s in range(STEPS):
            warm = 2.4 if s == 0 else 1.0
            d = 0.004 * t0 * r.uniform(0.7, 1.3)
            c = 0.70 * t0 * warm * r.gauss(1.0, 0.004)
            tp = 0.10 * t0 * r.gauss(1.0, 0.01) + 0.002 * t0 * r.random()
            dp = 0.12 * t0 * r.gauss(1.0, 0.01) + 0.004 * t0 * r.random()
            o = (t0 - 0.004 * t0 - 0.70 * t0 - 0.10 * t0 - 0.12 * t0) * r.gauss(1.0, 0.003)
            row = [d, c, tp, dp, o, 0.0]
            out.append(row)
            stamps.append(now)
            now += dt.timedelta(milliseconds=sum(row))
        return out, stamps


def generate(seed: int, params: dict[str, Any]) -> dict[str, Any]:
    fmt = _formats()
    job = Job(seed, params)
    rows, walls, stamps = job.timings()
    base, base_stamps = job.baseline()
    files: dict[str, str] = {
        "timings/step_times.csv": fmt.steps_csv(job, rows, stamps),
        "timings/baseline_step_times.csv": fmt.baseline_csv(job, base, base_stamps),
        "nvidia-smi/topo-m.txt": fmt.topo(job),
        "dataloader/stats.csv": fmt.loader_stats(job),
        "launcher/bindings.log": fmt.bindings(job),
        "config/run.diff": fmt.config_diff(job),
        f"nccl/nccl-tests-{job.login}.log": fmt.nccl_tests_login(job),
        f"nccl/nccl-tests-{job.spares[1]}.log": fmt.nccl_tests_spares(job),
    }
    snap = stamps[len(stamps) // 2]
    for host in job.hosts + job.spares:
        files[f"nvidia-smi/{host}.txt"] = fmt.smi(job, host, snap)
        files[f"nvlink/{host}.txt"] = fmt.nvlink(job, host)
        files[f"dmesg/{host}.txt"] = fmt.dmesg(job, host, stamps)
        files[f"iostat/{host}.txt"] = fmt.iostat(job, host, snap)
        files[f"cpufreq/{host}.txt"] = fmt.cpufreq(job, host)
    for node, host in enumerate(job.hosts):
        files[f"nccl/{host}.log"] = fmt.nccl(job, node, stamps)
    mid = len(rows) // 2
    base_rank0 = base[mid]
    cur0 = rows[mid][0]
    files["profiler/rank0_summary.txt"] = (
        fmt.profile(job, cur0, f"torch.profiler summary, current run, rank 0 "
                    f"({job.hosts[0]} GPU 0), step {FIRST_STEP + mid}",
                    job.family == "recompute_enabled", cur0[2] + cur0[3]) + "\n"
        + fmt.profile(job, base_rank0, f"torch.profiler summary, last good run, rank 0, "
                      f"step {FIRST_STEP - 2600 + mid}", False, base_rank0[2] + base_rank0[3]))
    base_walls = [sum(b) for b in base]
    measured = sum(walls[1:]) / (len(walls) - 1) / (sum(base_walls[1:]) / (len(base) - 1)) - 1
    pct = round(measured * 100, 1)
    culprit_host = "" if job.node < 0 else job.hosts[job.node]
    decoys = [f"{d}@{job.hosts[n]}" for d, n in sorted(job.decoy_node.items())]
    decoys += [f"{d}@{job.spare_of[d]}" for d in SPARE_DECOYS]
    decoys += [f"{d}@{job.hosts[n]}" for d, n in sorted(job.mild_node.items())]
    decoys.append(f"socket_login@{job.login}")
    return {
        "params": {
            "cause_family": job.family,
            "culprit_node": culprit_host or "all",
            "culprit_gpu": "all" if job.gpu < 0 else str(job.gpu),
            "slowdown_words": slowdown_words(pct),
            "measured_slowdown_pct": pct,
            "baseline_step_s": round(job.t0 / 1000, 2),
            "red_herrings": decoys,
            "decoy_nodes": sorted({h for h in job.hosts + job.spares + [job.login]
                                   if h != culprit_host}),
        },
        "artifacts": files,
    }
