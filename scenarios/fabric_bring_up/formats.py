"""Text formats of fabric-bring-up's artifacts (nccl-tests, ibstat/ibv_devinfo, lspci, NCCL
INFO logs, ibnetdiscover, opensm.conf). Each takes the generator's Cluster."""

from __future__ import annotations

from typing import Any

Cluster = Any  # generate.Cluster (loaded from its file, not a package)

ROOT_PORTS = ["00:01.1", "20:01.1", "80:01.1", "a0:01.1"]
# Four PCIe switches, each with two GPUs and their two rail NICs (HGX baseboard).
SWITCH_UP = ["15:00.0", "35:00.0", "95:00.0", "b5:00.0"]
GPU_BUS = ["18:00.0", "2a:00.0", "3a:00.0", "5d:00.0", "9a:00.0", "ab:00.0", "ba:00.0",
           "db:00.0"]
NIC_BUS = ["1a:00.0", "3c:00.0", "4d:00.0", "5e:00.0", "9c:00.0", "bc:00.0", "cc:00.0",
           "dc:00.0"]
STORAGE_BUS = "c4:00.0"
ACS_ON = "SrcValid+ TransBlk- ReqRedir+ CmpltRedir+ UpstreamFwd+ EgressCtrl- DirectTrans-"
ACS_OFF = "SrcValid- TransBlk- ReqRedir- CmpltRedir- UpstreamFwd- EgressCtrl- DirectTrans-"


def _is_culprit(c: Cluster, i: int, *families: str) -> bool:
    return c.family in families and i == c.node


def _ib_env(c: Cluster) -> str:
    if c.family == "nccl_ib_hca":
        return ",".join(c.ib_hca_list)
    if c.env_style == "ports":
        return ",".join(f"mlx5_{k}:1" for k in range(8))
    return ",".join(c.ib_hca_list)


def job_env(c: Cluster) -> str:
    return "\n".join([
        "# Environment of the acceptance job (sourced by the full-scale run and the pair sweep)",
        "export NCCL_DEBUG=INFO",
        "export NCCL_DEBUG_SUBSYS=INIT,NET",
        "export NCCL_SOCKET_IFNAME=ens21f0np0",
        f"export NCCL_IB_HCA={_ib_env(c)}",
        "export NCCL_IB_QPS_PER_CONNECTION=2",
        "export NCCL_CROSS_NIC=0",
        "export UCX_TLS=rc,cuda_copy",
        "export OMPI_MCA_btl=^openib,tcp",
        "",
    ])


def spare_env(c: Cluster) -> str:
    return "\n".join([
        "# Preflight of the hot spares (two rails only, quick check after the BIOS update)",
        "export NCCL_DEBUG=INFO",
        "export NCCL_SOCKET_IFNAME=ens21f0np0",
        "export NCCL_IB_HCA=mlx5_0,mlx5_1",
        "export NCCL_IB_ADAPTIVE_ROUTING=0",
        "",
    ])


def _perf_header(c: Cluster, hosts: list[str], b: str, e: str, iters: int) -> list[str]:
    lines = [f"# nThread 1 nGpus 1 minBytes {b} maxBytes {e} step: 2(factor) warmup iters: 5 "
             f"iters: {iters} agg iters: 1 validation: 1 graph: 0", "#", "# Using devices"]
    rank = 0
    for hi, h in enumerate(hosts):
        for g in range(8):
            lines.append(f"#  Rank {rank:4d} Group  0 Pid {c.pids[hi % len(c.pids)]:6d} on "
                         f"{h:>12} device  {g} [0x{GPU_BUS[g][:2]}] NVIDIA {c.g['sku']}")
            rank += 1
    lines += [
        "#",
        "#                                                              out-of-place          "
        "             in-place          ",
        "#       size         count      type   redop    root     time   algbw   busbw #wrong"
        "     time   algbw   busbw #wrong",
        "#        (B)    (elements)                               (us)  (GB/s)  (GB/s)       "
        "     (us)  (GB/s)  (GB/s)       ",
    ]
    return lines


def _row(size: int, t_us: float, busbw: float, jitter: float) -> str:
    algbw = size / (t_us * 1e-6) / 1e9
    factor = busbw / algbw if algbw else 0.0
    t2 = t_us * (1 + jitter)
    alg2 = size / (t2 * 1e-6) / 1e9
    return (f"{size:12d}  {size // 4:12d}     float     sum      -1 {t_us:8.1f} {algbw:7.2f} "
            f"{busbw:7.2f}      0 {t2:8.1f} {alg2:7.2f} {alg2 * factor:7.2f}      0")


