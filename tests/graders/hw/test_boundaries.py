"""graders/hw is pure: it imports only itself, pydantic and the standard library."""

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[3] / "graders" / "hw"
ALLOWED_THIRD_PARTY = {"pydantic"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_graders_hw_imports_only_itself_pydantic_and_stdlib() -> None:
    files = sorted(PACKAGE.glob("*.py"))
    assert len(files) >= 7
    for path in files:
        for name in _imports(path):
            top = name.split(".")[0]
            if name.startswith("graders.hw") or top in ALLOWED_THIRD_PARTY:
                continue
            assert top in sys.stdlib_module_names, f"{path.name} imports {name}"


def test_graders_hw_does_no_io() -> None:
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        calls = {n.func.id for n in ast.walk(tree)
                 if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        assert not calls & {"open", "print", "input"}, path.name
