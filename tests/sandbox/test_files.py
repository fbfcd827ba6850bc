import io
import os
import tarfile
import threading
import zipfile
from pathlib import Path

import pytest

from sandbox.files import (
    ArchiveError,
    UnsafePathError,
    check_relpath,
    extract_archive,
    files_from_tar,
    read_file_nofollow,
    write_tree,
)


@pytest.mark.parametrize("name", ["/etc/passwd", "../x", "a/../../x", "", "a\x00b", "a\\b"])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(UnsafePathError):
        check_relpath(name)


def test_write_tree_writes_nested_files(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a/b.txt": b"x", "c": b"y"})
    assert (tmp_path / "a" / "b.txt").read_bytes() == b"x"
    with pytest.raises(UnsafePathError):
        write_tree(tmp_path, {"../escape": b"x"})
    assert not (tmp_path.parent / "escape").exists()


def test_write_tree_never_writes_through_a_planted_link(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_bytes(b"original")
    (tmp_path / "out").mkdir()
    os.symlink(target, tmp_path / "out" / "f")
    with pytest.raises(OSError):
        write_tree(tmp_path / "out", {"f": b"overwritten"})
    assert target.read_bytes() == b"original"


def test_read_refuses_symlinks_at_the_leaf_and_in_directories(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("host secret")
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(secret, root / "result.json")
    os.symlink(tmp_path, root / "dir")
    assert read_file_nofollow(root, "result.json", 100).data is None
    got = read_file_nofollow(root, "dir/secret", 100)
    assert got.data is None and got.error


def test_read_refuses_a_fifo_without_hanging(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "result.json")
    box: list[object] = []
    thread = threading.Thread(target=lambda: box.append(
        read_file_nofollow(tmp_path, "result.json", 100)), daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "reading a FIFO blocked the host"
    assert box[0].data is None  # type: ignore[attr-defined]
    assert box[0].error == "not a regular file"  # type: ignore[attr-defined]


def test_read_caps_size_and_reads_regular_files(tmp_path: Path) -> None:
    (tmp_path / "big").write_bytes(b"x" * 1000)
    (tmp_path / "ok").write_bytes(b"fine")
    assert read_file_nofollow(tmp_path, "big", 100).data is None
    assert read_file_nofollow(tmp_path, "ok", 100).data == b"fine"
    assert read_file_nofollow(tmp_path, "nope", 100).error == "missing"


def _tar(entries: list[tarfile.TarInfo], payloads: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for info in entries:
            data = payloads.get(info.name)
            if data is not None:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return buf.getvalue()


def test_files_from_tar_refuses_links_and_oversize() -> None:
    link = tarfile.TarInfo("result.json")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/shadow"
    big = tarfile.TarInfo("big")
    ok = tarfile.TarInfo("ok")
    raw = _tar([link, big, ok], {"big": b"x" * 500, "ok": b"data"})
    found = files_from_tar(io.BytesIO(raw), ["result.json", "big", "ok", "absent"], "", 100)
    assert found["result.json"].error == "not a regular file"
    assert found["big"].data is None
    assert found["ok"].data == b"data"
    assert found["absent"].error == "missing"


def test_archive_with_traversal_is_rejected() -> None:
    evil = tarfile.TarInfo("../../etc/cron.d/x")
    with pytest.raises(ArchiveError):
        extract_archive(_tar([evil], {"../../etc/cron.d/x": b"* * * * * root sh"}),
                        max_total_bytes=100_000)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("/abs/path", b"x")
    with pytest.raises(ArchiveError):
        extract_archive(buf.getvalue(), max_total_bytes=100_000)


def test_archive_with_links_is_rejected() -> None:
    link = tarfile.TarInfo("innocent")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    with pytest.raises(ArchiveError, match="regular"):
        extract_archive(_tar([link], {}), max_total_bytes=100_000)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("link")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(ArchiveError, match="regular"):
        extract_archive(buf.getvalue(), max_total_bytes=100_000)


def test_zip_bomb_is_stopped_at_the_extraction_cap() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.txt", b"\0" * (50 * 1024 * 1024))
    assert len(buf.getvalue()) < 1024 * 1024
    with pytest.raises(ArchiveError, match="cap"):
        extract_archive(buf.getvalue(), max_total_bytes=1024 * 1024)


def test_good_archive_extracts_to_memory() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("src/main.py", b"print(1)")
        zf.writestr("src/", b"")
    assert extract_archive(buf.getvalue(), max_total_bytes=100_000) == {"src/main.py": b"print(1)"}
