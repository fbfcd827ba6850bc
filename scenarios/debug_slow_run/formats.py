"""Text formats of the debug scenario's artifacts (nvidia-smi, NVLink, NCCL, dmesg, iostat,
cpupower, loader stats, launcher, profiler, config diff). Each function renders one file
from the Job drawn in generate.py, including the decoys planted in it."""

from __future__ import annotations

import datetime as dt
from typing import Any

STEPS = 40
FIRST_STEP = 18400
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
DAYS = "Mon Tue Wed Thu Fri Sat Sun".split()
Job = Any


def _ctime(t: dt.datetime) -> str:  # dmesg -T / nvidia-smi style
    return f"{DAYS[t.weekday()]} {MONTHS[t.month - 1]} {t.day:2d} {t:%H:%M:%S} {t.year}"


def _node(job: Job, host: str) -> int:
    return job.hosts.index(host) if host in job.hosts else -1


def _is(job: Job, decoy: str, host: str) -> bool:
    """Whether host carries the decoy (job-node decoys by node index, spare decoys by name)."""
    if decoy in job.mild_node:
        return bool(job.hosts[job.mild_node[decoy]] == host)
    if decoy in job.decoy_node:
        return bool(job.hosts[job.decoy_node[decoy]] == host)
    return bool(job.spare_of.get(decoy) == host)


def steps_csv(job: Job, rows: list[list[list[float]]], stamps: list[dt.datetime]) -> str:
    lines = ["timestamp,step,rank,host,local_rank,step_ms,data_ms,compute_ms,tp_comm_ms,"
             "dp_comm_ms,optim_ms,ckpt_ms"]
    for s, per in enumerate(rows):
        ts = stamps[s].isoformat(timespec="milliseconds")
        for rank, (d, c, tp, e, o, k) in enumerate(per):
            node, lr = job.place(rank)
            lines.append(f"{ts},{FIRST_STEP + s},{rank},{job.hosts[node]},{lr},"
                         f"{d + c + tp + e + o + k:.1f},{d:.1f},{c:.1f},{tp:.1f},{e:.1f},"
                         f"{o:.1f},{k:.1f}")
    return "\n".join(lines) + "\n"


def baseline_csv(job: Job, rows: list[list[float]], stamps: list[dt.datetime]) -> str:
    lines = ["timestamp,step,step_ms,tokens_per_s,rank0_data_ms,rank0_compute_ms,"
             "rank0_tp_comm_ms,rank0_dp_comm_ms,rank0_optim_ms,rank0_ckpt_ms"]
    for s, row in enumerate(rows):
        w = sum(row)
        lines.append(f"{stamps[s].isoformat(timespec='milliseconds')},{FIRST_STEP - 2600 + s},"
                     f"{w:.1f},{job.gbs_tokens / (w / 1000):.0f},"
                     + ",".join(f"{x:.1f}" for x in row))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- nvidia-smi -q


def _gpu_state(job: Job, host: str, i: int) -> dict[str, Any]:
    r = job.rng
    g = job.g
    node = _node(job, host)
    st: dict[str, Any] = dict(
        temp=r.randint(48, 66), mem_temp=r.randint(56, 74), sm=g["sm_max"],
        power=g["power"] * r.uniform(0.78, 0.93), limit=g["power"], reasons=set(),
        gen=g["pcie_gen"], width=16, replays=0, vol_dram_ce=0, agg_dram_ce=0, agg_sram_ce=0,
        remap_ce=0, util=100, proc="/usr/bin/python3",
    )
    if node < 0:  # a hot spare: idle, PCIe link down-shifted to save power
        st.update(temp=r.randint(29, 38), mem_temp=r.randint(30, 40), sm=345, util=0,
                  power=r.uniform(62, 90), reasons={"idle"}, gen=1, proc=None)
        if _is(job, "burnin_thermal", host):
            st.update(temp=r.randint(60, 70), mem_temp=r.randint(70, 80), sm=g["sm_max"],
                      util=100, power=g["power"] * r.uniform(0.9, 0.98), reasons=set(),
                      gen=g["pcie_gen"], proc="/opt/burnin/gpu_burn")
            if i == job.decoy_gpu["burnin_thermal"]:
                st.update(temp=r.randint(g["slowdown"] + 1, g["shutdown"]),
                          reasons={"hw_thermal", "sw_thermal", "hw"},
                          sm=int(g["sm_max"] * 0.7 / 15) * 15, mem_temp=r.randint(86, 92))
        if _is(job, "idle_power_limit", host) and i == job.decoy_gpu["idle_power_limit"]:
            st.update(limit=round(g["power"] * 0.65 / 25) * 25.0, reasons={"idle", "sw_power"})
        return st
    fam, hit = job.family, (node == job.node and i == job.gpu)
    ratio = 0.70 * job.t0 / (0.70 * job.t0 + job.slowdown * job.t0)
    if hit and fam == "thermal_throttle":
        st.update(temp=r.randint(g["slowdown"] + 1, g["shutdown"]), reasons={"hw_thermal",
                  "sw_thermal", "hw"}, sm=int(g["sm_max"] * ratio / 15) * 15,
                  power=g["power"] * r.uniform(0.55, 0.65), mem_temp=r.randint(86, 93))
    if hit and fam == "power_cap":
        lim = round(g["power"] * ratio * 0.8 / 25) * 25.0
        st.update(reasons={"sw_power"}, sm=int(g["sm_max"] * ratio / 15) * 15, limit=lim,
                  power=lim * r.uniform(0.97, 0.995))
    if hit and fam == "pcie_downtrain":
        gen, width = job.pcie_link
        st.update(gen=gen, width=width, replays=r.randint(300, 5000))
    if _is(job, "power_at_tdp", host) and i == job.decoy_gpu["power_at_tdp"]:
        st.update(reasons={"sw_power"}, power=g["power"] * r.uniform(0.995, 1.0),
                  sm=g["sm_max"] - 15 * r.randint(3, 8))
    mild = job.mild_gpu
    if _is(job, "mild_power", host) and i == mild["mild_power"]:
        lim = g["power"] - 50.0 if g["sku"] == "H100" else g["power"] - 25.0
        st.update(reasons={"sw_power"}, limit=lim, power=lim * r.uniform(0.985, 0.998),
                  sm=int(g["sm_max"] * (1 - job.mild_cost["mild_power"]) / 15) * 15)
    if _is(job, "mild_thermal", host) and i == mild["mild_thermal"]:
        st.update(reasons={"sw_thermal"}, temp=g["maxop"] + r.randint(1, 3),
                  sm=int(g["sm_max"] * (1 - job.mild_cost["mild_thermal"]) / 15) * 15,
                  mem_temp=r.randint(82, 86))
    if _is(job, "mild_pcie", host) and i == mild["mild_pcie"]:
        st.update(gen=g["pcie_gen"] - 1, replays=r.randint(0, 6))
    if _is(job, "pcie_replays", host) and i == job.decoy_gpu["pcie_replays"]:
        st.update(replays=r.randint(2, 14))
    if _is(job, "warm_gpu", host) and i == job.decoy_gpu["warm_gpu"]:
        st.update(temp=g["maxop"] - r.randint(0, 2), mem_temp=r.randint(80, 84))
    if _is(job, "ecc_history", host) and i == job.decoy_gpu["ecc_history"]:
        st.update(vol_dram_ce=r.randint(1, 4), agg_dram_ce=r.randint(30, 120),
                  agg_sram_ce=r.randint(0, 3), remap_ce=r.randint(1, 3))
    return st