def full_runs(c: Cluster) -> str:
    out = []
    for k, run in enumerate(c.runs, 1):
        out.append(f"$ mpirun -np {c.n * 8} --hostfile job/hostfile --map-by ppr:8:node "
                   "-x NCCL_IB_HCA ... ./build/all_reduce_perf -b 1K -e 8G -f 2 -g 1 -n 20"
                   f"    # run {k} of 3")
        out += _perf_header(c, c.hosts, "1024", "8589934592", 20)
        avg = 0.0
        for size, t_us, busbw in run:
            out.append(_row(size, t_us, busbw, c.rng.uniform(-0.004, 0.006)))
            avg += busbw
        out += ["# Out of bounds values : 0 OK", f"# Avg bus bandwidth    : {avg / len(run):.4f}",
                "#", ""]
    return "\n".join(out)


def pairs(c: Cluster) -> str:
    out = ["# pair sweep: all_reduce_perf -b 1G -e 1G -g 1 -n 50 on each pair of neighbouring",
           "# hosts of job/hostfile (16 ranks, same environment as the job: env/job.env)",
           f"{'host_a':<14}{'host_b':<14}{'size':>12}{'busbw_GBps':>12}"]
    for a, b, bw in c.pairs:
        out.append(f"{a:<14}{b:<14}{1 << 30:>12}{bw:>12.2f}")
    return "\n".join(out) + "\n"


def single_node(c: Cluster) -> str:
    out = ["# all_reduce_perf -b 1G -e 1G -g 8 -n 50 on each host alone (NVLink only)",
           f"{'host':<14}{'size':>12}{'busbw_GBps':>12}"]
    for h in c.hosts:
        out.append(f"{h:<14}{1 << 30:>12}{c.single[h]:>12.2f}")
    return "\n".join(out) + "\n"


def spares_preflight(c: Cluster) -> str:
    a, b = c.spares
    out = [f"$ mpirun -np 16 -H {a}:8,{b}:8 -x NCCL_IB_HCA ./build/all_reduce_perf "
           "-b 1G -e 1G -g 1 -n 50"]
    out += _perf_header(c, c.spares, "1073741824", "1073741824", 50)
    t = (1 << 30) * 2 * 15 / 16 / (c.spare_pair * 1e9) * 1e6
    out.append(_row(1 << 30, t, c.spare_pair, 0.003))
    out += ["# Out of bounds values : 0 OK", f"# Avg bus bandwidth    : {c.spare_pair:.4f}", ""]
    return "\n".join(out)


def _leaf_of(c: Cluster, i: int, h: str, k: int) -> tuple[int, int]:
    """(SU, rail) of the leaf the cable of host i's mlx5_k lands on."""
    su = 1 if h in c.spares else i // 16 + 1
    if c.family == "rail_miswired" and i == c.node and k == c.hca:
        return su, c.wrong_rail
    if h == c.spares[1] and k == c.spare_hca:
        return su, c.spare_rail
    return su, k


def ibnetdiscover(c: Cluster) -> str:
    sus = (c.n + 15) // 16
    rows: dict[tuple[int, int], list[tuple[int, str]]] = {}
    everyone = [(i, h) for i, h in enumerate(c.hosts)] + [
        (c.n + j, h) for j, h in enumerate(c.spares)]
    for i, h in everyone:
        local = int(h.rsplit("-n", 1)[1])
        for k in range(8):
            su, rail = _leaf_of(c, i, h, k)
            if rail == k:
                port = local
            else:  # a free port: the culprit's cable on 24-31, the spare's on 19-23
                port = 19 + k % 5 if h in c.spares else 24 + k
            rows.setdefault((su, rail), []).append(
                (port, f'[{port}]\t"H-{c.guid(i, k)[2:]}"[1]({c.guid(i, k)[2:]}) \t\t# '
                       f'"{h} mlx5_{k}" lid {100 + i * 8 + k} 4x{c.g["speed"]}'))
    out = ["#", "# Topology file: generated on the compute fabric by ibnetdiscover -p "
           "(abridged: HCA ports and spine uplinks)", "#"]
    for su in range(1, sus + 1):
        for rail in range(8):
            lid = 10 + (su - 1) * 8 + rail
            out.append(f'Switch\t64 "S-fc6a1c0300{su:02x}{rail:02x}00"\t\t# "leaf-su{su}-r{rail}" '
                       f"enhanced port 0 lid {lid} lmc 0")
            for _, line in sorted(rows.get((su, rail), [])):
                out.append(line)
            for up in range(32, 36):
                out.append(f'[{up + 1}]\t"S-fc6a1c0300ff{up:02x}00"[{su * 8 + rail}]\t\t# '
                           f'"spine-{up - 31:02d}" lid {2 + up - 32} 4x{c.g["speed"]}')
            out.append("")
    return "\n".join(out)


