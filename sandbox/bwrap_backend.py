"""bubblewrap backend: namespaces (no network) and rlimits, for hosts without Docker.

Isolation is weaker than the Docker backend: no cgroup, so memory is bounded per
process (RLIMIT_AS) and processes per host uid (RLIMIT_NPROC, shared by all bwrap
sandboxes of that uid); no inode cap on the scratch tmpfs; the kernel's attack surface
is the host's. Callers must say so to operators.
"""

from __future__ import annotations

import io
import json
import os
import random
import resource
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio.to_thread

from sandbox.docker_backend import BASE_ENV, SANDBOX_UID, WORKDIR
from sandbox.files import check_relpath, files_from_tar, read_file_nofollow, write_tree
from sandbox.limits import SANDBOX_NICE, SandboxLimits
from sandbox.output import CappedOutput
from sandbox.proctree import tree_cpu_seconds
from sandbox.result import OutputFile, RunResult, RunStatus

WEAKER_ISOLATION = (
    "bwrap backend: namespaces and rlimits only (no cgroup limits, shared kernel "
    "attack surface); isolation is weaker than the Docker backend"
)
_ROOT_DIRS = ("usr", "bin", "sbin", "lib", "lib64", "lib32", "libx32", "etc", "opt", "home")


# Host uids for bwrap sandboxes when running as root (one per sandbox, round robin).
HOST_UID_BASE = 1_100_000
HOST_UID_SPAN = 60_000
_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="burnin-bwrap-spawn")


class NoIsolation(RuntimeError):
    """bubblewrap is missing or cannot create namespaces: refuse to run anything."""


# RLIMIT_AS bounds address space, not resident memory: thread stacks and the
# interpreter's mappings need room beyond what the code actually touches.
AS_HEADROOM_MIB = 384


def _preexec(limits: SandboxLimits, as_uid: int | None) -> None:
    os.setsid()
    os.nice(SANDBOX_NICE)  # below the API when cores are short (sandbox.limits)
    mem = (limits.memory_mib + AS_HEADROOM_MIB) * 1024 * 1024
    fsize = limits.file_size_mib * 1024 * 1024
    for res, value in (
        (resource.RLIMIT_AS, mem),
        (resource.RLIMIT_DATA, mem),
        (resource.RLIMIT_FSIZE, fsize),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_CPU, limits.cpu_s),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_NPROC, limits.pids),
    ):
        resource.setrlimit(res, (value, value))
    if as_uid is not None:
        os.setgroups([])
        os.setgid(as_uid)
        os.setuid(as_uid)


class BwrapProcess:
    """A bwrap sandbox process: the KernelHost for bwrap kernels."""

    def __init__(self, proc: subprocess.Popen[bytes], info_fd: int | None = None) -> None:
        self.proc = proc
        self.child_pid: int | None = None
        if info_fd is not None:
            # bwrap reports the host pid of the sandbox's PID 1. Killing that one takes
            # the whole PID namespace down and lets the outer bwrap reap it: no orphans.
            with os.fdopen(info_fd, "rb") as fh:
                raw = fh.read(4096)
            try:
                self.child_pid = int(json.loads(raw or b"{}").get("child-pid", 0)) or None
            except (ValueError, AttributeError):
                self.child_pid = None

    def alive(self) -> bool:
        return self.proc.poll() is None

    def interrupt(self) -> None:
        # bwrap's PID 1 does not forward signals; the kernel gets an interrupt_request.
        raise NotImplementedError

    def cpu_seconds(self) -> float | None:
        """CPU used so far by everything in the sandbox (its process tree on the host)."""
        if self.proc.poll() is not None:
            return None
        return tree_cpu_seconds(self.child_pid or self.proc.pid)

    def destroy(self) -> None:
        if self.proc.poll() is None:
            targets: list[tuple[Callable[[int, int], None], int]] = []
            if self.child_pid is not None and self.child_pid > 1:
                targets.append((os.kill, self.child_pid))
            targets.append((os.killpg, self.proc.pid))
            for kill, pid in targets:
                try:
                    kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                try:
                    self.proc.wait(timeout=2)
                    break
                except subprocess.TimeoutExpired:
                    continue
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.proc.stdout, self.proc.stderr, self.proc.stdin):
            if stream is not None:
                stream.close()


