"""Text formats of silent-data-corruption's artifacts. render_all(run) -> {path: text}."""

from __future__ import annotations

import math
import random
from typing import Any

Run = Any  # generate.Run (loaded from its file, not a package)
TP, PP = 8, 4
CKPT_EVERY = 50
GOOD_SHARDS = ["cc-main-2024-30", "cc-main-2024-26", "books-v2", "code-mix-v4", "arxiv-v3",
               "wiki-2024-06", "cc-main-2024-33"]


def _host(node: int) -> str:
    return f"h100-c{node // 32 + 1:02d}-n{node % 32 + 1:02d}"


def _fmt(x: float) -> str:
    return "nan" if math.isnan(x) else f"{x:.4f}"


def render_all(run: Run) -> dict[str, str]:
    r = random.Random(f"silent-data-corruption:v1:formats:{run.step0}:{run.culprit_rank}")
    out: dict[str, str] = {}
    steps = range(run.step0, run.step0 + 300)
    # Loss and global gradient norm.
    loss_rows = ["step,loss,grad_norm,skipped,lr,tokens_per_s"]
    alerts = []
    bump: dict[int, float] = {}
    for s, ev in run.events.items():
        if ev["kind"] == "sdc" and not ev.get("nan"):
            for k, extra in enumerate((r.uniform(0.08, 0.3), r.uniform(0.03, 0.1),
                                       r.uniform(0.0, 0.04)), 1):
                bump[s + k] = bump.get(s + k, 0.0) + extra
    for s in steps:
        loss = 2.05 - 0.0002 * (s - run.step0) + r.gauss(0, 0.006) + bump.get(s, 0.0)
        gn = run.base_norm * r.uniform(0.95, 1.05)
        skipped = 0
        ev = run.events.get(s)
        if ev:
            if ev.get("nan"):
                gn, skipped = float("nan"), 1
                if ev["kind"] == "data":
                    loss = float("nan")
            elif ev["kind"] == "data":
                loss += r.uniform(0.4, 1.2)
                gn = run.base_norm * r.uniform(5.5, 14)
            else:
                gn = run.base_norm * r.uniform(6, 30)
            what = ("non-finite gradient norm, step skipped by the optimizer" if ev.get("nan")
                    else f"grad_norm {gn:.2f} > 5 x rolling median")
            alerts.append(f"[alert] step {s}: {what}; anomaly dump written to "
                          f"anomalies/step_{s}.csv")
        tps = 1.0e6 * run.ranks / 1024 * r.uniform(0.985, 1.005)
        loss_rows.append(f"{s},{_fmt(loss)},{_fmt(gn)},{skipped},1.5e-04,{tps:.0f}")
    out["train/loss.csv"] = "\n".join(loss_rows) + "\n"
    out["alerts/alerts.log"] = "\n".join(alerts) + "\n"
    # Per-replica local gradient norms (before the data-parallel all-reduce).
    dp_rows = ["step,dp_rank,local_grad_norm"]
    quiet = run.base_norm * math.sqrt(sum(w * w for ws in run.shard_w for w in ws) / (TP * PP))
    for s in steps:
        for d in range(run.dp):
            if s not in run.events:  # no rank stands out: the replica's norm is its usual one
                dp_rows.append(f"{s},{d},{quiet * r.uniform(0.97, 1.03):.4f}")
                continue
            sq, bad = 0.0, False
            for rank in range(d * TP * PP, (d + 1) * TP * PP):
                bad = bad or run.nonfinite(s, rank)
                sq += run.partial(s, rank, r) ** 2
            dp_rows.append(f"{s},{d},{'nan' if bad else f'{math.sqrt(sq):.4f}'}")
    out["train/dp_grad_norms.csv"] = "\n".join(dp_rows) + "\n"
    # Anomaly dumps: every rank's share of the gradient norm at each alerted step.
    for s in sorted(run.events):
        rows = ["rank,host,local_gpu,dp_rank,pp_stage,tp_rank,partial_grad_norm,nonfinite"]
        for rank in range(run.ranks):
            dp, pp, tp = run.place(rank)
            nf = run.nonfinite(s, rank)
            val = "nan" if nf else f"{run.partial(s, rank, r):.5f}"
            rows.append(f"{rank},{_host(rank // 8)},{rank % 8},{dp},{pp},{tp},{val},"
                        f"{r.randint(12, 4096) if nf else 0}")
        out[f"anomalies/step_{s}.csv"] = "\n".join(rows) + "\n"
    # Batch statistics per replica and step.
    b_rows = ["step,dp_rank,shard,max_token_repeat_frac,mean_doc_tokens"]
    for s in steps:
        ev = run.events.get(s)
        for d in range(run.dp):
            if ev and ev["kind"] == "data" and d in ev["replicas"]:
                b_rows.append(f"{s},{d},{ev['shard']},{r.uniform(0.62, 0.97):.3f},"
                              f"{r.randint(6000, 8192)}")
            else:
                shard = r.choice(GOOD_SHARDS)
                rep = r.uniform(0.25, 0.38) if shard == "code-mix-v4" and r.random() < 0.3 \
                    else r.uniform(0.02, 0.09)
                b_rows.append(f"{s},{d},{shard}/part-{r.randrange(4000):05d},{rep:.3f},"
                              f"{r.randint(700, 2400)}")
    out["data/batch_stats.csv"] = "\n".join(b_rows) + "\n"
    # Checkpoints and the cross-replica weight hash check.
    ck = []
    for s in steps:
        if s % CKPT_EVERY == 0:
            ck.append(f"[step {s}] saved checkpoint iter_{s:07d} to /lustre/ckpt/run42/ "
                      f"(async, {r.uniform(38, 52):.1f} s in background)")
            ck.append(f"[step {s}] weight hash check across {run.dp} data-parallel replicas: "
                      f"OK ({TP * PP} shards, all replicas identical)")
    out["train/checkpoints.log"] = "\n".join(ck) + "\n"
    # ECC counters of every GPU.
    e_rows = ["host,gpu,volatile_sbe,volatile_dbe,aggregate_sbe,aggregate_dbe,"
              "remapped_rows_correctable,remapped_rows_uncorrectable,remap_pending"]
    sbe = {g: r.randint(40, 900) for g in run.sbe_gpus}
    for n in range(run.nodes):
        for g in range(8):
            v_sbe = sbe.get((n, g), 0)
            agg = v_sbe + (r.randint(1, 6) if r.random() < 0.02 else 0)
            dbe = 1 if (n, g) == (run.dcgm_fail_node, run.dcgm_fail_gpu) else 0
            rows_c = r.randint(1, 3) if v_sbe else 0
            e_rows.append(f"{_host(n)},{g},{v_sbe},{dbe},{agg},{dbe},{rows_c},{dbe},"
                          f"{'Yes' if dbe else 'No'}")
    out["nvidia-smi/ecc_summary.csv"] = "\n".join(e_rows) + "\n"
    # Xid messages from the kernel logs.
    x = []
    for k, n in enumerate(run.xid_nodes):
        code, msg = [(13, "Graphics SM Warp Exception on (GPC 4, TPC 1, SM 0): Out Of Range "
                          "Address"),
                     (31, "Ch 00000008, intr 10000000. MMU Fault: ENGINE GRAPHICS GPCCLIENT_T1_3 "
                          "faulted @ 0x7f3a_1c000000. Fault is of type FAULT_PDE"),
                     (63, "Row Remapper: New row marked for remapping, reset gpu to activate.")
                     ][k]
        x.append(f"{_host(n)}: [Mon Nov 30 0{k + 3}:1{k}:22 2026] NVRM: Xid (PCI:0000:"
                 f"{['18', '2a', '3a', '5d', '9a', 'ab', 'ba', 'db'][k]}:00): {code}, pid="
                 f"{r.randrange(20000, 90000)}, name=python, {msg}")
    x.append(f"{_host(run.dcgm_fail_node)}: [Tue Dec  1 11:02:41 2026] NVRM: Xid (PCI:0000:"
             f"{['18', '2a', '3a', '5d', '9a', 'ab', 'ba', 'db'][run.dcgm_fail_gpu]}:00): 48, "
             "pid=0, name=dcgmi, An uncorrectable double bit error (DBE) has been detected on "
             "GPU in the framebuffer")
    out["dmesg/xid.log"] = "\n".join(x) + "\n"
    # DCGM level-3 diagnostics on the hosts the on-call checked: the hosts of each dump's
    # top rank, and the host with the DBE.
    checked = {run.hot_rank(s) // 8 for s, e in run.events.items() if e["kind"] == "data"}
    checked |= {run.culprit_rank // 8, run.dcgm_fail_node}
    for n in sorted(checked):
        out[f"dcgm/{_host(n)}.txt"] = _dcgm(run, n)
    return out


def _dcgm(run: Run, node: int) -> str:
    fail = node == run.dcgm_fail_node
    g = run.dcgm_fail_gpu

    def row(name: str, result: str) -> str:
        return f"| {name:<25} | {result:<46} |"

    mem = f"Fail - GPU: {g}" if fail else "Pass - All"
    lines = [f"$ dcgmi diag -r 3 -j 0   # {_host(node)}, drained, run after the job's alerts",
             "+---------------------------+------------------------------------------------+",
             "| Diagnostic                | Result                                         |",
             "+===========================+================================================+",
             "|-----  Metadata  ----------+------------------------------------------------|",
             row("DCGM Version", "3.3.5"), row("Driver Version Detected", "550.54.15"),
             row("GPU Device IDs Detected", ",".join(["2330"] * 8)),
             "|-----  Deployment  --------+------------------------------------------------|",
             row("Denylist", "Pass"), row("NVML Library", "Pass"), row("CUDA Main Library", "Pass"),
             row("Permissions and OS Blocks", "Pass"), row("Persistence Mode", "Pass"),
             row("Environment Variables", "Pass"), row("Page Retirement/Row Remap",
                                                       f"Fail - GPU: {g}" if fail else "Pass"),
             row("Graphics Processes", "Pass"), row("Inforom", "Pass"),
             "+-----  Integration  -------+------------------------------------------------+",
             row("PCIe", "Pass - All"),
             "+-----  Hardware  ----------+------------------------------------------------+",
             row("GPU Memory", mem), row("Diagnostic", "Pass - All"),
             "+-----  Stress  ------------+------------------------------------------------+",
             row("Targeted Stress", "Pass - All"), row("Targeted Power", "Pass - All"),
             row("Memory Bandwidth", "Pass - All"), row("EUD Test", "Skip - All"),
             "+---------------------------+------------------------------------------------+"]
    if fail:
        lines.append(f"| Warning: GPU {g}: pending row remap and 1 uncorrectable DBE in the "
                     "framebuffer; reset the GPU to apply the remap.")
    return "\n".join(lines) + "\n"