def smi(job: Job, host: str, when: dt.datetime) -> str:
    g = job.g
    r = job.rng
    node = _node(job, host)
    if node < 0:
        when = job.start - dt.timedelta(minutes=r.randint(5, 50))
    out = ["", "==============NVSMI LOG==============", "",
           f"{'Timestamp':<42}: {_ctime(when)}", f"{'Driver Version':<42}: 550.54.15",
           f"{'CUDA Version':<42}: 12.4", "", f"{'Attached GPUs':<42}: 8"]

    def kv(indent: int, key: str, val: Any) -> None:
        pad = " " * indent
        out.append(f"{pad}{key:<{42 - indent}}: {val}")

    def head(indent: int, key: str) -> None:
        out.append(" " * indent + key)

    for i in range(8):
        st = _gpu_state(job, host, i)
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
        u = job.uuids[(host, i)]
        kv(4, "GPU UUID", f"GPU-{u[:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:]}")
        kv(4, "Minor Number", i)
        kv(4, "VBIOS Version", g["vbios"])
        kv(4, "Module ID", i + 1)
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
        kv(4, "Performance State", "P0" if st["util"] else "P8")
        head(4, "Clocks Event Reasons")
        kv(8, "Idle", act("idle"))
        kv(8, "Applications Clocks Setting", "Not Active")
        kv(8, "SW Power Cap", act("sw_power"))
        kv(8, "HW Slowdown", act("hw"))
        kv(12, "HW Thermal Slowdown", act("hw_thermal"))
        kv(12, "HW Power Brake Slowdown", "Not Active")
        kv(8, "Sync Boost", "Not Active")
        kv(8, "SW Thermal Slowdown", act("sw_thermal"))
        kv(8, "Display Clock Setting", "Not Active")
        head(4, "FB Memory Usage")
        used = g["fb_total"] - 1800 - r.randint(0, 600) if st["proc"] else r.randint(0, 4)
        kv(8, "Total", f"{g['fb_total']} MiB")
        kv(8, "Reserved", "328 MiB" if g["sku"] == "H100" else "0 MiB")
        kv(8, "Used", f"{used} MiB")
        kv(8, "Free", f"{g['fb_total'] - used - (328 if g['sku'] == 'H100' else 0)} MiB")
        kv(4, "Compute Mode", "Default")
        head(4, "Utilization")
        kv(8, "Gpu", f"{st['util']} %")
        kv(8, "Memory", f"{r.randint(30, 55) if st['util'] else 0} %")
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
        if st["proc"] is None:
            out[-1] = f"    {'Processes':<38}: None"
        else:
            kv(8, "GPU instance ID", "N/A")
            kv(8, "Compute instance ID", "N/A")
            kv(8, "Process ID", (job.pids[node] if node >= 0 else 4100) + 1 + i)
            kv(12, "Type", "C")
            kv(12, "Name", st["proc"])
            kv(12, "Used GPU Memory", f"{used - 330} MiB")
        out.append("")
    return "\n".join(out) + "\n"


def topo(job: Job) -> str:
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



# ---------------------------------------------------------------------- nvidia-smi nvlink


