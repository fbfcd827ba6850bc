"""One-shot runs as the sandbox's own process: the end-of-output protocol, counters read
from the host's cgroup files, and what candidate code can (not) do to either."""

from __future__ import annotations

import time

import pytest

from sandbox.docker_backend import DockerBackend
from sandbox.result import RunStatus
from tests.sandbox.support import image_tag, our_containers, small_limits

ALLOC = ("import time\nx = bytearray(120 * 2**20)\nt = time.process_time()\n"
         "while time.process_time() - t < 0.3: pass\nprint('done')")


pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("host_unaffected")]


@pytest.fixture
def backend(docker_backend: object) -> DockerBackend:
    """A runc backend of our own (the shared one is never mutated)."""
    return DockerBackend(image_tag())


def test_counters_from_the_host_agree_with_the_probe_inside(backend: DockerBackend) -> None:
    assert backend.main_process
    results = {}
    for host_probe in (True, False):
        backend.host_probe = host_probe
        r = backend.run(["python", "-c", ALLOC], limits=small_limits(memory_mib=256))
        assert r.status is RunStatus.OK, r
        assert r.stdout == "done\n"
        results[host_probe] = r
    for r in results.values():
        assert r.cpu_s is not None and 0.25 < r.cpu_s < 5
        assert r.peak_memory_bytes is not None and r.peak_memory_bytes > 120 * 2**20
    assert abs(results[True].peak_memory_bytes - results[False].peak_memory_bytes) < 64 * 2**20


def test_candidate_code_cannot_kill_the_sandbox_init(backend: DockerBackend) -> None:
    code = "import os, signal\nos.kill(1, signal.SIGKILL)\nos.kill(1, signal.SIGTERM)\nprint('alive')"
    r = backend.run(["python", "-c", code], limits=small_limits())
    assert r.status is RunStatus.OK, r
    assert r.stdout == "alive\n"
    assert r.cpu_s is not None  # the sandbox was still there to be measured


def test_a_forged_end_marker_only_cuts_the_candidates_own_output(backend: DockerBackend) -> None:
    """Candidate code can read the marker from /proc/1/cmdline and print it early: the host
    stops reading there, the shell is not waiting yet, so the run ends as an error within
    the release wait, not a success and not a hang until the wall clock."""
    code = ("import sys, time\nmarker = open('/proc/1/cmdline','rb').read().split(b'\\0')[3]\n"
            "end = b'\\0burnin-end-' + marker + b'\\0'\n"
            "sys.stdout.buffer.write(b'before' + end); sys.stdout.flush()\n"
            "sys.stderr.buffer.write(end); sys.stderr.flush()\n"
            "print('after'); time.sleep(60)")
    t0 = time.monotonic()
    r = backend.run(["python", "-c", code], limits=small_limits(wall_s=40))
    assert time.monotonic() - t0 < 20
    assert r.status is RunStatus.ERROR, r
    assert r.stdout == "before"
    assert "after" not in r.stdout
    assert not our_containers()


def test_exit_status_and_both_streams_survive_the_protocol(backend: DockerBackend) -> None:
    code = "import sys\nprint('out', end='')\nprint('err', file=sys.stderr, end='')\nsys.exit(7)"
    r = backend.run(["python", "-c", code], limits=small_limits())
    assert (r.status, r.exit_code, r.stdout, r.stderr) == (RunStatus.ERROR, 7, "out", "err")
    assert "burnin-end" not in r.stdout + r.stderr


def test_output_files_read_from_the_host_match_the_tar_inside(backend: DockerBackend) -> None:
    """Files are read through the sandbox's root from the host, no link followed at any
    level; the tar inside is the fallback. Both give the same data and refusals, except that
    the tar may follow a directory link to the sandbox's own files (it sees nothing else)."""
    code = ("import os\nos.makedirs('out')\nopen('out/r.json', 'w').write('{\"ok\": 1}')\n"
            "os.symlink('/etc/passwd', 'link')\nos.symlink('/etc', 'dir')\n"
            "open('big', 'wb').write(b'x' * 5000)\nos.mkfifo('fifo')")
    wanted = ["out/r.json", "missing", "link", "dir/passwd", "big", "fifo"]
    got = {}
    for host_files in (True, False):
        backend.host_files = host_files
        r = backend.run(["python", "-c", code], limits=small_limits(), outputs=wanted,
                        output_file_bytes=1000)
        assert r.status is RunStatus.OK, r
        got[host_files] = r.files
    for files in got.values():
        assert files["out/r.json"].data == b'{"ok": 1}'
        assert all(files[n].data is None for n in ("missing", "link", "big", "fifo"))
        assert "too large" in (files["big"].error or "")
    assert got[True]["dir/passwd"].data is None
    assert "link" in (got[True]["dir/passwd"].error or "")
