"""Load the scenario bank: folders -> validated Scenario objects plus per-scenario errors.

Public API (what the server and graders call):

    bank = load_bank()                      # or load_bank(Path(...))
    bank.scenarios["debug-slow-run"]        # Scenario
    bank.errors                             # [ScenarioError], one broken folder never hides others
    scenario.candidate_view(seed)           # CandidateView: the only thing a candidate may see
    scenario.render(seed)                   # Variant with ALL params (hidden too): graders only
    scenario.rubric, scenario.calibration   # hidden: graders only
    scenario.load_check("checks/solver.py") # import a hidden checks/ module: graders only
    bank.templates["training-infrastructure"]  # RoleTemplate from templates.yaml
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from jinja2 import TemplateSyntaxError, meta
from pydantic import BaseModel, ValidationError

from scenarios.answers import answer_problems
from scenarios.models import (
    CalibrationCase,
    ChoiceField,
    ChoiceParam,
    CodeField,
    ConceptsCheck,
    ExpectedKey,
    ExpectedParam,
    FieldCheck,
    IntegerParam,
    LongTextField,
    ManualCheck,
    PlanCheck,
    Rubric,
    ScenarioManifest,
    ShortTextField,
    TestsCheck,
)
from scenarios.pymodule import load_module as load_module  # re-exported for tests
from scenarios.render import (
    CandidateView,
    Variant,
    build_candidate_view,
    jinja_env,
    render_variant,
)
from scenarios.scale import TIER_IDS, drawn_tiers, is_drawn
from scenarios.templates import TEMPLATES_FILE, RoleTemplate, parse_templates
from scenarios.yamlsrc import YamlDoc, YamlError, load_yaml

DEFAULT_ROOT = Path(__file__).resolve().parent
SKIP_DIRS = {"schema", "__pycache__"}


@dataclass(frozen=True)
class ScenarioError:
    """One problem in one scenario folder."""

    scenario: str  # manifest id when known, else the folder name
    file: str  # path relative to the bank root
    line: int | None
    field: str | None  # dotted location inside the file
    reason: str

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        at = f" [{self.field}]" if self.field else ""
        return f"{where}{at}: {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario, "file": self.file, "line": self.line,
            "field": self.field, "reason": self.reason,
        }


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Collector:
    def __init__(self, root: Path, folder: Path) -> None:
        self.root = root
        self.folder = folder
        self.name = folder.name
        self.errors: list[ScenarioError] = []

    def add(self, file: str, reason: str, *, line: int | None = None,
            loc: tuple[Any, ...] = (), doc: YamlDoc | None = None) -> None:
        if line is None and doc is not None and loc:
            line = doc.line_of(loc)
        rel = str((self.folder / file).relative_to(self.root)) if file else self.name
        self.errors.append(ScenarioError(self.name, rel, line, _dotted(loc) or None, reason))

    def pydantic(self, file: str, exc: ValidationError, doc: YamlDoc | None) -> None:
        for e in exc.errors():
            loc = tuple(e["loc"])
            if e["type"] in ("union_tag_invalid", "union_tag_not_found"):
                # point at the discriminator key ('kind:', 'type:') rather than its parent
                loc = (*loc, str(e.get("ctx", {}).get("discriminator", "")).strip("'"))
            self.add(file, e["msg"], loc=loc, doc=doc)


@dataclass(frozen=True)
class _Folder:
    """Path and manifest of a folder still being validated (what scenarios.scale reads)."""

    path: Path
    manifest: ScenarioManifest

    @property
    def id(self) -> str:
        return self.manifest.id

    def prompt_template(self) -> str:
        return (self.path / "prompt.md").read_text(encoding="utf-8")


class Scenario:
    """A validated scenario folder."""

    def __init__(self, path: Path, manifest: ScenarioManifest, rubric: Rubric,
                 calibration: dict[str, CalibrationCase]) -> None:
        self.path = path
        self.manifest = manifest
        self.rubric = rubric
        self.calibration = calibration  # file name -> case (hidden)

    @property
    def id(self) -> str:
        return self.manifest.id

    @property
    def checks_dir(self) -> Path:
        return self.path / "checks"

    def prompt_template(self) -> str:
        return (self.path / "prompt.md").read_text(encoding="utf-8")

    def render(self, seed: int) -> Variant:
        """The full variant for a seed (all parameters, hidden ones too). Graders only."""
        return render_variant(self, seed)

    def candidate_view(self, seed: int) -> CandidateView:
        """Exactly what a candidate sees for this seed."""
        return build_candidate_view(self, seed)

    def load_check(self, relpath: str) -> ModuleType:
        """Import a checks/ module fresh (hidden material: graders only)."""
        target = (self.path / relpath).resolve()
        if not target.is_relative_to(self.checks_dir.resolve()) or not target.is_file():
            raise FileNotFoundError(f"{relpath} is not a file under checks/")
        return load_module(target, f"burnin_scn_{self.id.replace('-', '_')}_{target.stem}")


@dataclass
class Bank:
    root: Path
    scenarios: dict[str, Scenario] = field(default_factory=dict)
    errors: list[ScenarioError] = field(default_factory=list)
    templates: dict[str, RoleTemplate] = field(default_factory=dict)

    def get(self, scenario_id: str) -> Scenario:
        try:
            return self.scenarios[scenario_id]
        except KeyError:
            raise KeyError(f"no scenario with id {scenario_id!r}") from None

    def errors_for(self, scenario: str) -> list[ScenarioError]:
        return [e for e in self.errors if e.scenario == scenario]


def scenario_folders(root: Path) -> list[Path]:
    out = []
    for p in sorted(root.iterdir()):
        if not p.is_dir() or p.name in SKIP_DIRS or p.name.startswith((".", "_")):
            continue
        if any((p / f).exists() for f in ("scenario.yaml", "rubric.yaml", "prompt.md")):
            out.append(p)
    return out


def load_bank(root: Path | None = None) -> Bank:
    """Load every scenario folder under root; broken ones become errors, never exceptions."""
    root = (root or DEFAULT_ROOT).resolve()
    bank = Bank(root=root)
    for folder in scenario_folders(root):
        scenario, errors = load_scenario(folder, root=root)
        if scenario is not None and scenario.id in bank.scenarios:
            other = bank.scenarios[scenario.id].path.name
            errors.append(ScenarioError(
                scenario.id, str((folder / "scenario.yaml").relative_to(root)), None, "id",
                f"duplicate scenario id {scenario.id!r} (also in folder {other}); ignored"))
            scenario = None
        bank.errors.extend(errors)
        if scenario is not None:
            bank.scenarios[scenario.id] = scenario
    _load_templates(bank)
    return bank


def _load_templates(bank: Bank) -> None:
    """templates.yaml at the bank root, checked against the scenarios that loaded."""
    path = bank.root / TEMPLATES_FILE
    if not path.is_file():
        return
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        bank.errors.append(ScenarioError("templates", TEMPLATES_FILE, None, None,
                                         "not UTF-8 text"))
        return
    bank.templates, problems = parse_templates(text, bank.scenarios)
    for line, loc, reason in problems:
        bank.errors.append(ScenarioError("templates", TEMPLATES_FILE, line,
                                         _dotted(loc) or None, reason))


def _read_yaml(c: _Collector, name: str) -> YamlDoc | None:
    path = c.folder / name
    if not path.is_file():
        c.add(name, f"missing {name}")
        return None
    try:
        doc = load_yaml(path.read_text(encoding="utf-8"))
    except YamlError as exc:
        c.add(name, exc.reason, line=exc.line)
        return None
    except UnicodeDecodeError:
        c.add(name, "not UTF-8 text")
        return None
    if not isinstance(doc.data, dict):
        c.add(name, "top level must be a mapping", line=1)
        return None
    return doc


def _validate(c: _Collector, name: str, model: type[BaseModel], doc: YamlDoc) -> Any:
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        c.pydantic(name, exc, doc)
        return None


def load_scenario(
    folder: Path, root: Path | None = None
) -> tuple[Scenario | None, list[ScenarioError]]:
    """Validate one folder; returns (scenario or None, errors). Never raises on bad content."""
    folder = folder.resolve()
    root = (root or folder.parent).resolve()
    c = _Collector(root, folder)
    try:
        scenario = _load(c)
    except Exception as exc:  # a broken folder must never stop the bank from loading
        c.add("", f"unexpected error while loading: {type(exc).__name__}: {exc}")
        scenario = None
    if c.errors:
        # c.name becomes the manifest id once scenario.yaml parses.
        return None, [ScenarioError(c.name, e.file, e.line, e.field, e.reason) for e in c.errors]
    return scenario, []


def _load(c: _Collector) -> Scenario | None:
    mdoc = _read_yaml(c, "scenario.yaml")
    rdoc = _read_yaml(c, "rubric.yaml")
    if mdoc is not None and isinstance(mdoc.data.get("id"), str):
        c.name = mdoc.data["id"]
    manifest = _validate(c, "scenario.yaml", ScenarioManifest, mdoc) if mdoc else None
    rubric = _validate(c, "rubric.yaml", Rubric, rdoc) if rdoc else None
    if manifest is not None:
        c.name = manifest.id
    if not (c.folder / "prompt.md").is_file():
        c.add("prompt.md", "missing prompt.md")
    else:
        _check_prompt(c, manifest)
    if manifest is not None and mdoc is not None:
        _check_manifest_files(c, manifest, mdoc)
        _check_scale(c, manifest, mdoc, _Folder(c.folder, manifest))
    if manifest is not None and rubric is not None and rdoc is not None:
        _check_rubric_refs(c, manifest, rubric, rdoc)
    calibration = _load_calibration(c, manifest) if manifest is not None else {}
    if rubric is not None:
        ids = {crit.id for crit in rubric.criteria}
        for name, case in calibration.items():
            for j, cid in enumerate(case.criteria or []):
                if cid not in ids:
                    c.add(f"calibration/{name}", f"criterion {cid!r} is not in rubric.yaml",
                          loc=("criteria", j))
    if manifest is None or rubric is None or c.errors:
        return None
    return Scenario(c.folder, manifest, rubric, calibration)


def _check_prompt(c: _Collector, m: ScenarioManifest | None) -> None:
    """Syntax, and every variable the template names is a visible parameter."""
    text = (c.folder / "prompt.md").read_text(encoding="utf-8")
    env = jinja_env()
    try:
        ast = env.parse(text)
    except TemplateSyntaxError as exc:
        c.add("prompt.md", f"template syntax: {exc.message}", line=exc.lineno)
        return
    if m is None:
        return
    hidden = {p.name for p in m.parameters if p.hidden}
    visible = {p.name for p in m.parameters} - hidden
    for name in sorted(meta.find_undeclared_variables(ast) - visible - set(env.globals)):
        hit = re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", text)
        line = text.count("\n", 0, hit.start()) + 1 if hit else None
        reason = (f"names hidden parameter {name!r}; hidden parameters are never shown to "
                  "candidates" if name in hidden else f"uses undefined variable {name!r}")
        c.add("prompt.md", reason, line=line)


def _inside(folder: Path, rel: str) -> Path | None:
    p = (folder / rel).resolve()
    return p if p.is_relative_to(folder.resolve()) else None


def _check_scale(c: _Collector, m: ScenarioManifest, doc: YamlDoc, folder: Any) -> None:
    """A drawn scale parameter's values are whole GPU counts; declared tiers match them."""
    spec = m.scale
    if spec is None:
        return
    p = m.param(spec.param)
    if isinstance(p, ChoiceParam) and not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in p.choices):
        c.add("scenario.yaml", f"scale parameter {spec.param!r} must have positive integer "
              "choices", loc=("scale", "param"), doc=doc)
        return
    if isinstance(p, IntegerParam) and p.min < 1:
        c.add("scenario.yaml", f"scale parameter {spec.param!r} must be positive (min >= 1)",
              loc=("scale", "param"), doc=doc)
        return
    if not is_drawn(folder):
        return
    derived = drawn_tiers(folder)
    if spec.tiers is not None and sorted(set(spec.tiers), key=TIER_IDS.index) != derived:
        c.add("scenario.yaml", f"scale.tiers {list(spec.tiers)} do not match the tiers the "
              f"values of {spec.param!r} reach ({derived})", loc=("scale", "tiers"), doc=doc)