def nvlink(job: Job, host: str) -> str:
    """`nvidia-smi nvlink -s` then `nvidia-smi nvlink -e`."""
    g = job.g
    r = job.rng
    node = _node(job, host)
    dead: dict[int, list[int]] = {}
    if job.family == "nvlink_degraded" and node == job.node and node >= 0:
        dead[job.gpu] = job.dead_links
    if _is(job, "mild_nvlink", host):
        dead[job.mild_gpu["mild_nvlink"]] = [job.mild_link]
    if _is(job, "nvlink_inactive", host):
        dead[job.decoy_gpu["nvlink_inactive"]] = sorted(r.sample(range(g["nvlinks"]), 2))
    crc: dict[tuple[int, int], tuple[int, int, int]] = {}
    if _is(job, "nvlink_crc", host):
        gi = job.decoy_gpu["nvlink_crc"]
        for ln in r.sample(range(g["nvlinks"]), r.randint(1, 3)):
            crc[(gi, ln)] = (r.randint(1, 40), r.randint(0, 2), r.randint(5, 300))
    for gi, links in dead.items():
        for ln in links:
            crc[(gi, ln)] = (r.randint(200, 5000), r.randint(3, 40), r.randint(1000, 90000))
    out = ["$ nvidia-smi nvlink -s"]
    for i in range(8):
        u = job.uuids[(host, i)]
        out.append(f"GPU {i}: {g['product']} (UUID: GPU-{u[:8]}-{u[8:12]}-{u[12:16]}-"
                   f"{u[16:20]}-{u[20:]})")
        for ln in range(g["nvlinks"]):
            val = "<inactive>" if ln in dead.get(i, []) else f"{g['link_gbs']:.3f} GB/s"
            out.append(f"\t Link {ln}: {val}")
    out += ["", "$ nvidia-smi nvlink -e"]
    for i in range(8):
        u = job.uuids[(host, i)]
        out.append(f"GPU {i}: {g['product']} (UUID: GPU-{u[:8]}-{u[8:12]}-{u[12:16]}-"
                   f"{u[16:20]}-{u[20:]})")
        for ln in range(g["nvlinks"]):
            rep, rec, c = crc.get((i, ln), (0, 0, 0))
            out += [f"\t Link {ln}: Replay Errors: {rep}", f"\t Link {ln}: Recovery Errors: {rec}",
                    f"\t Link {ln}: CRC Errors: {c}"]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------- NCCL logs


def _ip(node: int) -> str:
    return f"10.{40 + node // 200}.{node // 50}.{node % 250 + 2}"


def nccl(job: Job, node: int, stamps: list[dt.datetime]) -> str:
    r = job.rng
    host, pid = job.hosts[node], job.pids[node]
    ip = _ip(node)
    socket = job.family == "nccl_socket_fallback" and node == job.node
    lines = []
    comm_id = f"0x{r.getrandbits(64):016x}"
    for lr in range(8):
        p = pid + 1 + lr
        tid = p + r.randint(150, 400)
        rank = job.rank_of(node, lr)
        pre = f"{host}:{p}:{p} [{lr}] NCCL INFO"
        tpre = f"{host}:{p}:{tid} [{lr}] NCCL INFO"
        if rank == 0:
            lines.append(f"{pre} Bootstrap : Using ens21f0np0:{ip}<0>")
            lines.append("NCCL version 2.20.5+cuda12.4")
        lines.append(f"{pre} cudaDriverVersion 12040")
        if lr == 0 and rank != 0:
            lines.append(f"{pre} Bootstrap : Using ens21f0np0:{ip}<0>")
        if _is(job, "nccl_retry", host) and lr == job.decoy_gpu["nccl_retry"]:
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
        transport = "NET/Socket/0" if socket else f"NET/IB/{lr}/GDRDMA"
        # The tensor-parallel communicator: 8 consecutive ranks.
        tp_peer = rank + 1 if rank % 8 != 7 else rank - 7
        pnode, plr = job.place(tp_peer)
        via = "P2P/CUMEM/read" if pnode == node else transport
        lines.append(f"{tpre} comm {comm}-tp{rank // 8} rank {rank % 8} nRanks 8 nNodes "
                     f"{len({job.place(x)[0] for x in range(rank - rank % 8, rank - rank % 8 + 8)})}"
                     f" localRanks {8 if not job.cyclic else 1} localRank "
                     f"{lr if not job.cyclic else 0} MNNVL 0")
        lines.append(f"{tpre} Channel 00/0 : {rank % 8}[{lr}] -> {tp_peer % 8}[{plr}] via {via}")
        if lr in (0, 7):
            peer = ((node - 1) % job.n_nodes) * 8 + 7 if lr == 0 else ((node + 1) % job.n_nodes) * 8
            direction = "receive" if lr == 0 else "send"
            arrow = f"{peer}[{peer % 8}] -> {rank}[{lr}]" if lr == 0 else \
                f"{rank}[{lr}] -> {peer}[{peer % 8}]"
            for ch in (0, 1):
                lines.append(f"{tpre} Channel {ch:02d}/0 : {arrow} [{direction}] via {transport}")
        lines.append(f"{tpre} Connected all rings")
        lines.append(f"{tpre} Connected all trees")
        lines.append(f"{tpre} threadThresholds 8/8/64 | {job.n_ranks * 8}/8/64 | 512 | 512")
        lines.append(f"{tpre} 32 coll channels, 32 collnet channels, 0 nvls channels, 32 p2p "
                     "channels, 32 p2p channels per peer")
        lines.append(f"{tpre} ncclCommInitRank comm {comm} rank {rank} nranks {job.n_ranks} "
                     f"cudaDev {lr} nvmlDev {lr} busId {bus}000 commId {comm_id} - Init COMPLETE")
    if _is(job, "mild_flap", host):
        g = job.mild_gpu["mild_flap"]
        p = pid + 1 + g
        lines.append(f"{host}:{p}:{p + 9} [{g}] NCCL WARN NET/IB : mlx5_{g}:1 Got async "
                     "event : port error")
        lines.append(f"{host}:{p}:{p + 9} [{g}] NCCL WARN NET/IB : mlx5_{g}:1 Got async "
                     "event : port active")
    if job.family == "ib_link_flap" and node == job.node:
        g = job.gpu
        p = pid + 1 + g
        for _s in job.flap_steps:
            lines.append(f"{host}:{p}:{p + 9} [{g}] NCCL WARN NET/IB : mlx5_{g}:1 Got async "
                         "event : port error")
            lines.append(f"{host}:{p}:{p + 9} [{g}] NCCL WARN NET/IB : mlx5_{g}:1 Got async "
                         "event : port active")
    return "\n".join(lines) + "\n"


