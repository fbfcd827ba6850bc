"""Moving files across the sandbox boundary without trusting anything the sandbox wrote.

Rules: names are validated relative paths; the host never follows a link and never
opens a FIFO or device; every read is size-capped; archives are extracted to memory
with a total size cap, never onto the filesystem by a library that trusts entry names.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
import zipfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import IO

from sandbox.result import OutputFile


class UnsafePathError(ValueError):
    """A file name that would escape its directory or is otherwise unacceptable."""


class ArchiveError(ValueError):
    """An uploaded archive was rejected."""


MAX_NAME = 255
MAX_DEPTH = 16


def check_relpath(name: str) -> PurePosixPath:
    """Validate a sandbox-relative file name (no absolute, no '..', no NUL)."""
    if not name or "\x00" in name or "\\" in name:
        raise UnsafePathError(f"bad file name {name!r}")
    path = PurePosixPath(name)
    if path.is_absolute() or any(p in ("..", ".", "") for p in path.parts):
        raise UnsafePathError(f"file name must be relative without '..': {name!r}")
    if len(path.parts) > MAX_DEPTH or any(len(p) > MAX_NAME for p in path.parts):
        raise UnsafePathError(f"file name too deep or too long: {name!r}")
    return path


def write_tree(root: Path, files: Mapping[str, bytes], *, mode: int = 0o644) -> None:
    """Write files into a fresh directory the host just created (never into sandbox space)."""
    for name, data in files.items():
        rel = check_relpath(name)
        target = root.joinpath(*rel.parts)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)


def read_file_nofollow(root: Path, name: str, max_bytes: int) -> OutputFile:
    """Read root/name as data: no links followed at any level, regular files only, capped."""
    try:
        rel = check_relpath(name)
    except UnsafePathError as exc:
        return OutputFile(name, None, str(exc))
    flags_dir = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    fds: list[int] = []
    try:
        try:
            fd = os.open(root, flags_dir)
            fds.append(fd)
            for part in rel.parts[:-1]:
                fd = os.open(part, flags_dir, dir_fd=fd)
                fds.append(fd)
            # O_NONBLOCK: a FIFO planted here must not hang the host.
            fd = os.open(rel.parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
                         | os.O_CLOEXEC | os.O_NOCTTY, dir_fd=fd)
            fds.append(fd)
        except FileNotFoundError:
            return OutputFile(name, None, "missing")
        except OSError as exc:
            return OutputFile(name, None, f"refused: {exc.strerror} (link or not a directory)")
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return OutputFile(name, None, "not a regular file")
        if info.st_size > max_bytes:
            return OutputFile(name, None, f"too large ({info.st_size} > {max_bytes} bytes)")
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(fd, min(65536, max_bytes + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:
                return OutputFile(name, None, f"too large (> {max_bytes} bytes)")
        return OutputFile(name, b"".join(chunks))
    finally:
        for opened in reversed(fds):
            os.close(opened)


def files_from_tar(
    stream: IO[bytes], wanted: list[str], root: str, max_bytes: int
) -> dict[str, OutputFile]:
    """Pick requested files out of a tar stream produced inside the sandbox.

    Members that are links, devices or FIFOs are refused; sizes are capped.
    """
    found: dict[str, OutputFile] = {}
    want = {str(check_relpath(w)): w for w in wanted}
    prefix = root.strip("/")
    try:
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                name = member.name.removeprefix("./")
                if prefix and name.startswith(prefix + "/"):
                    name = name[len(prefix) + 1:]
                if name not in want:
                    continue
                original = want[name]
                if not member.isreg():
                    found[original] = OutputFile(original, None, "not a regular file")
                elif member.size > max_bytes:
                    found[original] = OutputFile(
                        original, None, f"too large ({member.size} > {max_bytes} bytes)")
                else:
                    fh = tar.extractfile(member)
                    data = fh.read(max_bytes + 1) if fh else b""
                    if len(data) != member.size:
                        raise tarfile.ReadError("member cut short")
                    found[original] = OutputFile(original, data)
    except (tarfile.TarError, OSError) as exc:
        # A cut or garbled stream: what was read so far stands, the rest is unreadable.
        for name in wanted:
            found.setdefault(name, OutputFile(name, None, f"unreadable: {exc}"))
    for name in wanted:
        found.setdefault(name, OutputFile(name, None, "missing"))
    return found


def extract_archive(
    data: bytes, *, max_total_bytes: int, max_files: int = 1000
) -> dict[str, bytes]:
    """Unpack an uploaded zip or tar into memory; reject traversal, links and bombs."""
    if len(data) > max_total_bytes:
        raise ArchiveError("archive larger than the size cap")
    out: dict[str, bytes] = {}
    total = 0

    def add(name: str, read: int, content: bytes) -> None:
        nonlocal total
        try:
            rel = check_relpath(name.rstrip("/"))
        except UnsafePathError as exc:
            raise ArchiveError(str(exc)) from exc
        total += len(content)
        if total > max_total_bytes or len(content) > read:
            raise ArchiveError("archive expands beyond the size cap")
        if len(out) >= max_files:
            raise ArchiveError("archive has too many files")
        out[str(rel)] = content

    buf = io.BytesIO(data)
    if zipfile.is_zipfile(buf):
        with zipfile.ZipFile(buf) as zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                kind = (info.external_attr >> 16) & 0o170000
                if kind and kind != stat.S_IFREG:
                    raise ArchiveError(f"{info.filename!r} is not a regular file")
                room = max_total_bytes - total
                with zf.open(info) as fh:
                    content = fh.read(room + 1)
                if len(content) > room:
                    raise ArchiveError("archive expands beyond the size cap")
                add(info.filename, room, content)
        return out
    buf.seek(0)
    try:
        with tarfile.open(fileobj=buf, mode="r:*") as tar:
            for member in tar:
                if member.isdir():
                    continue
                if not member.isreg():
                    raise ArchiveError(f"{member.name!r} is not a regular file")
                room = max_total_bytes - total
                if member.size > room:
                    raise ArchiveError("archive expands beyond the size cap")
                extracted = tar.extractfile(member)
                content = extracted.read(room + 1) if extracted else b""
                add(member.name, room, content)
    except tarfile.TarError as exc:
        raise ArchiveError(f"not a zip or tar archive: {exc}") from exc
    return out
