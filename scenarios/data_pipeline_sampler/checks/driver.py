"""Drives the candidate's Sampler through one hidden case (runs INSIDE the sandbox).

Shipped into the sandbox as it is (standard library only, no imports of ours). It holds no
expected outputs: it builds samplers, pulls ids in the chunk sizes the case gives, saves
states through a JSON round trip, builds fresh samplers and restores them, and returns the
raw ids (and, for the large cases only, what it measured) for checks/judge.py, which decides
outside the sandbox. The harness loads this module before the candidate's, so CLOCK is the
real clock.
"""

from __future__ import annotations

import json
import time
from typing import Any

CLOCK = time.perf_counter
STATE_LIMIT = 4096  # bytes of a JSON-encoded state (the prompt states it)


def _pull(s: Any, n: int, chunks: list[int], ci: int) -> tuple[list[int], int]:
    """Up to n ids from sampler s, asked for in the case's chunk sizes (cycling)."""
    out: list[int] = []
    while len(out) < n:
        want = min(chunks[ci % len(chunks)], n - len(out))
        ci += 1
        got = _ints(s.next_ids(want))
        out.extend(got)
        if len(got) < want:
            break
    return out, ci


def _ints(ids: Any) -> list[Any]:
    """A list of ids as plain Python values (a numpy array becomes a list of ints)."""
    return ids.tolist() if hasattr(ids, "tolist") else list(ids)


def _all(s: Any, chunks: list[int], limit: int) -> list[int]:
    return _pull(s, limit, chunks, 0)[0]


def _fresh(cls: Any, case: dict[str, Any], world: int, rank: int, seed: int | None = None) -> Any:
    return cls(list(case["shards"]), world, rank, case["seed"] if seed is None else seed)


def _roundtrip(s: Any, sizes: list[int]) -> Any:
    text = json.dumps(s.state_dict())
    sizes.append(len(text.encode()))
    return json.loads(text)


def _epoch(cls: Any, case: dict[str, Any]) -> dict[str, Any]:
    w, chunks, cap = case["world"], case["chunks"], case["cap"]
    out: dict[str, Any] = {"epochs": {}}
    for e in case["epochs"]:
        ranks = []
        for r in range(w):
            s = _fresh(cls, case, w, r)
            if e:
                s.set_epoch(e)
            ranks.append(_all(s, chunks, cap))
        out["epochs"][str(e)] = ranks
    # the same seed and epoch again, on the first and last rank
    again = []
    for r in sorted({0, w - 1}):
        s = _fresh(cls, case, w, r)
        s.set_epoch(case["epochs"][0])
        again.append(_all(s, chunks[::-1], cap))
    out["again"] = again
    s = _fresh(cls, case, w, 0, seed=case["seed"] + 1)
    s.set_epoch(case["epochs"][0])
    out["other_seed"] = _all(s, chunks, cap)
    return out


def _resume(cls: Any, case: dict[str, Any]) -> dict[str, Any]:
    """Per rank: the uninterrupted epoch; probes (stop at p, restore, next ids); and a chain
    of failures at every crash point through to the end of the epoch."""
    w, e, chunks, cap = case["world"], case["epoch"], case["chunks"], case["cap"]
    sizes: list[int] = []
    out: dict[str, Any] = {"ranks": case["ranks"], "plain": [], "probes": [], "chain": [],
                           "after_end": []}
    for r in case["ranks"]:
        s = _fresh(cls, case, w, r)
        s.set_epoch(e)
        plain = _all(s, chunks, cap)
        out["plain"].append(plain)
        points = [p for p in case["crash_at"] if p <= len(plain)] + [len(plain)]
        probes = []
        for p in points:
            s = _fresh(cls, case, w, r)
            s.set_epoch(e)
            _pull(s, p, chunks, 0)
            state = _roundtrip(s, sizes)
            t = _fresh(cls, case, w, r)
            t.load_state_dict(state)
            probes.append([p, _pull(t, case["probe"], chunks, 1)[0]])
        out["probes"].append(probes)
        s = _fresh(cls, case, w, r)
        s.set_epoch(e)
        chain: list[int] = []
        ci = 0
        for p in points:
            got, ci = _pull(s, p - len(chain), chunks, ci)
            chain.extend(got)
            state = _roundtrip(s, sizes)
            s = _fresh(cls, case, w, r)
            s.load_state_dict(state)
        chain.extend(_pull(s, cap, chunks, ci)[0])
        out["chain"].append(chain)
        out["after_end"].append(_ints(s.next_ids(4)))
    out["state_bytes"] = max(sizes, default=0)
    return out


def _elastic(cls: Any, case: dict[str, Any]) -> dict[str, Any]:
    """All ranks take k ids; the job stops; a job of another world size restores rank 0's
    state on every new rank and finishes the epoch."""
    w, w2, k, e, chunks, cap = (case["world"], case["new_world"], case["k"], case["epoch"],
                                case["chunks"], case["cap"])
    sizes: list[int] = []
    first, state = [], None
    for r in range(w):
        s = _fresh(cls, case, w, r)
        s.set_epoch(e)
        first.append(_pull(s, k, chunks, r)[0])
        st = _roundtrip(s, sizes)
        if r == 0:
            state = st
    second = []
    for r in range(w2):
        t = _fresh(cls, case, w2, r)
        t.load_state_dict(json.loads(json.dumps(state)))
        second.append(_all(t, chunks, cap))
    return {"first": first, "second": second, "state_bytes": max(sizes, default=0)}


def _scale(cls: Any, case: dict[str, Any]) -> dict[str, Any]:
    """A large dataset: construction, then `count` ids in chunks (timed), a restore at that
    offset, and the next ids from the original and the restored sampler."""
    w, r, n, chunk = case["world"], case["rank"], case["count"], case["chunk"]
    t0 = CLOCK()
    s = _fresh(cls, case, w, r)
    s.set_epoch(case["epoch"])
    t1 = CLOCK()
    got = 0
    seen: set[int] = set()
    bad = 0
    head: list[int] = []
    total = case["total"]
    pulled = 0.0
    while got < n:
        a = CLOCK()
        ids = s.next_ids(min(chunk, n - got))
        pulled += CLOCK() - a
        if len(ids) == 0:
            break
        ids = _ints(ids)
        if len(head) < 200:
            head.extend(ids[:200 - len(head)])
        for i in ids:
            if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < total:
                bad += 1
        seen.update(ids)
        got += len(ids)
    state = json.dumps(s.state_dict())
    a = CLOCK()
    t = _fresh(cls, case, w, r)
    t.load_state_dict(json.loads(state))
    resume_s = CLOCK() - a
    cont = _ints(s.next_ids(1000))
    resumed = _ints(t.next_ids(1000))
    return {"count": got, "distinct": len(seen), "out_of_range": bad, "head": head,
            "construct_s": t1 - t0, "pull_s": pulled, "resume_s": resume_s,
            "state_bytes": len(state.encode()), "cont": cont, "resumed": resumed}


KINDS = {"epoch": _epoch, "resume": _resume, "elastic": _elastic, "scale": _scale}


def run(cls: Any, case: dict[str, Any]) -> dict[str, Any]:
    """One hidden case: call the candidate's Sampler as the case's kind says."""
    return KINDS[case["kind"]](cls, case)