def topo(c: Cluster) -> str:
    nics = [f"NIC{k}" for k in range(9)]
    head = "\t" + "\t".join([f"GPU{g}" for g in range(8)] + nics) + "\tCPU Affinity\tNUMA Affinity"
    out = [head]
    names = [f"GPU{g}" for g in range(8)] + nics

    def rel(a: int, b: int) -> str:
        if a == b:
            return " X "
        if a < 8 and b < 8:
            return "NV18" if c.g["up"] == "NVLink4" else "NV12"
        ga, gb = (a if a < 8 else a - 8), (b if b < 8 else b - 8)
        if 16 in (a, b):
            return "SYS"
        if ga // 2 == gb // 2:
            return "PIX"
        return "NODE" if ga // 4 == gb // 4 else "SYS"

    for a, name in enumerate(names):
        cells = [rel(a, b) for b in range(17)]
        idx = a if a < 8 else a - 8
        cpu = ("0-55,112-167" if idx < 4 else "56-111,168-223") if a < 16 else "56-111,168-223"
        numa = "0" if idx < 4 and a < 16 else "1"
        out.append(f"{name}\t" + "\t".join(cells) + (f"\t{cpu}\t{numa}" if a < 8 else ""))
    out += ["", "NIC Legend:", ""]
    out += [f"  NIC{k}: mlx5_{k}" for k in range(9)]
    out.append("")
    return "\n".join(out)


def opensm(c: Cluster) -> str:
    engine = "ftree" if c.family == "adaptive_routing_off" else "ar_ftree"
    return "\n".join([
        "# /etc/opensm/opensm.conf on ufm-01 (compute fabric master SM), abridged",
        "# Factory default before bring-up was:",
        "# routing_engine ftree",
        f"routing_engine {engine}",
        "root_guid_file /etc/opensm/root_guids.conf",
        "cn_guid_file /etc/opensm/cn_guids.conf",
        "lmc 0",
        "max_op_vls 5",
        "sm_priority 15",
        "sweep_interval 10",
        "qos TRUE",
        "",
    ])


def ib(c: Cluster, i: int, h: str) -> str:
    mtu_bad = _is_culprit(c, i, "mtu_mismatch")
    spare_mtu = h == c.spares[1]
    out = [f"$ ibstat   # {h}"]
    for k in range(9):
        eth = k == 8
        out += [f"CA 'mlx5_{k}'",
                f"\tCA type: {'MT4125' if eth else c.g['ca_type']}",
                "\tNumber of ports: 1",
                f"\tFirmware version: {c.g['fw'] if not eth else '22.39.2048'}",
                "\tHardware version: 0",
                f"\tNode GUID: {c.guid(i, k)}",
                f"\tSystem image GUID: {c.guid(i, 0)}",
                "\tPort 1:",
                "\t\tState: Active",
                "\t\tPhysical state: LinkUp",
                f"\t\tRate: {200 if eth else c.g['rate']}",
                f"\t\tBase lid: {0 if eth else 100 + i * 8 + k}",
                "\t\tLMC: 0",
                f"\t\tSM lid: {0 if eth else 1}",
                f"\t\tCapability mask: {'0x00010000' if eth else '0xa651e848'}",
                f"\t\tPort GUID: {c.guid(i, k)}",
                f"\t\tLink layer: {'Ethernet' if eth else 'InfiniBand'}"]
    out += ["", f"$ ibv_devinfo -v | grep -E 'hca_id|port:|state|mtu|link_layer|active_'   # {h}"]
    for k in range(9):
        eth = k == 8
        if eth:
            mtu = "1024 (3)"
        elif mtu_bad:
            mtu = "1024 (3)"
        elif spare_mtu:
            mtu = "2048 (4)"
        else:
            mtu = "4096 (5)"
        out += [f"hca_id:\tmlx5_{k}",
                "\t\tport:\t1",
                "\t\t\tstate:\t\t\tPORT_ACTIVE (4)",
                "\t\t\tmax_mtu:\t\t4096 (5)",
                f"\t\t\tactive_mtu:\t\t{mtu}",
                f"\t\t\tactive_width:\t\t{'2X' if eth else '4X'} (2)",
                f"\t\t\tactive_speed:\t\t{'100.0 Gbps' if eth else c.g['lane']}",
                "\t\t\tphys_state:\t\tLINK_UP (5)",
                f"\t\t\tlink_layer:\t\t{'Ethernet' if eth else 'InfiniBand'}"]
    return "\n".join(out) + "\n"


