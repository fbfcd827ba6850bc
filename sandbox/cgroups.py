"""A container's resource counters read from the host's cgroup filesystem.

Reading the counters from outside costs a few file reads, where a `docker exec` of a probe
inside the sandbox costs a runtime invocation (~50 ms of CPU on a 2-core host, as much as
a short hidden check). It works when this process sees the engine's processes and cgroup
mounts (the engine runs on this host); `container_cgroups` finds nothing otherwise and
the caller falls back to the in-sandbox probe.

Both cgroup v1 (per-controller hierarchies) and v2 (unified) are handled; the lines
returned have the probe's format, "<file> <key> [<value>]", so one parser reads both.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# (controller, file) pairs the probe reads; "" is the v2 unified hierarchy.
V1_FILES = (("memory", "memory.oom_control"), ("memory", "memory.max_usage_in_bytes"),
            ("cpuacct", "cpuacct.usage"))
V2_FILES = ("memory.events", "memory.peak", "cpu.stat")


@dataclass(frozen=True)
class Mount:
    point: str  # where the hierarchy is mounted
    root: str  # which cgroup of the hierarchy is at that point ("/" on the host)


def parse_mountinfo(text: str) -> dict[str, Mount]:
    """Controller name -> mount, for cgroup v1 hierarchies; "" -> the v2 mount."""
    mounts: dict[str, Mount] = {}
    for line in text.splitlines():
        head, sep, tail = line.partition(" - ")
        if not sep:
            continue
        fields, rest = head.split(), tail.split()
        if len(fields) < 5 or len(rest) < 3:
            continue
        fstype, options = rest[0], rest[2].split(",")
        mount = Mount(point=fields[4], root=fields[3])
        if fstype == "cgroup2":
            mounts.setdefault("", mount)
        elif fstype == "cgroup":
            for opt in options:
                mounts.setdefault(opt, mount)
    return mounts


def parse_proc_cgroup(text: str) -> dict[str, str]:
    """Controller name -> cgroup path of a process; "" -> its v2 cgroup."""
    paths: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        for name in controllers.split(",") if controllers else [""]:
            paths[name] = path
    return paths


def _file(mount: Mount, cgroup: str, name: str) -> Path | None:
    root = mount.root.rstrip("/")
    if root and not (cgroup == root or cgroup.startswith(root + "/")):
        return None  # the cgroup is outside what this mount shows
    return Path(mount.point + cgroup[len(root):]) / name


def probe_lines(mounts: dict[str, Mount], paths: dict[str, str]) -> list[str] | None:
    """The probe's lines for a process in `paths`, or None when no counter is readable."""
    lines: list[str] = []
    wanted: list[tuple[Path, str]] = []
    for controller, name in V1_FILES:
        if controller in mounts and controller in paths:
            f = _file(mounts[controller], paths[controller], name)
            if f is not None:
                wanted.append((f, name))
    if not wanted and "" in mounts and "" in paths:
        for name in V2_FILES:
            f = _file(mounts[""], paths[""], name)
            if f is not None:
                wanted.append((f, name))
    for f, name in wanted:
        try:
            text = f.read_text()
        except OSError:
            continue
        lines.extend(f"{name} {line}" for line in text.splitlines() if line.strip())
    return lines or None


def host_counters(own: dict[str, str], proc: Path = Path("/proc")) -> list[str] | None:
    """Probe lines for the cgroups `own` (from container_cgroups), or None if unreadable."""
    try:
        mounts = parse_mountinfo((proc / "self" / "mountinfo").read_text())
    except OSError:
        return None
    return probe_lines(mounts, own)


def pids_limit_hits(own: dict[str, str], proc: Path = Path("/proc")) -> int | None:
    """How many times a process of the cgroups `own` failed to fork at the pids limit (the
    "max" count of pids.events, v1 or v2); None when the counter is not readable here."""
    try:
        mounts = parse_mountinfo((proc / "self" / "mountinfo").read_text())
    except OSError:
        return None
    return pids_max_events(mounts, own)


def pids_max_events(mounts: dict[str, Mount], paths: dict[str, str]) -> int | None:
    """The "max" count of pids.events of the cgroup in `paths` (v1 pids, else v2)."""
    for controller in ("pids", ""):
        if controller not in mounts or controller not in paths:
            continue
        f = _file(mounts[controller], paths[controller], "pids.events")
        if f is None:
            continue
        try:
            text = f.read_text()
        except OSError:
            continue
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "max" and value.strip().isdigit():
                return int(value)
    return None


def container_cgroups(pid: int, container_id: str, proc: Path = Path("/proc")
                      ) -> dict[str, str]:
    """The memory/cpuacct/pids/unified cgroups of host process `pid` (a container's init) that
    carry the container's id; empty when the pid is not (or no longer) that container's
    (another pid namespace, or the container is gone) or not visible here. The engine names
    each container's cgroup after its id (`/docker/<id>`, `docker-<id>.scope`)."""
    if pid <= 0 or len(container_id) < 12:
        return {}
    try:
        paths = parse_proc_cgroup((proc / str(pid) / "cgroup").read_text())
    except OSError:
        return {}
    return {k: v for k, v in paths.items() if k in ("memory", "cpuacct", "pids", "") and container_id in v}
