"""Rubric and check models: what rubric.yaml holds (criteria, check kinds, level descriptors).

These models belong to the grading library; scenarios/models.py re-exports them so a
scenario folder's rubric.yaml validates with exactly the models the engine scores with.
Every model forbids unknown keys and describes every field (the JSON Schema is generated
from them for editors).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

IDENT = r"^[a-z][a-z0-9_]*$"

Dimension = Literal[
    "systems_design", "hardware_awareness", "debugging", "coding", "communication"
]
DIMENSIONS: tuple[Dimension, ...] = (
    "systems_design", "hardware_awareness", "debugging", "coding", "communication"
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)



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


PlanPart = Literal["feasible", "throughput", "estimates"]


def _default_plan_weights() -> dict[PlanPart, float]:
    return {"feasible": 0.4, "throughput": 0.4, "estimates": 0.2}


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
    weights: dict[PlanPart, float] = Field(
        default_factory=_default_plan_weights,
        description="Split of the criterion's points between the parts.",
    )

    @model_validator(mode="after")
    def _keys(self) -> PlanCheck:
        # The training keys are checked when the plan runs (graders/checks/plan.py): a
        # model_input module with its own assess() names its own keys.
        bad = [k for k in self.fields if not k.isidentifier()]
        if bad:
            raise ValueError(f"plan keys must be identifiers: {sorted(bad)}")
        return self


class TestsCheck(Strict):
    __test__: ClassVar[bool] = False  # not a pytest test class

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
        description="'file.py:function' the sandbox calls with each case's input (with a "
        "driver: the object the driver receives)."
    )
    driver: str | None = Field(
        None, pattern=CHECKS_FILE,
        description="Optional checks/ module shipped into the sandbox (standard library only, "
        "no imports of ours): its run(entry, case) drives the candidate's entrypoint object "
        "through each case (e.g. save, restore and resume a stateful class) and returns the "
        "data the judge checks. Not secret: it holds no expected outputs.",
    )
    num_cases: int = Field(20, ge=1, le=10000, description="How many hidden cases to run.")
    timeout_s: float = Field(30, gt=0, description="Wall-clock limit for all cases.")


class ParamCondition(Strict):
    param: str = Field(pattern=IDENT, description="Variant parameter (hidden ones too).")
    one_of: list[Any] = Field(min_length=1, description="Values for which the condition holds.")


class ClaimSpec(Strict):
    key: str | None = Field(
        None, pattern=IDENT,
        description="Value the rubric's answer_key module computes for the variant.")
    param: str | None = Field(None, pattern=IDENT, description="Or a variant parameter.")
    unit: str = Field(
        description="Unit the expected value is in: B, GB, GiB, TB, GB/s, Gb/s, MB/s, ms, s, "
        "min, h, days, %, GPUs, tokens, tokens/s, or 'ratio' (a plain number or fraction).")
    rel_tol: float = Field(0.15, ge=0, description="A stated value within this counts.")
    wrong_tol: float | None = Field(
        None, ge=0, description="Beyond this relative error the claim is confidently wrong "
        "and the concept earns nothing (default: twice rel_tol).")
    no_number_credit: float = Field(
        0.5, ge=0, le=1, description="Fraction of the concept's credit when it is asserted "
        "without a number in this unit.")

    @model_validator(mode="after")
    def _source(self) -> ClaimSpec:
        if (self.key is None) == (self.param is None):
            raise ValueError("a claim needs exactly one of key or param")
        from graders.checks.claims import unit_of  # the unit table lives with the parser

        unit_of(self.unit)  # a typo fails when the rubric loads, not when an answer is graded
        return self


class Concept(Strict):
    id: str = Field(pattern=IDENT, description="Concept id, quoted in evidence.")
    description: str = Field(
        "", description="What an answer must assert, in one sentence (shown to reviewers).")
    phrasings: list[str] = Field(
        min_length=1,
        description="Lexical anchors: short ways a candidate may say it; Jinja templates over "
        "the variant's parameters (e.g. '{{ culprit_node }}'). Also used as exemplars.",
    )
    exemplars: list[str] = Field(
        default_factory=list,
        description="Whole sentences that assert the concept, written independently of each "
        "other and of the phrasings (semantic matching; Jinja templates).",
    )
    negative_exemplars: list[str] = Field(
        default_factory=list,
        description="Sentences that mention the topic but negate or misapply the concept; a "
        "sentence closer to these than to the exemplars earns nothing.",
    )
    applies_if: ParamCondition | None = Field(
        None, description="Only counts for variants where this holds (otherwise dropped)."
    )
    contradicts: list[str] = Field(
        default_factory=list, description="Phrasings that say the opposite (no credit)."
    )
    against: list[str] = Field(
        default_factory=list,
        description="Wrong entities for this variant (Jinja templates; a template rendering a "
        "list gives several, e.g. '{{ healthy_nodes }}'): a sentence that asserts the concept "
        "while naming one of them earns nothing and counts against.",
    )
    claim: ClaimSpec | None = Field(
        None, description="A number the assertion should carry, checked against the variant.")
    weight: float = Field(1, gt=0, description="Relative weight within the criterion.")


class ConceptsCheck(Strict):
    kind: Literal["concepts"] = Field(description="Score free text against named concepts.")
    field: str = Field(pattern=IDENT, description="Text answer field id.")
    section: str | None = Field(
        None, pattern=IDENT, description="Section id of the long-text field where the concepts "
        "are expected: a hint for evidence; credit comes from anywhere in the field unless "
        "scope is 'section'."
    )
    scope: Literal["field", "section"] = Field(
        "field", description="field: the whole answer field counts (default); section: only "
        "the named section (the old behaviour).")
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


class Requirement(Strict):
    criterion: str = Field(pattern=IDENT, description="Id of the criterion this one depends on.")
    mode: Literal["gate", "scale"] = Field(
        "scale", description="gate: no points unless the required criterion reaches "
        "min_fraction; scale: points times the required criterion's fraction (0..1), "
        "full at min_fraction or above.")
    min_fraction: float = Field(
        0.5, gt=0, le=1, description="Fraction of the required criterion's points that "
        "counts as 'right'.")


class Criterion(Strict):
    id: str = Field(pattern=IDENT, description="Criterion id (unique in the rubric).")
    title: str = Field(description="What the criterion rewards.")
    dimension: Dimension = Field(description="Report dimension the points count towards.")
    points: float = Field(gt=0, description="Maximum points.")
    check: Check = Field(description="How the criterion is scored.")
    levels: list[Level] = Field(
        default_factory=list, description="Level descriptors for human graders."
    )
    requires: list[Requirement] = Field(
        default_factory=list,
        description="Criteria this one only makes sense after (a fix needs the right "
        "diagnosis): its points are gated or scaled by their score.",
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
        # A requirement names an earlier criterion: the engine scores them in order and a
        # cycle could never be resolved.
        seen: set[str] = set()
        for c in self.criteria:
            for r in c.requires:
                if r.criterion not in seen:
                    raise ValueError(f"{c.id} requires {r.criterion!r}, which is not an earlier "
                                     "criterion of this rubric")
            seen.add(c.id)
        return self
