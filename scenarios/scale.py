"""Scale tiers: the bank's one vocabulary for "how many GPUs", and pinning a tier to a seed.

A scenario whose difficulty depends on scale names the parameter that sets it (manifest key
`scale`). Rendering never looks at tiers, so a seed's variant is the same with or without
them; pinning a tier picks, from the attempt's random seed, the first seed of a fixed
sequence whose variant has that scale (the seed still draws everything else).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, get_args

from scenarios.models import ChoiceParam, IntegerParam, ScaleTier

if TYPE_CHECKING:
    from scenarios.render import ScenarioFolder


@dataclass(frozen=True)
class Tier:
    id: str
    label: str
    min_gpus: int
    max_gpus: int | None  # None: no upper bound


# Bands around the reference sizes (64, 512, 4,096, 16,384 GPUs): a team that has run
# a few nodes, a pod, thousands, and the ten-thousand-GPU class where the network is the
# bottleneck and failures are daily.
TIERS: tuple[Tier, ...] = (
    Tier("small", "small (up to 128 GPUs)", 1, 128),
    Tier("medium", "medium (129-1,024 GPUs)", 129, 1024),
    Tier("large", "large (1,025-8,191 GPUs)", 1025, 8191),
    Tier("xlarge", "xlarge (8,192+ GPUs)", 8192, None),
)
TIER_IDS: tuple[str, ...] = tuple(t.id for t in TIERS)
assert TIER_IDS == get_args(ScaleTier)
TIER_BY_ID = {t.id: t for t in TIERS}
# How many seeds a pin may try; the self-test proves every declared tier is reached well
# within this for its scenario.
MAX_PIN_TRIES = 2000


class TierUnavailable(ValueError):
    """The scenario has no scale, or never reaches the asked tier."""


def tier_of(gpus: int) -> str:
    for t in TIERS:
        if gpus >= t.min_gpus and (t.max_gpus is None or gpus <= t.max_gpus):
            return t.id
    raise ValueError(f"{gpus} GPUs is not a scale")


def is_drawn(scenario: ScenarioFolder) -> bool:
    """Whether the scale parameter is drawn from the manifest (choice or integer), so its
    tiers follow from the manifest and a seed's scale needs no generator run."""
    spec = scenario.manifest.scale
    return spec is not None and isinstance(
        scenario.manifest.param(spec.param), ChoiceParam | IntegerParam)


def drawn_tiers(scenario: ScenarioFolder) -> list[str]:
    """Tiers a drawn scale parameter reaches ([] when it is not drawn)."""
    spec = scenario.manifest.scale
    if spec is None:
        return []
    p = scenario.manifest.param(spec.param)
    unit = spec.gpus_per_unit
    found: set[str] = set()
    if isinstance(p, ChoiceParam):
        found = {tier_of(int(v) * unit) for v in p.choices}
    elif isinstance(p, IntegerParam):
        for t in TIERS:
            lo = max(p.min, -(-t.min_gpus // unit))  # smallest value inside the band
            lo = p.min + -(-(lo - p.min) // p.step) * p.step  # ... on the step grid
            hi = p.max if t.max_gpus is None else min(p.max, t.max_gpus // unit)
            if lo <= hi:
                found.add(t.id)
    return [t for t in TIER_IDS if t in found]


def scenario_tiers(scenario: ScenarioFolder) -> list[str]:
    """The tiers a scenario's variants reach, smallest first ([] without a scale)."""
    spec = scenario.manifest.scale
    if spec is None:
        return []
    if is_drawn(scenario):
        return drawn_tiers(scenario)
    return [t for t in TIER_IDS if t in set(spec.tiers or [])]


def _scale_of(scenario: ScenarioFolder, seed: int) -> int:
    from scenarios.render import draw_params, render_variant

    spec = scenario.manifest.scale
    assert spec is not None
    params: dict[str, Any]
    if is_drawn(scenario):
        params = draw_params(scenario, seed)  # drawn: no need to run the generator
    else:
        params = render_variant(scenario, seed).params
    return int(params[spec.param])


def variant_tier(scenario: ScenarioFolder, seed: int) -> str | None:
    """The tier of one seed's variant (None for a scenario without a scale)."""
    spec = scenario.manifest.scale
    if spec is None:
        return None
    return tier_of(_scale_of(scenario, seed) * spec.gpus_per_unit)


def seed_for_tier(scenario: ScenarioFolder, seed: int, tier: str) -> int:
    """The first seed of a sequence fixed by (scenario, seed) whose variant is in tier."""
    if tier not in scenario_tiers(scenario):
        raise TierUnavailable(f"scenario {scenario.id!r} has no scale tier {tier!r} "
                              f"(it has {scenario_tiers(scenario) or 'none'})")
    if variant_tier(scenario, seed) == tier:
        return seed
    rng = random.Random(f"{scenario.id}/{seed}/scale/{tier}")
    for _ in range(MAX_PIN_TRIES):
        candidate = rng.randrange(2**31)
        if variant_tier(scenario, candidate) == tier:
            return candidate
    raise TierUnavailable(f"scenario {scenario.id!r} reached no {tier!r} variant in "
                          f"{MAX_PIN_TRIES} seeds")