def _descendants(pid: int, limit: int = 10_000) -> list[int]:
    """pid and every live process below it (host pids, from /proc)."""
    found: dict[int, None] = {}  # insertion-ordered set
    todo = [pid]
    while todo and len(found) < limit:
        current = todo.pop()
        if current in found:
            continue
        found[current] = None
        try:
            tasks = list(Path(f"/proc/{current}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                todo.extend(int(c) for c in (task / "children").read_text().split())
            except (OSError, ValueError):
                continue
    return list(found)


def _salvage(host: BwrapProcess, outputs: Sequence[str], max_bytes: int
             ) -> dict[str, OutputFile]:
    """The output files of a run past its wall clock, as they are now: every sandbox process
    is stopped (SIGSTOP), then each file is read from the host through the sandbox's root
    (/proc/<pid>/root, no link followed), so the cases it finished keep their results."""
    pid = host.child_pid
    if pid is None or host.proc.poll() is not None:
        return {n: OutputFile(n, None, "not collected: the sandbox had already ended")
                for n in outputs}
    for target in _descendants(pid):
        try:
            os.kill(target, signal.SIGSTOP)
        except (ProcessLookupError, PermissionError):
            continue
    root = Path(f"/proc/{pid}/root{WORKDIR}")
    if not os.access(root, os.R_OK | os.X_OK):
        return {n: OutputFile(n, None, "not collected: the sandbox's files are not "
                              "readable from the host") for n in outputs}
    return {n: read_file_nofollow(root, n, max_bytes) for n in outputs}


class BwrapBackend:
    """Runs sandboxes with bubblewrap over a root filesystem (the exported sandbox image)."""

    name = "bwrap"
    weaker_isolation = WEAKER_ISOLATION

    def __init__(self, rootfs: Path, *, bwrap: str = "bwrap") -> None:
        self.rootfs = rootfs
        self.bwrap = shutil.which(bwrap) or bwrap
        # As root, each sandbox runs as its own unprivileged host uid: rlimits bind,
        # RLIMIT_NPROC counts only that sandbox's processes (not every uid-10001
        # process on the host), and a namespace escape lands on a user owning nothing.
        self._as_root = os.geteuid() == 0
        self._uid_lock = threading.Lock()
        self._uid_next = random.randrange(HOST_UID_SPAN)

    def _host_uid(self) -> int | None:
        if not self._as_root:
            return None
        with self._uid_lock:
            self._uid_next = (self._uid_next + 1) % HOST_UID_SPAN
            return HOST_UID_BASE + self._uid_next

    def available(self) -> str | None:
        """None when usable, else why not (then nothing may run: no isolation)."""
        if shutil.which(self.bwrap) is None:
            return "bubblewrap (bwrap) is not installed"
        if not (self.rootfs / "usr").is_dir():
            return f"sandbox root filesystem {self.rootfs} is missing"
        probe = self._popen(["true"], SandboxLimits(), binds=[], stdin=subprocess.DEVNULL).proc
        try:
            _, err = probe.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            probe.kill()
            return "bwrap did not start in 20 s"
        if probe.returncode != 0:
            return f"bwrap cannot create namespaces: {err.decode(errors='replace').strip()}"
        return None

    def require(self) -> None:
        reason = self.available()
        if reason is not None:
            raise NoIsolation(f"refusing to run untrusted code without isolation: {reason}")

    def _argv(self, command: Sequence[str], limits: SandboxLimits,
              binds: Sequence[tuple[str, Path, bool]]) -> list[str]:
        argv = [self.bwrap, "--unshare-all", "--die-with-parent", "--new-session",
                "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
                "--hostname", "sandbox", "--cap-drop", "ALL", "--clearenv"]
        for name in _ROOT_DIRS:
            src = self.rootfs / name
            if src.is_symlink():
                argv += ["--symlink", os.readlink(src), f"/{name}"]
            elif src.is_dir():
                argv += ["--ro-bind", str(src), f"/{name}"]
        size = str(limits.tmpfs_mib * 1024 * 1024)
        argv += ["--proc", "/proc", "--dev", "/dev",
                 "--size", size, "--tmpfs", WORKDIR, "--size", size, "--tmpfs", "/tmp",
                 "--size", str(limits.shm_mib * 1024 * 1024), "--tmpfs", "/dev/shm",
                 "--dir", "/run"]
        for dest, src, writable in binds:
            argv += ["--bind" if writable else "--ro-bind", str(src), dest]
        argv += ["--remount-ro", "/"]
        for key, value in {**BASE_ENV, "MALLOC_ARENA_MAX": "2"}.items():
            argv += ["--setenv", key, value]
        argv += ["--chdir", WORKDIR, "--", *command]
        return argv

    def _popen(self, command: Sequence[str], limits: SandboxLimits,
               binds: Sequence[tuple[str, Path, bool]], stdin: Any,
               output: Any = subprocess.PIPE, extra_fds: tuple[int, ...] = ()) -> BwrapProcess:
        uid = self._host_uid()
        read_fd, write_fd = os.pipe()
        argv = self._argv(command, limits, binds)
        argv[1:1] = ["--info-fd", str(write_fd)]
        try:
            # --die-with-parent is tied to the *thread* that forks: fork from one
            # long-lived thread, or a pool's short-lived starter thread kills its kernel.
            proc = _SPAWNER.submit(
                subprocess.Popen, argv, stdin=stdin, stdout=output, stderr=output,
                env={"PATH": "/usr/bin:/bin"}, close_fds=True, pass_fds=(write_fd, *extra_fds),
                preexec_fn=lambda: _preexec(limits, uid),
            ).result()
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        return BwrapProcess(proc, read_fd)

    def run(
        self, command: Sequence[str], *, limits: SandboxLimits, files: Mapping[str, bytes] = {},
        stdin: bytes = b"", outputs: Sequence[str] = (), output_file_bytes: int = 1024 * 1024,
    ) -> RunResult:
        """Run one command in a fresh bwrap sandbox."""
        self.require_cached()
        host_dir = Path(tempfile.mkdtemp(prefix="burnin-bwrap-"))
        started = time.monotonic()
        try:
            os.chmod(host_dir, 0o755)
            inputs = host_dir / "input"
            inputs.mkdir(mode=0o755)
            write_tree(inputs, files)
            (host_dir / "stdin").write_bytes(stdin)
            binds = [("/input", inputs, False), ("/run/stdin", host_dir / "stdin", False)]
            script = 'cp -R /input/. /work/ && cd /work && "$@" </run/stdin'
            out_r: int | None = None
            out_w: int | None = None
            if outputs:
                # Requested files leave as a tar stream on a pipe the command itself does
                # not hold (fd closed for it); the host parses it as data with caps. No
                # host directory is ever writable by the sandbox.
                names = [str(check_relpath(name)) for name in outputs]
                (host_dir / "outputs").write_bytes(b"\0".join(n.encode() for n in names))
                binds.append(("/run/outputs", host_dir / "outputs", False))
                out_r, out_w = os.pipe()
                # bash, not dash: dash cannot name file descriptors above 9.
                script = (f"exec 3>&{out_w} {out_w}>&-; {script} 3>&-; rc=$?; cd /work && "
                          "tar --no-recursion --ignore-failed-read --null -T /run/outputs "
                          "-cf - >&3 2>/dev/null; exit $rc")
            cmd = ["/bin/bash" if outputs else "/bin/sh", "-c", script, "sh", *command]
            try:
                host = self._popen(cmd, limits, binds, stdin=subprocess.DEVNULL,
                                   extra_fds=() if out_w is None else (out_w,))
            finally:
                if out_w is not None:
                    os.close(out_w)
            try:
                return self._communicate(host, limits, started, out_r, outputs,
                                         output_file_bytes)
            finally:
                if out_r is not None:
                    os.close(out_r)
        except OSError as exc:
            return RunResult(RunStatus.INFRA_ERROR, None, "", "", False,
                             time.monotonic() - started, detail=f"{type(exc).__name__}: {exc}")
        finally:
            shutil.rmtree(host_dir, ignore_errors=True)

    async def arun(self, command: Sequence[str], **kwargs: Any) -> RunResult:
        return await anyio.to_thread.run_sync(lambda: self.run(command, **kwargs))

    _checked: bool = False

    def require_cached(self) -> None:
        if not self._checked:
            self.require()
            self._checked = True

    def _communicate(self, host: BwrapProcess, limits: SandboxLimits,
                     started: float, out_fd: int | None, outputs: Sequence[str],
                     output_file_bytes: int) -> RunResult:
        proc = host.proc
        out = CappedOutput(limits.output_bytes)
        tar = CappedOutput(len(outputs) * (output_file_bytes + 4096) + 10240)
        sel = selectors.DefaultSelector()
        streams: dict[Any, str] = {}
        assert proc.stdout is not None and proc.stderr is not None
        for stream, name in ((proc.stdout, "stdout"), (proc.stderr, "stderr")):
            sel.register(stream, selectors.EVENT_READ)
            streams[stream] = name
        if out_fd is not None:
            sel.register(out_fd, selectors.EVENT_READ)
            streams[out_fd] = "tar"
        deadline = started + limits.wall_s
        timed_out = cut = False
        while streams:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            for key, _ in sel.select(min(left, 0.5)):
                fileobj: Any = key.fileobj
                fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
                chunk = os.read(fd, 65536)
                if not chunk:
                    sel.unregister(fileobj)
                    streams.pop(fileobj)
                elif streams[fileobj] == "tar":
                    tar.add("stdout", chunk)  # past its cap the rest is dropped
                elif not out.add(streams[fileobj], chunk):
                    cut = True
            if cut:
                break
        salvaged: dict[str, OutputFile] = {}
        if timed_out and outputs:
            salvaged = _salvage(host, outputs, output_file_bytes)
        if timed_out or cut:
            host.destroy()
        else:
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                timed_out = True
            host.destroy()  # also kills daemons left in the sandbox's process group
        sel.close()
        wall = time.monotonic() - started
        code = proc.returncode
        stderr = out.text("stderr")
        if timed_out:
            status = RunStatus.TIMEOUT
        elif cut:
            status = RunStatus.OUTPUT_LIMIT
        elif code == 0:
            status = RunStatus.OK
        elif "MemoryError" in stderr[-2000:] or code in (-signal.SIGKILL, 137):
            status = RunStatus.MEMORY_LIMIT if "MemoryError" in stderr[-2000:] else RunStatus.ERROR
        else:
            status = RunStatus.ERROR
        if code is not None and code < 0:
            code = 128 - code
        files: dict[str, OutputFile] = salvaged
        if status not in (RunStatus.TIMEOUT, RunStatus.OUTPUT_LIMIT):
            files = files_from_tar(io.BytesIO(tar.raw("stdout")), list(outputs), "",
                                   output_file_bytes)
        return RunResult(status, None if (timed_out or cut) else code, out.text("stdout"),
                         stderr, out.truncated, wall, None, None, files)

    # -- kernels ------------------------------------------------------------
    def start_kernel_host(self, kernel_dir: Path, limits: SandboxLimits) -> BwrapProcess:
        from sandbox.kernel import ARTIFACTS_DIR, CONN_DIR, KERNEL_COMMAND, SOCK_DIR
        self.require_cached()
        binds = [(CONN_DIR, kernel_dir / "conn", False), (SOCK_DIR, kernel_dir / "sock", True),
                 (ARTIFACTS_DIR, kernel_dir / "artifacts", False)]
        # Kernel output reaches the client over zmq; the process's own stdio is discarded.
        return self._popen(KERNEL_COMMAND, limits, binds, stdin=subprocess.DEVNULL,
                           output=subprocess.DEVNULL)
