"""Labels that mark every container of ours, so a reaper can find leftovers."""

from __future__ import annotations

import os
import socket
import time

LABEL = "io.burnin.sandbox"
KIND = "io.burnin.kind"
OWNER = "io.burnin.owner"
CREATED = "io.burnin.created"


def owner_id() -> str:
    """Identifies this host process: host name and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def sandbox_labels(kind: str) -> dict[str, str]:
    return {LABEL: "1", KIND: kind, OWNER: owner_id(), CREATED: str(int(time.time()))}
