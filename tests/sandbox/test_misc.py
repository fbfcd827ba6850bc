"""Import boundaries, image input hash, backend choice, CLI."""

from __future__ import annotations

import ast
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import sandbox
from sandbox.backend import NoBackend, pick_backend
from sandbox.image import CONTEXT_DIR, input_hash

FORBIDDEN = ("server", "graders", "scenarios", "fastapi", "sqlalchemy", "pydantic_settings")


def test_sandbox_imports_nothing_of_the_server_graders_or_web_stack() -> None:
    root = Path(sandbox.__file__).parent
    bad = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            bad += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
        assert "os.environ" not in path.read_text() and "getenv" not in path.read_text(), path
    assert bad == []


def test_image_tag_follows_its_inputs(tmp_path: Path) -> None:
    for name in ("Dockerfile", "requirements.txt"):
        (tmp_path / name).write_bytes((CONTEXT_DIR / name).read_bytes())
    same = input_hash("burnin-base:bookworm", tmp_path)
    assert same == input_hash("burnin-base:bookworm")
    assert input_hash("other-base:1", tmp_path) != same
    (tmp_path / "requirements.txt").write_text("numpy\n")
    assert input_hash("burnin-base:bookworm", tmp_path) != same


def test_no_backend_means_refusal_not_unsandboxed_execution(tmp_path: Path) -> None:
    with pytest.raises(NoBackend, match="refusing"):
        pick_backend("bwrap", image="x", rootfs=tmp_path / "no-such-rootfs")


def test_every_sandbox_weighs_less_than_the_api_when_cores_are_short() -> None:
    from sandbox.docker_backend import hardened_config
    from sandbox.limits import SANDBOX_CPU_SHARES, SANDBOX_NICE, SandboxLimits

    for kind in ("oneshot", "kernel", "check"):
        config = hardened_config(image="x", command=["true"], limits=SandboxLimits(), kind=kind)
        assert config["cpu_shares"] == SANDBOX_CPU_SHARES < 1024  # Docker's default, a nice-0 task
        assert config["nano_cpus"] == 10**9  # the cap on CPU time is unchanged
    assert 0 < SANDBOX_NICE <= 19


@pytest.mark.docker
def test_cli_run_prints_output_and_status(docker_backend: Any) -> None:
    from server.cli.sandbox import app
    os.environ.setdefault("BURNIN_SANDBOX_IMAGE", docker_backend.image)
    result = CliRunner().invoke(app, ["run", "--", "python", "-c", "print(6*7)"])
    assert result.exit_code == 0, result.output
    assert "42" in result.output and "[ok]" in result.output
    failed = CliRunner().invoke(app, ["run", "--", "sh", "-c", "exit 3"])
    assert failed.exit_code == 3


@pytest.mark.docker
def test_cli_check_verifies_hardening(docker_backend: Any) -> None:
    from server.cli.sandbox import app
    os.environ.setdefault("BURNIN_SANDBOX_IMAGE", docker_backend.image)
    result = CliRunner().invoke(app, ["check", "--backend", "docker"])
    assert result.exit_code == 0, result.output
    assert "backend: docker" in result.output and "FAIL" not in result.output


@pytest.mark.docker
def test_cli_kernel_runs_typed_cells(docker_backend: Any, tmp_path: Path) -> None:
    from server.cli.sandbox import app
    os.environ.setdefault("BURNIN_SANDBOX_IMAGE", docker_backend.image)
    nb = tmp_path / "s.ipynb"
    result = CliRunner().invoke(app, ["kernel", "--backend", "docker", "--save", str(nb)],
                                input="x = 21\nx * 2\nfor i in range(2):\n    print(i)\n\n")
    assert result.exit_code == 0, result.output
    assert "42" in result.output and "0\n1\n" in result.output
    assert nb.exists()