def _peermem(c: Cluster, i: int, h: str) -> bool:
    if h == c.spares[0]:
        return False
    if i < c.n and (i == c.dmabuf_node or _is_culprit(c, i, "gdr_off")):
        return False
    return True


def host(c: Cluster, i: int, h: str) -> str:
    out = [f"# {h}", "$ uname -r", "5.15.0-105-generic" if i != c.dmabuf_node else
           "6.5.0-35-generic", "", "$ lsmod | grep -E '^(nvidia|mlx5|ib_)'"]
    if _peermem(c, i, h):
        out.append("nvidia_peermem         16384  0")
    out += ["nvidia_uvm           4931584  0", "nvidia_drm            122880  0",
            "nvidia_modeset       1392640  1 nvidia_drm",
            "nvidia              8962048  3 nvidia_uvm,nvidia_peermem,nvidia_modeset"
            if _peermem(c, i, h) else "nvidia              8962048  2 nvidia_uvm,nvidia_modeset",
            "mlx5_ib               495616  0", "mlx5_core            2269184  1 mlx5_ib",
            "ib_uverbs             163840  2 nvidia_peermem,mlx5_ib" if _peermem(c, i, h)
            else "ib_uverbs             163840  1 mlx5_ib",
            "ib_core               442368  3 ib_uverbs,mlx5_ib,nvidia_peermem"
            if _peermem(c, i, h) else "ib_core               442368  2 ib_uverbs,mlx5_ib",
            "", "$ lspci -vvv | grep -E '^[0-9a-f]{2}:|ACSCtl'   (bridges only)"]
    acs_switch = _is_culprit(c, i, "pcie_acs") or h == c.spares[0]
    for rp in ROOT_PORTS:
        out += [f"{rp} PCI bridge: Intel Corporation Device 1bbc (rev 11) (prog-if 00 [Normal "
                "decode])", f"\t\tACSCtl:\t{ACS_ON}"]
    for s, up in enumerate(SWITCH_UP):
        out += [f"{up} PCI bridge: {c.g['switch']} (prog-if 00 [Normal decode])   "
                "# switch upstream port", f"\t\tACSCtl:\t{ACS_OFF}"]
        for g in (2 * s, 2 * s + 1):
            for kind, bus in (("GPU", GPU_BUS[g]), ("mlx5_", NIC_BUS[g])):
                bridge = f"{int(bus[:2], 16) - 1:02x}:00.0"
                what = f"GPU{g}" if kind == "GPU" else f"mlx5_{g}"
                out += [f"{bridge} PCI bridge: {c.g['switch']} (prog-if 00 [Normal decode])   "
                        f"# downstream port to {what} ({bus})",
                        f"\t\tACSCtl:\t{ACS_ON if acs_switch else ACS_OFF}"]
    out += ["", "$ dmesg -T | grep -iE 'peermem|mlx5_core.*(link|mtu)|acs'"]
    if _is_culprit(c, i, "gdr_off"):
        out += ["[Tue Nov 17 09:12:44 2026] nvidia_peermem: disagrees about version of symbol "
                "ib_register_peer_memory_client",
                "[Tue Nov 17 09:12:44 2026] nvidia_peermem: Unknown symbol "
                "ib_register_peer_memory_client (err -22)"]
    elif _peermem(c, i, h):
        out.append("[Tue Nov 17 09:12:44 2026] nvidia_peermem: module verification failed: "
                   "signature and/or required key missing - tainting kernel")
    if i < c.n and i == c.dmabuf_node:
        out.append("[Tue Nov 17 09:12:40 2026] nvidia: open kernel module, DMA-BUF export "
                   "supported")
    for k in range(8):
        out.append(f"[Tue Nov 17 09:12:5{k} 2026] mlx5_core 0000:{NIC_BUS[k]}: mlx5_port_"
                   "module_event: Module 0, status: plugged and enabled")
    out.append(f"[Tue Nov 17 09:13:02 2026] mlx5_core 0000:{STORAGE_BUS} ens21f0np0: Link up")
    return "\n".join(out) + "\n"


