"""Verify the hardening of a live sandbox, from its configuration and from inside."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.docker_backend import SANDBOX_UID, DockerBackend, hardened_config
from sandbox.labels import LABEL
from sandbox.limits import SANDBOX_CPU_SHARES, SandboxLimits

_INSIDE = ("id -u; grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status; "
           "echo net: $(ls /sys/class/net); touch /probe 2>/dev/null && echo rootfs: writable "
           "|| echo rootfs: read-only; ls /var/run/docker.sock 2>/dev/null && echo docker.sock; "
           "echo cgroup: $(cut -d: -f3 /proc/self/cgroup | sort -u | tr '\\n' ' '); true")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _inside_facts(text: str) -> dict[str, str]:
    facts: dict[str, str] = {}
    lines = text.splitlines()
    if lines:
        facts["uid"] = lines[0].strip()
    for line in lines[1:]:
        key, _, value = line.partition(":")
        facts[key.strip()] = value.strip()
    return facts


def docker_checks(attrs: dict[str, Any], inside: str, limits: SandboxLimits) -> list[Check]:
    """Judge a container's inspect data and what it reports about itself."""
    host = attrs["HostConfig"]
    cfg = attrs["Config"]
    mem = limits.memory_mib * 1024 * 1024
    ulimits = {u["Name"]: u["Hard"] for u in host.get("Ulimits") or []}
    tmpfs = host.get("Tmpfs") or {}
    mounts = attrs.get("Mounts") or []
    sec = host.get("SecurityOpt") or []
    facts = _inside_facts(inside)
    cap_eff = facts.get("CapEff", "")
    return [
        Check("network none", host.get("NetworkMode") == "none", str(host.get("NetworkMode"))),
        Check("only loopback inside", facts.get("net", "").split() == ["lo"], facts.get("net", "")),
        Check("read-only root", bool(host.get("ReadonlyRootfs"))
              and facts.get("rootfs") == "read-only", str(host.get("ReadonlyRootfs"))),
        Check("non-root uid", cfg.get("User", "").split(":")[0] == str(SANDBOX_UID)
              and facts.get("uid") == str(SANDBOX_UID), f"{cfg.get('User')} / {facts.get('uid')}"),
        Check("all capabilities dropped", host.get("CapDrop") == ["ALL"] and not host.get("CapAdd")
              and cap_eff.strip("0") == "", f"CapDrop={host.get('CapDrop')} CapEff={cap_eff}"),
        Check("no-new-privileges", any(s.startswith("no-new-privileges") for s in sec)
              and facts.get("NoNewPrivs") == "1", ",".join(sec)),
        Check("seccomp filter on", not any("unconfined" in s for s in sec)
              and facts.get("Seccomp") == "2", f"Seccomp={facts.get('Seccomp')}"),
        Check("not privileged", not host.get("Privileged"), str(host.get("Privileged"))),
        Check("pids limit", host.get("PidsLimit") == limits.pids, str(host.get("PidsLimit"))),
        Check("memory = memory+swap", host.get("Memory") == mem and host.get("MemorySwap") == mem,
              f"{host.get('Memory')} / {host.get('MemorySwap')}"),
        Check("cpu limit", host.get("NanoCpus") == int(limits.cpus * 1e9), str(host.get("NanoCpus"))),
        Check("cpu weight below the API's", host.get("CpuShares") == SANDBOX_CPU_SHARES,
              str(host.get("CpuShares"))),
        Check("ulimits", ulimits.get("nofile") == limits.open_files
              and ulimits.get("fsize") == limits.file_size_mib * 1024 * 1024
              and "cpu" in ulimits, str(ulimits)),
        Check("size-capped tmpfs", all(f"size={limits.tmpfs_mib}m" in v for v in tmpfs.values())
              and "/work" in tmpfs, str(tmpfs)),
        Check("own cgroup namespace", host.get("CgroupnsMode") == "private"
              and set(facts.get("cgroup", "").split()) <= {"/"},
              f"{host.get('CgroupnsMode')} / {facts.get('cgroup')}"),
        Check("init process", bool(host.get("Init")), str(host.get("Init"))),
        Check("bounded logs", (host.get("LogConfig") or {}).get("Config", {}).get("max-size")
              == "1m", str(host.get("LogConfig"))),
        Check("labelled for reaping", (cfg.get("Labels") or {}).get(LABEL) == "1",
              str(cfg.get("Labels"))),
        Check("no docker socket", "docker.sock" not in inside
              and not any("docker.sock" in str(m.get("Source")) for m in mounts),
              ", ".join(str(m.get("Source")) for m in mounts) or "no mounts"),
        Check("no host environment", not any(e.split("=")[0].startswith(("BURNIN_", "DATABASE"))
                                             for e in cfg.get("Env") or []), ""),
    ]


def check_docker(backend: DockerBackend, limits: SandboxLimits | None = None) -> list[Check]:
    """Start a sandbox like the ones we run code in and check its hardening."""
    limits = limits or SandboxLimits()
    config = hardened_config(image=backend.image, command=["sleep", "infinity"], limits=limits,
                             kind="check", runtime=backend.runtime)
    container = backend.client.containers.create(**config)
    try:
        container.start()
        container.reload()
        inside = backend._exec_text(container, ["/bin/sh", "-c", _INSIDE])
        return docker_checks(container.attrs, inside, limits)
    finally:
        backend.remove(container)
