"""Hidden large cases: hundreds of millions of samples, timed (checks/driver.py `_scale`).

A sampler that materialises the epoch's ids (a list of every sample id, shuffled) runs out
of the sandbox's memory or time here; one that computes each id from its position does not.
"""

from __future__ import annotations

import random
from typing import Any

from scenarios.hooks import sibling

COUNT = 300_000  # ids pulled per case (timed)


def cases(params: dict[str, Any], n: int) -> list[dict[str, Any]]:
    small = sibling(__file__, "cases.py")
    rng = random.Random(f"sampler-scale:{params['case_seed']}")
    out = []
    for i in range(n):
        shards = rng.choice([1024, 4096, 16384])
        total = rng.randint(400, 1500) * 1_000_000
        world = rng.choice([128, 256, 1024])
        case = {"kind": "scale", "policy": params["remainder"],
                "shards": small.skewed_shards(rng, shards, total), "total": total,
                "world": world, "rank": rng.randrange(world), "seed": rng.randrange(2**31),
                "epoch": rng.choice([0, 1, 9]), "count": COUNT,
                "chunk": rng.choice([1024, 4096]),
                "budget": params["budget_ids_per_s"], "id": f"scale-{i:02d}"}
        out.append(case)
    return out


def summary(case: dict[str, Any]) -> str:
    return (f"{case['total']:,} samples in {len(case['shards'])} shards, world {case['world']}, "
            f"rank {case['rank']}: {case['count']:,} ids in chunks of {case['chunk']}, "
            f"budget {case['budget']:,} ids/s")
