"""Pydantic models of a scenario folder: scenario.yaml, rubric.yaml and calibration/*.json.

Every model forbids unknown keys and describes every field, so the generated JSON Schema
(scenarios/schema/) lets an editor validate and complete the files.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

IDENT = r"^[a-z][a-z0-9_]*$"
SCENARIO_ID = r"^[a-z0-9][a-z0-9-]*[a-z0-9]$"
REL_PATH = r"^[A-Za-z0-9_.\-*?\[\]][A-Za-z0-9_.\-/*?\[\]]*$"


def _no_dotdot(v: str) -> str:
    if ".." in v.split("/"):
        raise ValueError("path must stay inside the scenario folder (no '..')")
    return v

Kind = Literal["design", "debug", "code", "mixed"]
Dimension = Literal[
    "systems_design", "hardware_awareness", "debugging", "coding", "communication"
]
StackLayer = Literal["compute", "network", "storage", "serving", "reliability", "facilities"]
Difficulty = Literal["junior", "mid", "senior", "staff"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class Level(Strict):
    score: float = Field(ge=0, le=1, description="Fraction of the criterion's points.")
    label: str = Field(description="Short name of the level (e.g. 'strong').")
    descriptor: str = Field(description="What an answer at this level looks like.")


class ExpectedValue(Strict):
    value: Any = Field(description="A literal expected value (only where no model applies).")


class ExpectedParam(Strict):
    param: str = Field(pattern=IDENT, description="Name of a variant parameter.")


class ExpectedKey(Strict):
    key: str = Field(
        pattern=IDENT,
        description="Name of a value the rubric's answer_key module computes for the variant.",
    )


class PartialPoint(Strict):
    error: float = Field(ge=0, description="Relative error (0.1 = 10%).")
    credit: float = Field(ge=0, le=1, description="Fraction of points at this error.")


CHECKS_FILE = r"^checks/[A-Za-z0-9_./\-]+$"


class FieldCheck(Strict):
    kind: Literal["field"] = Field(description="Compare a structured answer with a value.")
    field: str = Field(pattern=IDENT, description="Answer field id.")
    compare: Literal["exact", "set", "numeric"] = Field(
        "exact", description="exact: equal (case-insensitive text); set: same set; numeric: "
        "within tolerance."
    )
    expected: ExpectedValue | ExpectedParam | ExpectedKey = Field(
        description="Where the expected value comes from."
    )
    rel_tol: float | None = Field(None, ge=0, description="Relative tolerance (numeric).")
    abs_tol: float | None = Field(None, ge=0, description="Absolute tolerance (numeric).")
    partial: list[PartialPoint] = Field(
        default_factory=list, description="Partial-credit curve beyond the tolerance."
    )

    @model_validator(mode="after")
    def _tol(self) -> FieldCheck:
        if self.compare == "numeric" and self.rel_tol is None and self.abs_tol is None:
            raise ValueError("numeric comparison needs rel_tol or abs_tol")
        return self


class PlanCheck(Strict):
    kind: Literal["plan"] = Field(description="Evaluate a parallelism plan with the hw models.")
    fields: dict[str, str] = Field(
        description="Plan key (tp, pp, dp, cp, virtual_stages, micro_batch_size, zero_stage, "
        "recompute, sequence_parallel, precision) -> answer field id."
    )
    estimates: dict[str, str] = Field(
        default_factory=dict,
        description="Model metric (memory_gib, step_time_s, ...) -> answer field id holding "
        "the candidate's own estimate.",
    )
    model_input: str = Field(
        pattern=CHECKS_FILE,
        description="checks/ module with training_input(params, plan) building the hw-model "
        "input for the variant.",
    )
    estimate_rel_tol: float = Field(0.25, ge=0, description="Tolerance for own estimates.")
    weights: dict[Literal["feasible", "throughput", "estimates"], float] = Field(
        default_factory=lambda: {"feasible": 0.4, "throughput": 0.4, "estimates": 0.2},
        description="Split of the criterion's points between the parts.",
    )

    @model_validator(mode="after")
    def _keys(self) -> PlanCheck:
        known = {
            "tp", "pp", "dp", "cp", "virtual_stages", "micro_batch_size", "global_batch_size",
            "seq_len", "zero_stage", "recompute", "sequence_parallel", "precision",
        }
        unknown = set(self.fields) - known
        if unknown:
            raise ValueError(f"unknown plan keys: {sorted(unknown)}")
        return self


class TestsCheck(Strict):
    kind: Literal["tests"] = Field(description="Run hidden cases against candidate code.")
    field: str = Field(pattern=IDENT, description="Code answer field id.")
    cases: str = Field(
        pattern=CHECKS_FILE, description="checks/ module with cases(seed, n) -> list of inputs."
    )
    judge: str = Field(
        pattern=CHECKS_FILE,
        description="checks/ module with judge(case, output, reference) -> result; runs "
        "outside the sandbox.",
    )
    reference: str | None = Field(
        None, pattern=CHECKS_FILE, description="checks/ module with the reference solution."
    )
    entrypoint: str = Field(
        description="'file.py:function' the sandbox calls with each case's input."
    )
    num_cases: int = Field(20, ge=1, le=10000, description="How many hidden cases to run.")
    timeout_s: float = Field(30, gt=0, description="Wall-clock limit for all cases.")


class ParamCondition(Strict):
    param: str = Field(pattern=IDENT, description="Variant parameter (hidden ones too).")
    one_of: list[Any] = Field(min_length=1, description="Values for which the condition holds.")


class Concept(Strict):
    id: str = Field(pattern=IDENT, description="Concept id, quoted in evidence.")
    phrasings: list[str] = Field(
        min_length=1,
        description="Ways a candidate may say it; Jinja templates over the variant's "
        "parameters (e.g. '{{ culprit_node }}').",
    )
    applies_if: ParamCondition | None = Field(
        None, description="Only counts for variants where this holds (otherwise dropped)."
    )
    contradicts: list[str] = Field(
        default_factory=list, description="Phrasings that say the opposite (no credit)."
    )
    weight: float = Field(1, gt=0, description="Relative weight within the criterion.")


class ConceptsCheck(Strict):
    kind: Literal["concepts"] = Field(description="Score free text against named concepts.")
    field: str = Field(pattern=IDENT, description="Text answer field id.")
    section: str | None = Field(
        None, pattern=IDENT, description="Section id of the long-text field, if any."
    )
    concepts: list[Concept] = Field(min_length=1, description="Concepts that earn credit.")
    min_confidence: float = Field(
        0.6, ge=0, le=1, description="Below this the criterion is flagged for human review."
    )


class ManualCheck(Strict):
    kind: Literal["manual"] = Field(description="Graded by a person using the level descriptors.")
    fields: list[str] = Field(
        default_factory=list, description="Answer field ids the grader should read."
    )


Check = Annotated[
    FieldCheck | PlanCheck | TestsCheck | ConceptsCheck | ManualCheck,
    Field(discriminator="kind"),
]


class Criterion(Strict):
    id: str = Field(pattern=IDENT, description="Criterion id (unique in the rubric).")
    title: str = Field(description="What the criterion rewards.")
    dimension: Dimension = Field(description="Report dimension the points count towards.")
    points: float = Field(gt=0, description="Maximum points.")
    check: Check = Field(description="How the criterion is scored.")
    levels: list[Level] = Field(
        default_factory=list, description="Level descriptors for human graders."
    )

    @model_validator(mode="after")
    def _manual_levels(self) -> Criterion:
        if self.check.kind == "manual" and len(self.levels) < 2:
            raise ValueError("a manual criterion needs at least two levels")
        return self


class Rubric(Strict):
    answer_key: str | None = Field(
        None,
        pattern=CHECKS_FILE,
        description="checks/ module with answer_key(params) -> {key: value} for 'key' "
        "expectations.",
    )
    criteria: list[Criterion] = Field(min_length=1, description="The scored criteria.")

    @model_validator(mode="after")
    def _unique(self) -> Rubric:
        ids = [c.id for c in self.criteria]
        dups = {i for i in ids if ids.count(i) > 1}
        if dups:
            raise ValueError(f"duplicate criterion ids: {sorted(dups)}")
        return self


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
    role: Literal["reference", "empty", "wrong", "keyword_stuffed", "other"] = Field(
        description="What the answer stands for."
    )
    description: str = Field("", description="Why this answer should land in its band.")
    answers: dict[str, Any] = Field(description="Answer field id -> value.")
    band: Band = Field(description="Score band (0-100) the graded answer must land in.")
    criteria: list[str] | None = Field(
        None,
        description="When set, the band applies to the score over these criteria only "
        "(e.g. the write-up criteria for a keyword-stuffed answer).",
    )
