"""Several Burnin nodes on this machine behind nginx, on one PostgreSQL: the scale-out test
(tests/ops/test_scale_out.py) and bench/scale_out.py. Development tooling: needs root, Linux
network namespaces (`ip netns`), Debian's nginx and PostgreSQL server binaries; the platform
itself never calls it.

Each node is a whole `burnin serve` (API, kernel pool, grading workers) in a network namespace
of its own, reached only through a veth pair: inside it the node has its loopback and its
end of the pair, no route elsewhere. The host ends carry the addresses PostgreSQL listens on
and nginx proxies to, so every byte between proxy, nodes and database crosses a virtual link
on this machine, as it would cross the network between hosts. The Docker engine is a unix
socket, reachable from any namespace, so each node runs its kernels as on a host of its own
(all on the one engine of this machine). nginx runs with deploy/nginx/burnin.conf, changed
only in its listen line and the servers of its upstream block (nginx_site)."""

from __future__ import annotations

import contextlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from server.ops.pgcluster import free_port, throwaway_cluster

ROOT = Path(__file__).resolve().parents[2]
NGINX_SITE = ROOT / "deploy" / "nginx" / "burnin.conf"
NODE_PORT = 8000
_UPSTREAM_SERVER = re.compile(r"^(?P<indent>[ \t]+)server [0-9.]+:[0-9]+(?P<opts>[^;\n]*);\n",
                              re.M)


