"""Running candidate code for the candidate: one-shot Run and per-scenario notebook kernels.

The sandbox package does the isolation; this keeps at most one kernel per (attempt, scenario),
at most MAX_KERNELS_PER_ATTEMPT per attempt, and one execution at a time per attempt, and
records each executed cell as a CellRun in a transaction of its own (no database
transaction is held while the sandbox runs)."""

from __future__ import annotations

import base64
import binascii
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import nh3
from sqlalchemy.orm import Session, sessionmaker

from sandbox.backend import Backend
from sandbox.pool import DEFAULT_PARALLEL_STARTS, KernelPool, WaitProgress
from sandbox.pool import Session as KernelSession
from server.config import Settings
from server.db import transaction
from server.errors import AppError
from server.models import CellRun, utcnow
from server.notebooks import repository
from server.notebooks.backend import kernel_limits, make_backend, run_limits
from server.notebooks.errors import KernelBusy, Unavailable

log = logging.getLogger("burnin.runs")
MAX_KERNELS_PER_ATTEMPT = 2
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
MAX_IMAGE_BYTES = 2 << 20
# A cell arriving at a node that never held this candidate's kernel, after cells ran
# elsewhere: in a scale-out deployment the node that held it stopped (nginx moved the
# candidate), or this node restarted. Either way the variables are gone; the UI says so.
ELSEWHERE = "the server process that ran your earlier cells stopped (restarted, or taken out " \
    "of service); this kernel is new"