def _perf_table(r: Any, busbw_peak: float) -> list[str]:
    out = ["#", "#                                                              out-of-place"
           "                       in-place          ",
           "#       size         count      type   redop    root     time   algbw   busbw "
           "#wrong     time   algbw   busbw #wrong",
           "#        (B)    (elements)                               (us)  (GB/s)  (GB/s)      "
           "        (us)  (GB/s)  (GB/s)       "]
    size = 8 * 1024 * 1024
    while size <= 1024 * 1024 * 1024:
        bw = busbw_peak * size / (size + 6e6) * r.uniform(0.97, 1.0)
        algbw = bw / 1.75
        t = size / (algbw * 1e3)
        out.append(f"{size:>12} {size // 2:>13}  bfloat16     sum      -1 {t:>8.1f} {algbw:>7.2f} "
                   f"{bw:>7.2f}      0 {t * 1.01:>8.1f} {algbw * 0.99:>7.2f} {bw * 0.99:>7.2f}      0")
        size *= 4
    out.append(f"# Avg bus bandwidth    : {busbw_peak * 0.72:.3f} ")
    return out


def nccl_tests_login(job: Job) -> str:
    """The login node's preflight: a single-host container without /dev/infiniband."""
    r = job.rng
    host = job.login
    t = job.start - dt.timedelta(hours=r.randint(2, 9))
    p = r.randrange(3000, 9000)
    out = [f"# {t:%Y-%m-%d %H:%M:%S} preflight: all_reduce_perf -b 8M -e 1G -f 4 -g 2 "
           f"(container smoke test on {host})",
           "# nThread 1 nGpus 2 minBytes 8388608 maxBytes 1073741824 step: 4(factor) warmup "
           "iters: 5 iters: 20 agg iters: 1 validation: 1 graph: 0", "#",
           "# Using devices",
           f"#  Rank  0 Group  0 Pid {p} on {host} device  0 [0x17] NVIDIA L40S",
           f"#  Rank  1 Group  0 Pid {p} on {host} device  1 [0x65] NVIDIA L40S",
           f"{host}:{p}:{p} [0] NCCL INFO Bootstrap : Using eno1:10.30.0.5<0>",
           f"{host}:{p}:{p} [0] NCCL INFO NET/IB : No device found.",
           f"{host}:{p}:{p} [0] NCCL INFO NET/Socket : Using [0]eno1:10.30.0.5<0>",
           f"{host}:{p}:{p} [0] NCCL INFO Using network Socket",
           f"{host}:{p}:{p} [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via SHM/direct/direct"]
    out += _perf_table(r, 18.0)
    return "\n".join(out) + "\n"


def nccl_tests_spares(job: Job) -> str:
    """Two-node preflight over the hot spares after a switch maintenance."""
    r = job.rng
    a, b = job.spares
    t = job.start - dt.timedelta(hours=r.randint(10, 30))
    gi = job.decoy_gpu["spare_ib_flap"]
    p = r.randrange(3000, 9000)
    out = [f"# {t:%Y-%m-%d %H:%M:%S} preflight: mpirun -H {a}:8,{b}:8 all_reduce_perf -b 8M "
           "-e 1G -f 4 -g 1", "# nThread 1 nGpus 1 minBytes 8388608 maxBytes 1073741824 "
           "step: 4(factor) warmup iters: 5 iters: 20 agg iters: 1 validation: 1 graph: 0",
           "#", "# Using devices"]
    for k, h in enumerate((a, b)):
        for i in range(8):
            out.append(f"#  Rank {k * 8 + i:>2} Group  0 Pid {p + k * 100 + i} on {h} device "
                       f" {i} [0x{job.g['buses'][i]}] {job.g['product']}")
    devs = " ".join(f"[{i}]mlx5_{i}:1/IB" for i in range(8))
    out.append(f"{a}:{p}:{p} [0] NCCL INFO NET/IB : Using {devs} ; OOB ens21f0np0:10.41.7.2<0>")
    out.append(f"{a}:{p}:{p} [0] NCCL INFO Using network IB")
    out.append(f"{b}:{p + 100 + gi}:{p + 109 + gi} [{gi}] NCCL WARN NET/IB : mlx5_{gi}:1 Got "
               "async event : port error")
    out.append(f"{b}:{p + 100 + gi}:{p + 109 + gi} [{gi}] NCCL WARN NET/IB : mlx5_{gi}:1 Got "
               "async event : port active")
    out += _perf_table(r, 180.0 if job.g["sku"] == "H100" else 90.0)
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------- dmesg


def _edac(r: Any, t: dt.datetime, mc: int, n: int, ev: list[tuple[dt.datetime, str]]) -> None:
    for k in range(n):
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


def _md_failure(r: Any, t: dt.datetime, ev: list[tuple[dt.datetime, str]]) -> None:
    disk = f"nvme{r.randint(1, 3)}n1"
    ev.append((t, f"nvme nvme{disk[4]}: I/O 731 QID 12 timeout, aborting"))
    ev.append((t + dt.timedelta(seconds=30), f"blk_update_request: I/O error, dev {disk}, sector "
               f"{r.randrange(10**8, 10**9)} op 0x0:(READ) flags 0x80700 phys_seg 32 prio class 0"))
    ev.append((t + dt.timedelta(seconds=31), f"md/raid10:md0: Disk failure on {disk}, disabling "
               "device."))
    ev.append((t + dt.timedelta(seconds=31), "md/raid10:md0: Operation continuing on 3 devices."))
    ev.append((t + dt.timedelta(minutes=3), "md: recovery of RAID array md0"))


