"""Grading overhead and throughput: the job queue and the sandbox against running the same
checks directly.

Run: .venv/bin/python bench/grading.py [--n 8] [--work 1.0 0.2]
     .venv/bin/python bench/grading.py --text [--repeat 5]   (free-text grading only)

--text: the cost of grading written answers (concept checks with sentence embeddings, claims,
the plan and field checks) per calibration answer of the design and code scenarios: cold
(first answer in a process: model load and exemplar embeddings), warm (a new answer after
warm-up: its own sentences embedded, exemplars cached) and, as the baseline measured in the
same run, the same answer graded lexically only (embedding model switched off). Goal: a
whole design answer in < 1 s warm on 2 CPUs.

The "checks" of a code submission are one Python process that works for W seconds (the
hidden cases' own run time). Measured, on a SQLite database in a temporary directory:

  overhead    one submission end to end (queued -> stored, one worker, sandbox one-shot
              run through the grading runner) minus W, against a plain `docker run` of
              the same command minus W.
  throughput  N submissions queued at once, graded by 2 in-process workers through the
              sandbox, against the same N checks run directly two at a time, (a) as host
              processes (no queue, no sandbox) and (b) as the same sandbox one-shot runs
              without the queue. Goal: >= 0.7x when W >= 1 s, >= 0.5x when W < 0.3 s.
  phases      per job: queued (enqueue -> claimed), sandbox (claimed -> checks started and
              container teardown, i.e. the run's wall time beyond W), checks (W as measured
              inside the sandbox), stored (checks done -> report committed).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from graders import engine
from graders.report import CriterionResult, Evidence
from graders.runner import RunLimits
from sandbox.files import write_tree

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout: factories

from server import db
from server.grading import service
from server.grading.worker import WorkerConfig, WorkerPool
from server.models import (
    Answer,
    Assessment,
    AssessmentScenario,
    Attempt,
    AttemptStatus,
    Candidate,
    GradingJob,
    Invite,
    JobState,
    Organization,
    ScoreReport,
)
from server.notebooks.runner import try_build_runner

RESULTS = "_results.jsonl"
# --results-file: each check also writes a results file that the run collects, as the real
# `tests` check does (one more step per sandbox run); the host baseline writes it too.
OUTPUTS: list[str] = []


def check_cmd(work_s: float) -> list[str]:
    """A check that burns work_s of CPU (hidden cases run candidate code: CPU-bound), so
    more workers than CPUs can only overlap container start-up, never the work itself."""
    write = f"\nopen({RESULTS!r}, 'w').write('{{\"ok\": true}}\\n' * 100)" if OUTPUTS else ""
    return ["python", "-c", ("import time\nt = time.process_time()\n"
                             f"while time.process_time() - t < {work_s}: pass\nprint('ok')"
                             + write)]


def plain_docker_run(image: str, work_s: float) -> float:
    t0 = time.perf_counter()
    subprocess.run(["docker", "run", "--rm", "--network", "none", "-w", "/tmp", image,
                    *check_cmd(work_s)],
                   check=True, capture_output=True)
    return time.perf_counter() - t0


def direct_host(work_s: float) -> float:
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, *check_cmd(work_s)[1:]], check=True,
                       capture_output=True, cwd=tmp)
    return time.perf_counter() - t0


class Bench:
    def __init__(self, runner: Any, work_s: float) -> None:
        self.runner, self.work_s = runner, work_s
        self.marks: dict[int, dict[str, float]] = {}
        self.lock = threading.Lock()

    def grade_fn(self, snapshot: dict[str, Any]) -> Any:
        t_claimed = time.time()
        out = self.runner.run({}, check_cmd(self.work_s), RunLimits(wall_s=60), OUTPUTS)
        t_done = time.time()
        with self.lock:
            self.marks[snapshot["attempt_id"]] = {"claimed": t_claimed, "done": t_done,
                                                  "inner": out.wall_s}
        passed = out.status == "ok" and "ok" in out.stdout and all(out.files.get(n)
                                                                   for n in OUTPUTS)
        crit = CriterionResult(scenario_id="s1", criterion_id="tests", dimension="coding",
                               points=10.0 if passed else 0.0, max_points=10.0,
                               evidence=[Evidence(kind="test", label="run", passed=passed)],
                               scorer="check:tests", confidence=1.0, needs_review=False,
                               status="graded")
        rep = engine._scenario_report("s1", 0, [crit])
        return engine.combine([rep], {"s1": 1.0})


def make_assessment(session: Any, *, org: Organization) -> Assessment:
    """One assessment of one scenario (the bench's own rows, not the tests' factories)."""
    a = Assessment(org_id=org.id, title="Bench")
    session.add(a)
    session.flush()
    session.add(AssessmentScenario(assessment_id=a.id, position=0, scenario_id="s1", weight=1.0))
    session.flush()
    return a


_SEQ = iter(range(1, 1 << 30))


def make_attempt(session: Any, *, org: Organization, assessment: Assessment) -> Attempt:
    """A submitted attempt with one answer, ready to be graded."""
    import secrets
    from datetime import UTC, datetime, timedelta

    n = next(_SEQ)
    cand = Candidate(org_id=org.id, email=f"bench{n}@example.com", name=f"Bench {n}")
    session.add(cand)
    session.flush()
    now = datetime.now(UTC)
    invite = Invite(org_id=org.id, assessment_id=assessment.id, candidate_id=cand.id,
                    token_hash=secrets.token_hex(32), expires_at=now + timedelta(days=7))
    session.add(invite)
    session.flush()
    attempt = Attempt(org_id=org.id, invite_id=invite.id, assessment_id=assessment.id,
                      candidate_id=cand.id, status=AttemptStatus.submitted, started_at=now,
                      deadline=now + timedelta(hours=2), submitted_at=now, seeds={"s1": 7})
    session.add(attempt)
    session.flush()
    session.add(Answer(attempt_id=attempt.id, scenario_id="s1", version=1, content={"x": 1}))
    session.flush()
    return attempt


def text_grading(repeat: int) -> None:
    """Seconds per written answer: cold, warm, and lexical-only as the baseline."""
    from graders import semantic
    from graders.checks import concepts
    from graders.rubric import ConceptsCheck
    from scenarios.loader import load_bank

    bank = load_bank()
    t0 = time.perf_counter()
    semantic.encoder()
    print(f"  model load (once per process): {time.perf_counter() - t0:.2f} s "
          f"({semantic.MODEL_NAME}, numpy, {os.cpu_count()} CPUs)")
    import numpy as np
    from threadpoolctl import threadpool_limits

    a = np.ones((1024, 384), dtype=np.float32)
    b = np.ones((384, 1536), dtype=np.float32)
    with threadpool_limits(1):
        t0 = time.perf_counter()
        for _ in range(20):
            a @ b
        gflops = 20 * 2 * 1024 * 384 * 1536 / (time.perf_counter() - t0) / 1e9
    print(f"  this machine now: one-thread float32 GEMM {gflops:.1f} GFLOP/s (the encoder needs "
          f"~21 MFLOP per token; a 900-word write-up is ~1,500 tokens)")
    warmed: set[str] = set()

    def texts_of(answer: dict[str, Any]) -> list[str]:
        out: list[str] = []
        for v in answer.values():
            if isinstance(v, str):
                out.append(v)
            elif isinstance(v, dict):
                out += [x for x in v.values() if isinstance(x, str)]
        return out

    for sid in ("train-large-dense", "serving-fleet-planner"):
        sc = bank.scenarios.get(sid)
        if sc is None:
            print(f"  {sid}: not in the bank ({bank.errors[:1]})")
            continue
        for name, case in sorted(sc.calibration.items()):
            answer = {k: v for k, v in case.answers.items() if k != "code"}  # text only
            rub = sc.rubric.model_copy(update={"criteria": [
                c for c in sc.rubric.criteria if c.check.kind != "tests"]})
            variant = sc.render(case.seed)

            cpu: list[float] = []

            def once() -> float:
                t, c = time.perf_counter(), time.process_time()
                engine.grade_scenario(rub, answer, variant, load_check=sc.load_check)
                cpu.append(time.process_time() - c)  # all threads: comparable under load
                return time.perf_counter() - t

            enc = semantic.encoder()
            if sid not in warmed:
                # Warm-up: the rubric's exemplars are embedded with the first graded text;
                # a one-line answer per text field, so no calibration answer is cached.
                stub = {c.check.field: "Warm-up." for c in rub.criteria
                        if isinstance(c.check, ConceptsCheck)}
                t = time.perf_counter()
                engine.grade_scenario(rub, stub, variant, load_check=sc.load_check)
                print(f"  {sid}: first answer in the process (embeds the rubric's "
                      f"exemplars): {time.perf_counter() - t:.2f} s")
                warmed.add(sid)
            for t in texts_of(answer):  # forget this answer's units another answer shared
                for sent in concepts.split_sentences(t):
                    for u in [sent.text, *concepts.clauses(sent.text)]:
                        enc._cache.pop(u, None)
            refs = set(enc._cache)
            cold = once()
            ours = set(enc._cache) - refs  # this answer's own sentences and clauses
            warm = []
            cpu.clear()
            for _ in range(repeat):
                for k in ours:
                    enc._cache.pop(k, None)
                warm.append(once())
            warm_cpu = statistics.median(cpu)
            saved = semantic._ENCODER, semantic._ERROR
            semantic._ENCODER, semantic._ERROR = None, "bench: lexical baseline"
            try:
                lexical = statistics.median(once() for _ in range(repeat))
            finally:
                semantic._ENCODER, semantic._ERROR = saved
            units = len(ours)
            w = statistics.median(warm)
            words = sum(len(t.split()) for t in texts_of(answer))
            print(f"  {sid}/{name}: {words} words, {units} units; first {cold:.2f} s, "
                  f"warm {w:.2f} s "
                  f"(min {min(warm):.2f}; CPU {warm_cpu:.2f} s on {enc.threads} threads), "
                  f"lexical only {lexical:.3f} s "
                  f"(semantic/lexical {w / lexical:.1f}x)")


def run_queue(runner: Any, work_s: float, n: int, workers: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        db.upgrade(url)
        engine_ = db.make_engine(url)
        factory = db.make_sessionmaker(engine_)
        bench = Bench(runner, work_s)
        with db.transaction(factory) as s:
            org = Organization(name="Bench", slug="bench", settings={})
            s.add(org)
            s.flush()
            assessment = make_assessment(s, org=org)
            attempts = [make_attempt(s, org=org, assessment=assessment) for _ in range(n)]
        pool = WorkerPool(factory, bench.grade_fn, workers=workers,
                          cfg=WorkerConfig(lease_s=60, poll_s=0.02, job_timeout_s=120))
        pool.start()
        t0 = time.time()
        with db.transaction(factory) as s:
            for a in attempts:
                service.enqueue_grading(s, s.merge(a))
        # Poll rarely: a tight polling loop would take CPU from the workers it measures.
        # The elapsed time is read from the reports' own timestamps, not from the poll.
        while True:
            with db.transaction(factory) as s:
                left = s.scalars(select(GradingJob).where(GradingJob.state != JobState.done)
                                 ).all()
            if not left:
                break
            time.sleep(0.25)
        pool.stop()
        with db.transaction(factory) as s:
            jobs = {j.attempt_id: j for j in s.scalars(select(GradingJob))}
            stored = {r.attempt_id: r.created_at.timestamp() for r in s.scalars(select(ScoreReport))}
        engine_.dispose()
        elapsed = max(stored.values()) - t0
    phases: dict[str, list[float]] = {"queued": [], "sandbox": [], "checks": [], "stored": []}
    totals = []
    for aid, m in bench.marks.items():
        queued_at = jobs[aid].created_at.timestamp()
        phases["queued"].append(m["claimed"] - queued_at)
        phases["sandbox"].append((m["done"] - m["claimed"]) - m["inner"])
        phases["checks"].append(m["inner"])
        phases["stored"].append(stored[aid] - m["done"])
        totals.append(stored[aid] - queued_at)
    return {"elapsed": elapsed, "per_s": n / elapsed,
            "phases": {k: statistics.median(v) for k, v in phases.items()},
            "latency": statistics.median(totals)}


def run_direct(work_s: float, n: int, procs: int, runner: Any = None) -> float:
    """N checks, `procs` at a time, no queue: as host processes, or (runner given) as the
    same sandbox one-shot runs the workers make."""
    def one(_: int) -> None:
        if runner is None:
            direct_host(work_s)
        else:
            runner.run({}, check_cmd(work_s), RunLimits(wall_s=60), OUTPUTS)

    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(procs) as ex:
        list(ex.map(one, range(n)))
    return n / (time.perf_counter() - t0)


class _Recorder:
    """The grading runner, recording what the tests check asked it to run."""

    def __init__(self, runner: Any) -> None:
        self.runner, self.calls = runner, []
        self.name = getattr(runner, "name", "")

    def run(self, files: Any, command: Any, limits: Any, outputs: Any) -> Any:
        t0 = time.perf_counter()
        out = self.runner.run(files, command, limits, outputs)
        self.calls.append((dict(files), list(command), out, time.perf_counter() - t0))
        return out


def _cases_time(out: Any) -> float:
    """The hidden cases' own run time: the sum of the harness's per-case times."""
    data = out.files.get("_burnin_results.jsonl") or b""
    total = 0.0
    for line in data.splitlines():
        try:
            total += float(json.loads(line).get("wall_s", 0.0))
        except (ValueError, AttributeError):
            continue
    return total


def code_scenario(runner: Any, image: str, repeat: int) -> None:
    """Grading the code scenario's reference answer (every criterion, the hidden cases in a
    sandbox) against a plain `docker run` of the same harness, files and command."""
    from scenarios.loader import load_bank

    scenario = load_bank().scenarios["serving-fleet-planner"]
    cal = scenario.calibration["reference.json"]
    grading, sandbox, plain, cases = [], [], [], []
    for _ in range(repeat):
        rec = _Recorder(runner)
        t0 = time.perf_counter()
        engine.grade_answer(scenario, cal.seed, cal.answers, rec)
        grading.append(time.perf_counter() - t0)
        (files, command, out, run_s), = rec.calls
        cases.append(_cases_time(out))
        sandbox.append(run_s)
        with tempfile.TemporaryDirectory() as tmp:
            write_tree(Path(tmp), files)
            os.chmod(tmp, 0o755)
            t0 = time.perf_counter()
            subprocess.run(["docker", "run", "--rm", "--network", "none", "-v", f"{tmp}:/in:ro",
                            image, "sh", "-c", 'cp -R /in/. /tmp/ && cd /tmp && exec "$@"', "sh",
                            *command], check=True, capture_output=True)
            plain.append(time.perf_counter() - t0)
    g, r, p, c = (statistics.median(v) for v in (grading, sandbox, plain, cases))
    print(f"\ncode scenario (serving-fleet-planner reference answer, median of {repeat}):")
    print(f"  hidden cases' own run time {c:.3f} s")
    print(f"  sandbox run through the grading runner (inputs in, results file out, counters) "
          f"{r:.2f} s -> overhead {r - c:.2f} s; plain `docker run` of the same harness and "
          f"files {p:.2f} s -> overhead {p - c:.2f} s (ratio {(r - c) / (p - c):.2f}x)")
    print(f"  whole grade {g:.2f} s: the sandbox run plus {g - r:.2f} s outside it (making the "
          f"cases, the reference outputs, judging, the other criteria)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--work", type=float, nargs="+", default=[1.0, 0.2])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--results-file", action="store_true",
                    help="checks write a results file that each run collects (as `tests`)")
    ap.add_argument("--code-scenario", action="store_true",
                    help="only the code scenario's grading overhead")
    ap.add_argument("--workers", type=int, default=2,
                    help="grading workers (they mostly wait on container start-up)")
    ap.add_argument("--text", action="store_true",
                    help="only the cost of grading written answers (no sandbox needed)")
    args = ap.parse_args()
    if args.text:
        print(f"host: {platform.platform()}, python {platform.python_version()}, "
              f"load average {os.getloadavg()[0]:.1f}")
        text_grading(args.repeat)
        return
    if args.results_file:
        OUTPUTS.append(RESULTS)
    runner, why = try_build_runner()
    if runner is None:
        sys.exit(f"no sandbox backend: {why}")
    image = getattr(runner.backend, "image", "burnin-sandbox:latest")
    print(f"host: {platform.platform()}, python {platform.python_version()}, "
          f"sandbox backend {runner.name}, image {image}")
    code_scenario(runner, image, args.repeat)
    if args.code_scenario:
        return
    for w in args.work:
        docker = statistics.median(plain_docker_run(image, w) for _ in range(args.repeat))
        one = run_queue(runner, w, 1, 1)
        q = run_queue(runner, w, args.n, args.workers)
        direct = run_direct(w, args.n, 2)
        direct_sb = run_direct(w, args.n, 2, runner)
        p = q["phases"]
        print(f"\nW = {w:g} s")
        print(f"  overhead, one submission: plain docker run {docker - w:.2f} s; "
              f"queued->stored {one['latency'] - w:.2f} s")
        print(f"  throughput, {args.n} submissions, {args.workers} workers: "
              f"queue+sandbox {q['per_s']:.2f}/s; "
              f"direct in 2 host processes {direct:.2f}/s (ratio {q['per_s'] / direct:.2f}x); "
              f"same sandbox runs, 2 at a time, no queue {direct_sb:.2f}/s "
              f"(ratio {q['per_s'] / direct_sb:.2f}x)")
        print(f"  phases (median of {args.n}): queued {p['queued']:.2f} s, sandbox "
              f"{p['sandbox']:.2f} s, checks {p['checks']:.2f} s, stored {p['stored']:.3f} s")


if __name__ == "__main__":
    main()
