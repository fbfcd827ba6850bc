"""Docker backend: one hardened container per run or kernel."""

from __future__ import annotations

import io
import atexit
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio.to_thread
import docker  # type: ignore[import-untyped]
import docker.errors  # type: ignore[import-untyped]
from docker.models.containers import Container  # type: ignore[import-untyped]
from docker.types import Mount, Ulimit  # type: ignore[import-untyped]
from docker.utils.socket import STDERR, frames_iter  # type: ignore[import-untyped]

from sandbox.files import files_from_tar, write_tree
from sandbox.labels import LABEL, sandbox_labels
from sandbox.limits import SandboxLimits
from sandbox.output import CappedOutput
from sandbox.result import OutputFile, RunResult, RunStatus

SANDBOX_UID = 10001
POST_RUN_TIMEOUT_S = 20.0
WORKDIR = "/work"
# The environment is built from nothing: no host variable ever reaches a sandbox.
BASE_ENV = {
    "PATH": "/opt/venv/bin:/usr/local/bin:/usr/bin:/bin",
    "HOME": "/home/sandbox",  # read-only: only /work and /tmp are writable
    "LANG": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONUNBUFFERED": "1",
    "MPLCONFIGDIR": f"{WORKDIR}/.mpl",
    "IPYTHONDIR": f"{WORKDIR}/.ipython",
    "JUPYTER_RUNTIME_DIR": f"{WORKDIR}/.jupyter-runtime",
}
# Run inside the sandbox after the command, as the sandbox user, to read the
# container's own cgroup counters (read-only to the candidate).
_PROBE = r"""
for f in /sys/fs/cgroup/memory/memory.oom_control /sys/fs/cgroup/memory.events \
         /sys/fs/cgroup/memory/memory.max_usage_in_bytes /sys/fs/cgroup/memory.peak \
         /sys/fs/cgroup/cpuacct/cpuacct.usage /sys/fs/cgroup/cpu.stat; do
  [ -r "$f" ] && while read -r a b; do echo "$f $a $b"; done < "$f"
done; true
"""


def _close(sock: Any) -> None:
    """Close an attach socket (the SDK hands back a SocketIO or a raw socket)."""
    raw = getattr(sock, "_sock", sock)
    for target in (raw, sock):
        try:
            if target is raw:
                import socket as socketlib
                target.shutdown(socketlib.SHUT_RDWR)
            target.close()
        except (OSError, AttributeError):
            pass


class _ChunkReader(io.RawIOBase):
    """A readable file over an iterator of byte chunks, refusing to go past `limit`."""

    def __init__(self, chunks: Iterator[bytes], limit: int) -> None:
        self._chunks = chunks
        self._buf = b""
        self._left = limit

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buf:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._buf = chunk
        size = min(len(target), len(self._buf), self._left)
        if size <= 0:
            raise OSError("output stream exceeds its limit")
        target[:size] = self._buf[:size]
        self._buf = self._buf[size:]
        self._left -= size
        return size


class SandboxUnavailable(RuntimeError):
    """No usable backend (engine down, image missing, ...)."""


