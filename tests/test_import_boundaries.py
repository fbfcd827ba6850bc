"""The layering rules of docs/architecture.md, checked over the source tree.

- Library packages: sandbox and graders import nothing of ours, nor the web or database
  stack; scenarios may import graders; nothing imports server.
- server/<domain>/: router.py and pages.py -> service.py -> repository.py -> models. Routers
  and pages import no repository and no SQLAlchemy and make no ORM calls; services make no
  queries (session.get/scalars/execute/add..., flush is fine): SQL lives in repository.py;
  services and repositories import no router or page; repositories import no service.
- A domain never imports another domain's repository.
- No service or repository calls commit(): the request's session commits (server/db.py).

Each rule has a test that runs the checker over a small synthetic tree and sees it fail."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WEB_OR_DB = {"fastapi", "starlette", "sqlalchemy", "alembic", "uvicorn"}
FORBIDDEN = {
    "sandbox": {"server", "graders", "scenarios"} | WEB_OR_DB,
    "graders": {"server", "sandbox", "scenarios"} | WEB_OR_DB,
    "scenarios": {"server", "sandbox"} | WEB_OR_DB,
}
# Folders of server/ that are not domains: shared helpers, operations, the CLI, models.
NOT_DOMAINS = {"kit", "ops", "cli", "models", "migrations"}
ENTRY_LAYERS = {"router", "pages"}
QUERY_CALLS = {"add", "add_all", "delete", "execute", "scalars", "scalar", "get", "get_one",
               "query", "merge"}
ORM_CALLS = QUERY_CALLS | {"flush", "refresh"}


def imported_roots(path: Path) -> set[str]:
    return {name.split(".")[0] for name in imported_modules(path)}


def imported_modules(path: Path) -> set[str]:
    """Absolute module names a file imports (`from a.b import c` gives a.b and a.b.c)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def library_violations(root: Path) -> list[str]:
    bad = []
    for pkg, forbidden in FORBIDDEN.items():
        for path in sorted((root / pkg).rglob("*.py")):
            hits = imported_roots(path) & forbidden
            if hits:
                bad.append(f"{path.relative_to(root)} imports {sorted(hits)}")
    return bad


def _server_files(root: Path) -> Iterator[tuple[Path, str, str]]:
    """(path, domain, layer) of each module in a domain folder of server/."""
    for path in sorted((root / "server").glob("*/*.py")):
        domain = path.parent.name
        if domain not in NOT_DOMAINS:
            yield path, domain, path.stem


def _layer_of(module: str) -> tuple[str, str] | None:
    """('grading', 'repository') for server.grading.repository[.name]."""
    parts = module.split(".")
    if len(parts) >= 3 and parts[0] == "server" and parts[1] not in NOT_DOMAINS:
        return parts[1], parts[2]
    return None


def _orm_calls(path: Path, calls: set[str] = ORM_CALLS) -> list[str]:
    """session.<ORM call>(...) on a variable named session or s."""
    hits = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in ("session", "s") and node.func.attr in calls):
            hits.append(f"{path.name}:{node.lineno} session.{node.func.attr}()")
    return hits


def layer_violations(root: Path) -> list[str]:
    bad = []
    for path, domain, layer in _server_files(root):
        rel = path.relative_to(root)
        modules = imported_modules(path)
        targets = {t for t in map(_layer_of, modules) if t is not None}
        if layer in ENTRY_LAYERS:
            if any(t[1] == "repository" for t in targets):
                bad.append(f"{rel}: a {layer} imports a repository; call the service")
            if any(m.split(".")[0] == "sqlalchemy" and m != "sqlalchemy.orm.Session"
                   and m != "sqlalchemy.orm" for m in modules):
                bad.append(f"{rel}: a {layer} imports SQLAlchemy; queries go in repository.py")
            bad += [f"{rel}: ORM call in a {layer}: {h}" for h in _orm_calls(path)]
            if any(t[1] in ENTRY_LAYERS and t != (domain, layer) for t in targets):
                bad.append(f"{rel}: a {layer} imports another router or pages module")
        if layer == "service":
            bad += [f"{rel}: query in a service: {h}; put it in repository.py"
                    for h in _orm_calls(path, QUERY_CALLS)]
        if layer in ("service", "repository") and any(t[1] in ENTRY_LAYERS for t in targets):
            bad.append(f"{rel}: a {layer} imports a router or pages module")
        if layer == "repository" and any(t[1] == "service" for t in targets):
            bad.append(f"{rel}: a repository imports a service")
    return bad


