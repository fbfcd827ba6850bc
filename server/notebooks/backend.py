"""The one place the server turns Settings into sandbox objects: the backend (image, rootfs,
runtime) and the limits of a notebook kernel and of a one-shot Run. The sandbox library
reads no settings; the server, the workers and the CLI all build their backend here."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, cast

from sandbox.backend import Backend
from sandbox.limits import SandboxLimits
from server.config import Settings

Prefer = Literal["auto", "docker", "bwrap"]


def make_backend(settings: Settings, prefer: Prefer | None = None) -> Backend:
    """Docker where an engine answers, else bwrap (BURNIN_SANDBOX_IMAGE/_ROOTFS/_RUNTIME/
    _BACKEND); raises sandbox.backend.NoBackend rather than run without isolation."""
    from sandbox.backend import pick_backend
    from sandbox.image import image_tag, rootfs_dir

    image = settings.sandbox_image or image_tag()
    rootfs = settings.sandbox_rootfs or rootfs_dir(image)
    # Settings validates sandbox_backend against the same three names.
    choice = prefer or cast(Prefer, settings.sandbox_backend)
    return pick_backend(choice, image=image,
                        rootfs=Path(rootfs) if Path(rootfs).exists() else None,
                        runtime=settings.sandbox_runtime or None)


def kernel_limits(settings: Settings) -> SandboxLimits:
    """Limits of one candidate notebook kernel (BURNIN_CELL_TIMEOUT_S wall time and
    BURNIN_CELL_CPU_S CPU-seconds per cell)."""
    return SandboxLimits(wall_s=settings.cell_timeout_s, cpu_s=settings.cell_cpu_s)


def run_limits(settings: Settings) -> SandboxLimits:
    """Limits of one candidate Run of their code files (BURNIN_RUN_TIMEOUT_S)."""
    return SandboxLimits(wall_s=settings.run_timeout_s)
