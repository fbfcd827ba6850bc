"""Docker backend: one hardened container per run or kernel."""

from __future__ import annotations

import errno
import io
import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.to_thread
import docker  # type: ignore[import-untyped]
import docker.errors  # type: ignore[import-untyped]
from docker.models.containers import Container  # type: ignore[import-untyped]
from docker.types import Mount, Ulimit  # type: ignore[import-untyped]
from docker.utils.socket import STDERR, frames_iter  # type: ignore[import-untyped]

from sandbox.cgroups import container_cgroups, host_counters, pids_limit_hits
from sandbox.files import files_from_tar, read_file_nofollow, write_tree
from sandbox.labels import LABEL, sandbox_labels
from sandbox.limits import SANDBOX_CPU_SHARES, SandboxLimits
from sandbox.output import CappedOutput
from sandbox.proctree import tree_cpu_seconds
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


# The command of an exec'd run: copy the inputs to the scratch dir, run there.
_EXEC_SCRIPT = 'cp -R /input/. /work/ && cd /work && exec "$@" </run/stdin'
# The command of a sandbox whose own process is the run (see DockerBackend._run_main).
# $0 is a per-run marker the shell prints on both streams once the command is over (a
# container's output stream only ends when the container does), before it closes its
# output and waits on the release FIFO. Candidate code can print the marker early or ptrace
# the shell: that only cuts its own output short or changes its own exit status; counters
# and output files are read from outside (or by the exec'd probe and tar) and nothing here
# is a verdict.
_MAIN_SCRIPT = ('cp -R /input/. /work/ && cd /work && "$@" </run/stdin; rc=$?; '
                "printf '\\000burnin-end-%s\\000' \"$0\"; "
                "printf '\\000burnin-end-%s\\000' \"$0\" >&2; "
                'exec >/dev/null 2>&1 </dev/null; read -r _ </run/ctl/release; exit "$rc"')
RELEASE_WAIT_S = 5.0


@dataclass
class _Stream:
    out: CappedOutput
    wall: float = 0.0
    timed_out: bool = False
    cut: bool = False
    container_died: bool = False
    ended: bool = False  # a main-process run's end markers have both come
    cpu_s: float | None = None
    peak: int | None = None
    oom: bool = False
    files: dict[str, OutputFile] = field(default_factory=dict)


def _mark_uncollected(st: _Stream, outputs: Sequence[str]) -> None:
    """Every requested output file the run did not yield is reported as not collected."""
    for name in outputs:
        st.files.setdefault(name, OutputFile(name, None, "not collected: sandbox unusable"))


class _Scan:
    """Finds a marker in bytes that arrive in chunks (it may straddle two of them)."""

    def __init__(self, marker: bytes) -> None:
        self.marker, self.held, self.found = marker, b"", False

    def feed(self, chunk: bytes) -> tuple[bytes, bytes]:
        """(bytes before the marker that are safe to pass on, bytes after it once found).
        Up to len(marker) - 1 bytes are held back while they could start the marker."""
        window = self.held + chunk
        i = window.find(self.marker)
        if i >= 0:
            self.found, self.held = True, b""
            return window[:i], window[i + len(self.marker):]
        keep = min(len(window), len(self.marker) - 1)
        self.held = window[len(window) - keep:]
        return window[:len(window) - keep], b""

    def flush(self) -> bytes:
        held, self.held = self.held, b""
        return held