def hardened_config(
    *, image: str, command: Sequence[str], limits: SandboxLimits, kind: str,
    mounts: Sequence[Mount] = (), runtime: str | None = None,
    environment: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Keyword arguments for `containers.create` that every sandbox gets."""
    tmpfs_opts = (f"rw,nosuid,nodev,size={limits.tmpfs_mib}m,"
                  f"nr_inodes={limits.tmpfs_inodes},uid={SANDBOX_UID},gid={SANDBOX_UID},mode=0700")
    file_size = limits.file_size_mib * 1024 * 1024
    config: dict[str, Any] = {
        "image": image,
        "command": list(command),
        "user": f"{SANDBOX_UID}:{SANDBOX_UID}",
        "working_dir": WORKDIR,
        "environment": dict(environment or BASE_ENV),
        "hostname": "sandbox",
        "network_mode": "none",
        "network_disabled": True,
        "read_only": True,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
        "privileged": False,
        "init": True,
        "ipc_mode": "private",
        "pids_limit": limits.pids,
        "mem_limit": limits.memory_mib * 1024 * 1024,
        "memswap_limit": limits.memory_mib * 1024 * 1024,
        "nano_cpus": int(limits.cpus * 1e9),
        "shm_size": limits.shm_mib * 1024 * 1024,
        "ulimits": [
            Ulimit(name="nofile", soft=limits.open_files, hard=limits.open_files),
            Ulimit(name="fsize", soft=file_size, hard=file_size),
            Ulimit(name="cpu", soft=limits.cpu_s, hard=limits.cpu_s + 1),
            Ulimit(name="core", soft=0, hard=0),
        ],
        "tmpfs": {WORKDIR: tmpfs_opts, "/tmp": tmpfs_opts},
        "mounts": list(mounts),
        "log_config": {"type": "json-file", "config": {"max-size": "1m", "max-file": "1"}},
        "labels": sandbox_labels(kind),
        "stdin_open": False,
        "tty": False,
        "detach": True,
    }
    if runtime:
        config["runtime"] = runtime
    return config


def _parse_probe(text: str) -> tuple[float | None, int | None, bool]:
    cpu_s: float | None = None
    peak: int | None = None
    oom = False
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        path, key = parts[0], parts[1]
        value = parts[2] if len(parts) > 2 else key
        try:
            if path.endswith("memory.oom_control") and key == "oom_kill" or path.endswith("memory.events") and key == "oom_kill":
                oom = oom or int(value) > 0
            elif path.endswith(("max_usage_in_bytes", "memory.peak")):
                peak = int(key)
            elif path.endswith("cpuacct.usage"):
                cpu_s = int(key) / 1e9
            elif path.endswith("cpu.stat") and key == "usage_usec":
                cpu_s = int(value) / 1e6
        except ValueError:
            continue
    return cpu_s, peak, oom


class DockerBackend:
    """Runs sandboxes as hardened Docker containers."""

    name = "docker"

    def __init__(self, image: str, *, runtime: str | None = None,
                 client: docker.DockerClient | None = None, warm: int = 0) -> None:
        self.image = image
        self.runtime = runtime
        self.client = client or docker.from_env(timeout=120)
        # warm > 0: keep that many idle one-shot sandboxes started per set of limits that
        # has been asked for, so a run skips container creation (see _WarmOneShots).
        self._warm = _WarmOneShots(self, warm) if warm > 0 else None

    def enable_warm(self, size: int) -> None:
        """Keep `size` idle one-shot sandboxes started per set of limits asked for."""
        if self._warm is None and size > 0:
            self._warm = _WarmOneShots(self, size)

    def close(self) -> None:
        """Remove the idle warm sandboxes, if any."""
        if self._warm is not None:
            self._warm.close()

    # -- checks -------------------------------------------------------------
    def available(self) -> str | None:
        """None when usable, else the reason it is not."""
        try:
            self.client.ping()
        except Exception as exc:  # noqa: BLE001 - any failure means "not available"
            return f"Docker engine does not answer: {exc}"
        try:
            self.client.images.get(self.image)
        except docker.errors.ImageNotFound:
            return f"sandbox image {self.image} is missing (run `burnin sandbox build`)"
        return None

    # -- one-shot runs ------------------------------------------------------
    def run(
        self, command: Sequence[str], *, limits: SandboxLimits, files: Mapping[str, bytes] = {},
        stdin: bytes = b"", outputs: Sequence[str] = (), output_file_bytes: int = 1024 * 1024,
    ) -> RunResult:
        """Run one command in a fresh sandbox and remove it afterwards."""
        container: Container | None = None
        started = time.monotonic()
        warm = self._warm.take(limits) if self._warm is not None else None
        host_dir = warm[1] if warm else Path(tempfile.mkdtemp(prefix="burnin-run-"))
        try:
            if warm:
                # An idle sandbox that has never run anything: its input directory is still
                # the empty one the host made, so the host fills it now, before the command.
                container = warm[0]
                write_tree(host_dir / "input", files)
                (host_dir / "stdin").write_bytes(stdin)
            else:
                container = self._start_idle(host_dir, limits, files, stdin)
            return self._exec_command(container, command, limits, outputs, output_file_bytes)
        except (docker.errors.DockerException, OSError) as exc:
            return RunResult(RunStatus.INFRA_ERROR, None, "", "", False,
                             time.monotonic() - started, detail=f"{type(exc).__name__}: {exc}")
        finally:
            if container is not None:
                self.remove(container)
            shutil.rmtree(host_dir, ignore_errors=True)

    def _start_idle(self, host_dir: Path, limits: SandboxLimits, files: Mapping[str, bytes],
                    stdin: bytes) -> Container:
        """A started, idle one-shot sandbox reading /input and /run/stdin from host_dir."""
        inputs = host_dir / "input"
        inputs.mkdir(mode=0o755)
        write_tree(inputs, files)
        (host_dir / "stdin").write_bytes(stdin)
        os.chmod(host_dir, 0o755)
        mounts = [
            Mount("/input", str(inputs), type="bind", read_only=True),
            Mount("/run/stdin", str(host_dir / "stdin"), type="bind", read_only=True),
        ]
        config = hardened_config(
            image=self.image, command=["sleep", "infinity"], limits=limits,
            kind="oneshot", mounts=mounts, runtime=self.runtime)
        container = self.client.containers.create(**config)
        try:
            container.start()
        except BaseException:
            self.remove(container)
            raise
        return container

    async def arun(self, command: Sequence[str], **kwargs: Any) -> RunResult:
        """`run` off the event loop."""
        return await anyio.to_thread.run_sync(lambda: self.run(command, **kwargs))

    def _exec_command(
        self, container: Container, command: Sequence[str], limits: SandboxLimits,
        outputs: Sequence[str], output_file_bytes: int,
    ) -> RunResult:
        api = self.client.api
        script = 'cp -R /input/. /work/ && cd /work && exec "$@" </run/stdin'
        exec_id = api.exec_create(container.id, ["/bin/sh", "-c", script, "sh", *command],
                                  user=f"{SANDBOX_UID}:{SANDBOX_UID}", workdir=WORKDIR,
                                  environment=BASE_ENV)["Id"]
        out = CappedOutput(limits.output_bytes)
        cut = threading.Event()

        sock = api.exec_start(exec_id, socket=True)

        def pump() -> None:
            try:
                for stream_no, chunk in frames_iter(sock, tty=False):
                    if not out.add("stderr" if stream_no == STDERR else "stdout", chunk):
                        cut.set()
                        return
            except (OSError, ValueError):  # ValueError: we closed the socket (timeout, cap)
                return

        started = time.monotonic()
        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        deadline = started + limits.wall_s
        container_died = False
        while reader.is_alive() and time.monotonic() < deadline:
            reader.join(min(1.0, max(deadline - time.monotonic(), 0)))
            # Under gVisor an OOM takes the whole sandbox down and the exec stream never
            # ends: notice the dead container instead of waiting for the wall clock.
            if reader.is_alive() and not self._running(container):
                container_died = True
                break
        wall = time.monotonic() - started
        timed_out = reader.is_alive() and not container_died
        if timed_out or cut.is_set() or container_died:
            # Close our end first: an unread attach stream makes the engine wait ~10 s.
            _close(sock)
            self._kill(container)
            reader.join(10)
        else:
            _close(sock)
        exit_code: int | None
        try:
            exit_code = api.exec_inspect(exec_id).get("ExitCode")
        except docker.errors.NotFound:  # the container is gone, taking the exec with it
            exit_code = None
        cpu_s, peak, oom = None, None, False
        files: dict[str, OutputFile] = {}
        if not timed_out and not cut.is_set() and self._running(container):
            # Leftover candidate processes share the container: bound these steps in time
            # and treat any failure (e.g. no pid left for our exec) as "not measurable".
            box: dict[str, Any] = {}

            def after() -> None:
                try:
                    box["probe"] = _parse_probe(
                        self._exec_text(container, ["/bin/sh", "-c", _PROBE]))
                    if outputs:
                        box["files"] = self._collect(container, outputs, output_file_bytes)
                except docker.errors.DockerException as exc:
                    box["error"] = str(exc)

            helper = threading.Thread(target=after, daemon=True)
            helper.start()
            helper.join(POST_RUN_TIMEOUT_S)
            if helper.is_alive():
                self._kill(container)
                helper.join(10)
            cpu_s, peak, oom = box.get("probe", (None, None, False))
            files = box.get("files", {})
            for name in outputs:
                files.setdefault(name, OutputFile(name, None, "not collected: sandbox unusable"))
        if timed_out:
            status = RunStatus.TIMEOUT
        elif cut.is_set():
            status = RunStatus.OUTPUT_LIMIT
        elif oom or ((exit_code == 137 or container_died) and self._oom_killed(container)):
            status = RunStatus.MEMORY_LIMIT
        elif exit_code == 0:
            status = RunStatus.OK
        else:
            status = RunStatus.ERROR
        killed_by_us = timed_out or cut.is_set()
        return RunResult(status, None if killed_by_us else exit_code, out.text("stdout"),
                         out.text("stderr"), out.truncated, wall, cpu_s, peak, files)

    def _exec_text(self, container: Container, cmd: list[str], cap: int = 65536) -> str:
        exec_id = self.client.api.exec_create(
            container.id, cmd, user=f"{SANDBOX_UID}:{SANDBOX_UID}")["Id"]
        out = CappedOutput(cap)
        for chunk in self.client.api.exec_start(exec_id, stream=True):
            if not out.add("stdout", chunk):
                break
        return out.text("stdout")

    def _collect(self, container: Container, names: Sequence[str],
                 max_bytes: int) -> dict[str, OutputFile]:
        """Tar the requested files inside the sandbox; parse the stream as data outside."""
        from sandbox.files import UnsafePathError, check_relpath
        safe: list[str] = []
        result: dict[str, OutputFile] = {}
        for name in names:
            try:
                check_relpath(name)
                safe.append(name)
            except UnsafePathError as exc:
                result[name] = OutputFile(name, None, str(exc))
        if not safe:
            return result
        # --no-recursion: a directory at a requested path must not drag its tree along.
        cmd = ["tar", "-C", WORKDIR, "--no-recursion", "--ignore-failed-read", "-cf", "-",
               "--", *safe]
        exec_id = self.client.api.exec_create(
            container.id, cmd, user=f"{SANDBOX_UID}:{SANDBOX_UID}")["Id"]
        # Streamed straight into the tar parser: a member over max_bytes is skipped by its
        # header, and the whole stream is bounded by the sandbox's own tmpfs size.
        stream = _ChunkReader(
            (out for out, _err in self.client.api.exec_start(exec_id, stream=True, demux=True)
             if out), limit=4 * 1024**3)
        result.update(files_from_tar(io.BufferedReader(stream), safe, "", max_bytes))
        return result

    def _running(self, container: Container) -> bool:
        try:
            container.reload()
        except docker.errors.NotFound:
            return False
        return bool(container.attrs["State"]["Running"])

    def _oom_killed(self, container: Container) -> bool:
        try:
            container.reload()
        except docker.errors.NotFound:
            return False
        return bool(container.attrs["State"].get("OOMKilled"))

    def _kill(self, container: Container) -> None:
        try:
            container.kill()
        except docker.errors.APIError:
            pass

    def remove(self, container: Container) -> None:
        """Kill and remove; a container that is already gone is fine."""
        try:
            container.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if "already in progress" not in str(exc):
                raise

    def start_kernel_host(self, kernel_dir: Path, limits: SandboxLimits) -> DockerKernelHost:
        return start_docker_kernel(self, kernel_dir, limits)

    def list_ours(self) -> list[Container]:
        return list(self.client.containers.list(all=True, filters={"label": f"{LABEL}=1"}))


class DockerKernelHost:
    """A running kernel container."""

    def __init__(self, backend: DockerBackend, container: Container) -> None:
        self.backend = backend
        self.container = container

    def alive(self) -> bool:
        return self.backend._running(self.container)

    def interrupt(self) -> None:
        # docker-init (PID 1) forwards SIGINT to the kernel.
        try:
            self.container.kill(signal="SIGINT")
        except docker.errors.APIError:
            pass

    def destroy(self) -> None:
        self.backend.remove(self.container)


def _kernel_mounts(kernel_dir: Path) -> list[Mount]:
    from sandbox.kernel import ARTIFACTS_DIR, CONN_DIR, SOCK_DIR
    return [
        Mount(CONN_DIR, str(kernel_dir / "conn"), type="bind", read_only=True),
        Mount(SOCK_DIR, str(kernel_dir / "sock"), type="bind", read_only=False),
        Mount(ARTIFACTS_DIR, str(kernel_dir / "artifacts"), type="bind", read_only=True),
    ]


def start_docker_kernel(backend: DockerBackend, kernel_dir: Path,
                        limits: SandboxLimits) -> DockerKernelHost:
    """Create and start a kernel container."""
    from sandbox.kernel import KERNEL_COMMAND
    config = hardened_config(image=backend.image, command=KERNEL_COMMAND, limits=limits,
                             kind="kernel", mounts=_kernel_mounts(kernel_dir),
                             runtime=backend.runtime)
    container = backend.client.containers.create(**config)
    host = DockerKernelHost(backend, container)
    try:
        container.start()
    except BaseException:
        host.destroy()
        raise
    return host


class _WarmOneShots:
    """Idle one-shot sandboxes started ahead, per set of limits (at most MAX_KINDS sets).

    A run takes one, fills its untouched input directory and executes; a background thread
    starts a replacement. Each sandbox is used once and removed, exactly like a cold one."""

    MAX_KINDS = 4

    def __init__(self, backend: DockerBackend, size: int) -> None:
        self.backend, self.size = backend, size
        self._ready: dict[SandboxLimits, list[tuple[Container, Path]]] = {}
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._fill, name="burnin-warm-oneshots",
                                        daemon=True)
        self._thread.start()
        atexit.register(self.close)  # idle sandboxes never outlive the process that made them

    def take(self, limits: SandboxLimits) -> tuple[Container, Path] | None:
        with self._cond:
            if self._closed:
                return None
            if limits not in self._ready:
                if len(self._ready) >= self.MAX_KINDS:
                    return None
                self._ready[limits] = []  # start keeping these warm from now on
            ready = self._ready[limits]
            item = ready.pop(0) if ready else None
            self._cond.notify_all()
            return item

    def _fill(self) -> None:
        while True:
            with self._cond:
                while not self._closed and not any(
                        len(v) < self.size for v in self._ready.values()):
                    self._cond.wait(1.0)
                if self._closed:
                    return
                limits = next(k for k, v in self._ready.items() if len(v) < self.size)
            host_dir = Path(tempfile.mkdtemp(prefix="burnin-run-"))
            try:
                container = self.backend._start_idle(host_dir, limits, {}, b"")
            except (docker.errors.DockerException, OSError):
                shutil.rmtree(host_dir, ignore_errors=True)
                time.sleep(2)  # the engine is unhappy; runs fall back to cold starts
                continue
            with self._cond:
                if self._closed:
                    self.backend.remove(container)
                    shutil.rmtree(host_dir, ignore_errors=True)
                    return
                self._ready[limits].append((container, host_dir))

    def close(self) -> None:
        with self._cond:
            self._closed = True
            items = [item for v in self._ready.values() for item in v]
            self._ready.clear()
            self._cond.notify_all()
        for container, host_dir in items:
            try:
                self.backend.remove(container)
            except docker.errors.DockerException:
                pass
            shutil.rmtree(host_dir, ignore_errors=True)
        self._thread.join(timeout=10)