def dmesg(job: Job, host: str, stamps: list[dt.datetime]) -> str:
    r = job.rng
    g = job.g
    node = _node(job, host)
    ev: list[tuple[dt.datetime, str]] = []
    boot = job.boot + dt.timedelta(seconds=(node if node >= 0 else 90) * 7)
    ev.append((boot, "Linux version 5.15.0-105-generic (buildd@lcy02-amd64-027) (gcc (Ubuntu "
                     "11.4.0-1ubuntu1~22.04) 11.4.0, GNU ld (GNU Binutils for Ubuntu) 2.38) "
                     "#115-Ubuntu SMP"))
    ev.append((boot + dt.timedelta(seconds=1), "Command line: BOOT_IMAGE=/vmlinuz-5.15.0-105-"
               "generic root=/dev/sda2 ro iommu=pt pci=realloc=off"))
    x8 = job.decoy_gpu["spare_nic_x8"] if _is(job, "spare_nic_x8", host) else -1
    for i, bus in enumerate(g["nic_buses"]):
        ev.append((boot + dt.timedelta(seconds=14, milliseconds=i * 40),
                   f"mlx5_core 0000:{bus}:00.0: firmware version: 28.39.1002"))
        full = "252.048 Gb/s available PCIe bandwidth (16.0 GT/s PCIe x16 link)" \
            if g["sku"] == "H100" else \
            "126.024 Gb/s available PCIe bandwidth (8.0 GT/s PCIe x16 link)"
        if i == x8:
            full = ("126.024 Gb/s available PCIe bandwidth, limited by 16.0 GT/s PCIe x8 link at "
                    f"0000:{int(bus, 16) - 2:02x}:00.0 (capable of 252.048 Gb/s with 16.0 GT/s "
                    "PCIe x16 link)")
        ev.append((boot + dt.timedelta(seconds=15, milliseconds=i * 40),
                   f"mlx5_core 0000:{bus}:00.0: {full}"))
    ev.append((boot + dt.timedelta(seconds=18), "md/raid10:md0: active with 4 out of 4 devices"))
    ev.append((boot + dt.timedelta(seconds=21), "nvidia: loading out-of-tree module taints "
               "kernel."))
    ev.append((boot + dt.timedelta(seconds=21, milliseconds=400),
               "NVRM: loading NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 22:23:56 "
               "UTC 2024"))
    ev.append((boot + dt.timedelta(seconds=24), "nvidia-nvswitch0: using MSI"))
    before = job.start - dt.timedelta(hours=r.randint(20, 60))
    if before < boot:
        before = boot + dt.timedelta(hours=2)
    if job.family == "pcie_downtrain" and node == job.node and node >= 0:
        bus = g["buses"][job.gpu]
        gen, width = job.pcie_link
        speed = {1: 2.5, 2: 5.0, 3: 8.0, 4: 16.0, 5: 32.0}[gen]
        enc = 0.8 if gen <= 2 else 128 / 130
        avail = speed * width * enc
        cap = {4: 252.048, 5: 504.112}[g["pcie_gen"]]
        fullspeed = {4: 16.0, 5: 32.0}[g["pcie_gen"]]
        up = f"{int(bus, 16) - 2:02x}"
        t0 = stamps[0] - dt.timedelta(minutes=r.randint(3, 20))
        ev.append((t0, f"pcieport 0000:{up}:00.0: pciehp: Slot(0-{job.gpu}): Link Down"))
        ev.append((t0 + dt.timedelta(seconds=1), f"pcieport 0000:{up}:00.0: pciehp: "
                   f"Slot(0-{job.gpu}): Link Up"))
        ev.append((t0 + dt.timedelta(seconds=2), f"pci 0000:{bus}:00.0: {avail:.3f} Gb/s "
                   f"available PCIe bandwidth, limited by {speed:.1f} GT/s PCIe x{width} link at "
                   f"0000:{up}:00.0 (capable of {cap:.3f} Gb/s with {fullspeed:.1f} GT/s PCIe "
                   "x16 link)"))
        for _ in range(r.randint(4, 8)):
            t = stamps[r.randrange(len(stamps))] + dt.timedelta(milliseconds=r.randrange(999))
            ev.append((t, f"pcieport 0000:{up}:00.0: AER: Corrected error received: "
                          f"0000:{bus}:00.0"))
            ev.append((t, f"nvidia 0000:{bus}:00.0: PCIe Bus Error: severity=Corrected, "
                          "type=Physical Layer, (Receiver ID)"))
    if _is(job, "old_xid", host):
        gi = job.decoy_gpu["old_xid"]
        xid, msg = r.choice([
            (13, "Graphics Exception: ESR 0x50c730=0x4000000 0x50c734=0x20 0x50c728=0x4c1eb72 "
                 "0x50c72c=0x174"),
            (31, "Ch 00000008, intr 00000000. MMU Fault: ENGINE GRAPHICS GPCCLIENT_T1_1 faulted "
                 "@ 0x7f3a_8c000000. Fault is of type FAULT_PDE ACCESS_TYPE_VIRT_READ"),
            (74, "NVLink: fatal error detected on link 3(0x0, 0x0, 0x10000, 0x0, 0x0, 0x0, 0x0)"),
        ])
        ev.append((before, f"NVRM: Xid (PCI:0000:{g['buses'][gi]}:00): {xid}, "
                           f"pid={r.randint(3000, 9999)}, name=pt_main_thread, {msg}"))
    if _is(job, "ecc_history", host):
        gi = job.decoy_gpu["ecc_history"]
        ev.append((before, f"NVRM: Xid (PCI:0000:{g['buses'][gi]}:00): 63, pid='<unknown>', "
                           "name=<unknown>, Row Remapper: New row marked for remapping, reset "
                           "gpu to activate."))
    if _is(job, "eth_flap", host):
        dev = "ens21f0np0"
        ev.append((before, f"mlx5_core 0000:e1:00.0 {dev}: Link down"))
        ev.append((before + dt.timedelta(seconds=r.randint(2, 6)), f"mlx5_core 0000:e1:00.0 "
                   f"{dev}: Link up"))
    if _is(job, "frontend_nic_x8", host):  # the Ethernet NIC for bootstrap and logs only
        ev.append((boot + dt.timedelta(seconds=16), "mlx5_core 0000:e1:00.0: 126.024 Gb/s "
                   "available PCIe bandwidth, limited by 16.0 GT/s PCIe x8 link at 0000:e0:01.0 "
                   "(capable of 252.048 Gb/s with 16.0 GT/s PCIe x16 link)"))
    if _is(job, "md_recovered", host):
        t = max(boot + dt.timedelta(hours=1), before - dt.timedelta(hours=r.randint(20, 40)))
        _md_failure(r, t, ev)
        ev.append((t + dt.timedelta(hours=r.randint(2, 5)), "md: md0: recovery done."))
        ev.append((t + dt.timedelta(hours=5, minutes=1), "md/raid10:md0: active with 4 out of "
                   "4 devices"))
    if _is(job, "aer_nvme", host):
        t = stamps[r.randrange(len(stamps))]
        ev.append((t, "pcieport 0000:c0:01.1: AER: Corrected error received: 0000:c1:00.0"))
        ev.append((t, "nvme 0000:c1:00.0: PCIe Bus Error: severity=Corrected, type=Data Link "
                      "Layer, (Transmitter ID)"))
    if _is(job, "ib_flap_old", host) or _is(job, "spare_ib_flap", host):
        key = "ib_flap_old" if _is(job, "ib_flap_old", host) else "spare_ib_flap"
        bus = g["nic_buses"][job.decoy_gpu[key]]
        for k in range(r.randint(2, 5)):
            t = before + dt.timedelta(minutes=k * r.randint(2, 9))
            ev.append((t, f"mlx5_core 0000:{bus}:00.0 ibp{int(bus, 16)}s0: Link down"))
            ev.append((t + dt.timedelta(seconds=r.randint(3, 9)),
                       f"mlx5_core 0000:{bus}:00.0 ibp{int(bus, 16)}s0: Link up"))
    if job.family == "ib_link_flap" and node == job.node and node >= 0:
        bus = g["nic_buses"][job.gpu]
        for s in job.flap_steps:
            t = stamps[s] + dt.timedelta(milliseconds=r.randrange(200, 900))
            ev.append((t, f"mlx5_core 0000:{bus}:00.0 ibp{int(bus, 16)}s0: Link down"))
            ev.append((t + dt.timedelta(seconds=r.randint(3, 9)),
                       f"mlx5_core 0000:{bus}:00.0 ibp{int(bus, 16)}s0: Link up"))
    if job.family == "host_memory_errors" and node == job.node and node >= 0:
        _edac(r, stamps[0] - dt.timedelta(minutes=r.randint(20, 50)), r.randint(0, 1),
              r.randint(14, 24), ev)
    if _is(job, "mild_cmci", host):
        _edac(r, stamps[0] - dt.timedelta(minutes=r.randint(10, 60)), r.randint(0, 1),
              r.randint(8, 12), ev)
    if _is(job, "hostmem_old", host):
        _edac(r, before, r.randint(0, 1), r.randint(12, 20), ev)
    if job.family == "slow_storage" and node == job.node and node >= 0:
        _md_failure(r, stamps[0] - dt.timedelta(minutes=r.randint(8, 40)), ev)
    if _is(job, "mild_storage", host):
        _md_failure(r, stamps[0] - dt.timedelta(minutes=r.randint(8, 40)), ev)
    if _is(job, "md_rebuild", host):
        _md_failure(r, job.start - dt.timedelta(minutes=r.randint(30, 90)), ev)
    if job.family == "nvlink_degraded" and node == job.node and node >= 0:
        t = stamps[0] - dt.timedelta(minutes=r.randint(5, 30))
        ln = job.dead_links[0]
        ev.append((t, f"NVRM: Xid (PCI:0000:{g['buses'][job.gpu]}:00): 74, pid='<unknown>', "
                      f"name=<unknown>, NVLink: fatal error detected on link {ln}(0x0, 0x0, "
                      "0x10000, 0x0, 0x0, 0x0, 0x0)"))
    ev.sort(key=lambda e: e[0])
    return "\n".join(f"[{_ctime(t)}] {msg}" for t, msg in ev) + "\n"


