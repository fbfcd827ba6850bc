"""Pydantic models of a scenario folder: scenario.yaml, rubric.yaml and calibration/*.json.

Every model forbids unknown keys and describes every field, so the generated JSON Schema
(scenarios/schema/) lets an editor validate and complete the files.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from graders.rubric import (
    CHECKS_FILE,
    IDENT,
    Check,
    Concept,
    ConceptsCheck,
    Criterion,
    Dimension,
    ExpectedKey,
    ExpectedParam,
    ExpectedValue,
    FieldCheck,
    Level,
    ManualCheck,
    ParamCondition,
    PartialPoint,
    PlanCheck,
    Rubric,
    Strict,
    TestsCheck,
)

SCENARIO_ID = r"^[a-z0-9][a-z0-9-]*[a-z0-9]$"
REL_PATH = r"^[A-Za-z0-9_.\-*?\[\]][A-Za-z0-9_.\-/*?\[\]]*$"


def _no_dotdot(v: str) -> str:
    if ".." in v.split("/"):
        raise ValueError("path must stay inside the scenario folder (no '..')")
    return v


Kind = Literal["design", "debug", "code", "mixed"]
StackLayer = Literal["compute", "network", "storage", "serving", "reliability", "facilities"]
Difficulty = Literal["junior", "mid", "senior", "staff"]
# Scale tiers of the whole bank, by the number of GPUs a variant involves (bands in
# scenarios/scale.py): one vocabulary, so a bank filter or a template tier means the same
# thing in every scenario.
ScaleTier = Literal["small", "medium", "large", "xlarge"]


# --------------------------------------------------------------------------- parameters


class _ParamBase(Strict):
    name: str = Field(pattern=IDENT, description="Name used in prompt.md and by generate.py.")
    description: str = Field("", description="What the parameter means (for authors).")
    hidden: bool = Field(
        False,
        description="Hidden parameters are never shown to the candidate: not in the prompt "
        "context, the candidate view or the preview.",
    )


class IntegerParam(_ParamBase):
    type: Literal["integer"] = Field(description="An integer drawn uniformly from min..max.")
    min: int = Field(description="Smallest value (inclusive).")
    max: int = Field(description="Largest value (inclusive).")
    step: int = Field(1, ge=1, description="Only values min + k*step are drawn.")

    @model_validator(mode="after")
    def _range(self) -> IntegerParam:
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) is smaller than min ({self.min})")
        return self


class NumberParam(_ParamBase):
    type: Literal["number"] = Field(description="A real number drawn uniformly from min..max.")
    min: float = Field(description="Smallest value (inclusive).")
    max: float = Field(description="Largest value (inclusive).")
    decimals: int = Field(2, ge=0, le=9, description="The drawn value is rounded to this.")
    unit: str | None = Field(None, description="Unit of the value, for authors and previews.")

    @model_validator(mode="after")
    def _range(self) -> NumberParam:
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) is smaller than min ({self.min})")
        return self


class ChoiceParam(_ParamBase):
    type: Literal["choice"] = Field(description="One of a list of values.")
    choices: list[Any] = Field(min_length=1, description="The values to draw from.")
    weights: list[float] | None = Field(
        None, description="Relative weights, one per choice; uniform when omitted."
    )

    @model_validator(mode="after")
    def _weights(self) -> ChoiceParam:
        if self.weights is not None:
            if len(self.weights) != len(self.choices):
                raise ValueError("weights must have one entry per choice")
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError("weights must be non-negative and not all zero")
        return self


class GeneratedParam(_ParamBase):
    type: Literal["generated"] = Field(
        description="Set by the scenario's generate.py for each seed (the manifest must "
        "declare a generator)."
    )
    value_type: Literal["integer", "number", "string", "boolean", "object", "list"] = Field(
        description="JSON type of the value generate.py returns."
    )


Parameter = Annotated[
    IntegerParam | NumberParam | ChoiceParam | GeneratedParam, Field(discriminator="type")
]


# --------------------------------------------------------------------------- answer form


class Choice(Strict):
    value: str = Field(description="Value stored in the answer.")
    label: str = Field(description="Text the candidate sees.")


class _FieldBase(Strict):
    id: str = Field(pattern=IDENT, description="Answer key; referenced by rubric checks.")
    label: str = Field(description="Question text shown next to the input.")
    help: str = Field("", description="Hint shown under the input.")
    required: bool = Field(True, description="Whether submitting requires an answer here.")


class ChoiceField(_FieldBase):
    type: Literal["choice"] = Field(description="Pick exactly one option.")
    choices: list[Choice] = Field(min_length=2, description="The options.")


class MultiChoiceField(_FieldBase):
    type: Literal["multi_choice"] = Field(description="Pick any number of options.")
    choices: list[Choice] = Field(min_length=2, description="The options.")
    min_selected: int = Field(0, ge=0, description="Fewest options that may be picked.")
    max_selected: int | None = Field(None, ge=1, description="Most options that may be picked.")


class IntegerField(_FieldBase):
    type: Literal["integer"] = Field(description="A whole number.")
    min: int | None = Field(None, description="Smallest accepted value.")
    max: int | None = Field(None, description="Largest accepted value.")
    unit: str | None = Field(None, description="Unit shown next to the input.")


class NumberField(_FieldBase):
    type: Literal["number"] = Field(description="A real number with a unit.")
    unit: str = Field(description="Unit the candidate answers in (shown next to the input).")
    min: float | None = Field(None, description="Smallest accepted value.")
    max: float | None = Field(None, description="Largest accepted value.")
    tolerance_hint: str = Field(
        "", description="Shown to the candidate: how precise the estimate needs to be."
    )


class ShortTextField(_FieldBase):
    type: Literal["short_text"] = Field(description="One line of text.")
    max_length: int = Field(200, ge=1, le=2000, description="Longest accepted answer.")
    placeholder: str = Field("", description="Example shown in the empty input.")


class Section(Strict):
    id: str = Field(pattern=IDENT, description="Section key; concept checks may target it.")
    title: str = Field(description="Heading shown to the candidate.")
    hint: str = Field("", description="What the section should cover.")


class LongTextField(_FieldBase):
    type: Literal["long_text"] = Field(description="Free text (Markdown), optionally in sections.")
    sections: list[Section] = Field(
        default_factory=list,
        description="Headings; when present the answer is an object section id -> text.",
    )
    max_words: int = Field(3000, ge=1, description="Longest accepted answer in words.")


class CodeField(_FieldBase):
    type: Literal["code"] = Field(description="Code files the candidate edits.")
    files: list[str] = Field(
        min_length=1, description="File names (each must be a starter file of this scenario)."
    )
    language: str = Field("python", description="Language for syntax highlighting.")


AnswerField = Annotated[
    ChoiceField
    | MultiChoiceField
    | IntegerField
    | NumberField
    | ShortTextField
    | LongTextField
    | CodeField,
    Field(discriminator="type"),
]


class AnswerForm(Strict):
    fields: list[AnswerField] = Field(min_length=1, description="Inputs, in display order.")

    @model_validator(mode="after")
    def _unique(self) -> AnswerForm:
        seen: set[str] = set()
        for f in self.fields:
            if f.id in seen:
                raise ValueError(f"duplicate answer field id {f.id!r}")
            seen.add(f.id)
        return self


# --------------------------------------------------------------------------- manifest


class ArtifactSpec(Strict):
    path: str = Field(
        pattern=REL_PATH,
        description="Path or glob (fnmatch) of artifact files the candidate receives, "
        "relative to the artifact root.",
    )
    description: str = Field(description="What the file is, shown to the candidate.")
    source: Literal["generated", "static"] = Field(
        "generated",
        description="generated: written by generate.py; static: copied from the folder's "
        "artifacts/ directory.",
    )

    _path = field_validator("path")(_no_dotdot)


class StarterFile(Strict):
    path: str = Field(pattern=REL_PATH, description="File under starter/.")
    description: str = Field("", description="What the file is for.")

    _path = field_validator("path")(_no_dotdot)


class SandboxLimits(Strict):
    memory_mib: int = Field(1024, ge=64, description="Memory limit for the checks' sandbox.")
    wall_s: float = Field(60, gt=0, description="Wall-clock limit for one checks run.")
    cpus: float = Field(1, gt=0, description="CPU quota for the checks' sandbox.")
    pids: int = Field(128, ge=8, description="Process limit for the checks' sandbox.")


class ScaleSpec(Strict):
    """Which parameter sets the scale of a variant, so an assessment can pin a tier."""

    param: str = Field(
        pattern=IDENT,
        description="The parameter whose value is the scale (drawn or generated), e.g. "
        "num_gpus or num_nodes.",
    )
    gpus_per_unit: int = Field(
        1, ge=1, le=1024,
        description="GPUs per unit of the parameter: 1 when it counts GPUs, 8 when it counts "
        "8-GPU nodes.",
    )
    tiers: list[ScaleTier] | None = Field(
        None,
        description="Tiers the variants reach (small <= 128 GPUs, medium <= 1,024, large "
        "<= 8,191, xlarge >= 8,192). Required when the parameter is generated (the self-test "
        "checks them over seeds); for a choice or integer parameter they follow from its "
        "values and, when given, must match them.",
    )


class ScenarioManifest(Strict):
    id: str = Field(pattern=SCENARIO_ID, description="Stable identity (the folder is a slug).")
    version: int = Field(ge=1, description="Bumped on any change that alters grading.")
    title: str = Field(min_length=3, description="Title shown in the bank and to candidates.")
    summary: str = Field(min_length=10, description="One-paragraph summary for recruiters.")
    kind: Kind = Field(description="design, debug, code or mixed.")
    dimensions: list[Dimension] = Field(
        min_length=1, description="Skills the scenario measures (report dimensions)."
    )
    stack_layers: list[StackLayer] = Field(
        min_length=1, description="Layers of the AI-infrastructure stack it covers."
    )
    difficulty: Difficulty = Field(description="Seniority the scenario is written for.")
    time_estimate_min: int = Field(ge=5, le=480, description="Expected time in minutes.")
    parameters: list[Parameter] = Field(
        default_factory=list, description="Variant parameters drawn per seed."
    )
    generator: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_]+\.py$",
        description="Python file in the folder with generate(seed, params) -> "
        "{'params': {...}, 'artifacts': {path: str|bytes}}.",
    )
    answer: AnswerForm = Field(description="The form the candidate fills in.")
    artifacts: list[ArtifactSpec] = Field(
        default_factory=list, description="Files the candidate can read or load in a notebook."
    )
    starter: list[StarterFile] = Field(
        default_factory=list, description="Files the candidate starts from (under starter/)."
    )
    sandbox: SandboxLimits | None = Field(
        None, description="Resource limits for running this scenario's hidden checks."
    )
    scale: ScaleSpec | None = Field(
        None,
        description="For scenarios whose difficulty depends on scale: the parameter that "
        "sets it. An assessment entry may then pin a scale tier.",
    )

    @model_validator(mode="after")
    def _consistency(self) -> ScenarioManifest:
        names = [p.name for p in self.parameters]
        dups = {n for n in names if names.count(n) > 1}
        if dups:
            raise ValueError(f"duplicate parameter names: {sorted(dups)}")
        if any(p.type == "generated" for p in self.parameters) and not self.generator:
            raise ValueError("parameters of type 'generated' need a generator (generate.py)")
        if any(a.source == "generated" for a in self.artifacts) and not self.generator:
            raise ValueError("generated artifacts need a generator (generate.py)")
        if self.scale is not None:
            p = self.param(self.scale.param)
            if p is None:
                raise ValueError(f"scale.param {self.scale.param!r} is not a declared parameter")
            if p.type == "number":
                raise ValueError("scale.param must be an integer, choice or generated parameter")
            if p.type == "generated" and not self.scale.tiers:
                raise ValueError("scale.tiers is required when the scale parameter is generated")
        return self

    def param(self, name: str) -> Any:
        for p in self.parameters:
            if p.name == name:
                return p
        return None

    def field(self, field_id: str) -> Any:
        for f in self.answer.fields:
            if f.id == field_id:
                return f
        return None


# --------------------------------------------------------------------------- rubric
# The rubric and check models live in the grading library (graders/rubric.py); they are
# re-exported here so scenario code keeps importing them from scenarios.models.

# --------------------------------------------------------------------------- calibration


class Band(Strict):
    min: float = Field(ge=0, le=100, description="Lowest acceptable score (0-100).")
    max: float = Field(ge=0, le=100, description="Highest acceptable score (0-100).")

    @model_validator(mode="after")
    def _order(self) -> Band:
        if self.max < self.min:
            raise ValueError("band max is smaller than min")
        return self


class CalibrationCase(Strict):
    """One calibration/*.json file: an answer in ANSWER.json format plus its band."""

    scenario: str = Field(pattern=SCENARIO_ID, description="Scenario id the answer is for.")
    seed: int = Field(ge=0, description="Variant seed the answer was written against.")
    role: Literal["reference", "strong", "medium", "empty", "wrong", "keyword_stuffed",
                  "textbook", "structured_only", "echo", "other"] = Field(
        description="What the answer stands for: reference and strong answers (written "
        "independently, from the candidate view), medium, wrong, keyword_stuffed, textbook, "
        "structured_only (right fields, no reasoning), echo (numbers copied from the prompt)."
    )
    description: str = Field("", description="Why this answer should land in its band.")
    answers: dict[str, Any] = Field(description="Answer field id -> value.")
    band: Band = Field(description="Score band (0-100) the graded answer must land in.")
    criteria: list[str] | None = Field(
        None,
        description="When set, the band applies to the score over these criteria only "
        "(e.g. the write-up criteria for a keyword-stuffed answer).",
    )

# Rubric models are defined in graders/ and re-exported for scenario authors and the loader.
__all__ = [
    "CHECKS_FILE",
    "IDENT",
    "Check",
    "Concept",
    "ConceptsCheck",
    "Criterion",
    "Dimension",
    "ExpectedKey",
    "ExpectedParam",
    "ExpectedValue",
    "FieldCheck",
    "Level",
    "ManualCheck",
    "ParamCondition",
    "PartialPoint",
    "PlanCheck",
    "Rubric",
    "Strict",
    "TestsCheck",
]
