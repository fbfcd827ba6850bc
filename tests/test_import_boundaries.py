"""The layering rules of docs/architecture.md, checked over the source tree.

- Library packages: sandbox and graders import nothing of ours, nor the web or database
  stack; scenarios may import graders; nothing imports server.
- server/<domain>/: router.py and pages.py -> service.py -> repository.py -> models. Routers
  and pages import no repository and no SQLAlchemy and make no ORM calls; services make no
  queries (session.get/scalars/execute/add..., flush is fine): SQL lives in repository.py;
  services and repositories import no router or page; repositories import no service.
- A domain never imports another domain's repository.
- No service or repository calls commit(): the request's session commits (server/db.py).
- Errors: a domain's error classes live in its errors.py, under one base that subclasses
  server.errors.AppError; a service raises only those (never HTTPException, AppError
  itself, a shared kind such as NotFound, or a builtin such as ValueError).
- No import cycles among our modules (function-level imports count; only imports under
  `if TYPE_CHECKING:` do not, as they never run).

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


def _classes(path: Path) -> list[ast.ClassDef]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [n for n in tree.body if isinstance(n, ast.ClassDef)]


def _base_names(cls: ast.ClassDef) -> list[str]:
    return [b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute)
            else "" for b in cls.bases]


def _shared_errors(root: Path) -> set[str]:
    path = root / "server" / "errors.py"
    return {c.name for c in _classes(path)} if path.is_file() else set()


def _error_names(root: Path) -> set[str]:
    """Names of every error class defined in server/errors.py or a domain's errors.py."""
    names = _shared_errors(root)
    for path in sorted((root / "server").glob("*/errors.py")):
        names |= {c.name for c in _classes(path)}
    return names


def _is_error(cls: ast.ClassDef, known: set[str]) -> bool:
    return any(b in known or b.endswith(("Error", "Exception")) for b in _base_names(cls))


def error_violations(root: Path) -> list[str]:
    bad = []
    known = _error_names(root)
    for path, _domain, layer in _server_files(root):
        rel = path.relative_to(root)
        classes = _classes(path)
        if layer != "errors":
            bad += [f"{rel}: error {c.name} defined outside errors.py"
                    for c in classes if _is_error(c, known)]
            continue
        bases = [c.name for c in classes if _base_names(c) == ["AppError"]]
        if len(bases) != 1:
            bad.append(f"{rel}: wants exactly one base subclassing AppError, has {bases}")
            continue
        mine = {bases[0]}
        for c in classes:
            if c.name in mine:
                continue
            if not _base_names(c) or _base_names(c)[0] not in mine:
                bad.append(f"{rel}: {c.name} does not subclass {bases[0]} (first base)")
            mine.add(c.name)
    return bad


GENERIC_RAISES = {"HTTPException", "ValueError", "TypeError", "KeyError", "LookupError",
                  "RuntimeError", "Exception"}


def raise_violations(root: Path) -> list[str]:
    """Services that raise HTTPException, AppError or a shared kind, or a builtin."""
    bad = []
    forbidden = GENERIC_RAISES | _shared_errors(root)
    for path, _domain, layer in _server_files(root):
        if layer != "service":
            continue
        rel = path.relative_to(root)
        if any(m.endswith("HTTPException") for m in imported_modules(path)):
            bad.append(f"{rel}: imports HTTPException; raise a domain error")
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Raise) and node.exc is not None:
                target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                name = target.id if isinstance(target, ast.Name) else \
                    target.attr if isinstance(target, ast.Attribute) else ""
                if name in forbidden:
                    bad.append(f"{rel}:{node.lineno} raises {name}; raise a named error of "
                               "its domain's errors.py")
    return bad