# ---------------------------------------------------------------------- iostat, cpupower


def iostat(job: Job, host: str, when: dt.datetime) -> str:
    r = job.rng
    node = _node(job, host)
    busy = node >= 0
    hdr = ("Device            r/s     rMB/s   rrqm/s  %rrqm r_await rareq-sz     w/s     wMB/s"
           "   wrqm/s  %wrqm w_await wareq-sz     d/s     dMB/s   drqm/s  %drqm d_await "
           "dareq-sz     f/s f_await  aqu-sz  %util")
    slow_md = (job.family == "slow_storage" and node == job.node and busy) or \
        _is(job, "md_rebuild", host) or _is(job, "mild_storage", host)
    cpu_io = r.uniform(0.0, 0.4)
    lines = [f"Linux 5.15.0-105-generic ({host}) \t{when:%m/%d/%Y} \t_x86_64_\t(224 CPU)", "",
             "avg-cpu:  %user   %nice %system %iowait  %steal   %idle",
             f"{'':10}{(r.uniform(9, 14) if busy else 0.3):>6.2f}{0.0:>8.2f}"
             f"{(r.uniform(2, 4) if busy else 0.2):>8.2f}"
             f"{(r.uniform(3, 7) if slow_md and busy else cpu_io):>8.2f}{0.0:>8.2f}"
             f"{(r.uniform(78, 86) if busy else 99.4):>8.2f}", "", hdr]

    def row(dev: str, rs: float, rmb: float, r_aw: float, ws: float, wmb: float, w_aw: float,
            util: float) -> None:
        rq = rmb * 1024 / rs if rs else 0.0
        wq = wmb * 1024 / ws if ws else 0.0
        aqu = (rs * r_aw + ws * w_aw) / 1000
        lines.append(f"{dev:<12}{rs:>9.2f}{rmb:>10.2f}{0.0:>9.2f}{0.0:>7.2f}{r_aw:>8.2f}"
                     f"{rq:>9.2f}{ws:>8.2f}{wmb:>10.2f}{0.0:>9.2f}{0.0:>7.2f}{w_aw:>8.2f}"
                     f"{wq:>9.2f}{0.0:>8.2f}{0.0:>10.2f}{0.0:>9.2f}{0.0:>7.2f}{0.0:>8.2f}"
                     f"{0.0:>9.2f}{0.0:>8.2f}{0.0:>8.2f}{aqu:>8.2f}{util:>6.1f}")

    sda_busy = _is(job, "sda_busy", host)
    row("md0", 0, 0, 0, 0, 0, 0, 0)  # placeholder, replaced below
    lines.pop()
    if sda_busy:
        row("sda", 3.1, 0.05, 0.9, r.uniform(900, 1400), r.uniform(60, 110), r.uniform(35, 80),
            r.uniform(94, 99.5))
    else:
        row("sda", 0.4, 0.01, 0.6, r.uniform(4, 30), r.uniform(0.1, 0.9), r.uniform(0.5, 2),
            r.uniform(0.5, 3))
    md_rs = 0.0
    for k in range(4):
        if slow_md:
            rs, rmb, aw, util = r.uniform(2800, 3600), r.uniform(22, 40), r.uniform(30, 70), \
                r.uniform(97, 100)
        elif busy:
            rs, rmb, aw, util = r.uniform(2600, 3400), r.uniform(330, 520), r.uniform(0.2, 0.6), \
                r.uniform(18, 35)
        else:
            rs, rmb, aw, util = 0.0, 0.0, 0.0, 0.0
        md_rs += rs
        row(f"nvme{k}n1", rs, rmb, aw, r.uniform(0, 2) if busy else 0, 0.01 if busy else 0,
            0.3 if busy else 0, util)
    if slow_md:
        row("md0", md_rs, r.uniform(70, 130), r.uniform(45, 90), 0.4, 0.01, 0.5, 100.0)
    elif busy:
        row("md0", md_rs, r.uniform(1400, 2000), r.uniform(0.3, 0.7), 0.4, 0.01, 0.4,
            r.uniform(30, 45))
    else:
        row("md0", 0, 0, 0, 0, 0, 0, 0)
    lines.append("")
    return "\n".join(lines) + "\n"


