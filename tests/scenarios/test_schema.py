from __future__ import annotations

import json

from scenarios.schemas import SCHEMA_DIR, generate_schemas


def test_committed_schemas_equal_generated_ones() -> None:
    for name, text in generate_schemas().items():
        path = SCHEMA_DIR / name
        assert path.is_file(), f"{name} missing: run `burnin scenarios schema`"
        assert path.read_text() == text, f"{name} is stale: run `burnin scenarios schema`"


def _walk(node, path="$"):  # type: ignore[no-untyped-def]
    if isinstance(node, dict):
        for key, prop in (node.get("properties") or {}).items():
            yield f"{path}.{key}", prop
        for k, v in node.items():
            yield from _walk(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, f"{path}[{i}]")


def test_every_field_is_described_and_extra_keys_forbidden() -> None:
    for name, text in generate_schemas().items():
        schema = json.loads(text)
        undescribed = [p for p, prop in _walk(schema) if "description" not in prop]
        assert undescribed == [], f"{name}: {undescribed}"
        for def_name, d in schema.get("$defs", {}).items():
            if d.get("type") == "object" and "properties" in d:
                assert d.get("additionalProperties") is False, f"{name}: {def_name}"