class NotebookService:
    """The app's sandbox: one per app (app.state.notebooks), built from its Settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._backend: Backend | None = None
        self._pool: KernelPool | None = None
        self._reaper: Any = None
        self._lock = threading.Lock()
        self._sessions: OrderedDict[tuple[int, str], KernelSession] = OrderedDict()
        self._busy: set[int] = set()
        self._deaths: dict[tuple[int, str], str] = {}  # why a kernel died, for the next cell
        # Kernels this node closed on purpose: why (for the next cell), "" = nothing to say.
        self._closed: dict[tuple[int, str], str] = {}
        self.weaker_isolation = False
        self.unavailable_reason: str | None = None

    # -- lifecycle --------------------------------------------------------------------
    def backend(self) -> Backend:
        with self._lock:
            if self._backend is None and self.unavailable_reason is None:
                self._backend = self._make_backend()
            if self._backend is None:
                raise Unavailable(f"code execution is not available on this server: "
                                  f"{self.unavailable_reason}")
            return self._backend

    def _make_backend(self) -> Backend | None:
        from sandbox.backend import NoBackend
        from sandbox.docker_backend import DockerBackend

        try:
            backend = make_backend(self.settings)
        except NoBackend as exc:
            self.unavailable_reason = str(exc)
            log.warning("no sandbox backend", extra={"reason": str(exc)})
            return None
        self.weaker_isolation = bool(getattr(backend, "weaker_isolation", False))
        if self.weaker_isolation:
            log.warning("sandbox backend is bwrap: isolation is weaker than with Docker "
                        "(no cgroups; shared process limit); prefer a Docker engine")
        if isinstance(backend, DockerBackend):
            try:
                from sandbox.reaper import Reaper

                self._reaper = Reaper(backend.client).start()
            except Exception:  # the reaper is hygiene; runs still work without it
                log.exception("sandbox reaper did not start")
        return backend

    def start(self) -> None:
        """Warm the kernel pool in the background when configured to."""
        if self.settings.kernel_pool_size > 0:
            threading.Thread(target=self._warm, name="kernel-pool-warm", daemon=True).start()

    def _warm(self) -> None:
        try:
            self.pool()
        except AppError as exc:
            log.warning("kernel pool not started", extra={"reason": exc.message})

    def pool(self) -> KernelPool:
        backend = self.backend()
        with self._lock:
            if self._pool is None:
                self._pool = KernelPool(
                    backend, size=max(1, self.settings.kernel_pool_size),
                    limits=kernel_limits(self.settings), adaptive_starts=True,
                    min_parallel_starts=DEFAULT_PARALLEL_STARTS,
                    idle_timeout_s=self.settings.kernel_idle_s).start()
            return self._pool

    def close(self) -> None:
        with self._lock:
            sessions = list(self._sessions.values())
            self._sessions.clear()
            pool, self._pool = self._pool, None
            reaper, self._reaper = self._reaper, None
        for s in sessions:
            s.close("server stopping")
        if pool is not None:
            pool.close()
        if reaper is not None and hasattr(reaper, "stop"):
            reaper.stop()

    # -- one execution at a time per attempt --------------------------------------------
    def _claim(self, attempt_id: int) -> None:
        with self._lock:
            if attempt_id in self._busy:
                raise KernelBusy("something is still running; wait for it or interrupt it",
                                 retry_after_s=2)
            self._busy.add(attempt_id)

    def _free(self, attempt_id: int) -> None:
        with self._lock:
            self._busy.discard(attempt_id)

    # -- notebooks ----------------------------------------------------------------------
    def _session(self, attempt_id: int, scenario_id: str, artifacts: dict[str, bytes],
                 ran_before: Callable[[], bool] | None = None,
                 on_progress: Callable[[dict[str, Any]], None] | None = None,
                 ) -> tuple[KernelSession, str | None]:
        """The candidate's kernel for this scenario, and why a fresh one replaced a kernel
        that had died or was held by another node (None when the kernel is the one they
        had, or their first). ran_before: whether cells of theirs ran here before (stored)."""
        key = (attempt_id, scenario_id)
        replaced: str | None = None
        with self._lock:
            session = self._sessions.get(key)
            if session is not None and not session.dead:
                self._sessions.move_to_end(key)
                return session, None
            if session is not None:
                # A dead kernel is not left dead: the next cell gets a fresh one, and says so.
                self._sessions.pop(key, None)
                replaced = self._deaths.pop(key, None) or session.close_reason or \
                    "it was no longer running"
            closed = self._closed.pop(key, None)
        if session is not None:
            session.close("the kernel had died")
        elif closed is not None:
            replaced = closed or None
        elif ran_before is not None and ran_before():
            replaced = ELSEWHERE
        pool = self.pool()

        def on_wait(p: WaitProgress) -> None:
            if on_progress is not None:
                on_progress({"position": p.position, "eta_s": p.eta_s, "state": p.state})

        session = pool.acquire(timeout_s=90, artifacts=artifacts, on_wait=on_wait)
        evicted = []
        with self._lock:
            self._sessions[key] = session
            mine = [k for k in self._sessions if k[0] == attempt_id]
            while len(mine) > MAX_KERNELS_PER_ATTEMPT:
                old_key = mine.pop(0)
                evicted.append(self._sessions.pop(old_key))
                self._closed[old_key] = "it was stopped when you opened a notebook of " \
                    f"another scenario (at most {MAX_KERNELS_PER_ATTEMPT} at once)"
        for old in evicted:
            old.close("the candidate opened another scenario's notebook")
        return session, replaced

    def execute(self, attempt_id: int, scenario_id: str, artifacts: dict[str, bytes],
                code: str, on_output: Callable[[dict[str, Any]], None] | None = None,
                ran_before: Callable[[], bool] | None = None,
                on_progress: Callable[[dict[str, Any]], None] | None = None,
                ) -> dict[str, Any]:
        """Run a cell; each output, made safe, goes to on_output as it arrives. While the
        candidate waits for a kernel, on_progress gets {"position", "eta_s", "state"}."""
        self._claim(attempt_id)

        def forward(raw: dict[str, Any]) -> None:
            clean = clean_output(raw)
            if clean and on_output is not None:
                on_output(clean)

        try:
            kernel, replaced = self._session(attempt_id, scenario_id, artifacts, ran_before,
                                             on_progress)
            result = kernel.execute(code, timeout_s=self.settings.cell_timeout_s,
                                     on_output=forward)
            status, detail = result.status, result.detail
            if status not in ("dead", "process_limit") and kernel.dead:
                # The cell "finished" but took its kernel with it (a fork bomb, the OOM
                # killer): that is not a success, whatever the last message said.
                status = "dead"
                detail = "the kernel died while this cell ran (killed, out of memory, or " \
                         "too many processes)"
            if status in ("dead", "process_limit"):
                with self._lock:
                    self._deaths[(attempt_id, scenario_id)] = detail or "the kernel died"
        finally:
            self._free(attempt_id)
        return {"status": status, "execution_count": result.execution_count,
                "truncated": result.truncated, "detail": detail, "kernel_restarted": replaced,
                "outputs": [o for o in (clean_output(x) for x in result.outputs) if o]}

    def execute_and_record(self, factory: sessionmaker[Session], attempt_id: int,
                           scenario_id: str, artifacts: dict[str, bytes], code: str,
                           on_output: Callable[[dict[str, Any]], None] | None = None,
                           on_progress: Callable[[dict[str, Any]], None] | None = None,
                           ) -> dict[str, Any]:
        """execute(), then store the cell, its outputs and timing as a CellRun in its own
        transaction; the result carries the CellRun's id and duration."""
        started = utcnow()

        def ran_before() -> bool:
            with transaction(factory) as session:
                return repository.has_cell_runs(session, attempt_id, scenario_id)

        result = self.execute(attempt_id, scenario_id, artifacts, code, on_output, ran_before,
                              on_progress)
        with transaction(factory) as session:
            cell = repository.add_cell_run(
                session, attempt_id=attempt_id, scenario_id=scenario_id, code=code,
                outputs=result["outputs"], status=result["status"],
                execution_count=result["execution_count"], started_at=started,
                finished_at=utcnow(), detail=result["detail"] or None,
                kernel_restarted=result["kernel_restarted"])
            finished = cell.finished_at or utcnow()
            return {**result, "id": cell.id, "duration_ms": round(
                (finished - started).total_seconds() * 1000)}

    def interrupt(self, attempt_id: int, scenario_id: str) -> None:
        with self._lock:
            session = self._sessions.get((attempt_id, scenario_id))
        if session is not None and not session.closed:
            session.interrupt()

    def restart(self, attempt_id: int, scenario_id: str) -> None:
        with self._lock:
            session = self._sessions.pop((attempt_id, scenario_id), None)
            self._deaths.pop((attempt_id, scenario_id), None)
            self._closed[(attempt_id, scenario_id)] = ""  # they asked for it: no note
        if session is not None:
            session.close("restarted by the candidate")  # a new sandbox on next execute

    def kernels(self, attempt_id: int) -> list[KernelSession]:
        """The attempt's kernels that are still open."""
        with self._lock:
            return [s for k, s in self._sessions.items() if k[0] == attempt_id and not s.closed]

    def close_attempt(self, attempt_id: int) -> None:
        with self._lock:
            keys = [k for k in self._sessions if k[0] == attempt_id]
            sessions = [self._sessions.pop(k) for k in keys]
            for k in [k for k in self._closed if k[0] == attempt_id]:
                del self._closed[k]
        for s in sessions:
            s.close("attempt submitted")

    # -- one-shot Run -------------------------------------------------------------------
    def run(self, attempt_id: int, files: dict[str, bytes], command: list[str]) -> dict[str, Any]:
        backend = self.backend()
        self._claim(attempt_id)
        try:
            result = backend.run(command, limits=run_limits(self.settings),
                                 files=files, stdin=b"")
        finally:
            self._free(attempt_id)
        return {"status": str(getattr(result.status, "value", result.status)),
                "exit_code": result.exit_code,
                "stdout": result.stdout, "stderr": result.stderr,
                "truncated": result.truncated, "wall_s": round(result.wall_s, 3)}


