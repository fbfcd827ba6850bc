"""JSON Schemas of scenario.yaml, rubric.yaml, calibration/*.json and templates.yaml for editors."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from scenarios.models import CalibrationCase, Rubric, ScenarioManifest
from scenarios.templates import TemplatesFile

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
_MODELS: dict[str, tuple[type[BaseModel], str]] = {
    "scenario.schema.json": (ScenarioManifest, "Burnin scenario.yaml"),
    "rubric.schema.json": (Rubric, "Burnin rubric.yaml"),
    "calibration.schema.json": (CalibrationCase, "Burnin calibration answer"),
    "templates.schema.json": (TemplatesFile, "Burnin templates.yaml (role templates)"),
}


def generate_schemas() -> dict[str, str]:
    """File name -> JSON text (stable: sorted keys, trailing newline)."""
    out = {}
    for name, (model, title) in _MODELS.items():
        schema = model.model_json_schema()
        schema["title"] = title
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        out[name] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in generate_schemas().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
