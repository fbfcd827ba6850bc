"""A Jupyter kernel inside a sandbox, reached over IPC sockets in a per-kernel directory.

The host writes the connection file (read-only to the sandbox) and never reads it back.
Once the kernel has bound its sockets, the host checks each is a socket and not a link,
then makes the directory unwritable for the sandbox so nothing can be swapped in later.
"""

from __future__ import annotations

import json
import os
import queue
import re
import secrets
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import nbformat
import zmq
from jupyter_client.blocking.client import BlockingKernelClient

from sandbox.files import write_tree
from sandbox.limits import SandboxLimits

CONN_DIR = "/run/kernel-conn"
SOCK_DIR = "/run/kernel"
ARTIFACTS_DIR = "/artifacts"
_CHANNELS = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
KERNEL_COMMAND = [
    "python", "-m", "ipykernel_launcher", "-f", f"{CONN_DIR}/kernel.json",
    "--HistoryManager.enabled=False", "--IPKernelApp.no_stderr=False",
]

CellStatus = Literal["ok", "error", "timeout", "dead", "output_limit", "process_limit"]

# ZeroMQ drops (and counts as a protocol error) any single message part above this, before
# it is read into the host's memory. Larger than any output a cell may keep (output_bytes
# is at most 64 MiB of JSON in total), small enough that one message cannot hurt the host.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024
# After the shell's execute_reply, how long iopub may stay quiet before the cell is taken as
# over without its idle status (the iopub connection lost it).
REPLY_GRACE_S = 2.0


class KernelError(RuntimeError):
    """The kernel could not be started or reached."""


class KernelHost(Protocol):
    """The sandbox a kernel process lives in (a container, a bwrap process)."""

    def alive(self) -> bool: ...
    def interrupt(self) -> None:
        """Deliver SIGINT to the kernel; NotImplementedError if this host cannot."""
        ...
    def destroy(self) -> None: ...
    def cpu_seconds(self) -> float | None:
        """CPU seconds used by everything in the sandbox so far; None if unknown."""
        ...


class KernelBackend(Protocol):
    name: str

    def start_kernel_host(self, kernel_dir: Path, limits: SandboxLimits) -> KernelHost:
        """Start the kernel with kernel_dir/{conn,sock,artifacts} mounted at their places."""
        ...


@dataclass
class CellResult:
    status: CellStatus
    outputs: list[dict[str, Any]] = field(default_factory=list)
    execution_count: int | None = None
    truncated: bool = False
    detail: str = ""
    malformed_messages: int = 0

    def text(self) -> str:
        """Stream text and plain-text results joined, for terminals and tests."""
        parts: list[str] = []
        for out in self.outputs:
            if out["output_type"] == "stream":
                parts.append(out["text"])
            elif out["output_type"] in ("execute_result", "display_data"):
                parts.append(str(out["data"].get("text/plain", "")) + "\n")
            elif out["output_type"] == "error":
                parts.append(f"{out['ename']}: {out['evalue']}\n")
        return "".join(parts)


OutputCallback = Callable[[dict[str, Any]], None]


def _is_socket_not_link(path: Path) -> bool:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    return stat.S_ISSOCK(info.st_mode)


