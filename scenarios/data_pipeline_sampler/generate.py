"""Variant of the sampler scenario: an example dataset (artifacts) in the input format, and
a small local check the candidate can run. The hidden cases (checks/cases.py) use their own
seed space, so the example reveals none of them."""

from __future__ import annotations

import json
import random
from typing import Any

from scenarios.hooks import sibling

CHECK = '''"""Local check on the example dataset: python check_example.py [path/to/sampler.py]

Runs every rank through epoch 0, checks exactly-once under the remainder policy and the
balance, and resumes rank 0 once from a JSON state. The hidden cases check much more
(other datasets and world sizes, many failure points, {elastic}shuffle quality, speed)."""

import importlib.util, json, sys
from collections import Counter
from pathlib import Path

here = Path(__file__).resolve().parent
spec = importlib.util.spec_from_file_location("sampler", sys.argv[1] if len(sys.argv) > 1
                                              else here.parent.parent / "starter" / "sampler.py")
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
data = json.loads((here / "dataset.json").read_text())
shards, world, seed, policy = data["shards"], data["world_size"], data["seed"], data["policy"]
n = sum(shards)
ranks = []
for r in range(world):
    s = mod.Sampler(shards, world, r, seed)
    ids = []
    while True:
        got = list(s.next_ids(1000))
        if not got:
            break
        ids += got
    ranks.append(ids)
sizes = [len(r) for r in ranks]
seen = Counter(i for r in ranks for i in r)
print("ids per rank:", sorted(set(sizes)), "distinct:", len(seen), "of", n, "samples")
want = {{"drop": [n // world] * world, "pad": [-(-n // world)] * world}}.get(policy)
assert want is None or sizes == want, f"{{policy}}: each rank yields {{want[0]}} ids"
assert max(sizes) - min(sizes) <= 1, "ranks differ by more than one id"
if policy == "spread":
    assert len(seen) == n and sum(sizes) == n, "spread: every sample exactly once"
if policy == "drop":
    assert len(seen) == sum(sizes) == n - n % world, "drop: no repeats, n mod world skipped"
if policy == "pad":
    assert len(seen) == n, "pad: every sample at least once"
s = mod.Sampler(shards, world, 0, seed)
head = list(s.next_ids(37))
t = mod.Sampler(shards, world, 0, seed)
t.load_state_dict(json.loads(json.dumps(s.state_dict())))
assert list(t.next_ids(50)) == ranks[0][37:87], "rank 0 does not resume where it stopped"
print("ok")
'''


def generate(seed: int, params: dict[str, Any]) -> dict[str, Any]:
    cases = sibling(__file__, "checks/cases.py")
    rng = random.Random(f"sampler-example:{seed}")
    world = int(params["example_world_size"])
    shards = cases.skewed_shards(rng, rng.randint(12, 24), rng.randint(3000, 8000) + 1)
    data = {"shards": shards, "world_size": world, "seed": rng.randrange(10_000),
            "policy": params["remainder"]}
    elastic = "elastic resume, " if params["elastic"] == "yes" else ""
    return {
        "params": {"example_samples": sum(shards), "example_shards": len(shards)},
        "artifacts": {
            "example/dataset.json": json.dumps(data, indent=1) + "\n",
            "example/check_example.py": CHECK.format(elastic=elastic),
        },
    }
