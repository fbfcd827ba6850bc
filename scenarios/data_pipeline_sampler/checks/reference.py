"""What the judge compares against: nothing design-specific (any valid order is right), so
the reference is the rule itself, given for the report."""

from __future__ import annotations

from typing import Any


def reference(case: dict[str, Any]) -> dict[str, Any]:
    return {"kind": case["kind"], "samples": sum(case["shards"]), "world": case["world"],
            "policy": case["policy"]}