class Kernel:
    """One kernel in one sandbox; not shared between candidates."""

    def __init__(self, backend: KernelBackend, limits: SandboxLimits, *,
                 start_timeout_s: float = 60.0) -> None:
        self.limits = limits
        self.dir = Path(tempfile.mkdtemp(prefix="burnin-kernel-"))
        self.host: KernelHost | None = None
        self.client: BlockingKernelClient | None = None
        self.dead = False
        self._lock = threading.Lock()
        self._last_alive_check = 0.0
        try:
            self._start(backend, start_timeout_s)
        except BaseException:
            self.shutdown()
            raise

    def _start(self, backend: KernelBackend, timeout_s: float) -> None:
        conn, sock, artifacts = (self.dir / n for n in ("conn", "sock", "artifacts"))
        for d in (conn, artifacts):
            d.mkdir(mode=0o755)
        sock.mkdir()
        os.chmod(sock, 0o777)  # the sandbox user binds its sockets here, then we lock it
        os.chmod(self.dir, 0o755)
        key = secrets.token_hex(32)
        info: dict[str, Any] = {
            "transport": "ipc", "ip": f"{SOCK_DIR}/k", "key": key,
            "signature_scheme": "hmac-sha256", "kernel_name": "python3",
            **{name: i + 1 for i, name in enumerate(_CHANNELS)},
        }
        fd = os.open(conn / "kernel.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "w") as fh:
            json.dump(info, fh)
        # The process-lifetime CPU rlimit is the session budget; each cell's own CPU limit
        # is enforced by execute() from the sandbox's counters, interrupting the cell only.
        self.host = backend.start_kernel_host(
            self.dir, self.limits.replace(cpu_s=min(self.limits.session_cpu_s, 6 * 3600)))
        deadline = time.monotonic() + timeout_s
        paths = [sock / f"k-{i + 1}" for i in range(len(_CHANNELS))]
        next_check = time.monotonic() + 0.5
        while not all(_is_socket_not_link(p) for p in paths):
            now = time.monotonic()
            if now > deadline:
                raise KernelError("kernel did not bind its sockets in time")
            if now > next_check:
                next_check = now + 0.5
                if not self.host.alive():
                    raise KernelError("kernel sandbox exited during start")
            time.sleep(0.01)
        # From here on the sandbox cannot add, remove or replace entries in sock/.
        os.chmod(sock, 0o755)
        if os.geteuid() == 0:
            os.chown(sock, 0, 0)
        if not all(_is_socket_not_link(p) for p in paths):
            raise KernelError("kernel socket replaced by something that is not a socket")
        client = BlockingKernelClient()
        # A private context whose sockets all refuse oversized messages on the wire.
        client.context = zmq.Context()
        client.context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        host_info: Any = {**info, "ip": str(sock / "k")}
        client.load_connection_info(host_info)
        client.start_channels()
        self.client = client
        try:
            client.wait_for_ready(timeout=max(deadline - time.monotonic(), 1.0))
        except RuntimeError as exc:
            raise KernelError(f"kernel did not answer: {exc}") from exc

    def write_artifacts(self, files: Mapping[str, bytes]) -> None:
        """Put read-only files at /artifacts (the host writes; the sandbox mounts it read-only)."""
        write_tree(self.dir / "artifacts", files)

    def alive(self) -> bool:
        if self.dead or self.host is None:
            return False
        if not self.host.alive():
            self.dead = True
        return not self.dead

    def execute(self, code: str, *, timeout_s: float, output_bytes: int,
                on_output: OutputCallback | None = None) -> CellResult:
        """Run one cell; stream outputs to on_output; never wait past timeout_s (+ a grace)."""
        with self._lock:
            return self._execute(code, timeout_s, output_bytes, on_output)

    def _execute(self, code: str, timeout_s: float, output_bytes: int,
                 on_output: OutputCallback | None) -> CellResult:
        if self.client is None or not self.alive():
            return CellResult("dead", detail="kernel is not running")
        client = self.client
        msg_id = client.execute(code, store_history=True, allow_stdin=False)
        result = CellResult("ok")
        size = 0
        deadline = time.monotonic() + timeout_s
        interrupted_at: float | None = None
        cpu_start = self._cpu_seconds()
        pids_start = self._pids_limit_hits()
        next_cpu_check = time.monotonic() + 0.5
        replied_at: float | None = None
        while True:
            now = time.monotonic()
            if interrupted_at is None and now > deadline:
                result.status = "timeout"
                result.detail = f"cell ran longer than {timeout_s:g} s"
                self.interrupt()
                interrupted_at = now
            if interrupted_at is None and now > next_cpu_check:
                next_cpu_check = now + 0.5
                if self._stopped_at_process_limit(pids_start, result):
                    break
                used = self._cpu_seconds() if cpu_start is not None else None
                if used is not None and used > self.limits.session_cpu_s:
                    self.kill()
                    result.status = "dead"
                    result.detail = (f"the notebook used its {self.limits.session_cpu_s} "
                                     "CPU-second budget; restart the kernel to continue")
                    break
                if used is not None and cpu_start is not None and \
                        used - cpu_start > self.limits.cpu_s:
                    result.status = "timeout"
                    result.detail = (f"cell used more than its {self.limits.cpu_s} "
                                     "CPU-second limit and was interrupted")
                    self.interrupt()
                    interrupted_at = now
            if interrupted_at is not None and now - interrupted_at > 5.0:
                # The kernel ignored SIGINT (e.g. a C loop with signals masked): it is lost.
                self.kill()
                result.detail = "kernel did not stop after interrupt; killed"
                break
            try:
                msg = client.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                # The idle status normally ends a cell. When the iopub connection dropped a
                # message (one over the socket's size cap makes ZeroMQ drop the connection,
                # and what follows is lost until it reconnects), the shell's execute_reply
                # still says the cell is over: after REPLY_GRACE_S of quiet iopub, stop.
                if replied_at is None and self._shell_reply(msg_id):
                    replied_at = now
                if replied_at is not None and now - replied_at > REPLY_GRACE_S:
                    note = ("the kernel's output channel lost messages (one over the size "
                            "cap); output may be missing")
                    result.detail = f"{result.detail}; {note}" if result.detail else note
                    self._reconnect_iopub()
                    break
                if now - self._last_alive_check > 1.0:
                    self._last_alive_check = now
                    if not self.alive():
                        result.status = "dead"
                        result.detail = "kernel died (killed, out of memory, or exited)"
                        break
                continue
            except Exception:  # noqa: BLE001 - bad signature, bad JSON, missing parts
                # The kernel is candidate code: whatever it sends is data, never a crash.
                result.malformed_messages += 1
                continue
            fields = _message_fields(msg)
            if fields is None:
                result.malformed_messages += 1
                continue
            parent_id, kind, content = fields
            if parent_id != msg_id:
                continue
            replied_at = None if replied_at is None else time.monotonic()  # still talking
            if kind == "status" and content.get("execution_state") == "idle":
                break
            if kind == "execute_input":
                count = content.get("execution_count")
                if isinstance(count, int) and not isinstance(count, bool):
                    result.execution_count = count
                continue
            out = _to_output(kind, content)
            if out is None:
                if kind in _OUTPUT_KINDS:
                    result.malformed_messages += 1
                continue
            if result.truncated:
                continue
            size += len(json.dumps(out))
            if size > output_bytes:
                result.truncated = True
                if result.status == "ok":
                    result.status = "output_limit"
                    self.interrupt()
                    interrupted_at = time.monotonic()
                marker = {"output_type": "stream", "name": "stderr",
                          "text": "\n[output truncated: cell output limit reached]\n"}
                result.outputs.append(marker)
                if on_output:
                    on_output(marker)
                continue
            if kind == "error" and result.status == "ok":
                result.status = "error"
            result.outputs.append(out)
            if on_output:
                on_output(out)
        # A fork bomb can finish its cell before the first check and leave its processes
        # spinning: the counter is read once more when the cell is over.
        if not self.dead:
            self._stopped_at_process_limit(pids_start, result)
        if not self.dead:
            self._drain_shell()
        if result.malformed_messages:
            note = (f"{result.malformed_messages} malformed message(s) from the kernel "
                    "were ignored")
            result.detail = f"{result.detail}; {note}" if result.detail else note
        return result

    def _reconnect_iopub(self, timeout_s: float = 5.0) -> bool:
        """Open a new iopub connection (ZeroMQ does not reconnect after the protocol error
        an oversized message causes) and wait until it carries the kernel's messages: a
        kernel_info request's status reaches it (a new subscription misses what was sent
        before it took effect). False if the kernel never answered on it."""
        client = self.client
        if client is None:
            return False
        client.iopub_channel.close()
        client._iopub_channel = None  # the property connects a fresh socket
        client.iopub_channel.start()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            request = client.kernel_info()
            wait_until = min(time.monotonic() + 0.5, deadline)
            while time.monotonic() < wait_until:
                try:
                    msg = client.get_iopub_msg(timeout=0.1)
                except queue.Empty:
                    continue
                except Exception:  # noqa: BLE001, S112 - hostile data, dropped
                    continue
                fields = _message_fields(msg)
                if fields is not None and fields[0] == request:
                    self._drain_shell()
                    return True
        return False

    def _shell_messages(self) -> Iterator[object]:
        """The messages waiting on the shell channel, read without blocking; a forged or
        malformed one is dropped like any other."""
        if self.client is None:  # killed while the cell ran
            return
        while True:
            try:
                yield self.client.get_shell_msg(timeout=0)
            except queue.Empty:
                return
            except Exception:  # noqa: BLE001, S112 - hostile data, dropped
                continue

    def _shell_reply(self, msg_id: str) -> bool:
        """Whether the shell channel holds the execute_reply to msg_id (what is read before
        it is dropped, as _drain_shell drops it)."""
        for msg in self._shell_messages():
            fields = _message_fields(msg)
            if fields is not None and fields[0] == msg_id and fields[1] == "execute_reply":
                return True
        return False

    def _drain_shell(self) -> None:
        for _ in self._shell_messages():
            pass

    def _stopped_at_process_limit(self, before: int | None, result: CellResult) -> bool:
        """Stop the kernel when a fork was refused at the pids limit since `before` (a
        fork bomb or a runaway pool, whose processes an interrupt would leave running)."""
        if before is None:
            return False
        hits = self._pids_limit_hits()
        if hits is None or hits <= before:
            return False
        self.kill()
        result.status = "process_limit"
        result.detail = (f"the cell started more processes than the sandbox allows "
                         f"({self.limits.pids}); the kernel was stopped and the next cell "
                         "starts a fresh one")
        return True

    def _pids_limit_hits(self) -> int | None:
        # Optional on a host: bwrap has no cgroup counter (RLIMIT_NPROC fails the fork).
        probe = getattr(self.host, "pids_limit_hits", None)
        if probe is None:
            return None
        try:
            value = probe()
        except OSError:
            return None
        return value if isinstance(value, int) else None

    def _cpu_seconds(self) -> float | None:
        if self.host is None:
            return None
        try:
            return self.host.cpu_seconds()
        except OSError:
            return None

    def interrupt(self) -> None:
        """SIGINT from outside where the host can; else ipykernel's interrupt_request."""
        if self.host is None:
            return
        try:
            self.host.interrupt()
        except NotImplementedError:
            if self.client is not None:
                msg = self.client.session.msg("interrupt_request", {})
                self.client.control_channel.send(msg)

    def kill(self) -> None:
        """Stop the sandbox at once; the kernel is dead afterwards."""
        self.dead = True
        if self.host is not None:
            self.host.destroy()

    def retire(self) -> None:
        """Mark the kernel unusable at once; shutdown() follows and does the slow part."""
        self.dead = True

    def shutdown(self) -> None:
        """Stop everything and remove the host directory."""
        self.dead = True
        if self.client is not None:
            self.client.stop_channels()
            self.client = None
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


_OUTPUT_KINDS = ("stream", "display_data", "execute_result", "error")
# C0 controls other than tab/newline/carriage return, DEL, and C1 controls; NUL included.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f\x80-\x9f]")
# Terminal escapes: OSC (title, hyperlinks, clipboard: ESC ] ... BEL or ST), DCS/PM/APC
# strings, and CSI sequences that are not colours. Colour (SGR, "ESC [ ... m") is kept: the
# page renders it and tracebacks use it.
_OSC_LIKE = re.compile(r"\x1b[\]P^_][^\x07\x1b]*(?:\x07|\x1b\\)?")
_CSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
_LONE_ESC = re.compile(r"\x1b(?![\[])")


def clean_text(value: object) -> str:
    """Text from the kernel made safe to store and show: no NUL, no terminal escapes but colour."""
    if not isinstance(value, str):
        return ""
    text = _OSC_LIKE.sub("", value)
    text = _CSI.sub(lambda m: m.group(0) if m.group(0).endswith("m") else "", text)
    text = _LONE_ESC.sub("", text)
    return _CONTROL.sub("", text)


def _message_fields(msg: object) -> tuple[str | None, str, dict[str, Any]] | None:
    """(parent msg_id, msg_type, content) of a well-formed message, else None."""
    if not isinstance(msg, dict):
        return None
    header, parent, content = msg.get("header"), msg.get("parent_header"), msg.get("content")
    kind = msg.get("msg_type", header.get("msg_type") if isinstance(header, dict) else None)
    if not isinstance(kind, str) or not isinstance(content, dict):
        return None
    parent_id = parent.get("msg_id") if isinstance(parent, dict) else None
    return (parent_id if isinstance(parent_id, str) else None), kind, content


def _mime_bundle(value: object) -> dict[str, Any] | None:
    """A display bundle of str keys to str / list-of-str / JSON values, or None."""
    if not isinstance(value, dict):
        return None
    bundle: dict[str, Any] = {}
    for mime, data in value.items():
        if not isinstance(mime, str):
            return None
        if isinstance(data, list):
            data = "".join(d for d in data if isinstance(d, str))
        if isinstance(data, str):
            bundle[mime] = clean_text(data) if mime.startswith("text/plain") else data
        elif mime.endswith("json") and isinstance(data, (dict, list, int, float, bool)):
            bundle[mime] = data
        else:
            return None
    return bundle


def _to_output(kind: str, content: dict[str, Any]) -> dict[str, Any] | None:
    """The nbformat output for one kernel message; None if it is not a valid output."""
    if kind == "stream":
        name, text = content.get("name"), content.get("text")
        if name not in ("stdout", "stderr") or not isinstance(text, str):
            return None
        return {"output_type": "stream", "name": name, "text": clean_text(text)}
    if kind in ("display_data", "execute_result"):
        data = _mime_bundle(content.get("data", {}))
        metadata = content.get("metadata", {})
        if data is None or not isinstance(metadata, dict):
            return None
        out: dict[str, Any] = {"output_type": kind, "data": data, "metadata": metadata}
        if kind == "execute_result":
            count = content.get("execution_count")
            out["execution_count"] = count if isinstance(count, int) and not isinstance(
                count, bool) else None
        return out
    if kind == "error":
        traceback = content.get("traceback", [])
        if not isinstance(traceback, list):
            return None
        return {"output_type": "error", "ename": clean_text(content.get("ename", "")),
                "evalue": clean_text(content.get("evalue", "")),
                "traceback": [clean_text(line) for line in traceback]}
    return None


def notebook_json(cells: list[tuple[str, CellResult]]) -> str:
    """The cells run so far as an .ipynb document."""
    nb = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    for code, res in cells:
        cell = nbformat.v4.new_code_cell(code, execution_count=res.execution_count)  # type: ignore[no-untyped-call]
        cell.outputs = [nbformat.from_dict(o) for o in res.outputs]  # type: ignore[no-untyped-call]
        nb.cells.append(cell)
    nbformat.validate(nb)
    return str(nbformat.writes(nb))  # type: ignore[no-untyped-call]
