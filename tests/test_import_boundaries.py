"""Imports point one way (DESIGN.md): sandbox and graders import nothing of ours, nor the web
or database stack; scenarios may import graders; nothing imports server."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEB_OR_DB = {"fastapi", "starlette", "sqlalchemy", "alembic", "uvicorn"}
FORBIDDEN = {
    "sandbox": {"server", "graders", "scenarios"} | WEB_OR_DB,
    "graders": {"server", "sandbox", "scenarios"} | WEB_OR_DB,
    "scenarios": {"server", "sandbox"} | WEB_OR_DB,
}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_library_packages_respect_the_boundaries() -> None:
    bad = []
    for pkg, forbidden in FORBIDDEN.items():
        for path in sorted((ROOT / pkg).rglob("*.py")):
            hits = imported_roots(path) & forbidden
            if hits:
                bad.append(f"{path.relative_to(ROOT)} imports {sorted(hits)}")
    assert bad == []


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    p = tmp_path / "m.py"
    p.write_text("import os\nfrom server.db import x\nfrom . import y\n")
    assert imported_roots(p) == {"os", "server"}