def _check_manifest_files(c: _Collector, m: ScenarioManifest, doc: YamlDoc) -> None:
    if m.generator and not (c.folder / m.generator).is_file():
        c.add("scenario.yaml", f"generator {m.generator} does not exist",
              loc=("generator",), doc=doc)
    starter_paths = set()
    for i, s in enumerate(m.starter):
        p = _inside(c.folder / "starter", s.path)
        if p is None or not p.is_file():
            c.add("scenario.yaml", f"starter file starter/{s.path} does not exist",
                  loc=("starter", i, "path"), doc=doc)
        starter_paths.add(s.path)
    for i, f in enumerate(m.answer.fields):
        if isinstance(f, CodeField):
            for name in f.files:
                if name not in starter_paths:
                    c.add("scenario.yaml", f"code file {name!r} is not a declared starter file",
                          loc=("answer", "fields", i, "files"), doc=doc)
    for i, a in enumerate(m.artifacts):
        if a.source == "static":
            base = c.folder / "artifacts"
            files = [str(p.relative_to(base)) for p in base.rglob("*") if p.is_file()] \
                if base.is_dir() else []
            if not fnmatch.filter(files, a.path):
                c.add("scenario.yaml", f"static artifact {a.path!r} matches no file in artifacts/",
                      loc=("artifacts", i, "path"), doc=doc)


