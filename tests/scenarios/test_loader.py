from __future__ import annotations

import json
from pathlib import Path

import pytest

from scenarios.loader import load_bank
from scenarios.render import RenderError
from tests.scenarios.factory import MANIFEST, MARKER, RUBRIC, make_scenario


def _line_of(path: Path, needle: str) -> int:
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in {path}")


def test_valid_scenario_loads_without_errors(tmp_path: Path) -> None:
    make_scenario(tmp_path)
    bank = load_bank(tmp_path)
    assert bank.errors == []
    s = bank.get("test-scenario")
    assert s.manifest.title == "Test scenario test-scenario"
    assert {c.role for c in s.calibration.values()} == {"reference", "empty", "wrong",
                                                        "keyword_stuffed"}


def test_one_broken_scenario_does_not_hide_the_others(tmp_path: Path) -> None:
    make_scenario(tmp_path, id="good-one")
    bad = make_scenario(tmp_path, id="bad-one")
    (bad / "scenario.yaml").write_text("id: bad-one\ntitle: [unclosed\n")
    make_scenario(tmp_path, id="good-two")
    bank = load_bank(tmp_path)
    assert sorted(bank.scenarios) == ["good-one", "good-two"]
    assert bank.errors and all(e.scenario == "bad_one" for e in bank.errors)
    assert bank.errors[0].file == "bad_one/scenario.yaml"
    assert bank.errors[0].line is not None


def test_unknown_key_reports_file_line_and_field(tmp_path: Path) -> None:
    text = MANIFEST.format(id="x-test", marker=MARKER).replace(
        "    step: 4\n", "    step: 4\n    stpe: 2\n")
    d = make_scenario(tmp_path, id="x-test", manifest=text)
    bank = load_bank(tmp_path)
    assert "x-test" not in bank.scenarios
    [err] = bank.errors
    assert err.scenario == "x-test"
    assert err.file == "x_test/scenario.yaml"
    assert err.line == _line_of(d / "scenario.yaml", "stpe")
    assert err.field is not None and err.field.endswith("stpe")
    assert "extra" in err.reason.lower() or "not permitted" in err.reason.lower()


def test_bad_range_points_at_the_parameter(tmp_path: Path) -> None:
    text = MANIFEST.format(id="x-test", marker=MARKER).replace("max: 64", "max: 2")
    d = make_scenario(tmp_path, id="x-test", manifest=text)
    [err] = load_bank(tmp_path).errors
    assert "smaller than min" in err.reason
    assert err.line == _line_of(d / "scenario.yaml", "- name: nodes")


def test_unknown_check_kind_is_rejected_with_its_line(tmp_path: Path) -> None:
    rubric = RUBRIC.format(marker=MARKER).replace("kind: concepts", "kind: vibes")
    d = make_scenario(tmp_path, rubric=rubric)
    errs = load_bank(tmp_path).errors
    assert errs, "unknown check kind must be an error"
    assert all(e.file.endswith("rubric.yaml") for e in errs)
    assert any("vibes" in e.reason or "discriminator" in e.reason.lower() or "tag" in e.reason
               for e in errs)
    assert errs[0].line == _line_of(d / "rubric.yaml", "kind: vibes")


@pytest.mark.parametrize(
    ("old", "new", "needle", "reason"),
    [
        ("field: cause\n", "field: culprit\n", "field: culprit", "does not exist"),
        ("section: evidence", "section: proof", "section: proof", "no section"),
        ("answer_key: checks/key.py", "answer_key: checks/nokey.py", "answer_key",
         "does not exist"),
        ("{param: secret_cause}", "{param: nope}", "param: nope", "not declared"),
        ("fields: [notes]", "fields: [nope]", "fields: [nope]", "does not exist"),
    ],
)
def test_rubric_references_are_checked(tmp_path: Path, old: str, new: str, needle: str,
                                       reason: str) -> None:
    rubric = RUBRIC.format(marker=MARKER)
    assert old in rubric
    d = make_scenario(tmp_path, rubric=rubric.replace(old, new, 1))
    errs = load_bank(tmp_path).errors
    assert len(errs) == 1, errs
    assert reason in errs[0].reason
    assert errs[0].file == "test_scenario/rubric.yaml"
    assert errs[0].line == _line_of(d / "rubric.yaml", needle)


def test_missing_files_are_errors(tmp_path: Path) -> None:
    d = make_scenario(tmp_path)
    (d / "starter" / "solution.py").unlink()
    (d / "calibration" / "empty.json").unlink()
    (d / "prompt.md").unlink()
    reasons = " | ".join(e.reason for e in load_bank(tmp_path).errors)
    assert "starter/solution.py does not exist" in reasons
    assert "missing calibration answers with role ['empty']" in reasons
    assert "missing prompt.md" in reasons