PACKAGES = ("server", "graders", "sandbox", "scenarios")


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(root: Path, path: Path, modules: set[str]) -> set[str]:
    """Our modules `path` imports when it runs (anywhere in it, not under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    skipped = {id(n) for top in ast.walk(tree)
               if isinstance(top, ast.If) and "TYPE_CHECKING" in ast.unparse(top.test)
               for n in ast.walk(top)}
    here = _module_name(root, path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[:len(package) - node.level + 1]) if node.level else ""
            mod = ".".join(filter(None, [base, node.module or ""]))
            names = [mod, *(f"{mod}.{a.name}" for a in node.names)]
        else:
            continue
        out |= {n for n in names if n in modules}
    return out


def import_cycles(root: Path) -> list[list[str]]:
    """Strongly connected groups of more than one module in our import graph."""
    files = {_module_name(root, p): p for pkg in PACKAGES for p in (root / pkg).rglob("*.py")}
    graph = {m: _runtime_imports(root, p, set(files)) - {m} for m, p in files.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


# ---------------------------------------------------------------- the real tree


def test_library_packages_respect_the_boundaries() -> None:
    assert library_violations(ROOT) == []


def test_routers_and_pages_go_through_services() -> None:
    assert layer_violations(ROOT) == []


def test_no_domain_imports_another_domains_repository() -> None:
    assert cross_domain_violations(ROOT) == []


def test_services_and_repositories_never_commit() -> None:
    assert commit_violations(ROOT) == []


def test_domain_errors_live_in_errors_py_under_one_base() -> None:
    assert error_violations(ROOT) == []


def test_services_raise_their_domains_named_errors() -> None:
    assert raise_violations(ROOT) == []


def test_no_import_cycles() -> None:
    assert import_cycles(ROOT) == []


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


def test_an_error_outside_errors_py_or_off_the_base_fails(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "server/errors.py": "class AppError(Exception): ...\nclass NotFound(AppError): ...\n",
        "server/things/service.py": "class Gone(NotFound): ...\nclass Row: ...\n",
        "server/things/errors.py": "class ThingError(AppError): ...\n"
                                   "class Stray(NotFound): ...\n",
        "server/other/errors.py": "class A(AppError): ...\nclass B(AppError): ...\n",
    })
    assert error_violations(root) == [
        "server/other/errors.py: wants exactly one base subclassing AppError, has ['A', 'B']",
        "server/things/errors.py: Stray does not subclass ThingError (first base)",
        "server/things/service.py: error Gone defined outside errors.py",
    ]


@pytest.mark.parametrize("text", [
    "from fastapi import HTTPException\n",
    "def f():\n    raise AppError('no')\n",
    "def f():\n    raise errors.NotFound('no')\n",
    "def f():\n    raise ValueError('no')\n",
])
def test_a_service_raising_a_generic_error_fails(tmp_path: Path, text: str) -> None:
    root = _tree(tmp_path, {"server/errors.py": "class AppError(Exception): ...\n"
                                                "class NotFound(AppError): ...\n",
                            "server/things/service.py": text})
    assert len(raise_violations(root)) == 1
    ok = _tree(tmp_path / "ok", {"server/things/service.py":
                                 "def f():\n    raise ThingMissing('no')\n"})
    assert raise_violations(ok) == []


def test_an_import_cycle_fails_even_through_a_function_level_import(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "scenarios/__init__.py": "",
        "scenarios/a.py": "from scenarios.b import f\n",
        "scenarios/b.py": "def f():\n    from scenarios import a\n",
        "scenarios/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                          "    from scenarios.a import x\n",
    })
    assert import_cycles(root) == [["scenarios.a", "scenarios.b"]]
    (root / "scenarios/b.py").write_text("def f(): ...\n")
    assert import_cycles(root) == []


def test_bench_is_independent_of_the_tests() -> None:
    """bench/ runs from a checkout without the test tree: it never imports tests."""
    bad = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "bench").glob("*.py"))
           if "tests" in imported_roots(p)]
    assert bad == []


def test_no_test_puts_a_folder_on_sys_path() -> None:
    """A folder put on sys.path lasts for the session and reaches spawned children: a test that
    added bench/ made `import web` find bench/web.py in the grading child process (CI, stop 22).
    Tests import bench modules as `bench.<name>` instead."""
    bad = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "tests").rglob("*.py"))
           if "sys.path.insert" in p.read_text() or "sys.path.append" in p.read_text()]
    assert bad == [str(Path(__file__).relative_to(ROOT))]  # only this test names it


def test_the_top_level_packages_are_regular_packages() -> None:
    """A namespace package loses to any same-named module anywhere on sys.path."""
    for pkg in (*PACKAGES, "web"):
        assert (ROOT / pkg / "__init__.py").is_file(), pkg