_TEXT_FIELDS = (LongTextField, ShortTextField)


def _check_rubric_refs(c: _Collector, m: ScenarioManifest, r: Rubric, doc: YamlDoc) -> None:
    def err(i: int, loc: tuple[Any, ...], reason: str) -> None:
        c.add("rubric.yaml", reason, loc=("criteria", i, "check", *loc), doc=doc)

    def checks_file(i: int, key: str, rel: str | None) -> None:
        if rel is None:
            return
        p = _inside(c.folder / "checks", rel.removeprefix("checks/"))
        if p is None or not p.is_file():
            err(i, (key,), f"checks file {rel} does not exist")

    if r.answer_key:
        p = _inside(c.folder / "checks", r.answer_key.removeprefix("checks/"))
        if p is None or not p.is_file():
            c.add("rubric.yaml", f"checks file {r.answer_key} does not exist",
                  loc=("answer_key",), doc=doc)
    for i, crit in enumerate(r.criteria):
        chk = crit.check
        if isinstance(chk, FieldCheck | ConceptsCheck | TestsCheck):
            f = m.field(chk.field)
            if f is None:
                err(i, ("field",), f"answer field {chk.field!r} does not exist in scenario.yaml")
            elif isinstance(chk, TestsCheck) and not isinstance(f, CodeField):
                err(i, ("field",), f"tests check needs a code field, {chk.field!r} is {f.type}")
            elif isinstance(chk, ConceptsCheck) and not isinstance(f, _TEXT_FIELDS):
                err(i, ("field",), f"concepts check needs a text field, {chk.field!r} is {f.type}")
            elif isinstance(chk, FieldCheck) and isinstance(f, CodeField | LongTextField):
                err(i, ("field",), f"field check cannot score a {f.type} field")
            elif isinstance(chk, ConceptsCheck) and chk.section is not None:
                sections = {s.id for s in f.sections} if isinstance(f, LongTextField) else set()
                if chk.section not in sections:
                    err(i, ("section",), f"field {chk.field!r} has no section {chk.section!r}")
            if isinstance(chk, FieldCheck) and isinstance(f, ChoiceField) and \
                    chk.compare == "numeric":
                err(i, ("compare",), "numeric comparison on a choice field")
        if isinstance(chk, FieldCheck):
            if isinstance(chk.expected, ExpectedParam) and m.param(chk.expected.param) is None:
                err(i, ("expected", "param"), f"parameter {chk.expected.param!r} is not declared")
            if isinstance(chk.expected, ExpectedKey) and r.answer_key is None:
                err(i, ("expected", "key"), "expected.key needs the rubric's answer_key module")
        if isinstance(chk, ConceptsCheck):
            for j, concept in enumerate(chk.concepts):
                cond = concept.applies_if
                if cond is not None and m.param(cond.param) is None:
                    err(i, ("concepts", j, "applies_if", "param"),
                        f"parameter {cond.param!r} is not declared")
        if isinstance(chk, PlanCheck):
            for key, fid in {**chk.fields, **chk.estimates}.items():
                if m.field(fid) is None:
                    loc = ("fields" if key in chk.fields else "estimates", key)
                    err(i, loc, f"answer field {fid!r} does not exist in scenario.yaml")
            checks_file(i, "model_input", chk.model_input)
        if isinstance(chk, TestsCheck):
            for key in ("cases", "judge", "reference", "driver"):
                checks_file(i, key, getattr(chk, key))
            fname = chk.entrypoint.split(":")[0]
            f = m.field(chk.field)
            if ":" not in chk.entrypoint or (isinstance(f, CodeField) and fname not in f.files):
                err(i, ("entrypoint",), f"entrypoint {chk.entrypoint!r} must be 'file:function' "
                    "with a file of the code field")
        if isinstance(chk, ManualCheck):
            for j, fid in enumerate(chk.fields):
                if m.field(fid) is None:
                    err(i, ("fields", j), f"answer field {fid!r} does not exist in scenario.yaml")


