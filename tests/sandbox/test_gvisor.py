"""Optional gVisor runtime: runs only where `runsc` is registered with the engine."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.docker_backend import DockerBackend
from sandbox.kernel import Kernel
from sandbox.limits import SandboxLimits

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("host_unaffected")]


@pytest.fixture
def runsc(docker_backend: Any) -> DockerBackend:
    runtimes = docker_backend.client.info().get("Runtimes", {})
    if "runsc" not in runtimes:
        pytest.skip("gVisor (runsc) is not registered with the Docker engine")
    return DockerBackend(docker_backend.image, runtime="runsc", client=docker_backend.client)


def test_oneshot_runs_under_gvisor_without_network(runsc: DockerBackend) -> None:
    code = ("import os, socket; print(os.uname().release, os.getuid(), "
            "sorted(n for _, n in socket.if_nameindex()))")
    result = runsc.run(["python", "-c", code], limits=SandboxLimits())
    assert result.ok, result
    release, uid, ifaces = result.stdout.split(" ", 2)
    assert uid == "10001"
    assert "eth" not in ifaces
    assert release == "4.4.0"  # gVisor's own kernel, not the host's


def test_kernel_socket_bridge_under_gvisor(runsc: DockerBackend) -> None:
    kernel = Kernel(runsc, SandboxLimits(), start_timeout_s=60)
    try:
        result = kernel.execute("6 * 7", timeout_s=10, output_bytes=10_000)
        assert result.outputs[-1]["data"]["text/plain"] == "42"
    finally:
        kernel.shutdown()


def test_out_of_memory_under_gvisor_is_a_memory_limit(runsc: DockerBackend) -> None:
    from sandbox.result import RunStatus
    result = runsc.run(["python", "-c", "x = []\nwhile True: x.append(bytearray(10**7))"],
                       limits=SandboxLimits(memory_mib=256, wall_s=60))
    assert result.status is RunStatus.MEMORY_LIMIT
