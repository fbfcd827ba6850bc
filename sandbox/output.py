"""Bounded collection of output that arrives in chunks."""

from __future__ import annotations


class CappedOutput:
    """Keeps at most `cap` bytes over all streams; remembers whether anything was cut."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.size = 0
        self.truncated = False
        self._parts: dict[str, list[bytes]] = {"stdout": [], "stderr": []}

    def add(self, stream: str, chunk: bytes) -> bool:
        """Store what fits; return False once the cap has been hit."""
        room = self.cap - self.size
        if len(chunk) > room:
            chunk = chunk[: max(room, 0)]
            self.truncated = True
        if chunk:
            self._parts.setdefault(stream, []).append(chunk)
            self.size += len(chunk)
        return not self.truncated

    def raw(self, stream: str) -> bytes:
        return b"".join(self._parts.get(stream, []))

    def text(self, stream: str) -> str:
        """The stream as valid text (invalid UTF-8 replaced)."""
        return to_text(b"".join(self._parts.get(stream, [])))


def to_text(data: bytes) -> str:
    """Decode untrusted bytes to valid text; NUL is dropped so it stores anywhere."""
    return data.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
