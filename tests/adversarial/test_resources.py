"""Attacks 1-13: resource exhaustion. Each must hit its limit, be reported, and leave the host alone."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.result import RunStatus
from tests.adversarial.helpers import py, sh

pytestmark = [pytest.mark.usefixtures("host_unaffected"), pytest.mark.slow]


def _still_works(backend: Any) -> None:
    after = py(backend, "print('alive')")
    assert after.status is RunStatus.OK and after.stdout == "alive\n"


def test_01_fork_bomb_gets_eagain_at_the_pid_limit(backend: Any) -> None:
    code = """
import errno, os, time
n = 0
try:
    while True:
        pid = os.fork()
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        n += 1
except OSError as e:
    print(errno.errorcode[e.errno], n)
"""
    result = py(backend, code, pids=32)
    assert result.status is RunStatus.OK, result
    name, count = result.stdout.split()
    assert name == "EAGAIN"
    assert int(count) < 32
    _still_works(backend)


def test_01_shell_fork_bomb_is_contained(backend: Any) -> None:
    result = sh(backend, ":(){ :|:& };:; sleep 2", pids=32, wall_s=5)
    assert result.status in (RunStatus.OK, RunStatus.ERROR, RunStatus.TIMEOUT)
    _still_works(backend)


def test_02_thread_bomb_hits_the_same_limit(backend: Any) -> None:
    code = """
import threading, time
n = 0
try:
    while True:
        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
        n += 1
except RuntimeError as e:
    print("limit", n, e)
import os; os._exit(0)
"""
    result = py(backend, code, pids=32)
    assert result.status is RunStatus.OK, result
    assert result.stdout.startswith("limit")
    assert int(result.stdout.split()[1]) < 32


def test_03_allocating_10_gb_is_a_memory_limit(backend: Any) -> None:
    result = py(backend, "x = bytearray(10 * 1024**3)\nprint('allocated')", memory_mib=128)
    assert result.status is RunStatus.MEMORY_LIMIT, result
    assert "allocated" not in result.stdout
    _still_works(backend)


def test_03_touching_memory_page_by_page_is_a_memory_limit(backend: Any) -> None:
    code = "chunks = []\nwhile True: chunks.append(b'x' * 10**6)"
    result = py(backend, code, memory_mib=128)
    assert result.status is RunStatus.MEMORY_LIMIT, result


def _fill(path: str) -> str:
    return f"""
import errno, os
total = 0
try:
    for i in range(100000):
        with open(os.path.join({path!r}, f"f{{i}}"), "wb") as fh:
            fh.write(b"x" * 1024 * 1024)
        total += 1
except OSError as e:
    print(errno.errorcode[e.errno], total)
"""


def test_04_filling_dev_shm_stops_at_shm_size(backend: Any) -> None:
    result = py(backend, _fill("/dev/shm"), shm_mib=8)
    assert result.status is RunStatus.OK, result
    name, count = result.stdout.split()
    assert name == "ENOSPC"
    assert int(count) <= 8


@pytest.mark.parametrize("where", ["/tmp", "/work"])
def test_05_filling_scratch_stops_at_tmpfs_size(backend: Any, where: str) -> None:
    result = py(backend, _fill(where), tmpfs_mib=16)
    assert result.status is RunStatus.OK, result
    name, count = result.stdout.split()
    assert name == "ENOSPC"
    assert int(count) <= 16


@pytest.mark.docker
def test_05_many_empty_files_stop_at_the_inode_cap(docker_backend: Any) -> None:
    code = """
import errno
n = 0
try:
    while True:
        open(f"/work/{n}", "w").close(); n += 1
except OSError as e:
    print(errno.errorcode[e.errno], n)
"""
    result = py(docker_backend, code, tmpfs_inodes=500)
    assert result.status is RunStatus.OK, result
    name, count = result.stdout.split()
    assert name == "ENOSPC" and int(count) <= 500


@pytest.mark.parametrize("target", ["/x", "/usr/x", "/home/sandbox/x", "/etc/passwd", "/opt/venv/x"])
def test_06_writing_outside_scratch_is_erofs(backend: Any, target: str) -> None:
    code = f"""
import errno
try:
    open({target!r}, "w").write("pwned")
    print("written")
except OSError as e:
    print(errno.errorcode[e.errno])
"""
    result = py(backend, code)
    assert result.stdout.strip() == "EROFS", result


def test_08_one_huge_file_is_efbig(backend: Any) -> None:
    code = """
import errno
try:
    with open("/work/big", "wb") as fh:
        for _ in range(5 * 1024):
            fh.write(b"x" * 1024 * 1024)
    print("wrote 5 GB")
except OSError as e:
    print(errno.errorcode[e.errno])
"""
    result = py(backend, code, file_size_mib=4, tmpfs_mib=64)
    assert result.stdout.strip() == "EFBIG", result


def test_09_opening_100k_descriptors_is_emfile(backend: Any) -> None:
    code = """
import errno, os
fds = []
try:
    for _ in range(100000):
        fds.append(os.open("/dev/null", os.O_RDONLY))
except OSError as e:
    print(errno.errorcode[e.errno], len(fds))
"""
    result = py(backend, code, open_files=128)
    name, count = result.stdout.split()
    assert name == "EMFILE" and int(count) < 128


def test_10_printing_1_gb_is_cut_at_the_cap_and_flagged(backend: Any) -> None:
    code = """
import sys
chunk = "y" * 65536
for _ in range(1024 * 1024 * 1024 // 65536):
    sys.stdout.write(chunk)
    sys.stderr.write(chunk)
"""
    result = py(backend, code, output_bytes=256 * 1024)
    assert result.status is RunStatus.OUTPUT_LIMIT
    assert result.truncated
    assert len(result.stdout.encode()) + len(result.stderr.encode()) <= 256 * 1024
    assert result.stdout.startswith("yyyy")
    _still_works(backend)


def test_12_busy_loop_is_killed_at_the_time_limit(backend: Any) -> None:
    result = py(backend, "while True: pass", wall_s=2)
    assert result.status is RunStatus.TIMEOUT
    assert result.exit_code is None


def test_12_cpu_time_limit_kills_a_busy_loop(backend: Any) -> None:
    result = py(backend, "while True: pass", wall_s=60, cpu_s=1)
    assert result.status is not RunStatus.OK
    assert result.status is not RunStatus.TIMEOUT  # the CPU rlimit acted, not the wall clock


def test_13_sleeping_forever_is_killed_by_the_wall_clock(backend: Any) -> None:
    result = py(backend, "import time; time.sleep(1e9)", wall_s=2)
    assert result.status is RunStatus.TIMEOUT


def test_13_blocking_on_stdin_does_not_hang(backend: Any) -> None:
    result = py(backend, "import sys; data = sys.stdin.read(); print(len(data))", wall_s=10)
    assert result.status is RunStatus.OK and result.stdout == "0\n"


def test_15_double_forked_setsid_daemon_does_not_survive(backend: Any) -> None:
    code = """
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(600)
    os._exit(0)
time.sleep(0.2)
print("parent done")
"""
    result = py(backend, code)
    assert result.status is RunStatus.OK and result.stdout == "parent done\n"
    # host_unaffected asserts: no container of ours, no sandbox-uid process, no zombie.
