"""The sandbox backend the settings name: one place that resolves image, rootfs and runtime
for the server, the workers and the CLI (the sandbox library itself reads no settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from server.config import Settings


def make_backend(settings: Settings, prefer: str | None = None) -> Any:
    """Docker where an engine answers, else bwrap (BURNIN_SANDBOX_IMAGE/_ROOTFS/_RUNTIME/
    _BACKEND); raises sandbox.backend.NoBackend rather than run without isolation."""
    from sandbox.backend import pick_backend
    from sandbox.image import image_tag, rootfs_dir

    image = settings.sandbox_image or image_tag()
    rootfs = settings.sandbox_rootfs or rootfs_dir(image)
    return pick_backend(prefer or settings.sandbox_backend,  # type: ignore[arg-type]
                        image=image, rootfs=rootfs if Path(rootfs).exists() else None,
                        runtime=settings.sandbox_runtime or None)
