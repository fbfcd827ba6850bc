"""A plausible wrong sampler (hidden; a calibration answer): each rank shuffles the ids with
a generator seeded by its rank, so ranks overlap, and the state holds the ids left."""

from __future__ import annotations

import random
from typing import Any


class Sampler:
    def __init__(self, shard_sizes: list[int], world_size: int, rank: int, seed: int) -> None:
        self.n, self.world, self.rank, self.seed = sum(shard_sizes), world_size, rank, seed
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        ids = list(range(self.n))
        random.Random(self.seed * 1000 + self.rank + epoch).shuffle(ids)
        self.left = ids[: self.n // self.world]

    def next_ids(self, n: int) -> list[int]:
        out, self.left = self.left[:n], self.left[n:]
        return out

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "left": self.left}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch, self.left = state["epoch"], list(state["left"])