def _load_calibration(c: _Collector, m: ScenarioManifest) -> dict[str, CalibrationCase]:
    cal_dir = c.folder / "calibration"
    cases: dict[str, CalibrationCase] = {}
    if not cal_dir.is_dir():
        c.add("calibration", "missing calibration/ (reference, empty, wrong, keyword-stuffed)")
        return cases
    for path in sorted(cal_dir.glob("*.json")):
        if path.name.endswith(".paraphrase.json"):
            continue  # a rewrite of another answer, read by the paraphrase test
        rel = f"calibration/{path.name}"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            c.add(rel, f"invalid JSON: {exc}", line=getattr(exc, "lineno", None))
            continue
        try:
            case = CalibrationCase.model_validate(data)
        except ValidationError as exc:
            for e in exc.errors():
                c.add(rel, e["msg"], loc=tuple(e["loc"]))
            continue
        if case.scenario != m.id:
            c.add(rel, f"scenario {case.scenario!r} is not this scenario's id {m.id!r}",
                  loc=("scenario",))
        for fid, reason in answer_problems(m.answer, case.answers):
            c.add(rel, reason, loc=("answers", fid))
        cases[path.name] = case
    roles = {case.role for case in cases.values()}
    missing = {"reference", "empty", "wrong", "keyword_stuffed"} - roles
    if missing:
        c.add("calibration", f"missing calibration answers with role {sorted(missing)}")
    return cases
