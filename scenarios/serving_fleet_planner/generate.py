"""Variant of the fleet-planner scenario: visible example instances (artifacts).

The hidden cases come from checks/cases.py with the hidden case_seed; the examples use a
separate seed space, so they never reveal a hidden case.
"""

from __future__ import annotations

import json
from typing import Any

from scenarios.hooks import sibling


def generate(seed: int, params: dict[str, Any]) -> dict[str, Any]:
    cases = sibling(__file__, "checks/cases.py")
    examples = cases.example_cases(params["gpu"], seed)
    return {
        "params": {"example_ids": [c["id"] for c in examples]},
        "artifacts": {f"examples/{c['id']}.json": json.dumps(c, indent=2, sort_keys=True) + "\n"
                      for c in examples},
    }
