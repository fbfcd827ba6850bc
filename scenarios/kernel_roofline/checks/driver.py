"""Calls the candidate's analyse(profile, gpu) on one hidden case (runs INSIDE the sandbox).

Shipped into the sandbox as it is (standard library only). It holds no expected outputs: it
passes the case's profile and GPU, each a fresh copy, and returns what analyse returned for
checks/judge.py, which decides outside the sandbox.
"""

from __future__ import annotations

import copy
from typing import Any


def run(entry: Any, case: dict[str, Any]) -> Any:
    return entry(copy.deepcopy(case["profile"]), copy.deepcopy(case["gpu"]))
