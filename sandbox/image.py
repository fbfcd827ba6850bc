"""Build the sandbox image offline: host-downloaded wheels, base image as a build argument."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker  # type: ignore[import-untyped]
import docker.errors  # type: ignore[import-untyped]

IMAGE_REPO = "burnin-sandbox"
DEFAULT_BASE = "burnin-base:bookworm"
CONTEXT_DIR = Path(__file__).parent / "image"
# Wheels must match the Python inside the base image (Debian bookworm: CPython 3.11).
_WHEEL_TARGET = [
    "--only-binary=:all:",
    "--platform", "manylinux2014_x86_64",
    "--platform", "manylinux_2_17_x86_64",
    "--platform", "manylinux_2_28_x86_64",
    "--python-version", "3.11",
    "--implementation", "cp",
    "--abi", "cp311", "--abi", "abi3", "--abi", "none",
]

Log = Callable[[str], None]


class ImageBuildError(RuntimeError):
    """The sandbox image could not be built."""


@dataclass(frozen=True)
class BuiltImage:
    tag: str
    input_hash: str
    reused: bool
    seconds: float


def input_hash(base: str, context: Path = CONTEXT_DIR) -> str:
    """Hash of everything that decides the image: Dockerfile, requirements, base tag."""
    digest = hashlib.sha256()
    digest.update(base.encode())
    for name in ("Dockerfile", "requirements.txt"):
        digest.update(name.encode() + b"\0" + (context / name).read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def image_tag(base: str = DEFAULT_BASE) -> str:
    """The tag the current inputs build to."""
    return f"{IMAGE_REPO}:{input_hash(base)}"


def _image_exists(client: docker.DockerClient, tag: str) -> bool:
    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


def make_debootstrap_base(
    client: docker.DockerClient, tag: str = DEFAULT_BASE, *, suite: str = "bookworm",
    mirror: str = "http://deb.debian.org/debian", log: Log = print,
) -> None:
    """Create a minimal Debian base with python3 via debootstrap and `docker import`."""
    if shutil.which("debootstrap") is None:
        raise ImageBuildError("debootstrap is not installed (apt-get install debootstrap)")
    with tempfile.TemporaryDirectory(prefix="burnin-rootfs-") as tmp:
        root = Path(tmp) / "rootfs"
        log(f"debootstrap {suite} from {mirror} (a few minutes)")
        cmd = ["debootstrap", "--variant=minbase", "--include=python3,python3-venv",
               suite, str(root), mirror]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise ImageBuildError(f"debootstrap failed:\n{proc.stderr[-4000:]}")
        for sub in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for item in (root / sub).glob("*.deb"):
                item.unlink()
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        assert tar.stdout is not None
        client.api.import_image_from_stream(tar.stdout, repository=tag.split(":")[0],
                                   tag=tag.split(":")[1] if ":" in tag else "latest")
        if tar.wait() != 0:
            raise ImageBuildError("tar of the debootstrap root failed")
    log(f"imported base image {tag}")


def download_wheels(context: Path = CONTEXT_DIR, *, log: Log = print) -> None:
    """Download the image's wheels on the host (uses the host's pip index settings)."""
    wheels = context / "wheels"
    wheels.mkdir(exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "-q", *_WHEEL_TARGET,
           "-d", str(wheels), "-r", str(context / "requirements.txt")]
    log("pip download wheels for the image")
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ImageBuildError(f"pip download failed:\n{proc.stderr[-4000:]}")


def build_image(
    client: docker.DockerClient, *, base: str = DEFAULT_BASE, force: bool = False,
    log: Log = print,
) -> BuiltImage:
    """Build (or reuse) the sandbox image tagged by the hash of its inputs."""
    started = time.monotonic()
    tag = image_tag(base)
    if not force and _image_exists(client, tag):
        client.images.get(tag).tag(IMAGE_REPO, "latest")
        return BuiltImage(tag, input_hash(base), True, time.monotonic() - started)
    if not _image_exists(client, base):
        if base != DEFAULT_BASE:
            raise ImageBuildError(f"base image {base} is not present and cannot be pulled here")
        make_debootstrap_base(client, base, log=log)
    download_wheels(log=log)
    log(f"docker build {tag} (base {base})")
    try:
        image, _ = client.images.build(
            path=str(CONTEXT_DIR), tag=tag, buildargs={"BASE": base}, rm=True,
            forcerm=True, pull=False, network_mode="none",
        )
    except docker.errors.BuildError as exc:
        tail = "".join(str(c.get("stream", c.get("error", ""))) for c in exc.build_log)[-4000:]
        raise ImageBuildError(f"docker build failed: {exc}\n{tail}") from exc
    image.tag(IMAGE_REPO, "latest")
    return BuiltImage(tag, input_hash(base), False, time.monotonic() - started)


def rootfs_dir(tag: str, parent: Path = Path("/var/lib/burnin/sandbox-rootfs")) -> Path:
    """Where the exported root filesystem of image `tag` lives (for the bwrap backend)."""
    return parent / tag.replace(":", "-").replace("/", "_")


def export_rootfs(client: docker.DockerClient, tag: str, dest: Path, *, log: Log = print) -> Path:
    """Unpack the image's filesystem into dest (idempotent), for the bwrap backend."""
    if (dest / ".complete").exists():
        return dest
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    container = client.containers.create(tag, command=["true"], network_disabled=True)
    try:
        log(f"exporting {tag} to {dest}")
        tar = subprocess.Popen(["tar", "-x", "-C", str(tmp)], stdin=subprocess.PIPE)
        assert tar.stdin is not None
        for chunk in container.export():
            tar.stdin.write(chunk)
        tar.stdin.close()
        if tar.wait() != 0:
            raise ImageBuildError("unpacking the image filesystem failed")
    finally:
        container.remove(force=True)
    os.chmod(tmp, 0o755)
    (tmp / ".complete").write_text(tag)
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return dest
