"""Role templates (scenarios/templates.yaml) and scale tiers (manifest key `scale`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scenarios.loader import load_bank
from scenarios.render import render_variant
from scenarios.scale import (
    TIER_IDS,
    TierUnavailable,
    scenario_tiers,
    seed_for_tier,
    tier_of,
    variant_tier,
)
from scenarios.templates import ROLE_TITLES
from server.cli.main import app
from tests.scenarios.factory import MANIFEST, MARKER, make_scenario

SCALED = MANIFEST.format(id="scaled-one", marker=MARKER) + \
    "scale: {param: nodes, gpus_per_unit: 8}\n"

TEMPLATE = """\
templates:
  - id: sre
    role: cluster-network-sre
    title: SRE loop
    seniority: senior
    time_limit_min: 60
    description: Finds the slow node.
    scenarios:
      - {scenario: scaled-one, weight: 2, scale: small}
"""


def _bank_with(tmp_path: Path, templates: str, manifest: str = SCALED):  # type: ignore[no-untyped-def]
    make_scenario(tmp_path, id="scaled-one", manifest=manifest)
    (tmp_path / "templates.yaml").write_text(templates)
    return load_bank(tmp_path)


def test_tier_bands_cover_every_gpu_count_once() -> None:
    assert [tier_of(n) for n in (1, 64, 128, 129, 1024, 1025, 8191, 8192, 16384)] == [
        "small", "small", "small", "medium", "medium", "large", "large", "xlarge", "xlarge"]


def test_real_bank_templates_load_one_per_role() -> None:
    bank = load_bank()
    assert not [e for e in bank.errors if e.scenario == "templates"]
    assert {t.role for t in bank.templates.values()} == set(ROLE_TITLES)
    for t in bank.templates.values():
        minutes = sum(bank.scenarios[i.scenario].manifest.time_estimate_min for i in t.scenarios)
        assert t.time_limit_min >= minutes, t.id
    big = bank.templates["training-infrastructure-10k"]
    assert {i.scenario: i.scale for i in big.scenarios}["train-large-dense"] == "xlarge"


def test_template_naming_a_scenario_not_served_fails_with_file_and_line(tmp_path: Path) -> None:
    text = TEMPLATE + "      - {scenario: not-written-yet}\n"
    bank = _bank_with(tmp_path, text)
    assert "sre" not in bank.templates
    (err,) = [e for e in bank.errors if e.scenario == "templates"]
    assert err.file == "templates.yaml" and err.line == 10
    assert "'not-written-yet' is not in the bank" in err.reason
    # a draft folder (leading underscore) is not served either
    make_scenario(tmp_path, id="not-written-yet", folder="_not_written_yet")
    assert "sre" not in load_bank(tmp_path).templates
    r = CliRunner().invoke(app, ["scenarios", "validate", "--root", str(tmp_path)])
    assert r.exit_code == 1 and "templates.yaml:10" in r.output


@pytest.mark.parametrize(("edit", "needle"), [
    (("scale: small", "scale: xlarge"), "has no scale tier 'xlarge'"),
    (("time_limit_min: 60", "time_limit_min: 20"), "below the scenarios' time estimates"),
    (("role: cluster-network-sre", "role: wizard"), "Input should be"),
    (("weight: 2,", "weight: 0,"), "greater than 0"),
])
def test_bad_templates_are_errors(tmp_path: Path, edit: tuple[str, str], needle: str) -> None:
    bank = _bank_with(tmp_path, TEMPLATE.replace(*edit))
    errs = [e for e in bank.errors if e.scenario == "templates"]
    assert errs and needle in errs[0].reason and errs[0].line is not None
    assert bank.templates == {}
    assert "scaled-one" in bank.scenarios  # a bad template never hides a scenario


def test_good_template_and_cli_listing(tmp_path: Path) -> None:
    bank = _bank_with(tmp_path, TEMPLATE)
    assert list(bank.templates) == ["sre"] and not bank.errors
    r = CliRunner().invoke(app, ["scenarios", "templates", "--json", "--root", str(tmp_path)])
    assert r.exit_code == 0, r.output
    (row,) = json.loads(r.output)
    assert row["scenarios"] == [{"scenario": "scaled-one", "weight": 2.0, "scale": "small"}]
    assert row["scenario_minutes"] == 30
    listed = CliRunner().invoke(app, ["scenarios", "list", "--json", "--root", str(tmp_path)])
    assert json.loads(listed.output)[0]["scale_tiers"] == ["small", "medium"]


def test_scale_tiers_follow_the_parameter_and_a_pin_draws_that_tier(tmp_path: Path) -> None:
    bank = _bank_with(tmp_path, TEMPLATE)
    s = bank.scenarios["scaled-one"]
    assert scenario_tiers(s) == ["small", "medium"]  # 4..64 nodes x 8 = 32..512 GPUs
    for tier in ("small", "medium"):
        for base in range(20):
            seed = seed_for_tier(s, base, tier)
            assert variant_tier(s, seed) == tier
            nodes = render_variant(s, seed).params["nodes"]
            assert (nodes * 8 <= 128) == (tier == "small")
    # deterministic, and a seed already in the tier is kept
    assert seed_for_tier(s, 3, "medium") == seed_for_tier(s, 3, "medium")
    keep = next(b for b in range(50) if variant_tier(s, b) == "medium")
    assert seed_for_tier(s, keep, "medium") == keep
    with pytest.raises(TierUnavailable):
        seed_for_tier(s, 0, "xlarge")


def test_manifest_scale_errors(tmp_path: Path) -> None:
    wrong_tiers = SCALED.replace("gpus_per_unit: 8}", "gpus_per_unit: 8, tiers: [large]}")
    make_scenario(tmp_path, id="scaled-one", manifest=wrong_tiers)
    make_scenario(tmp_path, id="no-param", manifest=MANIFEST.format(id="no-param", marker=MARKER)
                  + "scale: {param: gpus_total}\n")
    make_scenario(tmp_path, id="text-scale", manifest=MANIFEST.format(id="text-scale",
                  marker=MARKER) + "scale: {param: gpu}\n")
    bank = load_bank(tmp_path)
    reasons = {e.scenario: f"{e}" for e in bank.errors}
    assert "do not match the tiers" in reasons["scaled-one"]
    assert "scenario.yaml:" in reasons["scaled-one"]
    assert "'gpus_total' is not a declared parameter" in reasons["no-param"]
    assert "positive integer choices" in reasons["text-scale"]


def test_existing_seeds_keep_their_variants() -> None:
    """Tiers never enter rendering: a seed's variant is what it was before scale existed."""
    bank = load_bank()
    for sid in ("checkpoint-at-scale", "fabric-bring-up", "silent-data-corruption",
                "train-large-dense"):
        s = bank.scenarios[sid]
        assert scenario_tiers(s), sid
        for tier in scenario_tiers(s):
            assert tier in TIER_IDS
            assert variant_tier(s, seed_for_tier(s, 7, tier)) == tier
    # pinned calibration seeds: the drawn parameter is the same value as without a scale key
    ck = bank.scenarios["checkpoint-at-scale"]
    for case in ck.calibration.values():
        n = render_variant(ck, case.seed).params["num_gpus"]
        assert variant_tier(ck, case.seed) == tier_of(n)
