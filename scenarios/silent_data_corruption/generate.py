"""Variant data for silent-data-corruption: loss spikes and occasional NaNs in a 70B
pretraining run on 1,024-2,048 H100s, some from one GPU that silently computes wrong
gradients, some from bad data batches.

Both kinds of event trip the same alert (global gradient norm far above its median, or a
non-finite value) and both leave a per-rank anomaly dump. Their shapes differ: a bad batch
raises every rank of the replicas that read it (and one embedding shard most), and its batch
statistics are degenerate; the failing GPU is the only outlier of its replica, at steps whose
data is normal, and it is the same rank every time. The usual places to look all point
elsewhere: DCGM level 3 passes on the culprit and fails on a GPU whose ranks never misbehave,
the culprit has no ECC errors while others have corrected ones, the cross-replica weight
hash check passes (a corrupted gradient is all-reduced into every replica alike).
"""

from __future__ import annotations

import math
import random
from typing import Any

from scenarios.hooks import sibling

TP, PP = 8, 4
STEPS = 300
CKPT_EVERY = 50
BAD_SHARDS = ["cc-main-2024-18/part-01377", "cc-main-2024-22/part-00412",
              "forum-dump-v3/part-00090", "cc-main-2024-10/part-02231"]


def host_name(node: int) -> str:
    return f"h100-c{node // 32 + 1:02d}-n{node % 32 + 1:02d}"


class Run:
    """One variant: layout, the failing GPU, the events and every logged number."""

    def __init__(self, seed: int, params: dict[str, Any]) -> None:
        r = random.Random(f"silent-data-corruption:v1:{seed}")
        self.rng = r
        self.nodes = int(params["num_nodes"])
        self.ranks = self.nodes * 8
        self.dp = self.ranks // (TP * PP)
        self.step0 = r.randrange(1800, 3200) * CKPT_EVERY + r.randrange(1, CKPT_EVERY)
        self.culprit_rank = r.randrange(self.ranks)
        steps = list(range(self.step0 + 8, self.step0 + STEPS - 4))
        n_sdc, n_data = r.randint(4, 6), r.randint(3, 5)
        events = sorted(r.sample(steps[::3], n_sdc + n_data))
        kinds = ["sdc"] * n_sdc + ["data"] * n_data
        r.shuffle(kinds)
        self.events: dict[int, dict[str, Any]] = {}
        for step, kind in zip(events, kinds, strict=True):
            ev: dict[str, Any] = {"kind": kind}
            if kind == "sdc":
                ev["factor"] = r.uniform(40, 400)
            else:
                ev["replicas"] = r.sample(range(self.dp), r.randint(1, 3))
                ev["factor"] = r.uniform(8, 25)
                ev["hot_tp"] = r.randrange(TP)  # the embedding shard holding the odd tokens
                ev["hot_factor"] = r.uniform(120, 600)
                ev["shard"] = r.choice(BAD_SHARDS)
            self.events[step] = ev
        for ev in self.events.values():  # a bad batch never hits the failing GPU hardest
            if ev["kind"] == "data" and (ev["replicas"][0] * PP) * TP + ev["hot_tp"] == \
                    self.culprit_rank:
                ev["hot_tp"] = (ev["hot_tp"] + 1) % TP
        sdc_steps = [s for s, e in self.events.items() if e["kind"] == "sdc"]
        # The first and the last non-finite step come from bad batches, one in between from
        # the GPU, so neither "the first NaN" nor "the last NaN" names the GPU (unless no GPU
        # event falls between them: then its NaN step is any of its events).
        data_steps = sorted(s for s, e in self.events.items() if e["kind"] == "data")
        self.events[data_steps[0]]["nan"] = True
        self.events[data_steps[-1]]["nan"] = True
        inside = [s for s in sdc_steps if data_steps[0] < s < data_steps[-1]]
        self.events[r.choice(inside or sdc_steps)]["nan"] = True
        self.first_sdc = min(sdc_steps)
        self.rollback = (self.first_sdc - 1) // CKPT_EVERY * CKPT_EVERY
        others = [n for n in range(self.nodes) if n != self.culprit_rank // 8]
        self.dcgm_fail_node = r.choice(others)
        self.dcgm_fail_gpu = r.randrange(8)
        self.sbe_gpus = [(r.choice(others), r.randrange(8)) for _ in range(3)]
        self.xid_nodes = r.sample(others, 3)
        self.base_norm = r.uniform(0.8, 1.4)
        # A per-rank share of the replica's gradient norm: the embedding / output shards
        # (first and last stage) carry more.
        self.shard_w = [[(1.6 if pp in (0, PP - 1) else 1.0) * r.uniform(0.85, 1.15)
                         for tp in range(TP)] for pp in range(PP)]

    def hot_rank(self, step: int) -> int:
        """Global rank of the embedding shard a bad batch hits hardest."""
        ev = self.events[step]
        return int(ev["replicas"][0] * PP * TP + ev["hot_tp"])

    def place(self, rank: int) -> tuple[int, int, int]:
        """(dp, pp, tp) of a global rank (TP innermost, then PP, then DP)."""
        tp = rank % TP
        pp = (rank // TP) % PP
        return rank // (TP * PP), pp, tp

    def partial(self, step: int, rank: int, r: random.Random) -> float:
        dp, pp, tp = self.place(rank)
        norm = self.base_norm * self.shard_w[pp][tp] / math.sqrt(TP * PP) * r.uniform(0.93, 1.07)
        ev = self.events.get(step)
        if ev and ev["kind"] == "data" and dp in ev["replicas"]:
            norm *= ev["factor"]
            if pp == 0 and tp == ev["hot_tp"] and dp == ev["replicas"][0]:
                norm *= ev["hot_factor"] / ev["factor"]
        if ev and ev["kind"] == "sdc" and rank == self.culprit_rank:
            norm *= ev["factor"]
        return norm

    def nonfinite(self, step: int, rank: int) -> bool:
        ev = self.events.get(step)
        if not ev or not ev.get("nan"):
            return False
        if ev["kind"] == "sdc":
            return rank == self.culprit_rank
        dp, pp, tp = self.place(rank)
        return dp == ev["replicas"][0] and pp == 0 and tp == ev["hot_tp"]


def generate(seed: int, params: dict[str, Any]) -> dict[str, Any]:
    f = sibling(__file__, "formats.py")
    run = Run(seed, params)
    artifacts = {path: text.encode("utf-8") for path, text in f.render_all(run).items()}
    culprit_node = host_name(run.culprit_rank // 8)
    decoys = sorted(({host_name(run.dcgm_fail_node)} | {host_name(n) for n, _ in run.sbe_gpus}
                     | {host_name(n) for n in run.xid_nodes}
                     | {host_name(run.hot_rank(s) // 8) for s, e in run.events.items()
                        if e["kind"] == "data"}) - {culprit_node})
    return {
        "params": {
            "dp": run.dp,
            "first_step": run.step0,
            "culprit_node": culprit_node,
            "culprit_gpu": str(run.culprit_rank % 8),
            "culprit_rank": run.culprit_rank,
            "first_sdc_step": run.first_sdc,
            "data_spikes": sum(e["kind"] == "data" for e in run.events.values()),
            "rollback_step": run.rollback,
            "decoy_nodes": decoys,
        },
        "artifacts": artifacts,
    }
