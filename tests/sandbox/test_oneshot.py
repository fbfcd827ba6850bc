"""One-shot runs: files in, command, stdin; status, output and files out."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from sandbox.limits import SandboxLimits
from sandbox.result import RunStatus

pytestmark = pytest.mark.usefixtures("host_unaffected")


def test_files_stdin_and_outputs_round_trip(backend: Any) -> None:
    code = ("import sys, json\n"
            "data = open('pkg/input.txt').read()\n"
            "json.dump({'in': data, 'stdin': sys.stdin.read()}, open('out/result.json', 'w'))\n"
            "print('done')")
    result = backend.run(
        ["sh", "-c", "mkdir -p out && python -c \"$0\"", code],
        limits=SandboxLimits(), files={"pkg/input.txt": b"from host"}, stdin=b"from stdin",
        outputs=["out/result.json", "missing.txt"])
    assert result.status is RunStatus.OK, result
    assert result.exit_code == 0 and result.stdout == "done\n"
    assert result.files["out/result.json"].data == b'{"in": "from host", "stdin": "from stdin"}'
    assert result.files["missing.txt"].error == "missing"


def test_nonzero_exit_is_error_with_code_and_stderr(backend: Any) -> None:
    result = backend.run(["sh", "-c", "echo oops >&2; exit 7"], limits=SandboxLimits())
    assert result.status is RunStatus.ERROR
    assert result.exit_code == 7 and result.stderr == "oops\n"


def test_output_is_valid_text_even_for_binary(backend: Any) -> None:
    result = backend.run(["python", "-c", "import sys; sys.stdout.buffer.write(b'\\xff\\x00ok')"],
                         limits=SandboxLimits())
    assert result.ok and result.stdout.endswith("ok")
    result.stdout.encode("utf-8")


def test_input_names_cannot_escape(backend: Any) -> None:
    from sandbox.files import UnsafePathError
    with pytest.raises(UnsafePathError):
        backend.run(["true"], limits=SandboxLimits(), files={"../../etc/cron.d/x": b"x"})


def test_each_run_starts_from_a_clean_sandbox(backend: Any) -> None:
    backend.run(["sh", "-c", "echo left > /work/leftover; echo t > /tmp/t"], limits=SandboxLimits())
    result = backend.run(["sh", "-c", "ls -A /work /tmp"], limits=SandboxLimits())
    assert "leftover" not in result.stdout and "t\n" not in result.stdout.split(":", 2)[-1]


@pytest.mark.docker
def test_docker_reports_cpu_time_and_peak_memory(docker_backend: Any) -> None:
    result = docker_backend.run(
        ["python", "-c", "x = bytearray(64 * 2**20)\nsum(range(3 * 10**6))"],
        limits=SandboxLimits())
    assert result.ok
    assert result.cpu_s is not None and result.cpu_s > 0
    assert result.peak_memory_bytes is not None and result.peak_memory_bytes >= 64 * 2**20


@pytest.mark.docker
def test_leftover_process_hogging_pids_does_not_break_the_result(docker_backend: Any) -> None:
    code = ("import os, time\n"
            "if os.fork() == 0:\n"
            "    while True:\n"
            "        try: os.fork()\n"
            "        except OSError: time.sleep(0.01)\n"
            "print('main done')")
    result = docker_backend.run(["python", "-c", code], limits=SandboxLimits(pids=16, wall_s=20),
                                outputs=["x"])
    assert result.status is RunStatus.OK
    assert result.stdout == "main done\n"


def test_async_run_does_not_block_the_event_loop(backend: Any) -> None:
    ticks = 0

    async def main() -> Any:
        nonlocal ticks

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await anyio.sleep(0.05)
                ticks += 1

        async with anyio.create_task_group() as tg:
            tg.start_soon(ticker)
            result = await backend.arun(["sleep", "1"], limits=SandboxLimits())
            tg.cancel_scope.cancel()
        return result

    result = anyio.run(main)
    assert result.ok
    assert ticks >= 5, "the event loop was blocked during the run"


_FINISH_TWO_THEN_HANG = (
    "import os, time\n"
    "with open('out/done.jsonl', 'w') as f:\n"
    "    for i in range(2):\n"
    "        f.write('{\"i\": %d}\\n' % i); f.flush()\n"
    "    if os.fork() == 0:\n"  # a child left behind must be stopped too
    "        while True: f.write('x'); f.flush(); time.sleep(0.01)\n"
    "    while True: time.sleep(0.05)\n")


def test_timed_out_run_still_returns_the_files_it_wrote(backend: Any) -> None:
    result = backend.run(["sh", "-c", "mkdir out && exec python -c \"$0\"", _FINISH_TWO_THEN_HANG],
                         limits=SandboxLimits(wall_s=3), outputs=["out/done.jsonl", "never.txt"])
    assert result.status is RunStatus.TIMEOUT and result.exit_code is None
    data = result.files["out/done.jsonl"].data
    assert data is not None and data.startswith(b'{"i": 0}\n{"i": 1}\n'), result.files
    assert result.files["never.txt"].data is None and result.files["never.txt"].error == "missing"
    assert result.wall_s < 3 + 10  # salvaging is bounded, not another wall clock


@pytest.mark.docker
@pytest.mark.parametrize("host_files", [True, False], ids=["host-read", "in-sandbox-tar"])
def test_docker_timeout_salvage_both_ways(docker_backend: Any, host_files: bool) -> None:
    # The host read freezes the cgroup; the tar path (gVisor, remote engine) stops the
    # sandbox's processes from inside and tars the files out.
    docker_backend.host_files = host_files
    try:
        result = docker_backend.run(
            ["sh", "-c", "mkdir out && exec python -c \"$0\"", _FINISH_TWO_THEN_HANG],
            limits=SandboxLimits(wall_s=3), outputs=["out/done.jsonl"])
    finally:
        docker_backend.host_files = True
    assert result.status is RunStatus.TIMEOUT
    assert (result.files["out/done.jsonl"].data or b"").startswith(b'{"i": 0}\n{"i": 1}\n')


@pytest.mark.docker
def test_docker_timeout_salvage_survives_a_fork_bomb(docker_backend: Any) -> None:
    code = ("import os, time\n"
            "open('r.txt', 'w').write('kept')\n"
            "while True:\n"
            "    try: os.fork()\n"
            "    except OSError: time.sleep(0.01)\n")
    result = docker_backend.run(["python", "-c", code], limits=SandboxLimits(wall_s=3, pids=32),
                                outputs=["r.txt"])
    assert result.status is RunStatus.TIMEOUT
    assert result.files["r.txt"].data == b"kept"
