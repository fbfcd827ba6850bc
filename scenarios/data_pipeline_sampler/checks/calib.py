"""Builds the author's calibration answers (hidden; run by hand: python -m
scenarios.data_pipeline_sampler.checks.calib). The blind answers are not made here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CAL = HERE.parent / "calibration"

WRITEUP_REF = """## Design
Every epoch has one global order: position p in 0..N-1 maps to a sample id through a keyed Feistel permutation (4 rounds, keys from blake2b(seed, epoch)) with cycle walking, so the mapping is a bijection and nothing is materialised. Rank r takes positions r, r+W, r+2W, ... of what was left when its job started, so the ranks' shares are disjoint. The remainder follows the policy: counts per rank come from R = N - start and W. The state is {{epoch, start, world, rank, taken}}: about 90 bytes of JSON. Restoring on the same rank goes on from taken; on another world size the new job starts at start + W x taken, which every rank had reached at the step boundary, and re-splits the rest.

## Making it fast
Ids are computed 4,096 at a time with numpy uint64 arithmetic, a few million ids/s on one core, and memory stays O(1) (only N and four round keys). The real cost is the reads behind the ids: a fully random order means one small random read per sample, so in production I would shuffle the shard order per epoch, read chunks of a shard sequentially into a shuffle buffer, prefetch two steps ahead in worker processes and cache hot shards on local NVMe.

## At 10k ranks
The job consumes {samples_per_s:,.0f} samples/s, i.e. about {read_gbps:.1f} GB/s sustained reads from storage at {sample_kb} KB per sample; one epoch takes about {epoch_h:.1f} h and each rank sees about {per_rank:,.0f} samples per epoch. With {ranks_per_shard:.2f} ranks per shard, each shard is opened by several readers at once and small random reads become hundreds of thousands of requests per second on the metadata servers or the object store, so I would use larger sequential reads, more and smaller shards or a shard-range per rank. Failures happen every few hours at this size: the state is the same few integers on every rank, no all-gather, and an elastic restart on fewer nodes re-splits the rest of the epoch without repeats. Equal counts are not equal work: long samples make stragglers that gate every synchronous step, so pack to a token budget and watch tail read latency.
"""


def writeup(params: dict[str, Any]) -> str:
    from scenarios.data_pipeline_sampler.checks.answer_key import answer_key

    k = answer_key(params)
    return WRITEUP_REF.format(samples_per_s=k["samples_per_s"], read_gbps=k["read_gbps"],
                              sample_kb=params["sample_kb"], epoch_h=k["epoch_h"],
                              per_rank=k["per_rank_samples"],
                              ranks_per_shard=k["ranks_per_shard"])


def solution(policy: str) -> str:
    return (HERE / "solution.py").read_text().replace("{policy}", policy)


def write(seed: int, role: str, answers: dict[str, Any], band: tuple[int, int], desc: str,
          criteria: list[str] | None = None, name: str | None = None) -> None:
    doc = {"scenario": "data-pipeline-sampler", "seed": seed, "role": role, "description": desc,
           "answers": answers, "band": {"min": band[0], "max": band[1]}, "criteria": criteria}
    (CAL / f"{name or role}.json").write_text(json.dumps(doc, indent=2) + "\n")


def main() -> None:
    from scenarios.loader import load_bank

    s = load_bank().get("data-pipeline-sampler")
    seed = 3
    p = s.render(seed).params
    starter = (HERE.parent / "starter" / "sampler.py").read_text()
    write(seed, "reference", {"code": {"sampler.py": solution(p["remainder"])},
                              "writeup": writeup(p)}, (90, 100),
          "The reference sampler (Feistel permutation of positions, strided ranks, elastic "
          "state) and a quantified write-up.")
    write(seed, "empty", {}, (0, 5), "Nothing submitted.")
    stuffed = ("Feistel bijection permutation strided disjoint state offset cursor remainder pad "
               "floor ceil numpy vectorised prefetch worker processes shuffle buffer sequential "
               "reads metadata IOPS object store rate limit elastic restart hot spares "
               "stragglers packing token budget GB/s per epoch samples per rank.")
    write(seed, "keyword_stuffed", {"code": {"sampler.py": starter}, "writeup": stuffed},
          (0, 35), "The rubric's terms strung together, and the starter's code.",
          criteria=["design", "fast", "scale_io", "scale_ops"])
    wrong_code = (HERE / "wrong_shard_local.py").read_text()
    write(seed, "wrong", {"code": {"sampler.py": wrong_code}, "writeup": (
        "Each rank shuffles the whole dataset with its own random generator seeded by rank and "
        "reads the first N/W ids. The state stores the list of ids the rank has not consumed "
        "yet. Storage speed does not matter once the sampler itself is fast. Failures are rare "
        "enough that we can restart the epoch from the beginning.")}, (0, 40),
        "Confident and wrong: per-rank independent shuffles (repeats across ranks), a state "
        "holding id lists, restart from the beginning.")


if __name__ == "__main__":
    main()
