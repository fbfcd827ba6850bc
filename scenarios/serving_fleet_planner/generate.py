"""Variant of the fleet-planner scenario: visible example instances (artifacts).

The hidden cases come from checks/cases.py with the hidden case_seed; the examples use a
separate seed space, so they never reveal a hidden case.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any


def generate(seed: int, params: dict[str, Any]) -> dict[str, Any]:
    spec = importlib.util.spec_from_file_location(
        "_fleet_cases_gen", Path(__file__).with_name("checks") / "cases.py")
    assert spec and spec.loader
    cases = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cases)
    examples = cases.example_cases(params["gpu"], seed)
    return {
        "params": {"example_ids": [c["id"] for c in examples]},
        "artifacts": {f"examples/{c['id']}.json": json.dumps(c, indent=2, sort_keys=True) + "\n"
                      for c in examples},
    }
