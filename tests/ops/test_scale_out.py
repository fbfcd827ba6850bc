"""Scale-out, for real: three whole `burnin serve` nodes, each in a network namespace of its
own (server/ops/nodecluster.py), behind nginx running deploy/nginx/burnin.conf, all on one
PostgreSQL. Candidates work through the proxy; one node is killed (SIGKILL of its process
group) in the middle of their autosaves. Shown: sticky routing (a candidate's requests all
reach one node, so a notebook cell sees the variables of the previous one), no acknowledged
save missing from the database, every candidate continuing on another node (saves succeed,
a cell runs in a fresh kernel that says so, while candidates of the nodes still up keep
their kernels), grading jobs claimed by whichever node is free, a job leased by the dead node
graded by another once its lease expires.

Needs root (network namespaces), nginx, PostgreSQL server binaries and the Docker engine for
the notebook kernels (its socket is a unix socket, reachable from every namespace)."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import create_engine, text

from server.notebooks.service import ELSEWHERE
from server.ops import nodecluster
from tests.conftest import IN_CI

pytestmark = [pytest.mark.docker, pytest.mark.postgres, pytest.mark.slow]

SCENARIO = "debug-slow-run"
CONTINUING = 9  # candidates who work on after the node dies
EARLY = 3  # candidates who submit just before it dies: grading in hand when it goes
NODE_ENV = {
    "BURNIN_GRADING_WORKERS": "1",
    "BURNIN_GRADING_LEASE_S": "6",  # a dead node's job is claimed again within seconds
    "BURNIN_KERNEL_POOL_SIZE": "1",
    "BURNIN_SANDBOX_BACKEND": "docker",
    "BURNIN_BACKGROUND": "true",  # on every node: one pass at a time (advisory lock)
    "BURNIN_LOG_LEVEL": "INFO",
}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def cluster() -> Iterator[nodecluster.Cluster]:
    why = nodecluster.missing_tools()
    if why is None:
        try:
            import docker  # type: ignore[import-untyped]

            docker.from_env().ping()
        except Exception as exc:  # noqa: BLE001 - any failure means no engine
            why = f"no Docker engine for the nodes' kernels: {exc}"
    if why is not None:
        if IN_CI:
            pytest.fail(why)
        pytest.skip(why)
    with nodecluster.cluster(3, env=NODE_ENV) as c:
        yield c


@dataclass
class Cand:
    name: str
    client: httpx.Client
    field_id: str
    section: str | None
    csrf: str = ""
    version: int = 0
    acked: list[tuple[int, str]] = field(default_factory=list)  # (version, text) acknowledged
    acked_at: list[float] = field(default_factory=list)  # when (epoch seconds)
    failures: Counter[str] = field(default_factory=Counter)
    n: int = 0

    def headers(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf}

    def content(self, body: str) -> dict[str, Any]:
        return {self.field_id: {self.section: body} if self.section else body}

    def save(self) -> int | None:
        """One autosave as the workspace sends it; the status, or None without a response."""
        self.n += 1
        body = f"{self.name} save {self.n}: the all-reduce waits on the slowest rank."
        try:
            r = self.client.put("/api/v1/candidate/answers/0", headers=self.headers(),
                                json={"base_version": self.version, "content": self.content(body)},
                                timeout=30)
        except httpx.HTTPError as exc:
            self.failures[type(exc).__name__] += 1
            return None
        if r.status_code == 200:
            self.version = r.json()["version"]
            self.acked.append((self.version, body))
            self.acked_at.append(time.time())
        elif r.status_code == 409 and "version" in r.json():
            # nginx resent the PUT to another node after the first committed it and died:
            # the stored copy is ours, at the version the server reports.
            stored = r.json()
            self.version = stored["version"]
            if stored.get("content") == self.content(body):
                self.acked.append((self.version, body))
                self.acked_at.append(time.time())
            self.failures["409"] += 1
        else:
            self.failures[str(r.status_code)] += 1
        return r.status_code

    def cell(self, code: str) -> dict[str, Any]:
        r = self.client.post("/api/v1/candidate/notebook/0/execute", headers=self.headers(),
                             json={"code": code}, timeout=180)
        assert r.status_code == 200, f"{self.name}: {r.status_code} {r.text[:300]}"
        out: dict[str, Any] = r.json()
        return out


def _field(scenario_id: str) -> tuple[str, str | None]:
    from server.bank.service import BankService

    sc = BankService(None).get(scenario_id)
    for f in sc.manifest.answer.fields:
        if str(f.type) == "long_text":
            sections = getattr(f, "sections", None) or []
            return str(f.id), (str(sections[0].id) if sections else None)
    raise LookupError(f"{scenario_id} has no long-text field")


def _staff(c: nodecluster.Cluster) -> tuple[httpx.Client, str]:
    from server import db
    from server.ops.demo import make_demo

    engine = db.make_engine(c.db_url)
    with db.transaction(db.make_sessionmaker(engine)) as s:
        recruiter = next(u for u in make_demo(s) if u.role == "recruiter")
    engine.dispose()
    staff = httpx.Client(base_url=c.proxy_url, headers={"X-Client": "staff"})
    r = staff.post("/api/v1/auth/login", json={"email": recruiter.email,
                                               "password": recruiter.password})
    assert r.status_code == 200, r.text
    return staff, r.json()["csrf_token"]


def _candidates(c: nodecluster.Cluster, n: int) -> list[Cand]:
    staff, csrf = _staff(c)
    r = staff.post("/api/v1/assessments", headers={"X-CSRF-Token": csrf}, json={
        "title": "Scale-out", "time_limit_min": 60, "scenarios": [{"scenario_id": SCENARIO}]})
    assert r.status_code in (200, 201), r.text
    assessment = r.json()["id"]
    field_id, section = _field(SCENARIO)
    out = []
    for i in range(n):
        r = staff.post(f"/api/v1/assessments/{assessment}/invites", headers={"X-CSRF-Token": csrf},
                       json={"email": f"c{i}@scale.example", "name": f"Candidate {i}"})
        assert r.status_code in (200, 201), r.text
        link = r.json()["url"]
        assert link.startswith(c.proxy_url)
        name = f"c{i}"
        cand = Cand(name, httpx.Client(base_url=c.proxy_url, headers={"X-Client": name}),
                    field_id, section)
        page = cand.client.get(link[len(c.proxy_url):], follow_redirects=True)
        assert page.status_code == 200, page.text[:300]
        cand.csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        r = cand.client.post("/api/v1/candidate/attempt/start", headers=cand.headers())
        assert r.status_code == 200 and r.json()["status"] == "in_progress", r.text
        out.append(cand)
    return out


def _nodes_of(c: nodecluster.Cluster, since: float = 0.0) -> dict[str, list[str]]:
    """Client -> the node addresses that answered its requests (invite links, which carry no
    cookie yet and go round-robin, left out)."""
    seen: dict[str, list[str]] = {}
    for route in c.routes():
        if route.at >= since and not route.uri.startswith("/i/") and route.tried != ["-"]:
            answered = route.tried[-1]
            if answered not in seen.setdefault(route.client, []):
                seen[route.client].append(answered)
    return seen


class LeaseWatch:
    """Which node held each grading job's lease (lease_owner carries the node's pid)."""

    def __init__(self, c: nodecluster.Cluster) -> None:
        self.engine = create_engine(c.db_url)
        self.cluster = c
        self.owners: dict[int, set[str]] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.1):
            with self.engine.connect() as conn:
                rows = conn.execute(text("SELECT id, lease_owner FROM grading_jobs "
                                         "WHERE lease_owner IS NOT NULL")).all()
            for job_id, owner in rows:
                node = self.cluster.node_of_pid(int(owner.split(":")[1]))
                self.owners.setdefault(job_id, set()).add(node.name if node else owner)

    def __enter__(self) -> LeaseWatch:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self.engine.dispose()


def _storm(cands: list[Cand], seconds: float, every_s: float) -> None:
    """Each candidate autosaves every `every_s` for `seconds`, all at once."""
    stop = time.monotonic() + seconds

    def loop(cand: Cand) -> None:
        while time.monotonic() < stop:
            cand.save()
            time.sleep(every_s)

    threads = [threading.Thread(target=loop, args=(cand,)) for cand in cands]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _wait_graded(engine: Any, attempts: int, timeout_s: float) -> list[Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        with engine.connect() as conn:
            jobs = conn.execute(text("SELECT id, attempt_id, state, tries, error "
                                     "FROM grading_jobs ORDER BY id")).all()
        if len(jobs) >= attempts and all(j.state in ("done", "dead") for j in jobs):
            return list(jobs)
        if time.monotonic() > deadline:
            pytest.fail(f"grading not finished in {timeout_s} s: {jobs}")
        time.sleep(0.5)


def test_three_nodes_a_node_dies_no_answer_is_lost_and_everyone_continues(
        cluster: nodecluster.Cluster) -> None:
    c = cluster
    cands = _candidates(c, CONTINUING + EARLY)
    early, cands = cands[:EARLY], cands[EARLY:]

    # Sticky: a candidate's cells all reach the node that holds their kernel.
    for i, cand in enumerate(cands):
        assert cand.save() == 200
        first = cand.cell(f"x = {i}\nx")
        assert first["status"] == "ok" and first["kernel_restarted"] is None, first
        again = cand.cell("x")
        assert again["status"] == "ok" and again["outputs"][0]["text"] == str(i), again
    for cand in early:
        assert cand.save() == 200
    # Invite links carry no cookie yet: an empty key, so nginx spreads them round-robin.
    links = {r.tried[-1] for r in c.routes() if r.uri.startswith("/i/")}
    assert len(links) == 3, links
    placed = _nodes_of(c)
    assert all(len(placed[cand.name]) == 1 for cand in cands + early), placed
    home = {cand.name: placed[cand.name][0] for cand in cands}
    per_node = Counter(home.values())
    assert len(per_node) >= 2, f"the hash put every candidate on one node: {per_node}"

    engine = create_engine(c.db_url)
    with LeaseWatch(c) as leases:
        # Grading in hand when the node dies: the early candidates submit now.
        for cand in early:
            r = cand.client.post("/api/v1/candidate/submit", headers=cand.headers())
            assert r.status_code == 200 and r.json()["status"] == "submitted", r.text
        victim = c.node_at(per_node.most_common(1)[0][0])
        assert victim is not None
        moved = [cand for cand in cands if home[cand.name] == victim.address]
        stayed = [cand for cand in cands if home[cand.name] != victim.address]

        storm = threading.Thread(target=_storm, args=(cands, 12.0, 0.1))
        storm.start()
        time.sleep(4)
        killed_at = time.time()
        victim.kill()
        storm.join()
        assert not victim.alive
        # Saves went on through the failover, for the dead node's candidates too.
        for cand in cands:
            assert sum(1 for t in cand.acked_at if t > killed_at + 1) >= 5, cand.name

        # Every candidate saves again, wherever the proxy sends them now.
        for cand in cands:
            assert cand.save() == 200, (cand.name, cand.failures)
        routes_after = _nodes_of(c, since=killed_at + 1)
        for cand in cands:
            assert victim.address not in routes_after[cand.name], routes_after
            assert len(routes_after[cand.name]) == 1, routes_after
        for cand in stayed:  # consistent hashing: only the dead node's candidates moved
            assert routes_after[cand.name] == [home[cand.name]], routes_after

        # Notebooks: a fresh kernel on the new node, which says so; the others keep theirs.
        for cand in moved:
            lost = cand.cell("'x' in globals()")
            assert lost["status"] == "ok" and lost["outputs"][0]["text"] == "False", lost
            assert lost["kernel_restarted"] == ELSEWHERE, lost
            assert cand.cell("x = 7\nx")["outputs"][0]["text"] == "7"
        for i, cand in enumerate(cands):
            if cand in stayed:
                kept = cand.cell("x")
                assert kept["outputs"][0]["text"] == str(i) and not kept["kernel_restarted"]

        # No acknowledged save is missing: each is in the answer's history, and the answer
        # holds the last one.
        for cand in cands + early:
            with engine.connect() as conn:
                rows = conn.execute(text(
                    "SELECT r.version, r.content, a.version AS current FROM answer_revisions r "
                    "JOIN answers a ON a.id = r.answer_id JOIN attempts t ON t.id = a.attempt_id "
                    "JOIN invites i ON i.id = t.invite_id JOIN candidates p ON p.id = i.candidate_id "
                    "WHERE p.email = :email"), {"email": f"{cand.name}@scale.example"}).all()
            stored = {r.version: r.content for r in rows}
            for version, body in cand.acked:
                assert stored.get(version) == cand.content(body), (cand.name, version)
            assert rows and rows[0].current == cand.acked[-1][0]

        # Everyone submits through the proxy; the nodes still up grade every attempt,
        # including any job the dead node held (its lease expires, another node claims it).
        for cand in cands:
            r = cand.client.post("/api/v1/candidate/submit", headers=cand.headers())
            assert r.status_code == 200 and r.json()["status"] == "submitted", r.text
        jobs = _wait_graded(engine, len(cands) + len(early), timeout_s=600)
    assert [j.state for j in jobs] == ["done"] * len(jobs), jobs
    with engine.connect() as conn:
        reports = conn.execute(text("SELECT count(DISTINCT attempt_id) FROM score_reports "
                                    "WHERE is_current")).scalar_one()
    engine.dispose()
    assert reports == len(jobs)
    claimed = Counter(n for owners in leases.owners.values() for n in owners)
    survivors = {n.name for n in c.nodes if n is not victim}
    for job in jobs:
        finished_by = leases.owners.get(job.id, set())
        assert finished_by, f"job {job.id} was never seen leased"
        if victim.name in finished_by:  # it held the job when it died: graded again elsewhere
            assert finished_by & survivors and job.tries >= 2, (job, finished_by)
    assert len(claimed.keys() & survivors) == 2, claimed
    failures = sum((cand.failures for cand in cands), Counter())
    print(f"\nnodes: {dict(per_node)}; victim {victim.name} with {len(moved)} candidates; "
          f"saves acknowledged {sum(len(x.acked) for x in cands)}, failed {dict(failures)}; "
          f"jobs leased by {dict(claimed)}")
    with contextlib.suppress(Exception):
        for cand in cands + early:
            cand.client.close()
