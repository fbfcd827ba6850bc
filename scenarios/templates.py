"""Role templates (scenarios/templates.yaml): ready assessments a recruiter creates in one click.

A template names served scenarios only: one that is missing from the bank (still a draft, or
broken) makes the template an error with its file and line, never a silent gap. Adding a
scenario to a template is one line under its `scenarios:`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, ValidationError, model_validator

from scenarios.models import SCENARIO_ID, Difficulty, ScaleTier, Strict
from scenarios.scale import scenario_tiers
from scenarios.yamlsrc import YamlDoc, YamlError, load_yaml

if TYPE_CHECKING:
    from scenarios.loader import Scenario

TEMPLATES_FILE = "templates.yaml"

Role = Literal[
    "training-infrastructure", "inference-serving", "cluster-network-sre", "data-pipeline",
    "infrastructure-leadership",
]
ROLE_TITLES: dict[str, str] = {
    "training-infrastructure": "Training-infrastructure engineer",
    "inference-serving": "Inference/serving engineer",
    "cluster-network-sre": "GPU cluster & network SRE",
    "data-pipeline": "Data-pipeline engineer",
    "infrastructure-leadership": "Infrastructure leadership",
}


class TemplateItem(Strict):
    scenario: str = Field(pattern=SCENARIO_ID, description="Id of a scenario in the bank.")
    weight: float = Field(1.0, gt=0, le=100, description="Relative weight in the score.")
    scale: ScaleTier | None = Field(
        None,
        description="Pin the scale tier of the candidate's variant (the scenario must declare "
        "a scale that reaches it); omitted: the seed draws any scale.",
    )


class RoleTemplate(Strict):
    id: str = Field(pattern=SCENARIO_ID, description="Stable id used by the API and the CLI.")
    role: Role = Field(description="The role the template hires for (the bank's role filter).")
    title: str = Field(min_length=3, max_length=200, description="Default assessment title.")
    description: str = Field(min_length=10, description="What the template measures, for "
                             "recruiters (shown on the bank page).")
    seniority: Difficulty = Field(description="Seniority the template is written for.")
    time_limit_min: int = Field(ge=5, le=24 * 60, description="Time budget of the assessment; "
                                "at least the scenarios' time estimates together.")
    scenarios: list[TemplateItem] = Field(min_length=1, max_length=20,
                                          description="In the order candidates see them.")

    @model_validator(mode="after")
    def _unique(self) -> RoleTemplate:
        ids = [i.scenario for i in self.scenarios]
        if len(set(ids)) != len(ids):
            raise ValueError("a scenario may appear only once in a template")
        return self


class TemplatesFile(Strict):
    templates: list[RoleTemplate] = Field(min_length=1, description="The role templates.")

    @model_validator(mode="after")
    def _unique(self) -> TemplatesFile:
        ids = [t.id for t in self.templates]
        dups = sorted({i for i in ids if ids.count(i) > 1})
        if dups:
            raise ValueError(f"duplicate template ids: {dups}")
        return self


Problem = tuple[int | None, tuple[Any, ...], str]  # line, location, reason


def parse_templates(text: str, scenarios: Mapping[str, Scenario]
                    ) -> tuple[dict[str, RoleTemplate], list[Problem]]:
    """Validate templates.yaml against the bank; a bad template is dropped, the rest load."""
    try:
        doc = load_yaml(text)
    except YamlError as exc:
        return {}, [(exc.line, (), exc.reason)]
    if not isinstance(doc.data, dict):
        return {}, [(1, (), "top level must be a mapping with a 'templates' list")]
    try:
        parsed = TemplatesFile.model_validate(doc.data)
    except ValidationError as exc:
        return {}, [(doc.line_of(tuple(e["loc"])), tuple(e["loc"]), e["msg"])
                    for e in exc.errors()]
    out: dict[str, RoleTemplate] = {}
    problems: list[Problem] = []
    for i, t in enumerate(parsed.templates):
        mine = _bank_problems(doc, i, t, scenarios)
        problems.extend(mine)
        if not mine:
            out[t.id] = t
    return out, problems


def _bank_problems(doc: YamlDoc, i: int, t: RoleTemplate, scenarios: Mapping[str, Scenario]
                   ) -> list[Problem]:
    out: list[Problem] = []

    def add(loc: tuple[Any, ...], reason: str) -> None:
        full = ("templates", i, *loc)
        out.append((doc.line_of(full), full, f"template {t.id!r}: {reason}"))

    minutes = 0
    for j, item in enumerate(t.scenarios):
        s = scenarios.get(item.scenario)
        if s is None:
            add(("scenarios", j, "scenario"), f"scenario {item.scenario!r} is not in the bank "
                "(a draft or a folder with errors: `burnin scenarios validate`)")
            continue
        minutes += s.manifest.time_estimate_min
        if item.scale is not None and item.scale not in scenario_tiers(s):
            add(("scenarios", j, "scale"), f"scenario {item.scenario!r} has no scale tier "
                f"{item.scale!r} (it has {scenario_tiers(s) or 'no scale'})")
    if not out and minutes > t.time_limit_min:
        add(("time_limit_min",), f"time budget {t.time_limit_min} min is below the scenarios' "
            f"time estimates together ({minutes} min)")
    return out


def template_minutes(t: RoleTemplate, scenarios: Mapping[str, Scenario]) -> int:
    """The scenarios' time estimates together (the template's budget is at least this)."""
    return sum(scenarios[i.scenario].manifest.time_estimate_min for i in t.scenarios)
