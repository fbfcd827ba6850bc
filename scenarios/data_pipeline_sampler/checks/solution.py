"""Reference sampler (hidden; also run in the sandbox as a calibration answer, so it imports
nothing of ours): one global order per (seed, epoch), a keyed Feistel permutation of the
positions 0..N-1 with cycle walking; rank r takes positions r, r+W, r+2W, ... of the part
of the epoch that was left when its job started. The state is (epoch, start, world, rank,
taken): restoring on the same world and rank goes on; on another world size (elastic) the
new job starts at start + world x taken, which every rank had reached.
"""

from __future__ import annotations

import hashlib
from typing import Any

np: Any
try:
    import numpy

    np = numpy
except ImportError:  # pragma: no cover - the sandbox image has numpy
    np = None

POLICY = "{policy}"  # replaced by the calibration builder: drop | pad | spread
ROUNDS = 4
MUL = 0x9E3779B97F4A7C15


class Sampler:
    def __init__(self, shard_sizes: list[int], world_size: int, rank: int, seed: int) -> None:
        self.n = int(sum(shard_sizes))
        self.world, self.rank, self.seed = int(world_size), int(rank), int(seed)
        self.set_epoch(0)

    # -- the permutation -------------------------------------------------------------------
    def _keys(self) -> None:
        bits = max(2, (max(self.n - 1, 1)).bit_length())
        self.half = (bits + 1) // 2
        self.mask = (1 << self.half) - 1
        digest = hashlib.blake2b(f"{self.seed}/{self.epoch}".encode(), digest_size=32).digest()
        self.keys = [int.from_bytes(digest[8 * i:8 * i + 8], "little") & 0xFFFFFFFF
                     for i in range(ROUNDS)]

    def _feistel_py(self, x: int) -> int:
        h, m = self.half, self.mask
        left, right = x >> h, x & m
        for k in self.keys:
            left, right = right, left ^ ((((right ^ k) * MUL) & 0xFFFFFFFFFFFFFFFF) >> 40 & m)
        return (left << h) | right

    def _perm_py(self, pos: list[int]) -> list[int]:
        out = []
        for p in pos:
            v = self._feistel_py(p)
            while v >= self.n:
                v = self._feistel_py(v)
            out.append(v)
        return out

    def _feistel_np(self, x: Any) -> Any:
        h, m = np.uint64(self.half), np.uint64(self.mask)
        left, right = x >> h, x & m
        for k in self.keys:
            f = (((right ^ np.uint64(k)) * np.uint64(MUL)) >> np.uint64(40)) & m
            left, right = right, left ^ f
        return (left << h) | right

    def _perm(self, pos: list[int] | Any) -> list[int]:
        if np is None or len(pos) < 64:
            return self._perm_py([int(p) for p in pos])
        v = self._feistel_np(np.asarray(pos, dtype=np.uint64))
        n = np.uint64(self.n)
        bad = np.nonzero(v >= n)[0]
        while bad.size:
            v[bad] = self._feistel_np(v[bad])
            bad = bad[v[bad] >= n]
        return v.tolist()  # type: ignore[no-any-return]

    # -- the rank's share ------------------------------------------------------------------
    def _length(self) -> int:
        rest = self.n - self.start
        if POLICY == "drop":
            return rest // self.world
        if POLICY == "pad":
            return -(-rest // self.world)
        return rest // self.world + (1 if self.rank < rest % self.world else 0)

    def set_epoch(self, epoch: int) -> None:
        self.epoch, self.start, self.taken = int(epoch), 0, 0
        self._keys()

    def next_ids(self, n: int) -> list[int]:
        m = max(0, min(int(n), self._length() - self.taken))
        if m == 0:
            return []
        rest = self.n - self.start
        pos: Any
        if np is not None and m >= 64:
            q = self.rank + self.world * np.arange(self.taken, self.taken + m, dtype=np.int64)
            pos = self.start + (q % rest if POLICY == "pad" else q)
        else:
            qs = [self.rank + self.world * j for j in range(self.taken, self.taken + m)]
            pos = [self.start + (q % rest if POLICY == "pad" else q) for q in qs]
        self.taken += m
        return self._perm(pos)

    def state_dict(self) -> dict[str, Any]:
        return {"version": 1, "seed": self.seed, "epoch": self.epoch, "start": self.start,
                "world": self.world, "rank": self.rank, "taken": self.taken}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.seed = int(state["seed"])
        self.set_epoch(int(state["epoch"]))
        self.start = int(state["start"])
        if (state["world"], state["rank"]) == (self.world, self.rank):
            self.taken = int(state["taken"])
        else:  # elastic: every old rank had taken as many ids as the state's rank
            self.start = min(self.n, self.start + int(state["world"]) * int(state["taken"]))
