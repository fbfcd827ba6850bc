"""`burnin grade` and the calibration part of `burnin scenarios selftest`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from scenarios.loader import DEFAULT_ROOT
from server.cli.main import app
from tests.scenarios.factory import make_scenario

runner = CliRunner()
DEBUG = DEFAULT_ROOT / "debug_slow_run" / "calibration"


def test_grade_json_has_the_contract_fields() -> None:
    r = runner.invoke(app, ["grade", "--json", str(DEBUG / "reference.json")])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["score"] >= 90  # band of the debug reference (communication awaits review)
    assert set(data["dimensions"]) == {"debugging", "hardware_awareness"}
    crit = {c["id"]: c for c in data["criteria"]}
    assert crit["cause"]["points"] == crit["cause"]["max_points"] > 0
    assert crit["cause"]["scorer"] == "check:field" and crit["cause"]["evidence"]
    assert crit["communication"]["scorer"] == "check:manual"
    assert data["pending_review"] == ["communication"]


def test_grade_seed_option_changes_the_variant(tmp_path: Path) -> None:
    # The reference answer is right for seed 7 only; another seed plants another cause.
    r = runner.invoke(app, ["grade", "--json", "--seed", "8", str(DEBUG / "reference.json")])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["score"] < 90


def test_grade_text_report() -> None:
    r = runner.invoke(app, ["grade", str(DEBUG / "keyword_stuffed.json")])
    assert r.exit_code == 0, r.output
    assert "debug-slow-run seed 7: score" in r.stdout
    assert "list of keywords" in r.stdout and "[review]" in r.stdout


def test_grade_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "a.json"
    bad.write_text("{not json")
    r = runner.invoke(app, ["grade", str(bad)])
    assert r.exit_code == 1 and "cannot read" in r.output
    bad.write_text(json.dumps({"answers": {}}))
    r = runner.invoke(app, ["grade", str(bad)])
    assert r.exit_code == 1 and "no scenario id" in r.output
    r = runner.invoke(app, ["grade", "--scenario", "nope", "--seed", "1", str(bad)])
    assert r.exit_code == 1 and "no valid scenario" in r.output


def test_selftest_fails_on_a_calibration_answer_outside_its_band(tmp_path: Path) -> None:
    d = make_scenario(tmp_path)
    # The factory's "reference" names cause 'a' but the planted cause is a hidden value,
    # so the graded reference cannot reach its band of 90-100.
    r = runner.invoke(app, ["scenarios", "selftest", "--root", str(tmp_path), "--seeds", "2",
                            "--no-sandbox"])
    assert r.exit_code == 1
    assert "reference.json (reference):" in r.output and "OUT OF BAND" in r.output
    assert "empty.json (empty): 0.0 in [0, 5] ok" in r.output
    assert d.is_dir()