def cross_domain_violations(root: Path) -> list[str]:
    bad = []
    for path in sorted((root / "server").rglob("*.py")):
        rel = path.relative_to(root / "server")
        here = rel.parts[0] if len(rel.parts) > 1 else ""
        for target in filter(None, map(_layer_of, imported_modules(path))):
            if target[1] == "repository" and target[0] != here:
                bad.append(f"server/{rel} imports the {target[0]} domain's repository")
    return sorted(set(bad))


def commit_violations(root: Path) -> list[str]:
    bad = []
    for path, _domain, layer in _server_files(root):
        if layer not in ("service", "repository"):
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "commit"):
                bad.append(f"{path.relative_to(root)}:{node.lineno} calls commit()")
    return bad


# ---------------------------------------------------------------- the real tree


def test_library_packages_respect_the_boundaries() -> None:
    assert library_violations(ROOT) == []


def test_routers_and_pages_go_through_services() -> None:
    assert layer_violations(ROOT) == []


def test_no_domain_imports_another_domains_repository() -> None:
    assert cross_domain_violations(ROOT) == []


def test_services_and_repositories_never_commit() -> None:
    assert commit_violations(ROOT) == []


# ---------------------------------------------------------------- each rule can fail


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    for pkg in ("server", "graders", "sandbox", "scenarios"):
        (tmp_path / pkg).mkdir(exist_ok=True)
    return tmp_path


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    p = tmp_path / "m.py"
    p.write_text("import os\nfrom server.db import x\nfrom . import y\n")
    assert imported_roots(p) == {"os", "server"}


@pytest.mark.parametrize(("pkg", "line"), [("graders", "from server.models import Attempt"),
                                           ("sandbox", "import fastapi"),
                                           ("graders", "from sqlalchemy import select")])
def test_a_library_importing_the_server_or_web_stack_fails(tmp_path: Path, pkg: str,
                                                           line: str) -> None:
    root = _tree(tmp_path, {f"{pkg}/m.py": line + "\n"})
    assert len(library_violations(root)) == 1


@pytest.mark.parametrize("text", [
    "from server.things import repository\n",
    "from server.things.repository import find\n",
    "from sqlalchemy import select\n",
    "def f(session):\n    return session.scalars(q)\n",
    "from server.other.router import helper\n",
])
def test_a_router_that_bypasses_the_service_fails(tmp_path: Path, text: str) -> None:
    root = _tree(tmp_path, {"server/things/pages.py": text})
    assert len(layer_violations(root)) == 1
    clean = _tree(tmp_path / "ok", {"server/things/pages.py":
                                    "from server.things import service\n"
                                    "from sqlalchemy.orm import Session\n"})
    assert layer_violations(clean) == []


def test_a_service_that_queries_fails(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"server/things/service.py":
                            "def f(session):\n    session.flush()\n    return session.get(X, 1)\n"})
    assert len(layer_violations(root)) == 1


def test_a_repository_importing_a_service_fails(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"server/things/repository.py": "from server.things import service\n",
                            "server/things/service.py": "from server.things import router\n"})
    assert len(layer_violations(root)) == 2


def test_importing_another_domains_repository_fails(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"server/things/service.py":
                            "from server.things import repository\n"
                            "from server.other import repository as other_repo\n"})
    assert cross_domain_violations(root) == [
        "server/things/service.py imports the other domain's repository"]


def test_a_service_that_commits_fails(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"server/things/service.py": "def f(session):\n    session.commit()\n",
                            "server/things/repository.py": "def g(db):\n    db.commit()\n"})
    assert len(commit_violations(root)) == 2
