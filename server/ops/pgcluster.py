"""A throwaway PostgreSQL cluster for the tests and bench/load.py, started from the installed
server binaries (initdb and pg_ctl on a free port in a temporary directory), or the server
named by BURNIN_TEST_DATABASE_URL. Development tooling: the platform itself never calls it."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


def find_pg_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(candidates[-1]).parent if candidates else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_db_user(cmd: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; Debian's package makes a 'postgres' account.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@contextmanager
def throwaway_cluster(*, listen: Sequence[str] = ("127.0.0.1",),
                      trust: Sequence[str] = ()) -> Iterator[str]:
    """Yield a superuser URL (on the first `listen` address) of a fresh cluster; stop and
    delete it afterwards. `trust`: further networks (CIDR) let in without a password, for
    clients in other network namespaces (server/ops/nodecluster.py)."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL server binaries (pg_ctl, initdb) not found")
    root = Path(tempfile.mkdtemp(prefix="burnin-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        for p in (root, sock):
            os.chown(p, pw.pw_uid, pw.pw_gid)
    port = free_port()
    subprocess.run(
        _as_db_user([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
                     "--auth=trust", "-E", "UTF8", "--no-sync"]),
        check=True, capture_output=True,
    )
    with open(data / "pg_hba.conf", "a") as hba:
        hba.writelines(f"host all all {net} trust\n" for net in trust)
    addresses = ",".join(listen)
    opts = f"-p {port} -k {sock} -c listen_addresses={addresses} -c fsync=off " \
           "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    subprocess.run(
        _as_db_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", opts, "-w",
                     "-l", str(root / "log"), "start"]),
        check=True, capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@{listen[0]}:{port}/postgres"
    finally:
        subprocess.run(_as_db_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                    "stop"]), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