def _nccl_prefix(c: Cluster, i: int, h: str, g: int) -> str:
    pid = c.pids[i]
    return f"{h}:{pid}:{pid + g} [{g}] NCCL INFO"


def nccl_log(c: Cluster, i: int, h: str) -> str:
    gdr = not _is_culprit(c, i, "gdr_off")
    dmabuf = i == c.dmabuf_node
    n = c.n * 8
    out = [f"{_nccl_prefix(c, i, h, 0)} Bootstrap : Using ens21f0np0:10.40.{i // 250}."
           f"{i % 250 + 1}<0>",
           f"{_nccl_prefix(c, i, h, 0)} cudaDriverVersion 12040",
           f"{_nccl_prefix(c, i, h, 0)} NCCL version 2.21.5+cuda12.4",
           f"{_nccl_prefix(c, i, h, 0)} NET/Plugin: No plugin found (libnccl-net.so)",
           f"{_nccl_prefix(c, i, h, 0)} NCCL_IB_HCA set by environment to {_ib_env(c)}"]
    used = c.ib_hca_list
    out.append(f"{_nccl_prefix(c, i, h, 0)} NET/IB : Using "
               + " ".join(f"[{j}]{name}:1/IB" for j, name in enumerate(used))
               + f" [RO]; OOB ens21f0np0:10.40.{i // 250}.{i % 250 + 1}<0>")
    out.append(f"{_nccl_prefix(c, i, h, 0)} Using network IB")
    for g in range(8):
        nic = g * len(used) // 8
        if dmabuf:
            out.append(f"{_nccl_prefix(c, i, h, g)} DMA-BUF is available on GPU device {g}")
        state = "Enabled" if gdr else "Disabled"
        why = "" if gdr else " (no module or not supported by GPU)"
        out.append(f"{_nccl_prefix(c, i, h, g)} GPU Direct RDMA {state} for HCA {nic} "
                   f"'{used[nic]}'{why}")
    for g in range(8):
        nic = g * len(used) // 8
        rank = i * 8 + g
        nxt = ((i + 1) % c.n) * 8 + g
        prv = ((i - 1) % c.n) * 8 + g
        via = f"NET/IB/{nic}" + ("/GDRDMA" if gdr else "")
        out.append(f"{_nccl_prefix(c, i, h, g)} Channel {g:02d}/0 : {prv}[{g}] -> {rank}[{g}] "
                   f"[receive] via {via}")
        out.append(f"{_nccl_prefix(c, i, h, g)} Channel {g:02d}/0 : {rank}[{g}] -> {nxt}[{g}] "
                   f"[send] via {via}")
    for g in range(8):
        out.append(f"{_nccl_prefix(c, i, h, g)} comm 0x{0x5500 + i * 8 + g:x}0 rank {i * 8 + g} "
                   f"nRanks {n} nNodes {c.n} localRanks 8 localRank {g} MNNVL 0")
    out.append(f"{_nccl_prefix(c, i, h, 0)} Init COMPLETE")
    return "\n".join(out) + "\n"


def nccl_spare_log(c: Cluster) -> str:
    h = c.spares[0]
    i = c.n
    out = [f"{_nccl_prefix(c, i, h, 0)} NCCL_IB_HCA set by environment to mlx5_0,mlx5_1",
           f"{_nccl_prefix(c, i, h, 0)} NET/IB : Using [0]mlx5_0:1/IB [1]mlx5_1:1/IB [RO]; "
           "OOB ens21f0np0:10.40.9.1<0>"]
    for g in range(8):
        nic = g * 2 // 8
        out.append(f"{_nccl_prefix(c, i, h, g)} GPU Direct RDMA Disabled for HCA {nic} "
                   f"'mlx5_{nic}' (no module or not supported by GPU)")
    for g in range(8):
        out.append(f"{_nccl_prefix(c, i, h, g)} Channel {g:02d}/0 : {8 + g}[{g}] -> {g}[{g}] "
                   f"[receive] via NET/IB/{g * 2 // 8}")
    out.append(f"{_nccl_prefix(c, i, h, 0)} Init COMPLETE")
    return "\n".join(out) + "\n"