def cpufreq(job: Job, host: str) -> str:
    r = job.rng
    node = _node(job, host)
    gov, cur = "performance", r.choice([3.79, 3.80, 3.80, 3.81])
    if node < 0:
        cur = r.choice([3.79, 3.80])
    if (job.family == "cpu_governor" and node == job.node and node >= 0) or \
            _is(job, "cpu_powersave", host):
        gov, cur = "powersave", 0.80
    driver = "acpi-cpufreq"
    if _is(job, "cpu_ondemand", host):  # intel_pstate's powersave with HWP runs at full clock
        driver, gov, cur = "intel_pstate", "powersave", 3.79
    return "\n".join([
        "analyzing CPU 0:",
        f"  driver: {driver}",
        "  CPUs which run at the same hardware frequency: 0",
        "  CPUs which need to have their frequency coordinated by software: 0",
        "  maximum transition latency:  10.0 us",
        "  hardware limits: 800 MHz - 3.80 GHz",
        "  available frequency steps:  3.80 GHz, 2.00 GHz, 1.50 GHz, 800 MHz",
        "  available cpufreq governors: conservative ondemand userspace powersave performance "
        "schedutil",
        "  current policy: frequency should be within 800 MHz and 3.80 GHz.",
        f"                  The governor \"{gov}\" may decide which speed to use",
        "                  within this range.",
        f"  current CPU frequency: {cur:.2f} GHz (asserted by call to hardware)"
        if cur >= 1 else "  current CPU frequency: 800 MHz (asserted by call to hardware)",
        "  boost state support:",
        "    Supported: yes",
        "    Active: yes",
    ]) + "\n"


# ---------------------------------------------------------------------- loader, launcher


def loader_stats(job: Job) -> str:
    r = job.rng
    lines = ["host,rank,local_rank,num_workers,prefetch_factor,shard_source,read_MBps,"
             "cache_hit_rate,mean_fetch_ms,p99_fetch_ms,queue_empty_frac,worker_restarts"]
    remote = job.decoy_node["loader_remote"], job.decoy_gpu["loader_remote"]
    restart = job.decoy_node["old_xid"], job.decoy_gpu["nccl_retry"]
    for node in range(job.n_nodes):
        for lr in range(8):
            rank = job.rank_of(node, lr)
            src, mbps, hit = "nvme-cache", r.uniform(1400, 2100), r.uniform(0.975, 0.996)
            fetch, empty, restarts = r.uniform(4, 9), r.uniform(0.0, 0.01), 0
            if job.family == "dataloader_starvation" and node == job.node:
                src, mbps, hit = "objstore-remote", r.uniform(38, 70), r.uniform(0.0, 0.02)
                fetch, empty = r.uniform(180, 260), r.uniform(0.86, 0.97)
            if job.family == "slow_storage" and node == job.node:
                mbps, fetch, empty = r.uniform(9, 16), r.uniform(150, 240), r.uniform(0.8, 0.95)
            if (node, lr) == remote:  # streams a fresh shard; prefetch keeps up
                src, mbps, hit = "objstore-remote", r.uniform(900, 1300), r.uniform(0.2, 0.4)
                fetch, empty = r.uniform(40, 70), r.uniform(0.002, 0.009)
            if job.family in ("host_memory_errors", "cpu_governor") and node == job.node:
                fetch, empty = fetch * r.uniform(2.5, 3.5), r.uniform(0.25, 0.45)
            if job.family == "numa_binding" and node == job.node and lr == job.gpu:
                fetch, empty = fetch * r.uniform(2.0, 3.0), r.uniform(0.2, 0.4)
                mbps *= 0.8
            if (node, lr) == (job.mild_node["mild_loader"], job.mild_gpu["mild_loader"]):
                fetch, empty = r.uniform(25, 40), r.uniform(0.55, 0.7)
            if node == job.mild_node["mild_storage"]:
                fetch, empty = r.uniform(20, 35), r.uniform(0.3, 0.5)
                mbps = r.uniform(700, 1000)
            if (node, lr) == restart:
                restarts = 1
            lines.append(f"{job.hosts[node]},{rank},{lr},8,4,{src},{mbps:.0f},{hit:.3f},"
                         f"{fetch:.1f},{fetch * r.uniform(3, 5):.1f},{empty:.3f},{restarts}")
    return "\n".join(lines) + "\n"


