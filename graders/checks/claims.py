"""Numbers as claims: number+unit pairs found in a sentence, compared with a variant's value.

A claim is a number with a unit ("156 h", "~9 s", "45 GB/s", "1.2%", "512 GPUs", "1410 MHz",
"91 C", "350 W") or a
plain ratio ("3/160", "= 0.019"). Units convert within their dimension (GiB -> bytes,
min -> seconds), so "6.5 days" checks against a value in hours. A bare number with no
unit is never a claim of a quantity that has one: "100" in a sentence about MTBF does
not say "100 h". Values that are not finite (1e400, NaN) are ignored.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

# unit spelling (lowercase) -> (dimension, factor to the dimension's base unit)
UNITS: dict[str, tuple[str, float]] = {
    "bytes": ("bytes", 1.0), "byte": ("bytes", 1.0),
    "kb": ("bytes", 1e3), "mb": ("bytes", 1e6), "gb": ("bytes", 1e9), "tb": ("bytes", 1e12),
    "pb": ("bytes", 1e15),
    "kib": ("bytes", 2.0**10), "mib": ("bytes", 2.0**20), "gib": ("bytes", 2.0**30),
    "tib": ("bytes", 2.0**40),
    "gb/s": ("bandwidth", 1e9), "gbps": ("bandwidth", 1e9), "mb/s": ("bandwidth", 1e6),
    "tb/s": ("bandwidth", 1e12), "gib/s": ("bandwidth", 2.0**30), "kb/s": ("bandwidth", 1e3),
    "gbit/s": ("bandwidth", 1e9 / 8), "gb/s-bit": ("bandwidth", 1e9 / 8),
    "ms": ("time", 1e-3), "us": ("time", 1e-6), "µs": ("time", 1e-6),
    "s": ("time", 1.0), "sec": ("time", 1.0), "secs": ("time", 1.0), "second": ("time", 1.0),
    "seconds": ("time", 1.0),
    "min": ("time", 60.0), "mins": ("time", 60.0), "minute": ("time", 60.0),
    "minutes": ("time", 60.0),
    "h": ("time", 3600.0), "hr": ("time", 3600.0), "hrs": ("time", 3600.0),
    "hour": ("time", 3600.0), "hours": ("time", 3600.0),
    "day": ("time", 86400.0), "days": ("time", 86400.0),
    "%": ("percent", 1.0), "percent": ("percent", 1.0),
    "gpu": ("gpus", 1.0), "gpus": ("gpus", 1.0),
    "tokens": ("tokens", 1.0), "token": ("tokens", 1.0),
    "tokens/s": ("token_rate", 1.0), "tok/s": ("token_rate", 1.0),
    "mhz": ("frequency", 1e6), "ghz": ("frequency", 1e9),
    "w": ("power", 1.0), "watts": ("power", 1.0), "kw": ("power", 1e3),
    "°c": ("temperature", 1.0), "c": ("temperature", 1.0),
    "ratio": ("ratio", 1.0),
}
# "Gb/s" (bits) differs from "GB/s" (bytes) only by case.
CASE_SENSITIVE = {"Gb/s": ("bandwidth", 1e9 / 8), "Mb/s": ("bandwidth", 1e6 / 8),
                  "Tb/s": ("bandwidth", 1e12 / 8), "Gbps": ("bandwidth", 1e9 / 8)}
SCALE = {"k": 1e3, "K": 1e3, "M": 1e6, "Mi": 2.0**20, "B": 1e9, "bn": 1e9, "billion": 1e9,
         "million": 1e6, "thousand": 1e3}

_UNIT_ALT = "|".join(sorted((re.escape(u) for u in list(UNITS) + list(CASE_SENSITIVE)
                             if u != "ratio"), key=len, reverse=True))
NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?"
CLAIM_RE = re.compile(
    r"(?<![A-WYZa-wyz0-9_.])(?P<approx>~|≈|about |around |roughly |approximately )?"
    r"(?P<num>" + NUM + r")"
    r"(?:\s?(?P<scale>Mi|k|K|M|bn|billion|million|thousand)(?![A-Za-z]))?"
    r"\s?(?P<unit>" + _UNIT_ALT + r")(?![A-Za-z0-9])",
    re.IGNORECASE,
)
FRACTION_RE = re.compile(r"(?<![A-Za-z0-9_.,(/])(?P<a>\d+(?:\.\d+)?)\s?/\s?(?P<b>\d+(?:\.\d+)?)"
                         r"(?![A-Za-z0-9_/(]|\.\d)")
EQUALS_RE = re.compile(r"=\s*~?\s*(?P<num>" + NUM + r")(?![\d.,]\d|[A-Za-z0-9])")


@dataclass(frozen=True)
class Claim:
    """One number with its unit, as stated."""

    text: str
    value: float  # in the dimension's base unit
    dimension: str
    start: int
    end: int


def _number(raw: str) -> float | None:
    try:
        v = float(raw.replace(",", ""))
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def unit_of(unit: str) -> tuple[str, float]:
    """(dimension, factor) of a rubric unit; ValueError for an unknown one."""
    if unit in CASE_SENSITIVE:
        return CASE_SENSITIVE[unit]
    found = UNITS.get(unit.lower())
    if found is None:
        raise ValueError(f"unknown unit {unit!r} (known: {sorted(set(UNITS) | set(CASE_SENSITIVE))})")
    return found


def extract(sentence: str) -> list[Claim]:
    """Every number+unit claim and every ratio in a sentence, in order."""
    out: list[Claim] = []
    taken: list[tuple[int, int]] = []
    for m in CLAIM_RE.finditer(sentence):
        v = _number(m.group("num"))
        if v is None:
            continue
        unit = m.group("unit")
        dim, factor = CASE_SENSITIVE.get(unit) or UNITS[unit.lower()]
        scale = SCALE.get(m.group("scale") or "", 1.0)
        base = v * scale * factor
        if not math.isfinite(base):
            continue
        out.append(Claim(m.group(0).strip(), base, dim, m.start(), m.end()))
        taken.append((m.start(), m.end()))
    for m in FRACTION_RE.finditer(sentence):
        if any(a <= m.start() < b for a, b in taken):
            continue
        a, b = _number(m.group("a")), _number(m.group("b"))
        if a is None or b is None or b == 0:
            continue
        out.append(Claim(m.group(0), a / b, "ratio", m.start(), m.end()))
        taken.append((m.start(), m.end()))
    for m in EQUALS_RE.finditer(sentence):
        if any(a <= m.start("num") < b for a, b in taken):
            continue
        v = _number(m.group("num"))
        if v is not None:
            out.append(Claim(m.group(0), v, "ratio", m.start("num"), m.end()))
    return sorted(out, key=lambda c: c.start)


@dataclass(frozen=True)
class Verdict:
    claim: Claim | None
    expected: float  # in the rubric's unit
    stated: float | None  # the claim in the rubric's unit
    rel_error: float | None
    outcome: str  # "right" | "wrong" | "off" | "absent"


def judge(claims: list[Claim], expected: float, unit: str, rel_tol: float,
          wrong_tol: float) -> Verdict:
    """The best claim in the rubric's dimension against the expected value."""
    dim, factor = unit_of(unit)
    best: Verdict | None = None
    for c in claims:
        stated: float | None = None
        if c.dimension == dim:
            stated = c.value / factor
        elif dim == "ratio" and c.dimension == "percent":  # "4.7%" states a ratio of 0.047
            stated = c.value / 100.0
        elif dim == "percent" and c.dimension == "ratio":
            stated = c.value * 100.0
        if stated is None:
            continue
        err = abs(stated - expected) / abs(expected) if expected else abs(stated)
        outcome = "right" if err <= rel_tol else ("off" if err <= wrong_tol else "wrong")
        v = Verdict(c, expected, stated, err, outcome)
        if best is None or err < (best.rel_error or math.inf):
            best = v
    return best or Verdict(None, expected, None, None, "absent")