def cell_runs(session: Session, attempt_id: int, scenario_id: str | None = None) -> list[CellRun]:
    """The attempt's recorded cells in the order they ran (one scenario's, if given)."""
    return repository.cell_runs(session, attempt_id, scenario_id)


def clean_output(out: dict[str, Any]) -> dict[str, Any] | None:
    """A kernel output made safe to show: HTML sanitized, images checked, ANSI stripped."""
    kind = out.get("output_type")
    if kind == "stream":
        return {"type": "stream", "name": out.get("name", "stdout"),
                "text": ANSI.sub("", str(out.get("text", "")))}
    if kind == "error":
        return {"type": "error", "ename": str(out.get("ename", "")),
                "evalue": str(out.get("evalue", "")),
                "traceback": ANSI.sub("", "\n".join(map(str, out.get("traceback", []))))}
    if kind in ("execute_result", "display_data"):
        data = out.get("data", {})
        item: dict[str, Any] = {"type": "result", "text": str(data.get("text/plain", ""))}
        if "text/html" in data:
            item["html"] = nh3.clean(str(data["text/html"]))
        png = data.get("image/png")
        if isinstance(png, str) and len(png) < MAX_IMAGE_BYTES * 4 // 3:
            try:
                raw = base64.b64decode(png, validate=True)
                if raw.startswith(b"\x89PNG\r\n\x1a\n"):
                    item["png"] = png
            except (binascii.Error, ValueError):
                pass
        return item
    return None
