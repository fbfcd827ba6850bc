"""Build the wheel, install it into a new virtual environment, run `burnin demo` and
`burnin serve` on a free port, log in over HTTP, stop it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

from tests.pg import free_port

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_and_serves(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(dist), str(ROOT)], check=True, cwd=tmp_path)
    wheel = next(dist.glob("burnin-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], check=True)
    # Everything the installed platform reads from its package ships in the wheel.
    subprocess.run([str(venv / "bin" / "python"), "-c",
                    "from importlib.resources import files as f\n"
                    "assert (f('sandbox') / 'image' / 'Dockerfile').is_file()\n"
                    "assert (f('scenarios') / 'debug_slow_run' / 'rubric.yaml').is_file()\n"
                    "from scenarios.loader import load_bank\n"
                    "assert len(load_bank().scenarios) >= 3, load_bank().errors"],
                   check=True, cwd=tmp_path)
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "BURNIN_DATA_DIR": str(tmp_path / "data"),
           "HOME": str(tmp_path)}
    burnin = str(venv / "bin" / "burnin")
    demo = subprocess.run([burnin, "demo", "--json"], env=env, capture_output=True, text=True,
                          check=True, cwd=tmp_path)
    admin = next(u for u in json.loads(demo.stdout)["users"] if u["role"] == "admin")
    port = free_port()
    server = subprocess.Popen([burnin, "serve", "--port", str(port)], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/readyz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        req = urllib.request.Request(f"{base}/api/v1/auth/login", method="POST",
                                     data=json.dumps({"email": admin["email"],
                                                      "password": admin["password"]}).encode(),
                                     headers={"content-type": "application/json"})
        assert json.load(opener.open(req))["user"]["role"] == "admin"
        me = json.load(opener.open(f"{base}/api/v1/auth/me"))
        assert me["user"]["email"] == admin["email"]
        page = opener.open(f"{base}/admin/users").read().decode()
        assert "recruiter@example.com" in page and "/static/vendor/htmx/htmx.min.js" in page
        assert opener.open(f"{base}/static/vendor/htmx/htmx.min.js").status == 200
    finally:
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=30)
    # Graceful: the lifespan ran to its end. (uvicorn re-raises SIGTERM after shutting down.)
    assert server.returncode in (0, -signal.SIGTERM), out
    assert "burnin stopped" in out and "Application shutdown complete" in out
    assert '"path": "/api/v1/auth/login"' in out  # structured access log