def missing_tools() -> str | None:
    """Why a cluster cannot start here, or None."""
    if sys.platform != "linux" or os.geteuid() != 0:
        return "needs root on Linux (network namespaces)"
    for tool in ("ip", "nginx"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            return f"{tool} not installed (scripts/setup/30-nginx.sh)"
    from server.ops.pgcluster import find_pg_bin

    if find_pg_bin() is None:
        return "PostgreSQL server binaries not installed (scripts/setup/10-postgres.sh)"
    return None


def nginx_site(listen: str, nodes: Sequence[str], text: str | None = None) -> str:
    """deploy/nginx/burnin.conf with `listen` for its listen line and one upstream server
    line per node address (host:port), each with the options the file gives its first one."""
    text = NGINX_SITE.read_text() if text is None else text
    text, n = re.subn(r"^(\s*)listen 80;$", rf"\g<1>listen {listen};", text, flags=re.M)
    if n != 1:
        raise ValueError(f"{NGINX_SITE}: expected one 'listen 80;' line, found {n}")
    found = list(_UPSTREAM_SERVER.finditer(text))
    if not found:
        raise ValueError(f"{NGINX_SITE}: no 'server HOST:PORT ...;' line in the upstream block")
    first = found[0]
    lines = "".join(f"{first['indent']}server {node}{first['opts']};\n" for node in nodes)
    out = text[:first.start()] + lines
    pos = first.end()
    for m in found[1:]:
        out += text[pos:m.start()]
        pos = m.end()
    return out + text[pos:]


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@dataclass
class Netns:
    """A network namespace joined to the host by one veth pair (a /30 of its own)."""

    name: str
    host_if: str
    host_ip: str
    ns_ip: str

    @classmethod
    def create(cls, tag: str, index: int, subnet: int) -> Netns:
        ns = cls(f"burnin-{tag}-{index}", f"bh{tag}{index}", f"10.231.{subnet}.{4 * index + 1}",
                 f"10.231.{subnet}.{4 * index + 2}")
        _ip("netns", "add", ns.name)
        try:
            _ip("link", "add", ns.host_if, "type", "veth", "peer", "name", "eth0", "netns",
                ns.name)
            _ip("addr", "add", f"{ns.host_ip}/30", "dev", ns.host_if)
            _ip("link", "set", ns.host_if, "up")
            _ip("-n", ns.name, "addr", "add", f"{ns.ns_ip}/30", "dev", "eth0")
            _ip("-n", ns.name, "link", "set", "eth0", "up")
            _ip("-n", ns.name, "link", "set", "lo", "up")
        except subprocess.CalledProcessError:
            ns.delete()
            raise
        return ns

    def delete(self) -> None:
        # Deleting the namespace deletes its end of the pair, and with it the host's end.
        subprocess.run(["ip", "netns", "delete", self.name], capture_output=True)
        subprocess.run(["ip", "link", "delete", self.host_if], capture_output=True)


@dataclass
class Node:
    """One `burnin serve` in its namespace."""

    name: str
    netns: Netns
    data_dir: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"{self.netns.ns_ip}:{NODE_PORT}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "server.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the node's whole process group (server and grading processes), as a host
        that loses power: no shutdown, no lease released, no kernel closed."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        # On a real host its containers die with it; here they share one engine with the
        # other nodes: remove those whose owner process is gone, as a reaper would.
        try:
            import docker  # type: ignore[import-untyped]

            from sandbox.reaper import reap

            reap(docker.from_env())
        except Exception:  # noqa: BLE001 - no engine: no containers to remove
            pass


@dataclass
class Cluster:
    """Nodes, nginx and PostgreSQL; `proxy_url` is what candidates use."""

    db_url: str  # as the host (this process) reaches it
    proxy_url: str
    nodes: list[Node]
    root: Path
    nginx: subprocess.Popen[bytes] | None = None
    _nets: list[Netns] = field(default_factory=list)

    def node_of_pid(self, pid: int) -> Node | None:
        return next((n for n in self.nodes if n.proc is not None and n.proc.pid == pid), None)

    def node_at(self, address: str) -> Node | None:
        return next((n for n in self.nodes if n.address == address), None)

    def routes(self) -> list[Route]:
        """Every request nginx has logged so far, with the node(s) it tried."""
        path = self.root / "nginx" / "access.log"
        out = []
        for line in path.read_text(errors="replace").splitlines() if path.exists() else []:
            head, _, client = line.partition(' "')
            t, status, method, uri, upstreams = head.split(" ", 4)
            # "a, b" when nginx tried a (dead) and then b; "-" when no node was tried.
            tried = [u.strip() for u in upstreams.replace(" : ", ", ").split(",")]
            out.append(Route(float(t), int(status), method, uri, tried, client.rstrip('"')))
        return out


@dataclass(frozen=True)
class Route:
    """One request as nginx logged it."""

    at: float  # epoch seconds
    status: int
    method: str
    uri: str
    tried: list[str]  # node addresses, in order; the last one answered
    client: str


def _wait_ready(node: Node, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not node.alive:
            raise RuntimeError(f"{node.name} exited; its log:\n{node.log()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{node.url}/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{node.name} not ready in {timeout_s} s; its log:\n{node.log()[-3000:]}")


def start_node(node: Node, db_url: str, proxy_url: str, proxy_ip: str,
               env: dict[str, str]) -> None:
    node.log_path.parent.mkdir(parents=True, exist_ok=True)
    full = {**os.environ, "BURNIN_DATA_DIR": str(node.data_dir), "BURNIN_DATABASE_URL": db_url,
            "BURNIN_BASE_URL": proxy_url, "BURNIN_TRUSTED_PROXIES": proxy_ip,
            "BURNIN_LOG_JSON": "true", **env}
    with open(node.log_path, "ab") as log:
        # A session of its own: kill() takes the node's grading processes with it.
        node.proc = subprocess.Popen(
            ["ip", "netns", "exec", node.netns.name, sys.executable, "-m", "server.cli", "serve",
             "--host", node.netns.ns_ip, "--port", str(NODE_PORT)],
            env=full, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def nginx_conf(root: Path, listen: str, nodes: Sequence[str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    site = root / "burnin.conf"
    site.write_text(nginx_site(listen, nodes))
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (root / "tmp" / sub).mkdir(parents=True, exist_ok=True)
    conf = root / "nginx.conf"
    temp = root / "tmp"
    # root: the workers use temp dirs under this 0700 test directory.
    conf.write_text(f"""user root;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    # Which node answered each request, and for which client (tests send X-Client).
    log_format nodes '$msec $status $request_method $uri $upstream_addr "$http_x_client"';
    access_log {root}/access.log nodes;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {site};
}}
""")
    return conf


@contextlib.contextmanager
def cluster(n_nodes: int, *, env: dict[str, str] | None = None,
            node_env: dict[int, dict[str, str]] | None = None,
            ready_timeout_s: float = 180) -> Iterator[Cluster]:
    """Start PostgreSQL, migrate it, start `n_nodes` nodes and nginx; tear all down after.
    `env`: settings for every node; `node_env`: more for the node of that index."""
    tag = f"{random.randrange(16**4):04x}"
    taken = subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True).stdout
    # Another cluster on this machine (a test and a bench at once) has its own /24.
    subnet = random.choice([i for i in range(256) if f" 10.231.{i}." not in taken])
    root = Path(tempfile.mkdtemp(prefix=f"burnin-nodes-{tag}-"))
    nets: list[Netns] = []
    nodes: list[Node] = []
    nginx: subprocess.Popen[bytes] | None = None
    try:
        for i in range(n_nodes):
            nets.append(Netns.create(tag, i, subnet))
        # The /30s of the veth pairs, all inside 10.231.<subnet>.0/24.
        with throwaway_cluster(listen=["127.0.0.1", *(n.host_ip for n in nets)],
                               trust=[f"10.231.{subnet}.0/24"]) as db_url:
            from server import db

            db.upgrade(db_url)
            secret = os.urandom(32).hex()  # every node signs and checks with the same key
            port = free_port()
            proxy_url = f"http://127.0.0.1:{port}"
            for i, ns in enumerate(nets):
                node = Node(f"node{i}", ns, root / f"node{i}")
                node.data_dir.mkdir(mode=0o700)
                key = node.data_dir / "secret_key"
                key.write_text(secret)
                key.chmod(0o600)
                node_db = db_url.replace("@127.0.0.1:", f"@{ns.host_ip}:")
                start_node(node, node_db, proxy_url, ns.host_ip,
                           {**(env or {}), **(node_env or {}).get(i, {})})
                nodes.append(node)
            for node in nodes:
                _wait_ready(node, ready_timeout_s)
            conf = nginx_conf(root / "nginx", f"127.0.0.1:{port}", [n.address for n in nodes])
            nginx = subprocess.Popen(["nginx", "-p", str(conf.parent), "-c", str(conf),
                                      "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                                     stderr=open(conf.parent / "stderr.log", "wb"))  # noqa: SIM115
            _wait_proxy(proxy_url, nginx, conf.parent)
            yield Cluster(db_url, proxy_url, nodes, root, nginx, nets)
    finally:
        if nginx is not None and nginx.poll() is None:
            nginx.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                nginx.wait(timeout=10)
        for node in nodes:
            stop_node(node)
        for ns in nets:
            ns.delete()
        shutil.rmtree(root, ignore_errors=True)


def stop_node(node: Node, timeout_s: float = 20) -> None:
    """SIGTERM (graceful), then SIGKILL the group after timeout_s."""
    if node.proc is None:
        return
    if node.proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(node.proc.pid, signal.SIGTERM)
        try:
            node.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(node.proc.pid, signal.SIGKILL)  # grading children still running
    node.proc.wait(timeout=30)


def _wait_proxy(url: str, nginx: subprocess.Popen[bytes], conf_dir: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if nginx.poll() is not None:
            err = (conf_dir / "stderr.log").read_text(errors="replace")
            raise RuntimeError(f"nginx exited: {err[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError("nginx did not answer /healthz")