def _open_and_write(fifo: Path, data: bytes, wait_s: float) -> bool:
    """Write to a FIFO once its reader has it open; False if none does within wait_s."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO or time.monotonic() > deadline:
                return False
            time.sleep(0.002)
            continue
        try:
            os.write(fd, data)
            return True
        except OSError:
            return False
        finally:
            os.close(fd)


def _apparmor_opt(enabled: Path = Path("/sys/module/apparmor/parameters/enabled")
                  ) -> list[str]:
    """The engine's default AppArmor profile, named explicitly where the host has AppArmor."""
    try:
        on = enabled.read_text().strip() == "Y"
    except OSError:
        on = False
    return ["apparmor=docker-default"] if on else []


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
        "security_opt": ["no-new-privileges:true", *_apparmor_opt()],
        # Its own cgroup namespace: /proc/self/cgroup inside shows "/", not the host's path
        # with the container id in it.
        "cgroupns": "private",
        "privileged": False,
        "init": True,
        "ipc_mode": "private",
        "pids_limit": limits.pids,
        "mem_limit": limits.memory_mib * 1024 * 1024,
        "memswap_limit": limits.memory_mib * 1024 * 1024,
        "nano_cpus": int(limits.cpus * 1e9),
        "cpu_shares": SANDBOX_CPU_SHARES,
        "shm_size": limits.shm_mib * 1024 * 1024,
        "ulimits": [
            Ulimit(name="nofile", soft=limits.open_files, hard=limits.open_files),
            Ulimit(name="fsize", soft=file_size, hard=file_size),
            Ulimit(name="cpu", soft=limits.cpu_s, hard=limits.cpu_s + 1),
            Ulimit(name="core", soft=0, hard=0),
        ],
        "tmpfs": {WORKDIR: tmpfs_opts, "/tmp": tmpfs_opts},
        "mounts": list(mounts),
        # A one-shot's output comes through its attach or exec stream: no log file to keep.
        "log_config": {"type": "none"} if kind == "oneshot" else
        {"type": "json-file", "config": {"max-size": "1m", "max-file": "1"}},
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
                 client: docker.DockerClient | None = None) -> None:
        self.image = image
        self.runtime = runtime
        self.client = client or docker.from_env(timeout=120)
        # Read run counters from the host's cgroup files when they are visible (see
        # sandbox/cgroups.py); False forces the in-sandbox probe (tests compare the two).
        self.host_probe = True
        # Runs make the command the sandbox's own process (no `docker exec`: about a fifth
        # less engine CPU per run, see docs/sandbox.md). Under another runtime (gVisor) runs
        # keep the start-then-exec path, which needs no FIFO shared with the host.
        self.main_process = runtime is None
        # Output files are read from the host through the sandbox's root when visible (runc
        # only: under gVisor the sandbox's files live inside its own kernel).
        self.host_files = runtime is None

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
        host_dir = Path(tempfile.mkdtemp(prefix="burnin-run-"))
        try:
            if self.main_process:
                container, end = self._create_main(command, limits, files, stdin, host_dir)
                return self._run_main(container, end, limits, outputs, output_file_bytes,
                                      host_dir / "ctl" / "release")
            container = self._start_idle(host_dir, limits, files, stdin)
            return self._exec_command(container, command, limits, outputs, output_file_bytes)
        except (docker.errors.DockerException, OSError) as exc:
            return RunResult(RunStatus.INFRA_ERROR, None, "", "", False,
                             time.monotonic() - started, detail=f"{type(exc).__name__}: {exc}")
        finally:
            if container is not None:
                self.remove(container)
            shutil.rmtree(host_dir, ignore_errors=True)

    @staticmethod
    def _prepare_dir(host_dir: Path, files: Mapping[str, bytes], stdin: bytes) -> None:
        inputs = host_dir / "input"
        inputs.mkdir(mode=0o755)
        write_tree(inputs, files)
        (host_dir / "stdin").write_bytes(stdin)
        os.chmod(host_dir, 0o755)

    @staticmethod
    def _run_mounts(host_dir: Path) -> list[Mount]:
        mounts = [
            Mount("/input", str(host_dir / "input"), type="bind", read_only=True),
            Mount("/run/stdin", str(host_dir / "stdin"), type="bind", read_only=True),
        ]
        if (host_dir / "ctl").is_dir():
            mounts.append(Mount("/run/ctl", str(host_dir / "ctl"), type="bind", read_only=True))
        return mounts

    def _start_idle(self, host_dir: Path, limits: SandboxLimits, files: Mapping[str, bytes],
                    stdin: bytes) -> Container:
        """A started, idle one-shot sandbox reading /input and /run/stdin from host_dir."""
        self._prepare_dir(host_dir, files, stdin)
        config = hardened_config(
            image=self.image, command=["sleep", "infinity"], limits=limits,
            kind="oneshot", mounts=self._run_mounts(host_dir), runtime=self.runtime)
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

    def _pump(self, sock: Any, container: Container, limits: SandboxLimits,
              end: bytes = b"") -> _Stream:
        """Read a multiplexed stdout/stderr stream until it ends (with `end`: until both
        streams have carried that marker, which is not kept), the wall clock runs out, the
        output cap is hit or the container dies; close the socket either way."""
        st = _Stream(CappedOutput(limits.output_bytes))
        cut = threading.Event()
        scans = {"stdout": _Scan(end), "stderr": _Scan(end)} if end else {}

        def pump() -> None:
            try:
                for stream_no, chunk in frames_iter(sock, tty=False):
                    name = "stderr" if stream_no == STDERR else "stdout"
                    if scans:
                        if scans[name].found:
                            continue
                        chunk, _ = scans[name].feed(chunk)
                    if not st.out.add(name, chunk):
                        cut.set()
                        return
                    if scans and all(sc.found for sc in scans.values()):
                        st.ended = True
                        return
            except (OSError, ValueError):  # ValueError: we closed the socket (timeout, cap)
                return
            finally:
                # A stream cut short: what was held back as a possible marker is output.
                if scans and not st.ended and not cut.is_set():
                    for name, sc in scans.items():
                        if not sc.found:
                            st.out.add(name, sc.flush())

        started = time.monotonic()
        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        deadline = started + limits.wall_s
        while reader.is_alive() and time.monotonic() < deadline:
            reader.join(min(1.0, max(deadline - time.monotonic(), 0)))
            # Under gVisor an OOM takes the whole sandbox down and the exec stream never
            # ends: notice the dead container instead of waiting for the wall clock.
            if reader.is_alive() and not self._running(container):
                st.container_died = True
                break
        st.wall = time.monotonic() - started
        st.timed_out = reader.is_alive() and not st.container_died
        st.cut = cut.is_set()
        # Close our end first: an unread attach stream makes the engine wait ~10 s.
        _close(sock)
        if st.cut or st.container_died:
            self._kill(container)
        # A timed-out sandbox is left running: the caller salvages its finished work first
        # (see _salvage) and kills it then. The closed socket ends the reader either way.
        if st.timed_out or st.cut or st.container_died:
            reader.join(10)
        return st

    def _read_bounded(self, container: Container, pid: int, own: dict[str, str],
                      outputs: Sequence[str], output_file_bytes: int,
                      before: Callable[[dict[str, Any]], None] | None = None,
                      ) -> tuple[dict[str, Any], threading.Thread]:
        """Read the sandbox's counters ("probe") and output files ("files") on a helper
        thread, waiting at most POST_RUN_TIMEOUT_S; the caller decides what a helper still
        running means. `before` runs first on the same thread (e.g. freezing the sandbox)."""
        box: dict[str, Any] = {}

        def read() -> None:
            try:
                if before is not None:
                    before(box)
                box["probe"] = _parse_probe(self._probe_text(container, own))
                if outputs:
                    box["files"] = self._collect(container, pid, own, outputs,
                                                 output_file_bytes)
            except docker.errors.DockerException as exc:
                box["error"] = str(exc)

        helper = threading.Thread(target=read, daemon=True)
        helper.start()
        helper.join(POST_RUN_TIMEOUT_S)
        return box, helper

    def _measure(self, container: Container, st: _Stream, outputs: Sequence[str],
                 output_file_bytes: int) -> None:
        """Counters and output files of a run whose command has ended, while the sandbox
        still exists (bounded in time: leftover candidate processes share it)."""
        if st.timed_out or st.cut or not self._running(container):
            return

        # The sandbox's init pid and its cgroups, when this process can see them (the
        # engine runs here): counters and files are then read from the host.
        pid = int((container.attrs.get("State") or {}).get("Pid") or 0)
        own = container_cgroups(pid, container.id)
        box, helper = self._read_bounded(container, pid, own, outputs, output_file_bytes)
        if helper.is_alive():
            self._kill(container)
            helper.join(10)
        st.cpu_s, st.peak, st.oom = box.get("probe", (None, None, False))
        st.files = box.get("files", {})
        _mark_uncollected(st, outputs)

    def _salvage(self, container: Container, st: _Stream, outputs: Sequence[str],
                 output_file_bytes: int) -> None:
        """A run past its wall clock keeps what it finished: stop everything it left running
        (the cgroup freezer when its files are read from the host, else SIGSTOP to every
        sandbox process from inside), read its counters and the output files as they are
        now, then kill it. Bounded in time like _measure; a file not read is reported as
        not collected."""
        try:
            container.reload()
        except docker.errors.DockerException:
            pass
        pid = int((container.attrs.get("State") or {}).get("Pid") or 0)
        own = container_cgroups(pid, container.id) if pid else {}

        def freeze(box: dict[str, Any]) -> None:
            if self.host_files and own:
                # Frozen, nothing more is written while the files are read; a fork
                # bomb cannot refuse it (an exec would need a free pid).
                container.pause()
                box["paused"] = True
            else:
                self._exec_text(container, ["/bin/sh", "-c", "kill -STOP -1; true"])

        box, helper = self._read_bounded(container, pid, own, outputs, output_file_bytes,
                                         before=freeze)
        self._kill(container)
        if box.get("paused"):
            try:  # some engines refuse to kill a paused container
                container.unpause()
            except docker.errors.APIError:
                pass
            self._kill(container)
        helper.join(10)
        st.cpu_s, st.peak, _ = box.get("probe", (None, None, False))
        st.files = dict(box.get("files", {}))
        for name in outputs:
            st.files.setdefault(name, OutputFile(name, None, "not collected: the run timed "
                                                 "out and its sandbox could not be read"))

    def _result(self, container: Container, st: _Stream, exit_code: int | None) -> RunResult:
        if st.timed_out:
            status = RunStatus.TIMEOUT
        elif st.cut:
            status = RunStatus.OUTPUT_LIMIT
        elif st.oom or ((exit_code == 137 or st.container_died)
                        and self._oom_killed(container)):
            status = RunStatus.MEMORY_LIMIT
        elif exit_code == 0:
            status = RunStatus.OK
        else:
            status = RunStatus.ERROR
        killed_by_us = st.timed_out or st.cut
        return RunResult(status, None if killed_by_us else exit_code, st.out.text("stdout"),
                         st.out.text("stderr"), st.out.truncated, st.wall, st.cpu_s, st.peak,
                         st.files)

    def _create_main(self, command: Sequence[str], limits: SandboxLimits,
                     files: Mapping[str, bytes], stdin: bytes, host_dir: Path,
                     ) -> tuple[Container, bytes]:
        """A created (not started) sandbox whose own process runs `command` (see
        _MAIN_SCRIPT and _run_main), and the marker that ends its output."""
        self._prepare_dir(host_dir, files, stdin)
        ctl = host_dir / "ctl"
        ctl.mkdir(mode=0o755)
        os.mkfifo(ctl / "release", 0o644)
        marker = secrets.token_hex(8)
        config = hardened_config(
            image=self.image, command=["/bin/sh", "-c", _MAIN_SCRIPT, marker, *command],
            limits=limits, kind="oneshot", mounts=self._run_mounts(host_dir),
            runtime=self.runtime)
        # The shell is the sandbox's init: an init process (tini) would hold the output
        # open after the command; and signals sent from inside the sandbox cannot kill an
        # init, so candidate code cannot cut the protocol short.
        config["init"] = False
        return self.client.containers.create(**config), f"\0burnin-end-{marker}\0".encode()

    def _run_main(self, container: Container, end: bytes, limits: SandboxLimits,
                  outputs: Sequence[str], output_file_bytes: int, release: Path) -> RunResult:
        """The command as the sandbox's own process: no `docker exec` for it.

        A small shell runs it, prints `end` on both streams and blocks on the `release`
        FIFO, so the sandbox, its cgroup counters and its files still exist while the host
        reads them; the host then writes to the FIFO and the shell exits with the command's
        status, which becomes the container's."""
        sock = self.client.api.attach_socket(
            container.id, params={"stdout": 1, "stderr": 1, "stream": 1})
        try:
            container.start()
        except BaseException:
            _close(sock)
            raise
        st = self._pump(sock, container, limits, end=end)
        exit_code: int | None = None
        if st.timed_out:
            self._salvage(container, st, outputs, output_file_bytes)
        elif st.ended:
            self._measure(container, st, outputs, output_file_bytes)
            if _open_and_write(release, b"go\n", RELEASE_WAIT_S):
                try:
                    exit_code = int(self.client.api.wait(
                        container.id, timeout=RELEASE_WAIT_S)["StatusCode"])
                except (docker.errors.DockerException, OSError, ValueError, KeyError):
                    exit_code = None
        if exit_code is None and not (st.timed_out or st.cut):
            # The shell is gone (the OOM killer may take it too) or did not exit: the
            # sandbox's own status is all there is.
            self._kill(container)
            try:
                container.reload()
                exit_code = int(container.attrs["State"]["ExitCode"])
            except (docker.errors.DockerException, KeyError, TypeError, ValueError):
                exit_code = None
            _mark_uncollected(st, outputs)
        return self._result(container, st, exit_code)

    def _exec_command(
        self, container: Container, command: Sequence[str], limits: SandboxLimits,
        outputs: Sequence[str], output_file_bytes: int,
    ) -> RunResult:
        api = self.client.api
        exec_id = api.exec_create(container.id, ["/bin/sh", "-c", _EXEC_SCRIPT, "sh", *command],
                                  user=f"{SANDBOX_UID}:{SANDBOX_UID}", workdir=WORKDIR,
                                  environment=BASE_ENV)["Id"]
        st = self._pump(api.exec_start(exec_id, socket=True), container, limits)
        if st.timed_out:
            self._salvage(container, st, outputs, output_file_bytes)
        exit_code: int | None
        try:
            exit_code = api.exec_inspect(exec_id).get("ExitCode")
        except docker.errors.NotFound:  # the container is gone, taking the exec with it
            exit_code = None
        self._measure(container, st, outputs, output_file_bytes)
        return self._result(container, st, exit_code)

    def _probe_text(self, container: Container, own: dict[str, str]) -> str:
        """The container's cgroup counters: read from the host when its cgroups `own` are
        visible here (no extra runtime call), else by the probe run inside."""
        lines = host_counters(own) if self.host_probe and own else None
        if lines is not None:
            return "\n".join(lines)
        return self._exec_text(container, ["/bin/sh", "-c", _PROBE])

    def _exec_text(self, container: Container, cmd: list[str], cap: int = 65536) -> str:
        exec_id = self.client.api.exec_create(
            container.id, cmd, user=f"{SANDBOX_UID}:{SANDBOX_UID}")["Id"]
        out = CappedOutput(cap)
        for chunk in self.client.api.exec_start(exec_id, stream=True):
            if not out.add("stdout", chunk):
                break
        return out.text("stdout")

    def _collect(self, container: Container, pid: int, own: dict[str, str],
                 names: Sequence[str], max_bytes: int) -> dict[str, OutputFile]:
        """The requested output files, read as data: from the host through the sandbox's
        root (/proc/<pid>/root, no link followed at any level) when this process can see
        it (`own`: the pid's cgroups carry the container's id), else by a tar inside the
        sandbox whose stream is parsed outside."""
        if self.host_files and own:
            root = Path(f"/proc/{pid}/root{WORKDIR}")
            if os.access(root, os.R_OK | os.X_OK):
                return {name: read_file_nofollow(root, name, max_bytes) for name in names}
        return self._tar_collect(container, names, max_bytes)

    def _tar_collect(self, container: Container, names: Sequence[str],
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
        self._pid: int | None = None
        self._cgroups: dict[str, str] = {}

    def alive(self) -> bool:
        return self.backend._running(self.container)

    def _find_cgroups(self) -> bool:
        if self._pid is None:
            try:
                self.container.reload()
                self._pid = int(self.container.attrs.get("State", {}).get("Pid") or 0)
            except (docker.errors.APIError, ValueError, TypeError):
                return False
            self._cgroups = container_cgroups(self._pid, self.container.id or "")
        return True

    def pids_limit_hits(self) -> int | None:
        """Forks refused so far at the container's pids limit (host cgroup counter); None
        when this process cannot see the container's cgroups."""
        if not self._find_cgroups() or not self._cgroups:
            return None
        return pids_limit_hits(self._cgroups)

    def cpu_seconds(self) -> float | None:
        """CPU used so far by the container: its cgroup's counter, else its process tree."""
        if not self._find_cgroups():
            return None
        if self._cgroups:
            lines = host_counters(self._cgroups)
            if lines:
                cpu_s = _parse_probe("\n".join(lines))[0]
                if cpu_s is not None:
                    return cpu_s
        return tree_cpu_seconds(self._pid) if self._pid else None

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
