"""Numbers as claims: extraction with units and the verdict against a variant's value."""

from __future__ import annotations

import pytest

from graders.checks.claims import extract, judge, unit_of
from graders.rubric import ClaimSpec


def verdict(text: str, expected: float, unit: str, tol: float = 0.1) -> str:
    return judge(extract(text), expected, unit, tol, 2 * tol).outcome


@pytest.mark.parametrize(("text", "expected", "unit", "outcome"), [
    ("the job fails every 156 h", 156.25, "h", "right"),
    ("the job fails every 6.5 days", 156.25, "h", "right"),
    ("the job fails every ~100 h", 156.25, "h", "wrong"),
    ("the job fails every 140 h", 156.25, "h", "off"),
    ("the job fails often, 100 times", 156.25, "h", "absent"),  # a bare number says no hours
    ("checkpoint every ~53 minutes", 53.0, "min", "right"),
    ("checkpoint every 3,170 s", 53.0, "min", "right"),
    ("the bubble is 3/64 = 4.7%", 0.047, "ratio", "right"),
    ("8x400 Gb/s per node", 50.0, "GB/s", "right"),  # bits, not bytes
    ("400 GB/s per node", 50.0, "GB/s", "wrong"),
    ("about 53 GiB of 80", 56.9, "GB", "right"),
])
def test_verdicts(text: str, expected: float, unit: str, outcome: str) -> None:
    assert verdict(text, expected, unit) == outcome


def test_the_closest_of_several_numbers_is_judged() -> None:
    v = judge(extract("11 s to write, so every ~53 minutes"), 53.0, "min", 0.3, 0.8)
    assert v.outcome == "right" and v.claim is not None and "53" in v.claim.text


def test_unknown_unit_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown unit"):
        unit_of("furlongs")
    with pytest.raises(ValueError, match="unknown unit"):
        ClaimSpec(key="job_mtbf_h", unit="fortnights")


def test_numbers_that_are_not_finite_are_no_claims() -> None:
    assert extract("1e400 GB and 1e999 s") == []
