"""Hidden cases of the sampler: cases(params, n) -> list of driver inputs (checks/driver.py).

Deterministic in the hidden case_seed. Shard sizes are skewed (a few large shards, many
small ones, some empty). Kinds:

- epoch: every rank, two epochs, the first again and another seed (exactly-once, balance,
  determinism, a fresh shuffle per epoch and seed);
- resume: chosen ranks stop at arbitrary positions (mid-shard for any design), restore from
  the JSON state into a fresh sampler, and must go on exactly as if nothing happened;
- elastic (variants with elastic resume): every rank takes k ids, then a job of another
  world size restores rank 0's state and finishes the epoch;
- edge: epoch cases at the corners (fewer samples than ranks, one shard, one rank, an even
  split);
- scale (cases_scale.py): hundreds of millions of samples, timed.
"""

from __future__ import annotations

import random
from typing import Any


def skewed_shards(rng: random.Random, shards: int, total: int) -> list[int]:
    """`shards` sample counts summing to `total`: lognormal sizes, a few empty shards."""
    weights = [rng.lognormvariate(0.0, 1.2) for _ in range(shards)]
    for i in rng.sample(range(shards), k=min(shards // 8, 3)):
        weights[i] = 0.0
    if not any(weights):
        weights[0] = 1.0
    scale = total / sum(weights)
    sizes = [int(w * scale) for w in weights]
    sizes[max(range(shards), key=lambda i: weights[i])] += total - sum(sizes)
    return sizes


def _chunks(rng: random.Random) -> list[int]:
    return [rng.choice([1, 2, 3, 7, 16, 64, 100, 257]) for _ in range(5)]


def _base(rng: random.Random, params: dict[str, Any], kind: str, world: int,
          shards: list[int]) -> dict[str, Any]:
    return {"kind": kind, "policy": params["remainder"], "shards": shards, "world": world,
            "seed": rng.randrange(2**31), "chunks": _chunks(rng), "cap": sum(shards) + 8}


def epoch_case(rng: random.Random, params: dict[str, Any]) -> dict[str, Any]:
    world = rng.choice([2, 3, 4, 5, 8, 12, 16])
    total = rng.randint(2000, 9000)
    case = _base(rng, params, "epoch", world, skewed_shards(rng, rng.randint(3, 40), total))
    case["epochs"] = [rng.choice([0, 1, 2]), rng.choice([3, 4, 7])]
    return case


def edge_case(rng: random.Random, params: dict[str, Any], which: int) -> dict[str, Any]:
    if which == 0:  # fewer samples than ranks
        world = rng.choice([8, 16])
        shards = skewed_shards(rng, 3, world - rng.randint(1, 5))
    elif which == 1:  # one shard
        world = rng.choice([3, 4, 7])
        shards = [rng.randint(500, 3000)]
    elif which == 2:  # one rank
        world = 1
        shards = skewed_shards(rng, rng.randint(2, 9), rng.randint(300, 2000))
    else:  # an even split with empty shards around
        world = rng.choice([4, 8])
        shards = [0] + skewed_shards(rng, 6, world * rng.randint(50, 300)) + [0]
    case = _base(rng, params, "epoch", world, shards)
    case["epochs"] = [0, 1]
    return case


def resume_case(rng: random.Random, params: dict[str, Any]) -> dict[str, Any]:
    world = rng.choice([2, 4, 6, 8, 16])
    total = rng.randint(1500, 6000)
    case = _base(rng, params, "resume", world, skewed_shards(rng, rng.randint(3, 30), total))
    per = total // world
    case["epoch"] = rng.choice([0, 1, 5])
    case["ranks"] = sorted(rng.sample(range(world), k=min(world, 3)))
    points = {0, per, max(1, per - 1)}
    points.update(rng.randint(1, max(1, per - 1)) for _ in range(4))
    case["crash_at"] = sorted(points)
    case["probe"] = 40
    return case


def elastic_case(rng: random.Random, params: dict[str, Any]) -> dict[str, Any]:
    world = rng.choice([4, 6, 8, 16])
    new_world = rng.choice([w for w in (2, 3, 5, 8, 12, 24) if w != world])
    total = rng.randint(2000, 8000)
    case = _base(rng, params, "elastic", world, skewed_shards(rng, rng.randint(4, 30), total))
    case["epoch"] = rng.choice([0, 2])
    case["k"] = rng.randint(1, total // world - 1)
    case["new_world"] = new_world
    return case


KINDS = ["epoch", "resume", "epoch", "resume", "edge", "elastic", "epoch", "resume", "edge",
         "elastic", "resume", "epoch", "edge", "resume", "elastic", "edge"]


def cases(params: dict[str, Any], n: int) -> list[dict[str, Any]]:
    rng = random.Random(f"sampler-cases:{params['case_seed']}")
    out = []
    edges = 0
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        if kind == "elastic" and params["elastic"] != "yes":
            kind = "resume"
        if kind == "epoch":
            case = epoch_case(rng, params)
        elif kind == "resume":
            case = resume_case(rng, params)
        elif kind == "elastic":
            case = elastic_case(rng, params)
        else:
            case = edge_case(rng, params, edges % 4)
            edges += 1
        case["id"] = f"case-{i:03d}-{kind}"
        out.append(case)
    return out


def summary(case: dict[str, Any]) -> str:
    """One line for the report."""
    shards = case["shards"]
    text = (f"{case['kind']}: {sum(shards)} samples in {len(shards)} shards "
            f"(largest {max(shards)}), world {case['world']}, policy {case['policy']}")
    if case["kind"] == "resume":
        text += f"; ranks {case['ranks']} stop at {case['crash_at']} (epoch {case['epoch']})"
    if case["kind"] == "elastic":
        text += f"; stop after {case['k']} ids per rank, resume on {case['new_world']} ranks"
    if case["kind"] == "scale":
        text += f"; rank {case['rank']} pulls {case['count']} ids in chunks of {case['chunk']}"
    return text
