"""Warm one-shot sandboxes: started ahead, each used once, same contract as a cold run."""

from __future__ import annotations

import time

import pytest

from sandbox.docker_backend import DockerBackend
from sandbox.limits import SandboxLimits
from sandbox.result import RunStatus
from tests.sandbox.support import image_tag, our_containers

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("host_unaffected")]
LIMITS = SandboxLimits(wall_s=30)


@pytest.fixture
def warm_backend(docker_backend: object) -> DockerBackend:
    backend = DockerBackend(image_tag(), warm=1)
    yield backend  # type: ignore[misc]
    backend.close()


def _wait_warm(backend: DockerBackend, limits: SandboxLimits) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with backend._warm._cond:  # type: ignore[union-attr]
            if backend._warm._ready.get(limits):  # type: ignore[union-attr]
                return
        time.sleep(0.1)
    pytest.fail("no warm sandbox was started")


def test_runs_use_a_warm_sandbox_once_and_keep_the_one_shot_contract(
    warm_backend: DockerBackend,
) -> None:
    code = ("import os, sys\nprint(open('task.txt').read().strip(), sys.stdin.read())\n"
            "open('mark.txt', 'w').write('left by run')\nprint(sorted(os.listdir('.')))")
    first = warm_backend.run(["python", "main.py"], limits=LIMITS,
                             files={"main.py": code.encode(), "task.txt": b"one"}, stdin=b"A")
    assert first.status is RunStatus.OK and first.stdout.startswith("one A")
    _wait_warm(warm_backend, LIMITS)  # after a first run with these limits, one waits
    taken = warm_backend._warm._ready[LIMITS][0][0].id  # type: ignore[union-attr]
    second = warm_backend.run(["python", "main.py"], limits=LIMITS,
                              files={"main.py": code.encode(), "task.txt": b"two"},
                              stdin=b"B", outputs=["mark.txt"])
    assert second.status is RunStatus.OK and second.stdout.startswith("two B")
    # A fresh sandbox: nothing of the first run, only this run's inputs (and its own mark).
    assert "['main.py', 'mark.txt', 'task.txt']" in second.stdout
    assert second.files["mark.txt"].data == b"left by run"
    # It ran in the warm sandbox, which is gone now (used once); a replacement is started.
    with warm_backend._warm._cond:  # type: ignore[union-attr]
        ready = [c.id for c, _ in warm_backend._warm._ready[LIMITS]]  # type: ignore[union-attr]
    assert taken not in ready
    assert not any(taken.startswith(c) or c.startswith(taken[:12]) for c in our_containers())


def test_other_limits_run_cold_and_close_removes_idle_sandboxes(
    warm_backend: DockerBackend,
) -> None:
    other = SandboxLimits(wall_s=20, memory_mib=256)
    assert warm_backend.run(["python", "-c", "print(2)"], limits=other).stdout.strip() == "2"
    _wait_warm(warm_backend, other)
    assert our_containers()  # an idle warm sandbox exists now
    warm_backend.close()
    assert our_containers() == []
    # After close, runs still work (cold).
    assert warm_backend.run(["python", "-c", "print(3)"], limits=other).stdout.strip() == "3"
