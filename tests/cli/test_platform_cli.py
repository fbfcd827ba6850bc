"""`burnin demo`, `burnin users`, `burnin db`, `burnin serve` as a user runs them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from server.models import Role


def burnin(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"BURNIN_DATA_DIR": str(tmp_path / "data")}


def test_demo_json_makes_users_that_can_log_in(env: dict[str, str]) -> None:
    r = burnin("demo", "--json", env=env)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out) >= {"base_url", "users", "invite_urls"}
    assert sorted(u["role"] for u in out["users"]) == ["admin", "hiring_manager", "recruiter"]
    assert all(len(u["password"]) >= 16 for u in out["users"])
    # The secret key was generated with 0600 permissions.
    key = Path(env["BURNIN_DATA_DIR"]) / "secret_key"
    assert key.stat().st_mode & 0o777 == 0o600
    # Running again gives new passwords (old ones are never printed again).
    again = json.loads(burnin("demo", "--json", env=env).stdout)
    assert [u["password"] for u in again["users"]] != [u["password"] for u in out["users"]]
    from sqlalchemy import create_engine, text

    from server.kit.security import verify_password
    engine = create_engine(f"sqlite:///{env['BURNIN_DATA_DIR']}/burnin.db")
    with engine.connect() as c:
        stored = c.execute(text("SELECT password_hash FROM users WHERE email='admin@example.com'")
                           ).scalar_one()
    engine.dispose()
    assert verify_password(stored, again["users"][0]["password"])
    assert again["users"][0]["password"] not in stored


def test_users_create_list_disable(env: dict[str, str]) -> None:
    burnin("demo", env=env)
    r = burnin("users", "create", "zoe@example.com", "--role", "recruiter", env=env)
    assert r.returncode == 0 and "one-time password" in r.stdout
    rows = json.loads(burnin("users", "list", "--json", env=env).stdout)
    assert {"email": "zoe@example.com", "role": "recruiter", "active": True}.items() <= next(
        x for x in rows if x["email"] == "zoe@example.com").items()
    assert burnin("users", "disable", "zoe@example.com", env=env).returncode == 0
    rows = json.loads(burnin("users", "list", "--json", env=env).stdout)
    assert next(x for x in rows if x["email"] == "zoe@example.com")["active"] is False
    dup = burnin("users", "create", "zoe@example.com", "--role", "admin", env=env)
    assert dup.returncode == 1 and "exists already" in dup.stderr
    bad = burnin("users", "create", "not-an-email", "--role", "admin", env=env)
    assert bad.returncode == 2 and "email" in bad.stderr
    role = burnin("users", "create", "x@example.com", "--role", "king", env=env)
    assert role.returncode == 2 and "king" in role.stderr
    noorg = burnin("users", "create", "y@example.com", "--role", "admin", "--org", "nope", env=env)
    assert noorg.returncode == 1 and "no organization" in noorg.stderr


def test_helpful_errors(env: dict[str, str], tmp_path: Path) -> None:
    r = burnin("demo", env={**env, "BURNIN_DATABASE_URL": "mysql://x/y"})
    assert r.returncode == 2 and "unknown database URL scheme 'mysql'" in r.stderr
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    if os.geteuid() != 0:  # root can write anywhere; use a path under a regular file instead
        target = ro / "data"
    else:
        (tmp_path / "file").write_text("x")
        target = tmp_path / "file" / "data"
    r = burnin("demo", env={"BURNIN_DATA_DIR": str(target)})
    assert r.returncode == 2 and "not writable" in r.stderr and "BURNIN_DATA_DIR" in r.stderr
    r = burnin("db", "upgrade", env={**env, "BURNIN_DATABASE_URL":
                                     "postgresql://nobody@127.0.0.1:1/none"})
    assert r.returncode == 2 and "cannot reach the database" in r.stderr
    assert "Traceback" not in r.stderr


def test_serve_refuses_a_port_in_use(env: dict[str, str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = burnin("serve", "--port", str(port), env=env)
    assert r.returncode == 2 and f"127.0.0.1:{port}" in r.stderr and "--port" in r.stderr


def test_db_upgrade_and_current(env: dict[str, str]) -> None:
    assert burnin("db", "upgrade", env=env).returncode == 0
    out = burnin("db", "current", env=env).stdout
    current, head = out.split("current: ")[1].split("  head: ")
    assert current.strip() == head.strip() != "None"


@pytest.mark.postgres
def test_cli_against_postgresql(pg_admin_url: str, env: dict[str, str]) -> None:
    from tests.conftest import _pg_exec, _with_db
    _pg_exec(pg_admin_url, 'CREATE DATABASE "cli_pg"')
    pg = {**env, "BURNIN_DATABASE_URL": _with_db(pg_admin_url, "cli_pg")}
    r = burnin("demo", env=pg)
    assert r.returncode == 2 and "burnin db upgrade" in r.stderr  # a server DB is upgraded explicitly
    assert burnin("db", "upgrade", env=pg).returncode == 0
    assert burnin("demo", "--json", env=pg).returncode == 0
    assert Role.admin.value in burnin("users", "list", env=pg).stdout
    _pg_exec(pg_admin_url, 'DROP DATABASE "cli_pg" WITH (FORCE)')


def test_help_lists_every_command(env: dict[str, str]) -> None:
    out = burnin("--help", env=env).stdout
    for cmd in ("serve", "demo", "db", "users", "hw", "sandbox", "scenarios"):
        assert cmd in out
