"""Expected values for the checkpointing scenario (hidden).

The checkpoint holds BF16 weights, FP32 master weights and both AdamW moments: 14 bytes per
parameter (gradients are not saved). Every rank writes an equal share (fully sharded save),
so a synchronous write is bound by the smaller of the file system's aggregate bandwidth and
the nodes' storage links, and an asynchronous one stalls training only for the copy of the
rank's share to pinned host memory. The job's failure rate is the fleet's per-GPU rate times
the job's GPUs (failures scale with hardware in use). Interval and goodput come from
graders.hw.checkpoint (Daly 2006) with the synchronous write as the checkpoint cost and
relaunch + reading the checkpoint back as the restart cost.
"""

from __future__ import annotations

from typing import Any

from graders.hw.checkpoint import daly_interval, goodput

BYTES_PER_PARAM = 2 + 4 + 4 + 4


def answer_key(params: dict[str, Any]) -> dict[str, Any]:
    n = params["num_gpus"]
    ckpt_bytes = params["model"]["params_b"] * 1e9 * BYTES_PER_PARAM
    node_bw = params["num_nodes"] * params["node_storage_gbs"] * 1e9
    write_bw = min(params["pfs_write_gbs"] * 1e9, node_bw)
    read_bw = min(params["pfs_read_gbs"] * 1e9, node_bw)
    delta = ckpt_bytes / write_bw
    mtbf_s = (params["fleet_days"] * 86400 * params["fleet_gpus"]
              / (params["fleet_interruptions"] * n))
    restart_s = params["relaunch_min"] * 60 + ckpt_bytes / read_bw
    interval = daly_interval(delta, mtbf_s)
    return {
        "ckpt_tb": round(ckpt_bytes / 1e12, 3),
        "sync_write_s": round(delta, 2),
        "write_bound": "file system" if write_bw < node_bw else "node storage links",
        "async_stall_ms": round(ckpt_bytes / n / (params["d2h_gbs"] * 1e9) * 1000, 2),
        "job_mtbf_h": round(mtbf_s / 3600, 3),
        "interval_min": round(interval / 60, 2),
        "restart_min": round(restart_s / 60, 2),
        "lost_pct": round(100 * (1 - goodput(interval, delta, restart_s, mtbf_s)), 3),
    }