def _bind_line(t: dt.datetime, host: str, rank: int, lr: int, numa: int, slot: int,
               wrong: bool) -> str:
    if wrong:
        numa = 1 - numa
    cpus = f"{numa * 56 + slot * 14}-{numa * 56 + slot * 14 + 13}"
    return (f"[{t:%Y-%m-%d %H:%M:%S}] host={host} rank={rank} local_rank={lr} "
            f"CUDA_VISIBLE_DEVICES={lr} numactl --cpunodebind={numa} --membind={numa} "
            f"cpus={cpus}")


def bindings(job: Job) -> str:
    r = job.rng
    pre = job.start - dt.timedelta(minutes=r.randint(8, 20))
    lines = [f"[{pre:%Y-%m-%d %H:%M:%S}] job step 0 (preflight: all_reduce_perf across all job "
             f"nodes, 10 min, exited 0): srun --nodes={job.n_nodes} --ntasks-per-node=8 "
             "--distribution=cyclic --cpu-bind=none ./bind.sh"]
    wn, wg = job.decoy_node["numa_preflight"], job.decoy_gpu["numa_preflight"]
    for node in range(job.n_nodes):
        for lr in range(8):
            lines.append(_bind_line(pre, job.hosts[node], lr * job.n_nodes + node, lr, lr // 4,
                                    lr % 4, (node, lr) == (wn, wg)))
    t = job.start
    dist = "cyclic" if job.cyclic else "block"
    lines.append(f"[{t:%Y-%m-%d %H:%M:%S}] job step 1 (training, running): srun "
                 f"--nodes={job.n_nodes} --ntasks-per-node=8 --distribution={dist} "
                 "--cpu-bind=none ./bind.sh python pretrain_gpt.py --config config.yaml")
    for node, host in enumerate(job.hosts):
        if job.family == "nccl_socket_fallback" and node == job.node:
            lines.append(f"[{t:%Y-%m-%d %H:%M:%S}] host={host} WARNING: /dev/infiniband not "
                         "present in container (rdma device plugin: 0 devices allocated)")
        for lr in range(8):
            wrong = (job.family == "numa_binding" and node == job.node and lr == job.gpu) or \
                (node == job.mild_node["mild_numa"] and lr == job.mild_gpu["mild_numa"])
            lines.append(_bind_line(t, host, job.rank_of(node, lr), lr, lr // 4, lr % 4, wrong))
    return "\n".join(lines) + "\n"
def profile(job: Job, rank0: list[float], title: str, recompute: bool, comm_ms: float) -> str:
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



def config_diff(job: Job) -> str:
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
        "@@ -14,9 +14,10 @@ model:",
        f"   num_layers: {job.layers}",
        f"   tensor_model_parallel_size: {job.tp}",
        f"   pipeline_model_parallel_size: {job.pp}",
    ]
    if job.family == "recompute_enabled":
        lines += ["-  recompute_granularity: selective", "+  recompute_granularity: full",
                  "+  recompute_method: uniform", "+  recompute_num_layers: 1"]
    else:  # no-op: recompute_num_layers only applies with full granularity
        lines += ["   recompute_granularity: selective",
                  "+  # recompute_granularity: full   # fallback if seq 8k OOMs",
                  "+  recompute_num_layers: 1"]
    lines += ["   sequence_parallel: true", "@@ -31,8 +32,8 @@ checkpoint:",
              f"-  save: /lustre/ckpt/pretrain-run{base_run:02d}",
              f"+  save: /lustre/ckpt/pretrain-run{cur_run:02d}"]
    if job.ckpt_mode == "cause":
        lines += ["-  save_interval: 1000", f"+  save_interval: {job.ckpt_interval}",
                  "   async_save: false"]
    elif job.ckpt_mode == "sync_rare":
        lines += ["-  save_interval: 500", "+  save_interval: 1000", "-  async_save: true",
                  "+  async_save: false"]
    elif job.ckpt_mode == "sync_local":
        lines[-2:] = [f"-  save: /lustre/ckpt/pretrain-run{base_run:02d}",
                      f"+  save: /local_nvme/ckpt/pretrain-run{cur_run:02d}  # sidecar uploads "
                      "to /lustre"]
        lines += ["-  save_interval: 1000", f"+  save_interval: {job.ckpt_interval}",
                  "-  async_save: true", "+  async_save: false"]
    else:
        lines += ["-  save_interval: 1000", f"+  save_interval: {job.ckpt_interval}",
                  "   async_save: true"]
    lines += [
        "@@ -40,6 +41,7 @@ env:",
        "   NCCL_IB_HCA: mlx5_0,mlx5_1,mlx5_2,mlx5_3,mlx5_4,mlx5_5,mlx5_6,mlx5_7",
        "-  NCCL_DEBUG: WARN",
        "+  NCCL_DEBUG: INFO",
        "+  NCCL_DEBUG_SUBSYS: INIT,NET",
        "   CUDA_DEVICE_MAX_CONNECTIONS: 1",
    ]
    return "\n".join(lines) + "\n"
