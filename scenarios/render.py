"""Variants: parameters drawn per seed, generated artifacts, and the candidate's view."""

from __future__ import annotations

import fnmatch
import json
import random
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

import nh3
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from markdown_it import MarkdownIt
from pydantic import BaseModel, ConfigDict, Field

from scenarios.models import (
    AnswerField,
    ChoiceParam,
    GeneratedParam,
    IntegerParam,
    Kind,
    NumberParam,
    ScenarioManifest,
)
from scenarios.pymodule import load_module


class ScenarioFolder(Protocol):
    """What rendering reads of a scenario (scenarios.loader.Scenario is one); a Protocol,
    so this module does not import the loader that imports it."""

    path: Path
    manifest: ScenarioManifest

    @property
    def id(self) -> str: ...

    def prompt_template(self) -> str: ...


class RenderError(Exception):
    """A variant cannot be rendered (bad generator output, template error, ...)."""


def jinja_env() -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False,
                                keep_trailing_newline=True)


_MD = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def markdown_to_html(text: str) -> str:
    """Markdown -> sanitized HTML (raw HTML in the source is escaped, then nh3 cleans)."""
    return nh3.clean(_MD.render(text))


def draw_params(scenario: ScenarioFolder, seed: int) -> dict[str, Any]:
    """Seeded draw of every non-generated parameter; independent per parameter name."""
    out: dict[str, Any] = {}
    for p in scenario.manifest.parameters:
        # String seeds are hashed with SHA-512 by random: stable across runs and platforms.
        rng = random.Random(f"{scenario.id}/{seed}/{p.name}")
        if isinstance(p, IntegerParam):
            out[p.name] = p.min + p.step * rng.randint(0, (p.max - p.min) // p.step)
        elif isinstance(p, NumberParam):
            out[p.name] = round(rng.uniform(p.min, p.max), p.decimals)
        elif isinstance(p, ChoiceParam):
            out[p.name] = rng.choices(p.choices, weights=p.weights)[0] if p.weights \
                else p.choices[rng.randrange(len(p.choices))]
    return out


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "integer": (int,), "number": (int, float), "string": (str,), "boolean": (bool,),
    "object": (dict,), "list": (list,),
}


@dataclass(frozen=True)
class Variant:
    """One rendered variant. Holds hidden parameters: never hand this to a candidate."""

    scenario_id: str
    seed: int
    params: dict[str, Any]
    artifacts: dict[str, bytes]
    # The prompt as the candidate sees it (visible parameters only): graders use it to tell
    # a restated prompt from an answer (graders.checks.restatement).
    prompt_markdown: str = ""

    def visible_params(self, hidden: set[str]) -> dict[str, Any]:
        return {k: v for k, v in self.params.items() if k not in hidden}


def _clean_path(raw: str) -> str:
    p = PurePosixPath(raw)
    if p.is_absolute() or ".." in p.parts or not p.parts or raw != str(p):
        raise RenderError(f"artifact path {raw!r} must be a normalized relative path")
    return raw


def render_variant(scenario: ScenarioFolder, seed: int) -> Variant:
    """Draw parameters, run generate.py (fresh module each time), collect artifacts."""
    m = scenario.manifest
    params = draw_params(scenario, seed)
    artifacts: dict[str, bytes] = {}
    if m.generator:
        module = load_module(scenario.path / m.generator,
                             f"burnin_scn_{scenario.id.replace('-', '_')}_generator")
        fn = getattr(module, "generate", None)
        if not callable(fn):
            raise RenderError(f"{m.generator} defines no generate(seed, params)")
        result = fn(seed, dict(params))
        if not isinstance(result, dict) or set(result) - {"params", "artifacts"}:
            raise RenderError("generate() must return {'params': {...}, 'artifacts': {...}}")
        generated = result.get("params", {}) or {}
        declared = {p.name: p for p in m.parameters if isinstance(p, GeneratedParam)}
        for name, value in generated.items():
            if name not in declared:
                raise RenderError(f"generate() returned undeclared or non-generated "
                                  f"parameter {name!r}")
            want = _JSON_TYPES[declared[name].value_type]
            if not isinstance(value, want) or (bool not in want and isinstance(value, bool)):
                raise RenderError(f"generated parameter {name!r} is not a "
                                  f"{declared[name].value_type}")
            params[name] = value
        missing = set(declared) - set(generated)
        if missing:
            raise RenderError(f"generate() did not set parameters {sorted(missing)}")
        for raw, content in (result.get("artifacts", {}) or {}).items():
            path = _clean_path(raw)
            if isinstance(content, str):
                content = content.encode("utf-8")
            if not isinstance(content, bytes):
                raise RenderError(f"artifact {path!r} must be str or bytes")
            artifacts[path] = content
    static = scenario.path / "artifacts"
    if static.is_dir():
        for f in sorted(static.rglob("*")):
            if f.is_file():
                artifacts.setdefault(str(f.relative_to(static).as_posix()), f.read_bytes())
    for path in artifacts:
        if not any(fnmatch.fnmatch(path, a.path) for a in m.artifacts):
            raise RenderError(f"artifact {path!r} matches no artifacts entry in scenario.yaml")
    for a in m.artifacts:
        if not fnmatch.filter(list(artifacts), a.path):
            raise RenderError(f"artifacts entry {a.path!r} matched no file for seed {seed}")
    hidden = {p.name for p in m.parameters if p.hidden}
    prompt = render_prompt(scenario, {k: v for k, v in params.items() if k not in hidden})
    return Variant(scenario.id, seed, params, dict(sorted(artifacts.items())), prompt)


