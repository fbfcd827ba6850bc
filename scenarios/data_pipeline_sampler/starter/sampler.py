"""Sharded, deterministic, resumable sampler (see the prompt for every rule).

    shard_sizes = [1200, 0, 37, 9000, ...]   # samples per shard, in storage order
    # sample ids are global: shard 0 holds ids 0..1199, shard 1 none, shard 2 1200..1236, ...

    s = Sampler(shard_sizes, world_size=8, rank=3, seed=1234)
    s.set_epoch(2)                 # start epoch 2 from its beginning (epoch 0 by default)
    ids = s.next_ids(4096)         # up to 4096 next ids of this rank; fewer at the epoch's end
    state = s.state_dict()         # JSON-serialisable, at most 4 KiB once encoded

    t = Sampler(shard_sizes, world_size=8, rank=3, seed=1234)   # a fresh process
    t.load_state_dict(state)       # t goes on exactly where s was

Only the standard library is guaranteed; numpy is installed in the sandbox image.
"""

from __future__ import annotations

from typing import Any


class Sampler:
    def __init__(self, shard_sizes: list[int], world_size: int, rank: int, seed: int) -> None:
        self.shard_sizes = list(shard_sizes)
        self.world_size, self.rank, self.seed = world_size, rank, seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def next_ids(self, n: int) -> list[int]:
        raise NotImplementedError("yield this rank's next sample ids")

    def state_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def load_state_dict(self, state: dict[str, Any]) -> None:
        raise NotImplementedError
