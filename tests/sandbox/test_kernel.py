"""Kernels in sandboxes: execute, stream, timeout, interrupt, restart, death, isolation."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.limits import SandboxLimits
from sandbox.pool import KernelPool, Session

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("host_unaffected")]


@pytest.fixture
def pool(backend: Any) -> Iterator[KernelPool]:
    with KernelPool(backend, size=1, limits=SandboxLimits(wall_s=20, memory_mib=512),
                    max_parallel_starts=2) as p:
        yield p


@pytest.fixture
def session(pool: KernelPool) -> Iterator[Session]:
    s = pool.acquire(timeout_s=60)
    yield s
    s.close()


def test_execute_returns_results_and_keeps_state(session: Session) -> None:
    assert session.execute("x = 40").status == "ok"
    result = session.execute("x + 2")
    assert result.status == "ok"
    assert result.outputs[-1]["data"]["text/plain"] == "42"
    assert result.execution_count == 2


def test_errors_are_results_not_exceptions(session: Session) -> None:
    result = session.execute("1/0")
    assert result.status == "error"
    assert result.outputs[-1]["ename"] == "ZeroDivisionError"
    assert session.execute("'still here'").status == "ok"


def test_outputs_stream_in_order_while_the_cell_runs(session: Session) -> None:
    seen: list[tuple[float, str]] = []
    code = "import time\nfor i in range(3):\n    print(f'tick{i}', flush=True)\n    time.sleep(0.3)"
    result = session.execute(code, on_output=lambda o: seen.append((time.monotonic(), o["text"])))
    assert result.status == "ok"
    assert "".join(t for _, t in seen) == "tick0\ntick1\ntick2\n"
    # streamed: the first chunk arrived before the cell finished, not all at the end
    assert len(seen) >= 2


def test_cell_timeout_interrupts_and_the_kernel_survives(session: Session) -> None:
    session.execute("keep = 'me'")
    result = session.execute("import time\nwhile True: time.sleep(0.05)", timeout_s=1)
    assert result.status == "timeout"
    assert any(o.get("ename") == "KeyboardInterrupt" for o in result.outputs)
    assert session.execute("keep").outputs[-1]["data"]["text/plain"] == "'me'"


def test_interrupt_from_another_thread(session: Session) -> None:
    timer = threading.Timer(1.0, session.interrupt)
    timer.start()
    result = session.execute("import time\ntime.sleep(60)", timeout_s=30)
    timer.join()
    assert result.status == "error"
    assert result.outputs[-1]["ename"] == "KeyboardInterrupt"


def test_restart_is_a_fresh_sandbox(session: Session) -> None:
    session.execute("secret = 1\nopen('/work/f', 'w').write('x')")
    before = session.kernel
    session.restart()
    assert session.kernel is not before and not before.alive()
    assert session.execute("secret").status == "error"
    assert session.execute("import os; os.path.exists('/work/f')").outputs[-1]["data"][
        "text/plain"] == "False"


def test_dead_kernel_is_reported_not_hung(session: Session) -> None:
    result = session.execute("import os, signal; os.kill(os.getpid(), signal.SIGKILL)",
                             timeout_s=60)
    assert result.status == "dead"
    assert session.dead
    assert session.execute("1").status == "dead"
    session.restart()
    assert session.execute("1+1").status == "ok"


FORK_BOMB = ("import os\nfor _ in range(400):\n    try:\n        if os.fork() == 0:\n"
             "            while True:\n                os.fork()\n"
             "    except OSError:\n        pass\n'done'")


@pytest.mark.docker
def test_a_fork_bomb_stops_at_the_process_limit_and_is_not_ok(docker_backend: Any) -> None:
    """The pids limit refuses the forks; the cgroup's counter of refusals ends the cell as
    process_limit (its children would spin on otherwise) and the next kernel is fresh."""
    limits = SandboxLimits(wall_s=20, memory_mib=512, pids=64)
    with KernelPool(docker_backend, size=1, limits=limits, max_parallel_starts=1) as pool:
        session = pool.acquire(timeout_s=60)
        try:
            result = session.execute(FORK_BOMB, timeout_s=20)
            # Not "timeout": the counter ended the cell before its wall clock did.
            assert result.status == "process_limit", (result.status, result.detail)
            assert "more processes than the sandbox allows (64)" in result.detail
            assert session.dead
            session.restart()
            assert session.execute("1 + 1").status == "ok"
        finally:
            session.close()


def test_per_cell_output_is_capped(backend: Any) -> None:
    with KernelPool(backend, size=1, limits=SandboxLimits(output_bytes=20_000)) as pool:
        s = pool.acquire(timeout_s=60)
        result = s.execute("for i in range(10**6): print('z' * 100)", timeout_s=30)
        assert result.status == "output_limit"
        assert result.truncated
        assert sum(len(json.dumps(o)) for o in result.outputs) < 25_000
        assert s.execute("'ok'").status == "ok"


def test_artifacts_are_readable_but_not_writable_and_work_is_capped(backend: Any) -> None:
    limits = SandboxLimits(tmpfs_mib=8)
    with KernelPool(backend, size=1, limits=limits) as pool:
        s = pool.acquire(timeout_s=60, artifacts={"logs/train.log": b"step 1 loss 2.3\n"})
        assert s.execute("open('/artifacts/logs/train.log').read()").outputs[-1]["data"][
            "text/plain"] == "'step 1 loss 2.3\\n'"
        denied = s.execute("open('/artifacts/logs/train.log', 'a').write('x')")
        assert denied.status == "error"
        assert denied.outputs[-1]["ename"] in ("OSError", "PermissionError")
        created = s.execute("open('/artifacts/new', 'w')")
        assert created.status == "error" and "Read-only" in created.outputs[-1]["evalue"]
        full = s.execute("open('/work/big', 'wb').write(b'x' * 64 * 1024 * 1024)")
        assert full.status == "error" and "No space" in full.outputs[-1]["evalue"]


def test_two_sessions_are_isolated(backend: Any) -> None:
    with KernelPool(backend, size=2, limits=SandboxLimits()) as pool:
        a = pool.acquire(timeout_s=60)
        b = pool.acquire(timeout_s=60)
        a.execute("shared = 'a-only'\nopen('/work/a.txt', 'w').write('a')\n"
                  "open('/tmp/a.txt', 'w').write('a')")
        assert b.execute("shared").status == "error"
        check = b.execute("import os; (os.path.exists('/work/a.txt'), os.path.exists('/tmp/a.txt'),"
                          " sorted(os.listdir('/run/kernel')))")
        text = check.outputs[-1]["data"]["text/plain"]
        assert text.startswith("(False, False")
        procs = b.execute("import os; sum(1 for p in os.listdir('/proc') if p.isdigit())")
        assert int(procs.outputs[-1]["data"]["text/plain"]) < 10  # only its own few processes


def test_kernel_cannot_swap_its_sockets_for_links(session: Session) -> None:
    result = session.execute(
        "import os\ntry:\n    os.unlink('/run/kernel/k-1'); print('UNLINKED')\n"
        "except OSError as e:\n    print(type(e).__name__)")
    assert result.outputs[0]["text"].strip() in ("PermissionError", "OSError")
    assert session.execute("1").status == "ok"


def test_notebook_export_is_valid_ipynb(session: Session) -> None:
    import nbformat
    session.execute("print('hello')")
    session.execute("2 * 21")
    nb = nbformat.reads(session.export_ipynb(), as_version=4)
    nbformat.validate(nb)
    assert [c.source for c in nb.cells] == ["print('hello')", "2 * 21"]
    assert nb.cells[1].outputs[0]["data"]["text/plain"] == "42"


def test_kernel_ignoring_sigint_is_killed_and_reported(session: Session) -> None:
    code = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True: pass"
    result = session.execute(code, timeout_s=1)
    assert result.status == "timeout"
    assert "killed" in result.detail
    assert session.dead
    session.restart()
    assert session.execute("1+1").status == "ok"


def test_async_session_api(pool: KernelPool) -> None:
    import anyio

    async def main() -> str:
        s = await pool.aacquire(timeout_s=60)
        try:
            r = await s.aexecute("6 * 7")
            return str(r.outputs[-1]["data"]["text/plain"])
        finally:
            await s.aclose()

    assert anyio.run(main) == "42"