class CandidateView(BaseModel):
    """Everything a candidate may see of one variant, and nothing else.

    Built only from the prompt (rendered with visible parameters), the answer form, the
    generated/static artifacts and starter/ files. It has no field that could carry a
    rubric, checks/, calibration/ or a hidden parameter.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario_id: str = Field(description="Scenario id.")
    version: int = Field(description="Scenario version.")
    seed: int = Field(description="Variant seed.")
    title: str = Field(description="Scenario title.")
    summary: str = Field(description="Scenario summary.")
    kind: Kind = Field(description="Scenario kind.")
    time_estimate_min: int = Field(description="Expected time in minutes.")
    prompt_markdown: str = Field(description="Rendered prompt (Markdown).")
    prompt_html: str = Field(description="Rendered prompt (sanitized HTML).")
    form: list[AnswerField] = Field(description="Answer form fields.")
    artifacts: dict[str, bytes] = Field(description="Artifact path -> content.")
    artifact_descriptions: dict[str, str] = Field(description="Artifact pattern -> description.")
    starter: dict[str, bytes] = Field(description="Starter file path -> content.")

    def form_json(self) -> dict[str, Any]:
        return {
            "scenario": {
                "id": self.scenario_id, "version": self.version, "seed": self.seed,
                "title": self.title, "summary": self.summary, "kind": self.kind,
                "time_estimate_min": self.time_estimate_min,
            },
            "fields": [f.model_dump(mode="json") for f in self.form],
            "artifacts": self.artifact_descriptions,
        }

    def write(self, out: Path) -> None:
        """Write prompt.md, prompt.html, form.json, artifacts/ and starter/ under out."""
        out.mkdir(parents=True, exist_ok=True)
        (out / "prompt.md").write_text(self.prompt_markdown, encoding="utf-8")
        (out / "prompt.html").write_text(self.prompt_html, encoding="utf-8")
        (out / "form.json").write_text(json.dumps(self.form_json(), indent=2) + "\n",
                                       encoding="utf-8")
        for sub, files in (("artifacts", self.artifacts), ("starter", self.starter)):
            (out / sub).mkdir(exist_ok=True)
            for rel, content in files.items():
                target = out / sub / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)


def render_prompt(scenario: ScenarioFolder, visible: dict[str, Any]) -> str:
    try:
        template = jinja_env().from_string(scenario.prompt_template())
        return template.render(**visible)
    except Exception as exc:  # StrictUndefined, sandbox violations, template errors
        raise RenderError(f"prompt.md: {type(exc).__name__}: {exc}") from exc


def build_candidate_view(scenario: ScenarioFolder, seed: int) -> CandidateView:
    m = scenario.manifest
    variant = render_variant(scenario, seed)
    # Hidden parameters are absent from the template context (render_variant renders the
    # prompt with visible ones only), so a prompt that names one fails instead of leaking it.
    prompt = variant.prompt_markdown
    starter = {s.path: (scenario.path / "starter" / s.path).read_bytes() for s in m.starter}
    return CandidateView(
        scenario_id=m.id, version=m.version, seed=seed, title=m.title, summary=m.summary,
        kind=m.kind, time_estimate_min=m.time_estimate_min, prompt_markdown=prompt,
        prompt_html=markdown_to_html(prompt), form=list(m.answer.fields),
        artifacts=variant.artifacts,
        artifact_descriptions={a.path: a.description for a in m.artifacts},
        starter=starter,
    )
