from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from server.cli.main import app
from tests.scenarios.factory import MARKER, make_scenario

runner = CliRunner()


def _run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["scenarios", *args])


def test_validate_ok_and_broken(tmp_path: Path) -> None:
    make_scenario(tmp_path, id="good-one")
    r = _run("validate", "--root", str(tmp_path))
    assert r.exit_code == 0, r.output
    assert "1 valid" in r.output

    bad = make_scenario(tmp_path, id="bad-one")
    text = (bad / "rubric.yaml").read_text().replace("field: cause\n", "field: nope\n")
    (bad / "rubric.yaml").write_text(text)
    r = _run("validate", "--root", str(tmp_path))
    assert r.exit_code == 1
    # file:line [field]: reason
    assert "bad_one/rubric.yaml:" in r.output
    assert "criteria[0].check.field" in r.output
    assert "answer field 'nope' does not exist" in r.output
    assert "1 valid" in r.output


def test_list_json(tmp_path: Path) -> None:
    make_scenario(tmp_path, id="alpha-one")
    make_scenario(tmp_path, id="beta-two")
    r = _run("list", "--json", "--root", str(tmp_path))
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [(x["id"], x["kind"]) for x in rows] == [("alpha-one", "debug"), ("beta-two", "debug")]
    assert all(x["title"] for x in rows)


def test_preview_writes_the_candidate_view_without_hidden_material(tmp_path: Path) -> None:
    make_scenario(tmp_path / "bank")
    out = tmp_path / "out"
    r = _run("preview", "test-scenario", "--seed", "4", "--out", str(out),
             "--root", str(tmp_path / "bank"))
    assert r.exit_code == 0, r.output
    names = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert {"prompt.md", "prompt.html", "form.json", "starter/solution.py"} <= names
    assert any(n.startswith("artifacts/logs/") for n in names)
    assert not any("checks" in n or "calibration" in n or "rubric" in n for n in names)
    for p in out.rglob("*"):
        if p.is_file():
            assert MARKER not in p.read_text(), p


def test_preview_unknown_id_fails(tmp_path: Path) -> None:
    make_scenario(tmp_path)
    r = _run("preview", "nope", "--out", str(tmp_path / "o"), "--root", str(tmp_path))
    assert r.exit_code == 1
    assert "no valid scenario" in r.output


def test_selftest_reports_nondeterministic_generator(tmp_path: Path) -> None:
    gen = ("import random\n"
           "def generate(seed, params):\n"
           "    return {'params': {'secret_gen': 'x'},\n"
           "            'artifacts': {'logs/a.log': str(random.random())}}\n")
    make_scenario(tmp_path, generate=gen)
    r = _run("selftest", "test-scenario", "--root", str(tmp_path), "--seeds", "3")
    assert r.exit_code == 1
    assert "artifacts differ between two runs" in r.output


def test_selftest_reports_solver_that_gets_it_wrong(tmp_path: Path) -> None:
    d = make_scenario(tmp_path)
    (d / "checks" / "solver.py").write_text(
        "def solve(artifacts):\n    return {'secret_cause': 'wrong'}\n")
    r = _run("selftest", "--root", str(tmp_path), "--seeds", "4")
    assert r.exit_code == 1
    assert "solver: 0/4 seeds solved" in r.output


def test_schema_command_writes_schemas(tmp_path: Path) -> None:
    r = _run("schema", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    data = json.loads((tmp_path / "scenario.schema.json").read_text())
    assert data["additionalProperties"] is False
    assert "id" in data["properties"]
