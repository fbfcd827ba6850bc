"""The nginx configuration operators deploy (deploy/nginx/burnin.conf) is the one the
scale-out test runs: nodecluster.nginx_site changes only its listen line and upstream
servers, refuses a file it cannot map, and the result is valid for Debian's nginx."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from server.ops import nodecluster
from tests.conftest import IN_CI


def test_only_the_listen_line_and_the_upstream_servers_change() -> None:
    original = nodecluster.NGINX_SITE.read_text()
    site = nodecluster.nginx_site("127.0.0.1:4321", ["10.9.0.2:8000", "10.9.0.6:8000"])
    assert "listen 127.0.0.1:4321;" in site and "listen 80;" not in site
    servers = [ln.strip() for ln in site.splitlines() if ln.strip().startswith("server 1")]
    assert servers == ["server 10.9.0.2:8000 max_fails=1 fail_timeout=10s;",
                       "server 10.9.0.6:8000 max_fails=1 fail_timeout=10s;"]
    # Everything else is the deployed file, line for line.
    def rest(text: str) -> list[str]:
        return [ln for ln in text.splitlines()
                if not ln.strip().startswith(("server 1", "listen "))]
    assert rest(site) == rest(original)
    assert "hash $burnin_affinity consistent;" in site
    assert "proxy_next_upstream error timeout http_502;" in site


def test_a_file_it_cannot_map_is_refused() -> None:
    with pytest.raises(ValueError, match="listen 80"):
        nodecluster.nginx_site("127.0.0.1:1", ["10.0.0.1:8000"], text="server { listen 443; }")
    with pytest.raises(ValueError, match="upstream"):
        nodecluster.nginx_site("127.0.0.1:1", ["10.0.0.1:8000"],
                               text="upstream u {\n  server unix:/x;\n}\nserver {\n  listen 80;\n}\n")


def test_the_deployed_file_is_valid_nginx(tmp_path: Path) -> None:
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        if IN_CI:
            pytest.fail("nginx missing in CI (scripts/setup/30-nginx.sh)")
        pytest.skip("nginx not installed")
    conf = nodecluster.nginx_conf(tmp_path, "127.0.0.1:4321", ["10.9.0.2:8000"])
    r = subprocess.run(["nginx", "-t", "-p", str(tmp_path), "-c", str(conf)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
