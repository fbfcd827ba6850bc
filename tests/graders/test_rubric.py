"""Rubric and check models live in graders; scenarios re-exports the very same classes."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

import graders.rubric as gr
import scenarios.models as sm
from graders.rubric import Criterion, Rubric

RUBRIC_YAML = """
answer_key: checks/key.py
criteria:
  - id: cause
    title: Names the cause
    dimension: debugging
    points: 10
    check: {kind: field, field: cause, expected: {param: cause}}
  - id: notes
    title: Explains
    dimension: communication
    points: 5
    check:
      kind: concepts
      field: notes
      concepts:
        - id: thermal
          phrasings: ["{{ culprit }} throttling"]
          applies_if: {param: cause, one_of: [thermal]}
  - id: overall
    title: Overall
    dimension: communication
    points: 5
    check: {kind: manual, fields: [notes]}
    levels:
      - {score: 0, label: weak, descriptor: "no"}
      - {score: 1, label: strong, descriptor: "yes"}
"""


def test_yaml_format_validates() -> None:
    r = Rubric.model_validate(yaml.safe_load(RUBRIC_YAML))
    assert [c.check.kind for c in r.criteria] == ["field", "concepts", "manual"]


@pytest.mark.parametrize("name", ["Rubric", "Criterion", "FieldCheck", "PlanCheck", "TestsCheck",
                                  "ConceptsCheck", "ManualCheck", "Concept", "Level",
                                  "ParamCondition", "PartialPoint"])
def test_scenarios_models_reexport_the_graders_classes(name: str) -> None:
    assert getattr(sm, name) is getattr(gr, name)


def test_unknown_keys_and_kinds_are_rejected() -> None:
    data = yaml.safe_load(RUBRIC_YAML)
    data["criteria"][0]["check"]["tolerance"] = 1
    with pytest.raises(ValidationError):
        Rubric.model_validate(data)
    data = yaml.safe_load(RUBRIC_YAML)
    data["criteria"][0]["check"]["kind"] = "vibes"
    with pytest.raises(ValidationError):
        Rubric.model_validate(data)


def test_every_field_is_described() -> None:
    for model in (gr.Level, gr.FieldCheck, gr.PlanCheck, gr.TestsCheck, gr.Concept,
                  gr.ConceptsCheck, gr.ManualCheck, Criterion, Rubric):
        missing = [n for n, f in model.model_fields.items() if not f.description]
        assert missing == [], model.__name__


def test_manual_needs_levels_and_numeric_needs_a_tolerance() -> None:
    with pytest.raises(ValidationError, match="two levels"):
        Criterion.model_validate({"id": "m", "title": "t", "dimension": "coding", "points": 1,
                                  "check": {"kind": "manual"}})
    with pytest.raises(ValidationError, match="rel_tol or abs_tol"):
        gr.FieldCheck.model_validate({"kind": "field", "field": "f", "compare": "numeric",
                                      "expected": {"value": 1}})
