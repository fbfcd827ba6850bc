"""Remove sandboxes of ours that a crash left behind."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

import docker  # type: ignore[import-untyped]
import docker.errors  # type: ignore[import-untyped]

from sandbox.labels import CREATED, LABEL, OWNER

log = logging.getLogger(__name__)


def _owner_gone(owner: str) -> bool:
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname():
        return False  # another worker's; only max_age_s may remove it
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError):
        return False
    return False


def reap(client: docker.DockerClient, *, max_age_s: float | None = None,
         everything: bool = False) -> list[str]:
    """Remove labelled containers whose owning process is gone (or older than max_age_s).

    everything=True removes all of ours regardless of owner (operator command, tests).
    """
    removed: list[str] = []
    now = time.time()
    for container in client.containers.list(all=True, filters={"label": f"{LABEL}=1"}):
        labels = container.labels or {}
        try:
            age = now - float(labels.get(CREATED, "0"))
        except ValueError:
            age = float("inf")
        stale = everything or _owner_gone(labels.get(OWNER, "")) or (
            max_age_s is not None and age > max_age_s)
        if not stale:
            continue
        try:
            container.remove(force=True, v=True)
            removed.append(container.id)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            log.warning("could not remove sandbox %s: %s", container.short_id, exc)
    return removed


class Reaper:
    """Reaps once at start, then every interval_s in a daemon thread."""

    def __init__(self, client: docker.DockerClient, *, interval_s: float = 60.0,
                 max_age_s: float | None = 6 * 3600) -> None:
        self.client = client
        self.interval_s = interval_s
        self.max_age_s = max_age_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="burnin-reaper")

    def start(self) -> Reaper:
        reap(self.client, max_age_s=self.max_age_s)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                reap(self.client, max_age_s=self.max_age_s)
            except Exception as exc:  # noqa: BLE001 - an engine restart must not end the loop
                log.warning("reaper: %s", exc)