def test_calibration_answers_must_fit_the_form(tmp_path: Path) -> None:
    d = make_scenario(tmp_path)
    data = json.loads((d / "calibration" / "wrong.json").read_text())
    data["answers"] = {"cause": "zzz", "nonexistent": 1}
    (d / "calibration" / "wrong.json").write_text(json.dumps(data))
    errs = load_bank(tmp_path).errors
    assert {(e.file, e.field) for e in errs} == {
        ("test_scenario/calibration/wrong.json", "answers.cause"),
        ("test_scenario/calibration/wrong.json", "answers.nonexistent"),
    }


def test_duplicate_ids_keep_the_first_and_report_the_second(tmp_path: Path) -> None:
    make_scenario(tmp_path, id="dup-id", folder="a_first")
    make_scenario(tmp_path, id="dup-id", folder="b_second")
    bank = load_bank(tmp_path)
    assert bank.scenarios["dup-id"].path.name == "a_first"
    assert [e.file for e in bank.errors] == ["b_second/scenario.yaml"]


def test_template_syntax_error_has_a_line(tmp_path: Path) -> None:
    make_scenario(tmp_path, prompt="# Title\n\nok\n{% if nodes %}\nunclosed\n")
    [err] = load_bank(tmp_path).errors
    assert err.file == "test_scenario/prompt.md"
    assert err.line is not None and "template syntax" in err.reason


def test_generator_crash_is_a_render_error_not_a_bank_failure(tmp_path: Path) -> None:
    make_scenario(tmp_path, generate="def generate(seed, params):\n    return {'params': {}}\n")
    s = load_bank(tmp_path).get("test-scenario")
    with pytest.raises(RenderError, match="did not set parameters"):
        s.render(0)


@pytest.mark.parametrize("path", ["../escape.log", "/etc/x.log", "logs/../../x.log"])
def test_generator_cannot_write_outside_the_artifact_root(tmp_path: Path, path: str) -> None:
    gen = ("def generate(seed, params):\n"
           f"    return {{'params': {{'secret_gen': 'x'}}, 'artifacts': {{{path!r}: 'x'}}}}\n")
    make_scenario(tmp_path, generate=gen)
    with pytest.raises(RenderError, match="normalized relative path"):
        load_bank(tmp_path).get("test-scenario").render(0)


def test_undeclared_artifacts_are_rejected(tmp_path: Path) -> None:
    gen = ("def generate(seed, params):\n"
           "    return {'params': {'secret_gen': 'x'}, 'artifacts': {'answer.txt': 'x'}}\n")
    make_scenario(tmp_path, generate=gen)
    with pytest.raises(RenderError, match="matches no artifacts entry"):
        load_bank(tmp_path).get("test-scenario").render(0)


def test_calibration_band_scope_must_name_rubric_criteria(tmp_path: Path) -> None:
    d = make_scenario(tmp_path)
    data = json.loads((d / "calibration" / "keyword_stuffed.json").read_text())
    data["criteria"] = ["evidence", "nonexistent"]
    (d / "calibration" / "keyword_stuffed.json").write_text(json.dumps(data))
    [err] = load_bank(tmp_path).errors
    assert err.file == "test_scenario/calibration/keyword_stuffed.json"
    assert err.field == "criteria[1]" and "nonexistent" in err.reason


def test_selftest_flags_a_reference_answer_that_disagrees_with_its_variant(tmp_path: Path) -> None:
    from scenarios.selftest import reference_field_mismatches

    make_scenario(tmp_path)
    s = load_bank(tmp_path).get("test-scenario")
    # the factory's reference answers 'a' while the variant expects its hidden secret_cause
    [problem] = reference_field_mismatches(s)
    assert "criterion cause" in problem and "'a'" in problem


def test_validate_catches_prompt_variables_that_are_hidden_or_undefined(tmp_path: Path) -> None:
    make_scenario(tmp_path, prompt="# Title {{ nodes }}\n\nok\nCause: {{ secret_cause }}\n"
                                   "{% for i in range(3) %}{{ i }}{{ nope }}{% endfor %}\n")
    errs = sorted(load_bank(tmp_path).errors, key=lambda e: e.line or 0)
    assert [(e.file, e.line) for e in errs] == [("test_scenario/prompt.md", 4),
                                               ("test_scenario/prompt.md", 5)]
    assert "hidden parameter 'secret_cause'" in errs[0].reason
    assert "undefined variable 'nope'" in errs[1].reason
