"""Fixtures of the per-scenario test modules: a module names its scenario in `SID` (and how
many seeds its shortcut tests render in `SEEDS`); `scenario` and `variants` follow from them."""

from __future__ import annotations

from typing import Any

import pytest

from scenarios.loader import Scenario, load_bank


@pytest.fixture(scope="session")
def shipped_bank() -> Any:
    return load_bank()


@pytest.fixture(scope="module")
def scenario(request: pytest.FixtureRequest, shipped_bank: Any) -> Scenario:
    sid = getattr(request.module, "SID", None)
    if sid is None:
        pytest.fail(f"{request.module.__name__} uses the scenario fixture but names no SID")
    assert shipped_bank.errors_for(sid) == []
    return shipped_bank.get(sid)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def variants(request: pytest.FixtureRequest, scenario: Scenario) -> list[Any]:
    seeds = getattr(request.module, "SEEDS", 20)
    return [scenario.render(seed) for seed in (range(seeds) if isinstance(seeds, int) else seeds)]
