"""Artifacts of a multi-node training job that runs ~30% slower than its last good run.

One root cause is planted per seed (family, node, GPU) plus red herrings that look alarming
and are not the cause. Timings follow from a synchronous data-parallel step model:

    ready_i = data_i + compute_i            (per rank)
    step    = max_i(ready_i) + exposed_comm + optimizer
    comm_i  = max_j(ready_j) - ready_i + exposed_comm   (time rank i spends in collectives)

so a straggler GPU slows every rank (the others wait in collectives), a network problem
inflates exposed communication everywhere, and recompute inflates every rank's compute.
Everything is drawn from random.Random(seed): the same seed gives byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

FAMILIES = [
    "thermal_throttle", "power_cap", "pcie_downtrain", "nccl_socket_fallback",
    "ib_link_flap", "dataloader_starvation", "numa_binding", "host_memory_errors",
    "recompute_enabled",
]
GPU_SCOPE = {"thermal_throttle", "power_cap", "pcie_downtrain", "ib_link_flap", "numa_binding"}
NODE_SCOPE = {"nccl_socket_fallback", "dataloader_starvation", "host_memory_errors"}
HERRINGS = ["old_xid", "ecc_history", "warm_gpu", "nccl_retry", "loader_restart",
            "eth_flap", "aer_nvme"]

GPUS: dict[str, dict[str, Any]] = {
    "H100-SXM-80GB": dict(
        product="NVIDIA H100 80GB HBM3", arch="Hopper", brand="NVIDIA", dev_id="0x233010DE",
        vbios="96.00.74.00.1C", sm_max=1980, mem_clk=2619, video=1545, power=700.0,
        min_power=200.0, pcie_gen=5, fb_total=81559, slowdown=90, shutdown=92, maxop=85,
        peak_tflops=989.0, buses=["18", "2a", "3a", "5d", "9a", "ab", "ba", "db"],
        nic_buses=["1a", "3c", "4d", "5e", "9c", "bc", "cc", "dc"], mfu=0.41, sku="H100",
    ),
    "A100-SXM4-80GB": dict(
        product="NVIDIA A100-SXM4-80GB", arch="Ampere", brand="NVIDIA", dev_id="0x20B210DE",
        vbios="92.00.36.00.10", sm_max=1410, mem_clk=1593, video=1290, power=400.0,
        min_power=100.0, pcie_gen=4, fb_total=81920, slowdown=89, shutdown=92, maxop=85,
        peak_tflops=312.0, buses=["07", "0f", "47", "4e", "87", "90", "b7", "bd"],
        nic_buses=["0c", "12", "4b", "54", "8d", "94", "ba", "c1"], mfu=0.47, sku="A100",
    ),
}
MODELS = {  # name -> (parameters, layers, tp, pp, global batch in tokens)
    "llama-70b": (70.6e9, 80, 8, 4, 4 * 1024 * 1024),
    "llama-34b": (33.7e9, 48, 8, 2, 4 * 1024 * 1024),
    "gpt-175b": (175.0e9, 96, 8, 8, 3 * 1024 * 1024),
}
STEPS = 40
FIRST_STEP = 18400
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
DAYS = "Mon Tue Wed Thu Fri Sat Sun".split()


def host_names(n: int, sku: str) -> list[str]:
    return [f"{sku.lower()}-r{i // 4 + 1:02d}-n{i % 4 + 1}" for i in range(n)]


def _ctime(t: dt.datetime) -> str:  # dmesg -T / nvidia-smi style
    return f"{DAYS[t.weekday()]} {MONTHS[t.month - 1]} {t.day:2d} {t:%H:%M:%S} {t.year}"


class _Job:
    def __init__(self, seed: int, params: dict[str, Any]) -> None:
        self.rng = random.Random(f"debug-slow-run:{seed}")
        r = self.rng
        self.n_nodes = int(params["num_nodes"])
        self.gpu_name = params["gpu_model"]
        self.g = GPUS[self.gpu_name]
        self.model = params["model"]
        self.hosts = host_names(self.n_nodes, self.g["sku"])
        self.n_ranks = self.n_nodes * 8
        self.family = FAMILIES[r.randrange(len(FAMILIES))]
        self.node = r.randrange(self.n_nodes)
        self.gpu = r.randrange(8)
        if self.family not in GPU_SCOPE:
            self.gpu = -1
        if self.family == "recompute_enabled":
            self.node = -1
        others = [i for i in range(self.n_nodes) if i != self.node]
        self.herrings = sorted(r.sample(HERRINGS, r.randint(3, 4)))
        self.herring_nodes = {h: r.choice(others) for h in self.herrings}
        self.herring_gpus = {h: r.randrange(8) for h in self.herrings}
        self.slowdown = r.uniform(0.24, 0.33)
        params_n, layers, tp, pp, gbs = MODELS[self.model]
        self.tp, self.pp, self.layers = tp, pp, layers
        self.dp = self.n_ranks // (tp * pp)
        self.gbs_tokens = gbs
        flops = 6 * params_n * gbs
        self.t0 = flops / (self.n_ranks * self.g["peak_tflops"] * 1e12 * self.g["mfu"]) * 1000
        self.start = dt.datetime(2026, 11, 12, 6, 0) + dt.timedelta(
            minutes=r.randrange(0, 3 * 24 * 60))
        self.base_start = self.start - dt.timedelta(days=r.randint(3, 6), hours=r.randint(1, 9))
        self.boot = self.start - dt.timedelta(days=r.randint(2, 20), minutes=r.randrange(600))
        self.pids = [r.randrange(20000, 90000) for _ in range(self.n_nodes)]
        self.flap_steps: list[int] = []

    # ------------------------------------------------------------------ timing model
    def timings(self) -> tuple[list[list[float]], list[float], list[dt.datetime]]:
        """Per step, per rank: (data, compute, comm, optim) and the step wall times."""
        r = self.rng
        t0 = self.t0
        d0, c0, e0 = 0.004 * t0, 0.80 * t0, 0.12 * t0
        o0 = t0 - d0 - c0 - e0
        delta = self.slowdown * t0
        fam, node, gpu = self.family, self.node, self.gpu
        culprit_ranks = set()
        if fam in GPU_SCOPE:
            culprit_ranks = {node * 8 + gpu}
        elif fam in NODE_SCOPE:
            culprit_ranks = {node * 8 + i for i in range(8)}
        if fam == "ib_link_flap":
            k = r.randint(6, 10)
            self.flap_steps = sorted(r.sample(range(2, STEPS), k))
            spike = delta * (STEPS - 1) / k
        rows: list[list[float]] = []
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
            per = []
            for rank in range(self.n_ranks):
                d = d0 * r.uniform(0.7, 1.3)
                c = c0 * warm * r.gauss(1.0, 0.004)
                if fam == "recompute_enabled":
                    c += delta * r.gauss(1.0, 0.004)
                elif rank in culprit_ranks:
                    if fam in ("thermal_throttle", "power_cap"):
                        c += delta * r.gauss(1.0, 0.01)
                    elif fam in ("numa_binding", "host_memory_errors"):
                        d += 0.35 * delta * r.uniform(0.8, 1.2)
                        c += 0.65 * delta * r.gauss(1.0, 0.02)
                    elif fam == "dataloader_starvation":
                        d += delta * r.uniform(0.85, 1.15)
                per.append([d, c])
            ready = max(d + c for d, c in per)
            e = e0 * r.gauss(1.0, 0.01) + e_extra
            o = o0 * r.gauss(1.0, 0.003)
            out = []
            for d, c in per:
                comm = ready - (d + c) + e
                out.append([d, c, comm, o])
            rows.append(out)  # type: ignore[arg-type]
            wall = ready + e + o
            walls.append(wall)
            stamps.append(now)
            now += dt.timedelta(milliseconds=wall)
        self.end = now
        return rows, walls, stamps  # type: ignore[return-value]

    def baseline(self) -> tuple[list[float], list[dt.datetime]]:
        r = self.rng
        out, stamps = [], []
        now = self.base_start + dt.timedelta(seconds=r.randint(240, 420))
        for s in range(STEPS):
            w = self.t0 * (2.4 * 0.8 + 0.2 if s == 0 else r.gauss(1.0, 0.004))
            out.append(w)
            stamps.append(now)
            now += dt.timedelta(milliseconds=w)
        return out, stamps


def _steps_csv(job: _Job, rows: list[list[list[float]]], stamps: list[dt.datetime]) -> str:
    lines = ["timestamp,step,rank,host,local_rank,step_ms,data_ms,compute_ms,comm_ms,optim_ms"]
    for s, per in enumerate(rows):
        ts = stamps[s].isoformat(timespec="milliseconds")
        for rank, (d, c, e, o) in enumerate(per):
            step_ms = d + c + e + o
            lines.append(f"{ts},{FIRST_STEP + s},{rank},{job.hosts[rank // 8]},{rank % 8},"
                         f"{step_ms:.1f},{d:.1f},{c:.1f},{e:.1f},{o:.1f}")
    return "\n".join(lines) + "\n"


def _baseline_csv(job: _Job, walls: list[float], stamps: list[dt.datetime]) -> str:
    lines = ["timestamp,step,step_ms,tokens_per_s"]
    for s, w in enumerate(walls):
        lines.append(f"{stamps[s].isoformat(timespec='milliseconds')},{FIRST_STEP - 2600 + s},"
                     f"{w:.1f},{job.gbs_tokens / (w / 1000):.0f}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- nvidia-smi -q


def _gpu_state(job: _Job, node: int, i: int) -> dict[str, Any]:
    r = job.rng
    g = job.g
    st: dict[str, Any] = dict(
        temp=r.randint(48, 66), mem_temp=r.randint(56, 74), sm=g["sm_max"],
        power=g["power"] * r.uniform(0.78, 0.93), limit=g["power"], reasons=set(),
        gen=g["pcie_gen"], width=16, replays=0, vol_dram_ce=0, agg_dram_ce=0, agg_sram_ce=0,
        remap_ce=0, util=100,
    )
    fam, hit = job.family, (node == job.node and i == job.gpu)
    if hit and fam == "thermal_throttle":
        ratio = 0.80 * job.t0 / (0.80 * job.t0 + job.slowdown * job.t0)
        st.update(temp=r.randint(g["slowdown"] + 1, g["shutdown"]), reasons={"hw_thermal",
                  "sw_thermal", "hw"}, sm=int(g["sm_max"] * ratio / 15) * 15,
                  power=g["power"] * r.uniform(0.55, 0.65), mem_temp=r.randint(86, 93))
    if hit and fam == "power_cap":
        ratio = 0.80 * job.t0 / (0.80 * job.t0 + job.slowdown * job.t0)
        lim = round(g["power"] * ratio * 0.8 / 25) * 25.0
        st.update(reasons={"sw_power"}, sm=int(g["sm_max"] * ratio / 15) * 15, limit=lim,
                  power=lim * r.uniform(0.97, 0.995))
    if hit and fam == "pcie_downtrain":
        gen, width = job.pcie_link
        st.update(gen=gen, width=width, replays=r.randint(300, 5000))
    if node == job.herring_nodes.get("warm_gpu") and i == job.herring_gpus["warm_gpu"]:
        st.update(temp=g["maxop"] - r.randint(0, 2), mem_temp=r.randint(80, 84))
    if node == job.herring_nodes.get("ecc_history") and i == job.herring_gpus["ecc_history"]:
        st.update(vol_dram_ce=r.randint(1, 4), agg_dram_ce=r.randint(30, 120),
                  agg_sram_ce=r.randint(0, 3), remap_ce=r.randint(1, 3))
    return st


def _smi(job: _Job, node: int, when: dt.datetime) -> str:
    g = job.g
    r = job.rng
    out = ["", "==============NVSMI LOG==============", "",
           f"{'Timestamp':<42}: {_ctime(when)}", f"{'Driver Version':<42}: 550.54.15",
           f"{'CUDA Version':<42}: 12.4", "", f"{'Attached GPUs':<42}: 8"]

    def kv(indent: int, key: str, val: Any) -> None:
        pad = " " * indent
        out.append(f"{pad}{key:<{42 - indent}}: {val}")

    def head(indent: int, key: str) -> None:
        out.append(" " * indent + key)

    for i in range(8):
        st = _gpu_state(job, node, i)
        bus = g["buses"][i]

        def act(key: str, reasons: set[str] = st["reasons"]) -> str:
            return "Active" if key in reasons else "Not Active"

        out.append(f"GPU 00000000:{bus.upper()}:00.0")
        kv(4, "Product Name", g["product"])
        kv(4, "Product Brand", g["brand"])
        kv(4, "Product Architecture", g["arch"])
        kv(4, "Persistence Mode", "Enabled")
        head(4, "MIG Mode")
        kv(8, "Current", "Disabled")
        kv(8, "Pending", "Disabled")
        kv(4, "Serial Number", f"165{r.randrange(10**9, 10**10)}")
        u = "".join(r.choice("0123456789abcdef") for _ in range(32))
        kv(4, "GPU UUID", f"GPU-{u[:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:]}")
        kv(4, "Minor Number", i)
        kv(4, "VBIOS Version", g["vbios"])
        kv(4, "Module ID", [1, 2, 3, 4, 5, 6, 7, 8][i])
        head(4, "PCI")
        kv(8, "Bus", f"0x{bus.upper()}")
        kv(8, "Device", "0x00")
        kv(8, "Domain", "0x0000")
        kv(8, "Device Id", g["dev_id"])
        kv(8, "Bus Id", f"00000000:{bus.upper()}:00.0")
        head(8, "GPU Link Info")
        head(12, "PCIe Generation")
        kv(16, "Max", g["pcie_gen"])
        kv(16, "Current", st["gen"])
        kv(16, "Device Current", st["gen"])
        kv(16, "Device Max", g["pcie_gen"])
        kv(16, "Host Max", g["pcie_gen"])
        head(12, "Link Width")
        kv(16, "Max", "16x")
        kv(16, "Current", f"{st['width']}x")
        kv(8, "Replays Since Reset", st["replays"])
        kv(8, "Replay Number Rollovers", 0)
        kv(8, "Tx Throughput", f"{r.randint(200, 2000)} KB/s")
        kv(8, "Rx Throughput", f"{r.randint(200, 2000)} KB/s")
        kv(4, "Fan Speed", "N/A")
        kv(4, "Performance State", "P0")
        head(4, "Clocks Event Reasons")
        kv(8, "Idle", "Not Active")
        kv(8, "Applications Clocks Setting", "Not Active")
        kv(8, "SW Power Cap", act("sw_power"))
        kv(8, "HW Slowdown", act("hw"))
        kv(12, "HW Thermal Slowdown", act("hw_thermal"))
        kv(12, "HW Power Brake Slowdown", "Not Active")
        kv(8, "Sync Boost", "Not Active")
        kv(8, "SW Thermal Slowdown", act("sw_thermal"))
        kv(8, "Display Clock Setting", "Not Active")
        head(4, "FB Memory Usage")
        used = g["fb_total"] - 1800 - r.randint(0, 600)
        kv(8, "Total", f"{g['fb_total']} MiB")
        kv(8, "Reserved", "328 MiB" if g["sku"] == "H100" else "0 MiB")
        kv(8, "Used", f"{used} MiB")
        kv(8, "Free", f"{g['fb_total'] - used - (328 if g['sku'] == 'H100' else 0)} MiB")
        kv(4, "Compute Mode", "Default")
        head(4, "Utilization")
        kv(8, "Gpu", f"{st['util']} %")
        kv(8, "Memory", f"{r.randint(30, 55)} %")
        head(4, "ECC Mode")
        kv(8, "Current", "Enabled")
        kv(8, "Pending", "Enabled")
        head(4, "ECC Errors")
        for scope, dram, sram in (("Volatile", st["vol_dram_ce"], 0),
                                  ("Aggregate", st["agg_dram_ce"], st["agg_sram_ce"])):
            head(8, scope)
            kv(12, "SRAM Correctable", sram)
            kv(12, "SRAM Uncorrectable Parity", 0)
            kv(12, "SRAM Uncorrectable SEC-DED", 0)
            kv(12, "DRAM Correctable", dram)
            kv(12, "DRAM Uncorrectable", 0)
        kv(12, "SRAM Threshold Exceeded", "No")
        head(4, "Remapped Rows")
        kv(8, "Correctable Error", st["remap_ce"])
        kv(8, "Uncorrectable Error", 0)
        kv(8, "Pending", "No")
        kv(8, "Remapping Failure Occurred", "No")
        head(4, "Temperature")
        kv(8, "GPU Current Temp", f"{st['temp']} C")
        kv(8, "GPU Shutdown Temp", f"{g['shutdown']} C")
        kv(8, "GPU Slowdown Temp", f"{g['slowdown']} C")
        kv(8, "GPU Max Operating Temp", f"{g['maxop']} C")
        kv(8, "Memory Current Temp", f"{st['mem_temp']} C")
        kv(8, "Memory Max Operating Temp", "95 C")
        head(4, "GPU Power Readings")
        kv(8, "Power Draw", f"{st['power']:.2f} W")
        kv(8, "Current Power Limit", f"{st['limit']:.2f} W")
        kv(8, "Requested Power Limit", f"{st['limit']:.2f} W")
        kv(8, "Default Power Limit", f"{g['power']:.2f} W")
        kv(8, "Min Power Limit", f"{g['min_power']:.2f} W")
        kv(8, "Max Power Limit", f"{g['power']:.2f} W")
        head(4, "Clocks")
        kv(8, "Graphics", f"{st['sm']} MHz")
        kv(8, "SM", f"{st['sm']} MHz")
        kv(8, "Memory", f"{g['mem_clk']} MHz")
        kv(8, "Video", f"{g['video']} MHz")
        head(4, "Max Clocks")
        kv(8, "Graphics", f"{g['sm_max']} MHz")
        kv(8, "SM", f"{g['sm_max']} MHz")
        kv(8, "Memory", f"{g['mem_clk']} MHz")
        kv(8, "Video", f"{g['video']} MHz")
        head(4, "Processes")
        kv(8, "GPU instance ID", "N/A")
        kv(8, "Compute instance ID", "N/A")
        kv(8, "Process ID", job.pids[node] + 1 + i)
        kv(12, "Type", "C")
        kv(12, "Name", "/usr/bin/python3")
        kv(12, "Used GPU Memory", f"{used - 330} MiB")
        out.append("")
    return "\n".join(out) + "\n"


def _topo(job: _Job) -> str:
    hdr = "\t" + "\t".join([f"GPU{i}" for i in range(8)] + [f"NIC{i}" for i in range(8)]
                           + ["CPU Affinity", "NUMA Affinity", "GPU NUMA ID"])
    lines = [hdr]
    for i in range(8):
        cells = ["X" if j == i else "NV18" if job.g["sku"] == "H100" else "NV12"
                 for j in range(8)]
        nics = ["PIX" if j == i else ("NODE" if j // 4 == i // 4 else "SYS") for j in range(8)]
        numa = i // 4
        cpus = "0-55,112-167" if numa == 0 else "56-111,168-223"
        lines.append(f"GPU{i}\t" + "\t".join(cells + nics) + f"\t{cpus}\t{numa}\t\tN/A")
    for i in range(8):
        gpus = ["PIX" if j == i else ("NODE" if j // 4 == i // 4 else "SYS") for j in range(8)]
        nics = ["X" if j == i else ("NODE" if j // 4 == i // 4 else "SYS") for j in range(8)]
        lines.append(f"NIC{i}\t" + "\t".join(gpus + nics))
    lines += ["", "Legend:", "", "  X    = Self",
              "  SYS  = Connection traversing PCIe as well as the SMP interconnect between "
              "NUMA nodes (e.g., QPI/UPI)",
              "  NODE = Connection traversing PCIe as well as the interconnect between PCIe "
              "Host Bridges within a NUMA node",
              "  PHB  = Connection traversing PCIe as well as a PCIe Host Bridge (typically "
              "the CPU)",
              "  PXB  = Connection traversing multiple PCIe bridges (without traversing the "
              "PCIe Host Bridge)",
              "  PIX  = Connection traversing at most a single PCIe bridge",
              "  NV#  = Connection traversing a bonded set of # NVLinks", "", "NIC Legend:", ""]
    lines += [f"  NIC{i}: mlx5_{i}" for i in range(8)]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- NCCL logs


def _nccl(job: _Job, node: int, stamps: list[dt.datetime]) -> str:
    r = job.rng
    host, pid = job.hosts[node], job.pids[node]
    ip = f"10.{40 + node // 32}.{node % 32 * 8 // 8}.{node % 250 + 2}"
    socket = job.family == "nccl_socket_fallback" and node == job.node
    lines = []
    comm_id = f"0x{r.getrandbits(64):016x}"
    for lr in range(8):
        p = pid + 1 + lr
        tid = p + r.randint(150, 400)
        rank = node * 8 + lr
        pre = f"{host}:{p}:{p} [{lr}] NCCL INFO"
        tpre = f"{host}:{p}:{tid} [{lr}] NCCL INFO"
        if lr == 0 and node == 0:
            lines.append(f"{pre} Bootstrap : Using ens21f0np0:{ip}<0>")
            lines.append("NCCL version 2.20.5+cuda12.4")
        lines.append(f"{pre} cudaDriverVersion 12040")
        if lr == 0 and node != 0:
            lines.append(f"{pre} Bootstrap : Using ens21f0np0:{ip}<0>")
        if node == job.herring_nodes.get("nccl_retry") and lr == job.herring_gpus["nccl_retry"]:
            lines.append(f"{pre} Call to connect returned Connection refused, retrying")
            lines.append(f"{pre} Call to connect returned Connection refused, retrying")
        lines.append(f"{tpre} NET/Plugin : dlerror=libnccl-net.so: cannot open shared object "
                     "file: No such file or directory No plugin found (libnccl-net.so), using "
                     "internal implementation")
        if socket:
            lines.append(f"{tpre} NET/IB : No device found.")
            lines.append(f"{tpre} NET/Socket : Using [0]ens21f0np0:{ip}<0>")
            lines.append(f"{tpre} Using non-device net plugin version 0")
            lines.append(f"{tpre} Using network Socket")
        else:
            devs = " ".join(f"[{i}]mlx5_{i}:1/IB" for i in range(8))
            lines.append(f"{tpre} NET/IB : Using {devs} ; OOB ens21f0np0:{ip}<0>")
            lines.append(f"{tpre} Using non-device net plugin version 0")
            lines.append(f"{tpre} Using network IB")
        comm = f"0x{r.getrandbits(44):x}"
        bus = job.g["buses"][lr]
        lines.append(f"{tpre} ncclCommInitRank comm {comm} rank {rank} nranks {job.n_ranks} "
                     f"cudaDev {lr} nvmlDev {lr} busId {bus}000 commId {comm_id} - Init START")
        mask = "ff,ffffffff,ffffff00,00000000,00ffffff,ffffffff" if lr < 4 else \
            "ffffff,ffffffff,ff000000,00000000,ffffffff,ffffff00,00000000"
        lines.append(f"{tpre} Setting affinity for GPU {lr} to {mask}")
        lines.append(f"{tpre} comm {comm} rank {rank} nRanks {job.n_ranks} nNodes "
                     f"{job.n_nodes} localRanks 8 localRank {lr} MNNVL 0")
        prev = (rank - 8 + lr) % job.n_ranks if lr == 0 else rank - 1
        transport = "NET/Socket/0" if socket else f"NET/IB/{lr}/GDRDMA"
        if lr in (0, 7):
            peer = ((node - 1) % job.n_nodes) * 8 + 7 if lr == 0 else ((node + 1) % job.n_nodes) * 8
            direction = "receive" if lr == 0 else "send"
            arrow = f"{peer}[{peer % 8}] -> {rank}[{lr}]" if lr == 0 else \
                f"{rank}[{lr}] -> {peer}[{peer % 8}]"
            for ch in (0, 1):
                lines.append(f"{tpre} Channel {ch:02d}/0 : {arrow} [{direction}] via {transport}")
        else:
            lines.append(f"{tpre} Channel 00/0 : {prev}[{lr - 1}] -> {rank}[{lr}] "
                         "via P2P/CUMEM/read")
        lines.append(f"{tpre} Connected all rings")
        lines.append(f"{tpre} Connected all trees")
        lines.append(f"{tpre} threadThresholds 8/8/64 | {job.n_ranks * 8}/8/64 | 512 | 512")
        lines.append(f"{tpre} 32 coll channels, 32 collnet channels, 0 nvls channels, 32 p2p "
                     "channels, 32 p2p channels per peer")
        lines.append(f"{tpre} ncclCommInitRank comm {comm} rank {rank} nranks {job.n_ranks} "
                     f"cudaDev {lr} nvmlDev {lr} busId {bus}000 commId {comm_id} - Init COMPLETE")
    if job.family == "ib_link_flap" and node == job.node:
        g = job.gpu
        p = pid + 1 + g
        for s in job.flap_steps:
            t = stamps[s]
            del t
            lines.append(f"{host}:{p}:{p + 9} [{g}] NCCL WARN NET/IB : mlx5_{g}:1 Got async "
                         "event : port error")
            lines.append(f"{host}:{p}:{p + 9} [{g}] NCCL WARN NET/IB : mlx5_{g}:1 Got async "
                         "event : port active")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- dmesg


def _dmesg(job: _Job, node: int, stamps: list[dt.datetime]) -> str:
    r = job.rng
    g = job.g
    ev: list[tuple[dt.datetime, str]] = []
    boot = job.boot + dt.timedelta(seconds=node * 7)
    ev.append((boot, "Linux version 5.15.0-105-generic (buildd@lcy02-amd64-027) (gcc (Ubuntu "
                     "11.4.0-1ubuntu1~22.04) 11.4.0, GNU ld (GNU Binutils for Ubuntu) 2.38) "
                     "#115-Ubuntu SMP"))
    ev.append((boot + dt.timedelta(seconds=1), "Command line: BOOT_IMAGE=/vmlinuz-5.15.0-105-"
               "generic root=/dev/md0 ro iommu=pt pci=realloc=off"))
    for i, bus in enumerate(g["nic_buses"]):
        ev.append((boot + dt.timedelta(seconds=14, milliseconds=i * 40),
                   f"mlx5_core 0000:{bus}:00.0: firmware version: 28.39.1002"))
        ev.append((boot + dt.timedelta(seconds=15, milliseconds=i * 40),
                   f"mlx5_core 0000:{bus}:00.0: 252.048 Gb/s available PCIe bandwidth "
                   "(16.0 GT/s PCIe x16 link)" if g["sku"] == "H100" else
                   f"mlx5_core 0000:{bus}:00.0: 126.024 Gb/s available PCIe bandwidth "
                   "(8.0 GT/s PCIe x16 link)"))
    ev.append((boot + dt.timedelta(seconds=21), "nvidia: loading out-of-tree module taints "
               "kernel."))
    ev.append((boot + dt.timedelta(seconds=21, milliseconds=400),
               "NVRM: loading NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 22:23:56 "
               "UTC 2024"))
    ev.append((boot + dt.timedelta(seconds=24), "nvidia-nvswitch0: using MSI"))
    if job.family == "pcie_downtrain" and node == job.node:
        bus = g["buses"][job.gpu]
        gen, width = job.pcie_link
        speed = {1: 2.5, 2: 5.0, 3: 8.0, 4: 16.0, 5: 32.0}[gen]
        enc = 0.8 if gen <= 2 else 128 / 130
        avail = speed * width * enc
        full = {4: 252.048, 5: 504.112}[g["pcie_gen"]]
        fullspeed = {4: 16.0, 5: 32.0}[g["pcie_gen"]]
        up = f"{int(bus, 16) - 2:02x}"
        ev.append((boot + dt.timedelta(seconds=19), f"pci 0000:{bus}:00.0: {avail:.3f} Gb/s "
                   f"available PCIe bandwidth, limited by {speed:.1f} GT/s PCIe x{width} link at "
                   f"0000:{up}:00.0 (capable of {full:.3f} Gb/s with {fullspeed:.1f} GT/s PCIe "
                   "x16 link)"))
        for _ in range(r.randint(4, 8)):
            t = stamps[r.randrange(len(stamps))] + dt.timedelta(milliseconds=r.randrange(999))
            ev.append((t, f"pcieport 0000:{up}:00.0: AER: Corrected error received: "
                          f"0000:{bus}:00.0"))
            ev.append((t, f"nvidia 0000:{bus}:00.0: PCIe Bus Error: severity=Corrected, "
                          "type=Physical Layer, (Receiver ID)"))
            ev.append((t, f"nvidia 0000:{bus}:00.0:   device [10de:{g['dev_id'][2:6].lower()}] "
                          "error status/mask=00000001/0000e000"))
    if node == job.herring_nodes.get("old_xid"):
        gi = job.herring_gpus["old_xid"]
        t = job.boot + dt.timedelta(hours=r.randint(2, 30), seconds=r.randrange(3600))
        if t >= job.start:
            t = job.start - dt.timedelta(hours=r.randint(20, 40))
        xid, msg = r.choice([
            (13, "Graphics Exception: ESR 0x50c730=0x4000000 0x50c734=0x20 0x50c728=0x4c1eb72 "
                 "0x50c72c=0x174"),
            (31, "Ch 00000008, intr 00000000. MMU Fault: ENGINE GRAPHICS GPCCLIENT_T1_1 faulted "
                 "@ 0x7f3a_8c000000. Fault is of type FAULT_PDE ACCESS_TYPE_VIRT_READ"),
            (43, "Ch 00000010"),
        ])
        ev.append((t, f"NVRM: Xid (PCI:0000:{g['buses'][gi]}:00): {xid}, "
                      f"pid={r.randint(3000, 9999)}, name=pt_main_thread, {msg}"))
    if node == job.herring_nodes.get("ecc_history"):
        gi = job.herring_gpus["ecc_history"]
        t = job.boot + dt.timedelta(hours=r.randint(1, 20), seconds=r.randrange(3600))
        if t >= job.start:
            t = job.start - dt.timedelta(hours=r.randint(6, 30))
        ev.append((t, f"NVRM: Xid (PCI:0000:{g['buses'][gi]}:00): 63, pid='<unknown>', "
                      "name=<unknown>, Row Remapper: New row marked for remapping, reset gpu to "
                      "activate."))
    if node == job.herring_nodes.get("eth_flap"):
        t = job.start - dt.timedelta(hours=r.randint(2, 40))
        dev = "ens21f0np0"
        ev.append((t, f"mlx5_core 0000:e1:00.0 {dev}: Link down"))
        ev.append((t + dt.timedelta(seconds=r.randint(2, 6)), f"mlx5_core 0000:e1:00.0 {dev}: "
                   "Link up"))
    if node == job.herring_nodes.get("aer_nvme"):
        t = stamps[r.randrange(len(stamps))]
        ev.append((t, "pcieport 0000:c0:01.1: AER: Corrected error received: 0000:c1:00.0"))
        ev.append((t, "nvme 0000:c1:00.0: PCIe Bus Error: severity=Corrected, type=Data Link "
                      "Layer, (Transmitter ID)"))
        ev.append((t, "nvme 0000:c1:00.0:   device [144d:a80a] error status/mask=00001000/"
                      "0000e000"))
    if job.family == "ib_link_flap" and node == job.node:
        bus = g["nic_buses"][job.gpu]
        ibdev = f"ibp{int(bus, 16)}s0"
        for s in job.flap_steps:
            t = stamps[s] + dt.timedelta(milliseconds=r.randrange(200, 900))
            ev.append((t, f"mlx5_core 0000:{bus}:00.0 {ibdev}: Link down"))
            ev.append((t + dt.timedelta(seconds=r.randint(3, 9)),
                       f"mlx5_core 0000:{bus}:00.0 {ibdev}: Link up"))
    if job.family == "host_memory_errors" and node == job.node:
        t = stamps[0] - dt.timedelta(minutes=r.randint(20, 50))
        mc = r.randint(0, 1)
        for k in range(r.randint(14, 24)):
            t += dt.timedelta(seconds=r.randint(30, 240))
            ch, dimm = r.randint(0, 7), 0
            ev.append((t, f"EDAC MC{mc}: 1 CE memory read error on CPU_SrcID#{mc}_MC#"
                          f"{ch // 4}_Chan#{ch % 4}_DIMM#{dimm} (channel:{ch % 4} slot:{dimm} "
                          f"page:0x{r.randrange(0x100000, 0xfffffff):x} offset:0x0 grain:32 "
                          "syndrome:0x0 - err_code:0x0000:0x009f socket:"
                          f"{mc} imc:{ch // 4} rank:1 bg:2 ba:1 row:0x{r.randrange(0xffff):x} "
                          f"col:0x{r.randrange(0x3ff):x})"))
            if k == 6:
                ev.append((t, "mce: CMCI storm detected: switching to poll mode"))
            if k % 5 == 2:
                ev.append((t, "mce: [Hardware Error]: Machine check events logged"))
    ev.sort(key=lambda e: e[0])
    return "\n".join(f"[{_ctime(t)}] {msg}" for t, msg in ev) + "\n"


# ---------------------------------------------------------------------- loader, launcher


def _loader_stats(job: _Job) -> str:
    r = job.rng
    lines = ["host,rank,local_rank,num_workers,prefetch_factor,shard_source,read_MBps,"
             "cache_hit_rate,mean_fetch_ms,p99_fetch_ms,queue_empty_frac,worker_restarts"]
    for rank in range(job.n_ranks):
        node, lr = divmod(rank, 8)
        src, mbps, hit = "nvme-cache", r.uniform(1400, 2100), r.uniform(0.975, 0.996)
        fetch, empty, restarts = r.uniform(4, 9), r.uniform(0.0, 0.01), 0
        if job.family == "dataloader_starvation" and node == job.node:
            src, mbps, hit = "objstore-remote", r.uniform(38, 70), r.uniform(0.0, 0.02)
            fetch, empty = r.uniform(180, 260), r.uniform(0.86, 0.97)
        if job.family == "host_memory_errors" and node == job.node:
            fetch, empty = fetch * r.uniform(2.5, 3.5), r.uniform(0.25, 0.45)
        if job.family == "numa_binding" and node == job.node and lr == job.gpu:
            fetch, empty = fetch * r.uniform(2.0, 3.0), r.uniform(0.2, 0.4)
            mbps *= 0.8
        if node == job.herring_nodes.get("loader_restart") and lr == job.herring_gpus[
                "loader_restart"]:
            restarts = 1
        lines.append(f"{job.hosts[node]},{rank},{lr},8,4,{src},{mbps:.0f},{hit:.3f},{fetch:.1f},"
                     f"{fetch * r.uniform(3, 5):.1f},{empty:.3f},{restarts}")
    return "\n".join(lines) + "\n"


def _bindings(job: _Job) -> str:
    lines = []
    t = job.start
    for node, host in enumerate(job.hosts):
        if job.family == "nccl_socket_fallback" and node == job.node:
            lines.append(f"[{t:%Y-%m-%d %H:%M:%S}] host={host} WARNING: /dev/infiniband not "
                         "present in container (rdma device plugin: 0 devices allocated)")
        for lr in range(8):
            numa = lr // 4
            slot = lr % 4
            cpus = f"{numa * 56 + slot * 14}-{numa * 56 + slot * 14 + 13}"
            if job.family == "numa_binding" and node == job.node and lr == job.gpu:
                numa = 1 - numa
                cpus = f"{112 + numa * 56 + slot * 14}-{112 + numa * 56 + slot * 14 + 13}"
            lines.append(f"[{t:%Y-%m-%d %H:%M:%S}] host={host} rank={node * 8 + lr} "
                         f"local_rank={lr} CUDA_VISIBLE_DEVICES={lr} numactl --cpunodebind="
                         f"{numa} --membind={numa} cpus={cpus}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- profiler, config


def _profile(job: _Job, rank0: list[float], title: str, recompute: bool, comm_ms: float) -> str:
    c = rank0[1]
    gemm_f = "sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize256x128x64_warpgroupsize2x1x1" \
        if job.g["sku"] == "H100" else "ampere_bf16_s16816gemm_bf16_256x128_ldg8_f2f_stages_64x3_tn"
    mb = 16
    lps = job.layers // job.pp
    k = 2 if recompute else 1
    rows = [
        (gemm_f, 0.62 * c, (4 * k + 8) * mb * lps),
        ("flash_fwd_kernel", 0.10 * c, k * mb * lps),
        ("flash_bwd_dq_dk_dv_loop_seqk_parallel_kernel", 0.12 * c, mb * lps),
        ("ncclDevKernel_ReduceScatter_Sum_bf16_RING_LL", 0.55 * comm_ms + 0.05 * c, 4),
        ("ncclDevKernel_AllGather_RING_LL", 0.45 * comm_ms + 0.03 * c, 4),
        ("ncclDevKernel_SendRecv", 0.03 * c, 2 * mb),
        ("vectorized_elementwise_kernel", 0.05 * c, 61 * mb * k),
        ("Memcpy HtoD (Pinned -> Device)", rank0[0] + 2.0, mb),
    ]
    total = sum(r[1] for r in rows)
    out = [title, "-" * 98,
           f"{'Name':<62}{'Self CUDA %':>12}{'Self CUDA':>13}{'# of Calls':>11}",
           "-" * 98]
    for name, ms, calls in sorted(rows, key=lambda x: -x[1]):
        out.append(f"{name[:60]:<62}{ms / total * 100:>11.2f}%{ms:>11.1f}ms{calls:>11}")
    if recompute:
        out.append(f"{'CheckpointFunctionBackward (CPU op)':<62}{'-':>12}{'-':>13}"
                   f"{mb * job.layers // job.pp:>11}")
    out += ["-" * 98, f"Self CUDA time total: {total / 1000:.3f}s", ""]
    return "\n".join(out)


def _config_diff(job: _Job) -> str:
    r = job.rng
    base_run = r.randint(40, 60)
    cur_run = base_run + r.randint(1, 4)
    lines = [
        f"--- runs/pretrain-run{base_run:02d}/config.yaml\t(last good run)",
        f"+++ runs/pretrain-run{cur_run:02d}/config.yaml\t(current run)",
        "@@ -3,9 +3,9 @@ run:",
        f"-  name: pretrain-run{base_run:02d}",
        f"+  name: pretrain-run{cur_run:02d}",
        f"-  wandb_group: ablation-{r.choice(['lr', 'mix', 'warmup'])}",
        "+  wandb_group: main",
        "   seed: 1234",
        f"-  log_interval: {r.choice([1, 5])}",
        "+  log_interval: 10",
        "@@ -14,8 +14,8 @@ model:",
        f"   num_layers: {job.layers}",
        f"   tensor_model_parallel_size: {job.tp}",
        f"   pipeline_model_parallel_size: {job.pp}",
    ]
    if job.family == "recompute_enabled":
        lines += ["-  recompute_granularity: selective", "+  recompute_granularity: full",
                  "+  recompute_method: uniform", "+  recompute_num_layers: 1"]
    else:
        lines += ["   recompute_granularity: selective"]
    lines += [
        "   sequence_parallel: true",
        "@@ -31,7 +31,7 @@ checkpoint:",
        f"-  save: /lustre/ckpt/pretrain-run{base_run:02d}",
        f"+  save: /lustre/ckpt/pretrain-run{cur_run:02d}",
        "-  save_interval: 500",
        "+  save_interval: 1000",
        "@@ -40,6 +40,7 @@ env:",
        "   NCCL_IB_HCA: mlx5_0,mlx5_1,mlx5_2,mlx5_3,mlx5_4,mlx5_5,mlx5_6,mlx5_7",
        "-  NCCL_DEBUG: WARN",
        "+  NCCL_DEBUG: INFO",
        "+  NCCL_DEBUG_SUBSYS: INIT,NET",
        "   CUDA_DEVICE_MAX_CONNECTIONS: 1",
    ]
    return "\n".join(lines) + "\n"


def generate(seed: int, params: dict[str, Any]) -> dict[str, Any]:
    job = _Job(seed, params)
    if job.family == "pcie_downtrain":
        g = job.g
        job.pcie_link = job.rng.choice([(1, 16), (g["pcie_gen"], 4), (2, 8), (3, 4)])
    rows, walls, stamps = job.timings()
    base, base_stamps = job.baseline()
    files: dict[str, str] = {
        "timings/step_times.csv": _steps_csv(job, rows, stamps),
        "timings/baseline_step_times.csv": _baseline_csv(job, base, base_stamps),
        "nvidia-smi/topo-m.txt": _topo(job),
        "dataloader/stats.csv": _loader_stats(job),
        "launcher/bindings.log": _bindings(job),
        "config/run.diff": _config_diff(job),
    }
    snap = stamps[len(stamps) // 2]
    for node, host in enumerate(job.hosts):
        files[f"nvidia-smi/{host}.txt"] = _smi(job, node, snap)
        files[f"nccl/{host}.log"] = _nccl(job, node, stamps)
        files[f"dmesg/{host}.txt"] = _dmesg(job, node, stamps)
    mid = len(rows) // 2
    base_rank0 = [0.004 * job.t0, 0.80 * job.t0, 0.12 * job.t0, 0.076 * job.t0]
    files["profiler/rank0_summary.txt"] = (
        _profile(job, rows[mid][0], f"torch.profiler summary, current run, rank 0 "
                 f"({job.hosts[0]} GPU 0), step {FIRST_STEP + mid}",
                 job.family == "recompute_enabled", rows[mid][0][2]) + "\n"
        + _profile(job, base_rank0, f"torch.profiler summary, last good run, rank 0, "
                   f"step {FIRST_STEP - 2600 + mid}", False, base_rank0[2]))
    measured = sum(walls[1:]) / (len(walls) - 1) / (sum(base[1:]) / (len(base) - 1)) - 1
    return {
        "params": {
            "cause_family": job.family,
            "culprit_node": "all" if job.node < 0 else job.hosts[job.node],
            "culprit_gpu": "all" if job.gpu < 0 else str(job.gpu),
            "measured_slowdown_pct": round(measured * 100, 1),
            "baseline_step_s": round(job.t0 / 1000, 2),
            "red_herrings": [f"{h}@{job.hosts[job.herring_nodes[h]]}" for h in job.herrings],
        },
        "artifacts": files,
    }
