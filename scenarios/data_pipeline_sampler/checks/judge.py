"""Judges one driver output (checks/driver.py) against the rules of the prompt (hidden; runs
OUTSIDE the sandbox). Nothing here depends on how the candidate's sampler is designed: only
exactly-once under the remainder policy, balance, determinism, fresh shuffles, resume and,
for the large cases, memory and speed.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

STATE_LIMIT = 4096
SAME_MAX = 0.10  # share of positions two different orders may have in common
ASCENT = (0.40, 0.60)  # share of increasing consecutive pairs of a shuffled order
STRIDE_MAX = 0.05  # share of consecutive differences equal to the one before
SHUFFLE_MIN = 1000  # samples from which shuffle quality is checked
UNSHUFFLED = 0.6  # resume, elastic and large cases of a sampler that does not shuffle


def counts(policy: str, remaining: int, world: int) -> list[int] | None:
    """Ids each rank yields when `remaining` samples are split over `world` ranks (None for
    'spread': floor or ceil, any ranks)."""
    if policy == "drop":
        return [remaining // world] * world
    if policy == "pad":
        return [-(-remaining // world)] * world
    return None


def split_problems(policy: str, ranks: list[list[Any]], pool: set[int], total: int,
                   what: str) -> list[str]:
    """Whether per-rank id lists split exactly the samples of `pool` under the policy."""
    v: list[str] = []
    world, remaining = len(ranks), len(pool)
    flat = [i for r in ranks for i in r]
    bad = [i for i in flat if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < total]
    if bad:
        return [f"{what}: {len(bad)} ids are not sample ids 0..{total - 1} (e.g. {bad[0]!r})"[:200]]
    sizes = [len(r) for r in ranks]
    want = counts(policy, remaining, world)
    if want is not None and sizes != want:
        v.append(f"{what}: ranks yield {_range(sizes)} ids; {policy} on {remaining} samples over "
                 f"{world} ranks means {want[0]} each")
    if want is None and (sum(sizes) != remaining or max(sizes) - min(sizes) > 1):
        v.append(f"{what}: ranks yield {_range(sizes)} ids ({sum(sizes)} in all); spread means "
                 f"all {remaining} samples, ranks within one of each other")
    seen = Counter(flat)
    foreign = [i for i in seen if i not in pool]
    if foreign:
        v.append(f"{what}: {len(foreign)} ids were already used (or are not in this split), "
                 f"e.g. {foreign[0]}")
    twice = sum(c - 1 for c in seen.values() if c > 1)
    missing = remaining - len([i for i in seen if i in pool])
    if policy == "pad":
        if missing:
            v.append(f"{what}: {missing} samples never come (pad uses every sample)")
        yielded = world * -(-remaining // world)
        # none a third time, unless there are fewer samples than half the ranks
        most = max(2, -(-yielded // max(remaining, 1)))
        if twice != yielded - remaining or max(seen.values(), default=1) > most:
            v.append(f"{what}: {twice} repeats; pad repeats exactly "
                     f"{yielded - remaining}, none more than {most - 1} time(s)")
    else:
        if twice:
            v.append(f"{what}: {twice} ids repeated (e.g. "
                     f"{next(i for i, c in seen.items() if c > 1)})")
        allowed = remaining % world if policy == "drop" else 0
        if missing != allowed and not twice:
            v.append(f"{what}: {missing} samples skipped; {policy} skips {allowed}")
    return v


def _range(sizes: list[int]) -> str:
    return f"{min(sizes)}" if min(sizes) == max(sizes) else f"{min(sizes)}-{max(sizes)}"


def _same(a: list[list[Any]], b: list[list[Any]]) -> float:
    pairs = [(x, y) for ra, rb in zip(a, b, strict=False) for x, y in zip(ra, rb, strict=False)]
    return sum(x == y for x, y in pairs) / len(pairs) if pairs else 0.0


def shuffle_problems(ranks: list[list[int]], what: str) -> list[str]:
    """Storage order or a fixed stride is not a shuffle (the prompt states both measures)."""
    up = steps = repeat = diffs = 0
    for r in ranks:
        d = [b - a for a, b in zip(r, r[1:], strict=False)]
        up += sum(x > 0 for x in d)
        steps += len(d)
        repeat += sum(x == y for x, y in zip(d, d[1:], strict=False))
        diffs += max(0, len(d) - 1)
    v = []
    if steps >= 100 and not ASCENT[0] <= up / steps <= ASCENT[1]:
        v.append(f"{what}: {up / steps:.0%} of consecutive pairs increase (a shuffle: 40-60%)")
    if diffs >= 100 and repeat / diffs > STRIDE_MAX:
        v.append(f"{what}: {repeat / diffs:.0%} of steps repeat the previous stride (at most 5%)")
    return v


def _epoch(case: dict[str, Any], out: dict[str, Any]) -> tuple[float, list[str], list[str]]:
    total, world, policy = sum(case["shards"]), case["world"], case["policy"]
    epochs = out.get("epochs") or {}
    e0, e1 = (str(e) for e in case["epochs"])
    hard: list[str] = []
    soft: list[str] = []
    for e in (e0, e1):
        ranks = epochs.get(e)
        if not isinstance(ranks, list) or len(ranks) != world:
            hard.append(f"epoch {e}: no ids for every rank")
            continue
        hard += split_problems(policy, ranks, set(range(total)), total, f"epoch {e}")
    if hard:
        return 0.0, hard, soft
    # exactly once and balanced 0.4, deterministic 0.2, fresh per epoch and seed 0.2,
    # shuffled (not storage order, no fixed stride) 0.2
    score = 0.4
    a, b = epochs[e0], epochs[e1]
    again = out.get("again") or []
    firsts = [a[r] for r in sorted({0, world - 1})]
    if again == firsts:
        score += 0.2
    else:
        soft.append(f"epoch {e0} again with the same seed gives another order")
    n_e = total - (total % world if policy == "drop" else 0)
    checks = 0.0
    if n_e < 50 or _same(a, b) <= SAME_MAX:
        checks += 0.5
    else:
        soft.append(f"epochs {e0} and {e1}: {_same(a, b):.0%} of positions hold the same id")
    other = out.get("other_seed")
    if n_e < 50 or (isinstance(other, list) and _same([other], [a[0]]) <= SAME_MAX):
        checks += 0.5
    else:
        soft.append("another seed gives (nearly) the same order")
    score += 0.2 * checks
    shuffle = shuffle_problems(a, f"epoch {e0}") + shuffle_problems(b, f"epoch {e1}") \
        if total >= SHUFFLE_MIN else []
    if shuffle:
        soft += shuffle
    else:
        score += 0.2
    return score, hard, soft


def _resume(case: dict[str, Any], out: dict[str, Any]) -> tuple[float, list[str], list[str]]:
    hard: list[str] = []
    soft: list[str] = []
    if out.get("state_bytes", 0) > STATE_LIMIT:
        hard.append(f"state_dict() is {out['state_bytes']} bytes of JSON (limit {STATE_LIMIT})")
        return 0.0, hard, soft
    hard = _partial_split(case, out["plain"])
    if hard:
        return 0.0, hard, soft
    probes_ok = probes_n = chains_ok = ends_ok = 0
    for r, plain, probes, chain, end in zip(case["ranks"], out["plain"], out["probes"],
                                            out["chain"], out["after_end"], strict=True):
        for p, got in probes:
            probes_n += 1
            if got == plain[p:p + case["probe"]]:
                probes_ok += 1
            elif len(soft) < 6:
                soft.append(f"rank {r}: restored after {p} ids, it goes on with "
                            f"{got[:4]}... instead of {plain[p:p + 4]}...")
        if chain == plain:
            chains_ok += 1
        else:
            soft.append(f"rank {r}: failing at {case['crash_at']} and resuming each time does "
                        f"not give the uninterrupted epoch ({len(chain)} ids vs {len(plain)})")
        if end == []:
            ends_ok += 1
        else:
            soft.append(f"rank {r}: restored at the end of the epoch, it yields more ids")
    n = len(case["ranks"])
    score = 0.55 * probes_ok / max(probes_n, 1) + 0.35 * chains_ok / n + 0.1 * ends_ok / n
    return _unshuffled(case, out["plain"], score, soft), hard, soft


def _unshuffled(case: dict[str, Any], ranks: list[list[int]], score: float,
                soft: list[str]) -> float:
    """A sampler in storage order (or a fixed stride) breaks a rule in every case: x0.6."""
    if sum(case["shards"]) < SHUFFLE_MIN:
        return score
    why = shuffle_problems(ranks, "order")
    soft += why
    return score * UNSHUFFLED if why else score


def _partial_split(case: dict[str, Any], plain: list[list[Any]]) -> list[str]:
    """The uninterrupted epochs of some of the ranks: counts by the policy, ids in range,
    nothing shared (pad: only a rank's last id may repeat)."""
    total, world, policy = sum(case["shards"]), case["world"], case["policy"]
    want = counts(policy, total, world)
    v = []
    seen: set[int] = set()
    for r, ids in zip(case["ranks"], plain, strict=True):
        ok = want[r] if want else None
        if (ok is not None and len(ids) != ok) or (
                ok is None and len(ids) not in (total // world, -(-total // world))):
            v.append(f"rank {r} yields {len(ids)} ids; {policy} on {total} samples over "
                     f"{world} ranks means {ok if ok is not None else total // world}")
        if any(not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < total for i in ids):
            v.append(f"rank {r}: ids outside 0..{total - 1}")
            continue
        body = ids[:-1] if policy == "pad" else ids
        if len(set(body)) != len(body) or seen & set(body):
            v.append(f"rank {r}: ids repeated within the epoch")
        seen.update(body)
    return v


def _elastic(case: dict[str, Any], out: dict[str, Any]) -> tuple[float, list[str], list[str]]:
    total, policy, k = sum(case["shards"]), case["policy"], case["k"]
    if out.get("state_bytes", 0) > STATE_LIMIT:
        return 0.0, [f"state_dict() is {out['state_bytes']} bytes of JSON (limit "
                     f"{STATE_LIMIT})"], []
    first = out.get("first") or []
    flat = [i for r in first for i in r]
    hard = []
    if [len(r) for r in first] != [k] * case["world"] or len(set(flat)) != len(flat):
        hard.append(f"before the stop: every rank must yield {k} distinct ids")
        return 0.0, hard, []
    pool = set(range(total)) - set(flat)
    v = split_problems(policy, out.get("second") or [[]], pool, total,
                       f"after resuming on {case['new_world']} ranks")
    if v:
        return 0.2, v, []
    soft: list[str] = []
    return _unshuffled(case, first + (out.get("second") or []), 1.0, soft), [], soft


def _scale(case: dict[str, Any], out: dict[str, Any]) -> tuple[float, list[str], list[str]]:
    hard: list[str] = []
    if out.get("count") != case["count"]:
        hard.append(f"yielded {out.get('count')} ids; the rank has more than {case['count']}")
    if out.get("distinct") != out.get("count"):
        hard.append(f"{(out.get('count') or 0) - (out.get('distinct') or 0)} repeated ids")
    if out.get("out_of_range"):
        hard.append(f"{out['out_of_range']} ids are not sample ids")
    if out.get("state_bytes", 0) > STATE_LIMIT:
        hard.append(f"state_dict() is {out['state_bytes']} bytes of JSON")
    cont = out.get("cont")
    if not isinstance(cont, list) or len(cont) != 1000 or cont != out.get("resumed"):
        hard.append(f"restored after {case['count']} ids, it does not go on like the original")
    if hard:
        return 0.0, hard, []
    why = shuffle_problems([out.get("head") or []], "the first 200 ids")
    shuffled = UNSHUFFLED if why else 1.0
    spent = sum(float(out.get(k) or 0.0) for k in ("construct_s", "pull_s", "resume_s"))
    rate = case["count"] / max(spent, 1e-6)
    budget = case["budget"]
    speed = min(1.0, max(0.0, math.log10(rate / (budget / 10))))
    soft = why + ([] if speed >= 1 else [f"{rate:,.0f} ids/s (budget {budget:,})"])
    out["_rate"] = rate
    return (0.5 + 0.5 * speed) * shuffled, [], soft


KINDS = {"epoch": _epoch, "resume": _resume, "elastic": _elastic, "scale": _scale}


def judge(case: dict[str, Any], output: Any, reference: Any) -> dict[str, Any]:
    """Verdict for one case: valid (no hard rule broken), score 0..1, and what went wrong."""
    if not isinstance(output, dict):
        return {"valid": False, "score": 0.0, "violations": ["the driver returned no data"],
                "expected": _expected(case), "actual": "no data"}
    try:
        score, hard, soft = KINDS[case["kind"]](case, output)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        score, hard, soft = 0.0, [f"malformed output: {type(exc).__name__}"], []
    res: dict[str, Any] = {"valid": not hard, "score": round(score, 4),
                           "violations": hard + soft, "expected": _expected(case)}
    if "_rate" in output:
        res["actual"] = f"{output['_rate']:,.0f} ids/s" + ("; " + "; ".join(soft) if soft else "")
    else:
        res["actual"] = "; ".join((hard + soft)[:3]) or "as expected"
    return res


def _expected(case: dict[str, Any]) -> str:
    if case["kind"] == "scale":
        return f"{case['count']:,} distinct ids, exact resume, >= {case['budget']:,} ids/s"
    total, world = sum(case["shards"]), case["world"]
    want = counts(case["policy"], total, world)
    each = f"{want[0]} ids per rank" if want else \
        f"{total // world}-{-(-total // world)} ids per rank"
    return f"{case['policy']}: {each}; same order for the same seed, resumes exactly"
