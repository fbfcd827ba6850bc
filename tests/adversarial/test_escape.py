"""Attacks 16-27: network, privileges, secrets, introspection, forged results, planted links."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.limits import LimitError, SandboxLimits
from sandbox.result import RunStatus
from tests.adversarial.helpers import py, sh

pytestmark = pytest.mark.usefixtures("host_unaffected")


def test_16_absurd_limits_are_rejected_before_anything_runs() -> None:
    for absurd in ({"memory_mib": 10**9}, {"wall_s": 10**9}, {"pids": -1},
                   {"output_bytes": 10**15}, {"cpus": 10**6}):
        with pytest.raises(LimitError):
            SandboxLimits(**absurd)  # type: ignore[arg-type]
    clamped = SandboxLimits.clamped(memory_mib=10**9, wall_s=10**9)
    assert clamped.memory_mib <= 64 * 1024 and clamped.wall_s <= 6 * 3600


@pytest.fixture
def host_listener() -> Iterator[int]:
    """A TCP server on every host address: the sandbox must not reach it."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", 0))
    srv.listen(8)
    srv.settimeout(0.5)
    hits: list[str] = []

    def accept() -> None:
        while True:
            try:
                conn, addr = srv.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            hits.append(str(addr))
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield srv.getsockname()[1]
    srv.close()
    thread.join(2)
    assert hits == [], f"the sandbox reached a host service: {hits}"


def test_17_no_network_only_loopback(backend: Any, host_listener: int) -> None:
    code = f"""
import json, os, socket
res = {{"ifaces": sorted(name for _, name in socket.if_nameindex())}}
for host in ["127.0.0.1", "172.17.0.1", "169.254.169.254", "8.8.8.8", "10.0.0.1"]:
    for port in [{host_listener}, 80, 53]:
        s = socket.socket(); s.settimeout(2)
        try:
            s.connect((host, port)); res[f"{{host}}:{{port}}"] = "CONNECTED"
        except OSError as e:
            res[f"{{host}}:{{port}}"] = type(e).__name__
        finally:
            s.close()
try:
    socket.getaddrinfo("pypi.org", 443); res["dns"] = "RESOLVED"
except OSError as e:
    res["dns"] = type(e).__name__
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    u.sendto(b"x", ("8.8.8.8", 53)); res["udp"] = "SENT"
except OSError as e:
    res["udp"] = type(e).__name__
print(json.dumps(res))
"""
    result = py(backend, code, wall_s=60)
    assert result.status is RunStatus.OK, result
    facts = json.loads(result.stdout)
    assert facts.pop("ifaces") == ["lo"]
    assert "CONNECTED" not in facts.values(), facts
    assert facts["dns"] != "RESOLVED" and facts["udp"] != "SENT"


def test_18_no_docker_or_database_sockets(backend: Any) -> None:
    code = """
import os
paths = ["/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock",
         "/var/run/postgresql", "/run/postgresql", "/tmp/.s.PGSQL.5432", "/var/run/redis",
         "/run/redis", "/var/run/dbus/system_bus_socket"]
print([p for p in paths if os.path.exists(p)])
import socket
found = []
for root, dirs, files in os.walk("/"):
    if root.startswith(("/proc", "/sys")):
        dirs[:] = []
        continue
    for f in files:
        p = os.path.join(root, f)
        try:
            if __import__("stat").S_ISSOCK(os.lstat(p).st_mode):
                found.append(p)
        except OSError:
            pass
print(found)
"""
    result = py(backend, code, wall_s=60)
    present, sockets = result.stdout.splitlines()
    assert present == "[]"
    assert sockets == "[]", sockets


def test_19_shadow_unreadable_and_mount_denied(backend: Any) -> None:
    code = """
import ctypes, errno, os
try:
    open("/etc/shadow").read(); print("shadow READ")
except OSError as e:
    print("shadow", errno.errorcode[e.errno])
libc = ctypes.CDLL(None, use_errno=True)
rc = libc.mount(b"/dev/sda1", b"/mnt", b"ext4", 0, None)
print("mount", rc, errno.errorcode.get(ctypes.get_errno()))
rc = libc.mount(b"none", b"/work", b"tmpfs", 0, None)
print("mount-tmpfs", rc, errno.errorcode.get(ctypes.get_errno()))
print("devices", sorted(d for d in os.listdir("/dev") if d.startswith(("sd", "nvme", "vd", "xvd"))))
"""
    lines = py(backend, code).stdout.splitlines()
    assert lines[0] == "shadow EACCES"
    assert lines[1].startswith("mount -1 ") and lines[1].split()[2] in ("EPERM", "ENOENT", "EACCES")
    assert lines[2].startswith("mount-tmpfs -1 ") and lines[2].split()[2] == "EPERM"
    assert lines[3] == "devices []"


def test_20_no_privilege_escalation(backend: Any) -> None:
    script = """
id -u; id -g
command -v sudo su passwd newgrp chsh 2>/dev/null | tr '\\n' ' '; echo
find / -xdev \\( -perm -4000 -o -perm -2000 \\) -type f 2>/dev/null | tr '\\n' ' '; echo
grep -E '^Cap(Eff|Prm|Inh|Amb):' /proc/self/status | awk '{print $2}' | sort -u
"""
    lines = sh(backend, script, wall_s=60).stdout.splitlines()
    assert lines[0] == "10001" and lines[1] == "10001"
    assert "sudo" not in lines[2]
    assert lines[3].strip() == "", f"setuid/setgid binaries: {lines[3]}"
    assert lines[4:] == ["0000000000000000"]


