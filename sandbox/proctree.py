"""CPU time of a process and everything below it, read from the host's /proc."""

from __future__ import annotations

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _children(pid: int, proc: Path) -> list[int]:
    kids: list[int] = []
    try:
        tasks = list((proc / str(pid) / "task").iterdir())
    except OSError:
        return kids
    for task in tasks:
        try:
            kids.extend(int(p) for p in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return kids


def _own_cpu(pid: int, proc: Path) -> float:
    """utime + stime of pid and of its children it has waited for, in seconds."""
    try:
        text = (proc / str(pid) / "stat").read_text()
    except OSError:
        return 0.0
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = text[text.rfind(")") + 2:].split()
    try:
        return sum(int(fields[i]) for i in (11, 12, 13, 14)) / _TICKS
    except (IndexError, ValueError):
        return 0.0


def tree_cpu_seconds(pid: int, proc: Path = Path("/proc"), limit: int = 10_000) -> float:
    """CPU seconds of pid and its live descendants (exited ones count once reaped)."""
    total, todo, seen = 0.0, [pid], set[int]()
    while todo and len(seen) < limit:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        total += _own_cpu(current, proc)
        todo.extend(_children(current, proc))
    return total