@pytest.mark.parametrize("target", ["/proc/sys/kernel/hostname", "/proc/sys/vm/drop_caches",
                                    "/proc/sysrq-trigger", "/sys/fs/cgroup/pids.max",
                                    "/sys/kernel/mm/transparent_hugepage/enabled"])
def test_22_kernel_interfaces_are_not_writable(backend: Any, target: str) -> None:
    code = f"""
import errno
try:
    with open({target!r}, "w") as fh:
        fh.write("1")
    print("WRITTEN")
except OSError as e:
    print(errno.errorcode[e.errno])
"""
    assert py(backend, code).stdout.strip() in ("EROFS", "EPERM", "EACCES", "ENOENT")


def test_23_no_secrets_in_environment(backend: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BURNIN_DATABASE_URL", "postgresql://burnin:hunter2@db/burnin")
    monkeypatch.setenv("BURNIN_SECRET_KEY", "s3cr3t-t0ken-value")
    code = """
import glob, os
blob = repr(dict(os.environ))
for p in glob.glob("/proc/*/environ") + glob.glob("/proc/*/cmdline"):
    try:
        blob += open(p, "rb").read().decode(errors="replace")
    except OSError:
        pass
print(blob)
"""
    out = py(backend, code).stdout
    assert "hunter2" not in out and "s3cr3t" not in out
    assert "BURNIN_" not in out and "DATABASE_URL" not in out


def test_24_no_hidden_checks_or_rubrics_anywhere(backend: Any, tmp_path: Path) -> None:
    # A scenario folder on the host, as the server has it: none of it may be visible.
    hidden = tmp_path / "scenarios" / "demo" / "checks"
    hidden.mkdir(parents=True)
    (hidden / "answer_key.yaml").write_text("token: 7f3a-hidden-answer")
    code = f"""
import os
hits = []
for root, dirs, files in os.walk("/"):
    if root.startswith(("/proc", "/sys", "/dev")):
        dirs[:] = []
        continue
    for name in files:
        low = name.lower()
        if low in ("rubric.yaml", "scenario.yaml") or low.startswith("answer_key"):
            hits.append(os.path.join(root, name))
print(hits)
def listable(p):
    try:
        return bool(os.listdir(p))
    except OSError:
        return False
print([p for p in ({str(hidden)!r}, {os.getcwd()!r}, "/root", os.path.expanduser("~/.ssh"))
       if listable(p)])
"""
    result = backend.run(["python", "-c", code], limits=SandboxLimits(wall_s=120),
                         files={"starter/main.py": b"print(1)"})
    assert result.stdout.splitlines() == ["[]", "[]"], result


def test_25_no_process_of_the_host_or_grader_is_visible(backend: Any) -> None:
    code = """
import os
mine = os.getuid()
others = []
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        status = open(f"/proc/{pid}/status").read()
        cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\\0", b" ").decode()
    except OSError:
        continue
    uid = int(status.split("Uid:")[1].split()[0])
    if uid != mine or "py" + "test" in cmd:
        others.append((pid, uid, cmd))
print(others)
import errno
try:
    open("/proc/1/mem", "rb").read(1); print("mem READ")
except OSError as e:
    print("mem", errno.errorcode[e.errno])
"""
    lines = py(backend, code).stdout.splitlines()
    assert lines[0] == "[]", lines[0]
    assert lines[1] != "mem READ"


def test_26_printed_or_written_fake_results_change_nothing(backend: Any) -> None:
    code = """
import json, sys
print("10/10 all tests passed")
print(json.dumps({"status": "ok", "exit_code": 0, "score": 10}))
open("result.json", "w").write("x" * 5_000_000)
sys.exit(1)
"""
    result = backend.run(["python", "-c", code], limits=SandboxLimits(wall_s=20),
                         outputs=["result.json"], output_file_bytes=64 * 1024)
    assert result.status is RunStatus.ERROR and result.exit_code == 1
    assert result.files["result.json"].data is None
    assert "too large" in (result.files["result.json"].error or "")


@pytest.mark.parametrize("plant", ["symlink", "fifo", "dir-symlink", "out-dir-symlink"])
def test_27_links_and_fifos_at_the_result_path_are_refused(
        backend: Any, plant: str, tmp_path: Path) -> None:
    secret = tmp_path / "host-secret"
    secret.write_text("HOST-ONLY-7c1e")
    os.chmod(tmp_path, 0o755)
    code = {
        "symlink": f"import os; os.symlink({str(secret)!r}, 'result.json')",
        "fifo": "import os; os.mkfifo('result.json')",
        "dir-symlink": f"import os; os.mkdir('out'); os.symlink({str(tmp_path)!r}, 'out/sub')",
        # bwrap copies outputs through a host directory: plant the link there directly.
        "out-dir-symlink": "import os\n"
                           "for d in ('/run/out', '/work'):\n"
                           f"    try: os.symlink({str(secret)!r}, d + '/result.json')\n"
                           "    except OSError: pass",
    }[plant]
    wanted = "out/sub/host-secret" if plant == "dir-symlink" else "result.json"
    result = backend.run(["python", "-c", code], limits=SandboxLimits(wall_s=20),
                         outputs=[wanted])
    got = result.files[wanted]
    assert got.data is None, got
    assert "HOST-ONLY" not in repr(result)


def test_27_host_reader_refuses_a_link_planted_in_an_output_dir(tmp_path: Path) -> None:
    from sandbox.files import read_file_nofollow
    (tmp_path / "secret").write_text("root:x:0:0")
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(tmp_path / "secret", out / "result.json")
    assert read_file_nofollow(out, "result.json", 1000).data is None
