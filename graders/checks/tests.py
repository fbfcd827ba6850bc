"""tests: hidden cases run against the candidate's code through the caller's runner.

Outside the sandbox: `cases(seed, n)` (checks/ module) makes the inputs and the reference
module computes the expected outputs. Inside a fresh one-shot sandbox: a small harness
imports the candidate's entrypoint, calls it on each input and writes one JSON line per
case. Outside again: `judge(case, output, reference)` decides each case. The candidate
never sees a reference output or a verdict, and writing the results file by hand gains
nothing because every output is judged here. Cases that finished before a timeout keep
their credit; code that cannot be imported is not gradable (0 points, with the reason).

cases(params, n) (or cases(seed, n) when its first argument is named seed) makes the inputs;
the reference module's reference(case) (else <entrypoint function>(case), else solve(case))
gives what judge() compares against. judge() may return a bool, a number 0..1, or a dict
{"passed" or "valid": bool, "score": 0..1, "detail": str or "violations": [str],
"expected": str, "actual": str}. Each case's evidence shows its input, the expected and the
actual outcome: the cases module's optional summary(case) -> str describes the input (else
the case's id and a short JSON excerpt); the verdict's "expected"/"actual" describe the
outcomes (else short JSON excerpts of the reference output and the candidate's output).

With a `driver` (a checks/ module, standard library only), the harness loads it first and
calls driver.run(entry, case) instead of entry(case): entry is the candidate's object named
by the entrypoint (a class, say), and the driver exercises it (save its state, build a fresh
one, restore, resume) and returns plain data for the judge. The driver is ours and shipped
as `_burnin_driver.py`; it holds no expected outputs, so seeing it gains the candidate
nothing.
"""

from __future__ import annotations

import inspect
import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from graders.checks.base import CheckContext, CheckOutcome, CheckSetupError, is_blank, r4
from graders.report import Evidence, Status
from graders.rubric import TestsCheck
from graders.runner import RunLimits, RunOutput

HARNESS = "_burnin_harness.py"
DRIVER = "_burnin_driver.py"
CASES_FILE = "_burnin_cases.json"
RESULTS_FILE = "_burnin_results.jsonl"
RESERVED_PREFIX = "_burnin_"
MAX_FILE_BYTES = 1024 * 1024
SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*(/[A-Za-z0-9_][A-Za-z0-9_.\-]*)*$")
EVIDENCE_CASES = 50  # per-case evidence items kept (the counts cover all cases)

# Inside the sandbox. The run's time is shared out case by case: a case may use what is
# left of the budget minus a small share for every case after it, then SIGALRM stops it and
# the next case runs, so a hang on one case costs that case only. The sandbox's wall clock
# stays the backstop (code that blocks the signal); its finished cases are salvaged then.
HARNESS_SOURCE = '''\
import importlib.util, json, signal, sys, time, traceback
path, func, budget = sys.argv[1], sys.argv[2], float(sys.argv[3])
driver_path = sys.argv[4] if len(sys.argv) > 4 else None
start = time.monotonic()
deadline = start + max(1.0, budget * 0.9 - 1.5)
class _CaseTimeLimit(BaseException):
    pass
def _alarm(signum, frame):
    raise _CaseTimeLimit()
out = open("_burnin_results.jsonl", "w")
def emit(rec):
    out.write(json.dumps(rec) + "\\n"); out.flush()
def _load(name, file):
    spec = importlib.util.spec_from_file_location(name, file)
    m = importlib.util.module_from_spec(spec)
    sys.modules[name] = m
    spec.loader.exec_module(m)
    return m
try:
    # the scenario's driver loads first, so it holds the clock before candidate code runs
    driver = _load("_burnin_driver", driver_path) if driver_path else None
    mod = _load("candidate_solution", path)
    fn = getattr(mod, func)
    if driver is not None:
        entry, drive = fn, driver.run
        fn = lambda case: drive(entry, case)
except BaseException as exc:
    emit({"load_error": "%s: %s" % (type(exc).__name__, str(exc)[:500]),
          "trace": traceback.format_exc()[-1500:]})
    sys.exit(3)
with open("_burnin_cases.json") as f:
    cases = json.load(f)
share = min(1.0, budget / (4 * max(len(cases), 1)))
signal.signal(signal.SIGALRM, _alarm)
for i, case in enumerate(cases):
    limit = max(0.2, deadline - time.monotonic() - share * (len(cases) - i - 1))
    t0 = time.perf_counter()
    try:
        try:
            signal.setitimer(signal.ITIMER_REAL, limit)
            res = fn(case)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        line = json.dumps({"i": i, "ok": True, "output": res,
                           "wall_s": time.perf_counter() - t0})
    except _CaseTimeLimit:
        line = json.dumps({"i": i, "ok": False, "case_timeout": round(limit, 2),
                           "wall_s": time.perf_counter() - t0})
    except BaseException as exc:
        line = json.dumps({"i": i, "ok": False, "wall_s": time.perf_counter() - t0,
                           "error": "%s: %s" % (type(exc).__name__, str(exc)[:300])})
    out.write(line + "\\n"); out.flush()
'''


def sanitize_files(value: Any) -> tuple[dict[str, bytes], list[str]]:
    """Candidate files with safe names; reserved names and oversized files dropped."""
    files: dict[str, bytes] = {}
    notes: list[str] = []
    if not isinstance(value, Mapping):
        return files, ["code answer is not a file -> source mapping"]
    for name, src in sorted(value.items()):
        if not isinstance(name, str) or not SAFE_NAME.match(name) or ".." in name.split("/"):
            notes.append(f"dropped file with unsafe name {name!r}")
            continue
        if name.split("/")[-1].startswith(RESERVED_PREFIX):
            notes.append(f"dropped {name!r}: reserved for the grader")
            continue
        if not isinstance(src, str):
            notes.append(f"dropped {name!r}: not text")
            continue
        data = src.encode("utf-8", errors="replace")
        if len(data) > MAX_FILE_BYTES:
            notes.append(f"dropped {name!r}: larger than {MAX_FILE_BYTES} bytes")
            continue
        files[name] = data
    return files, notes


def normalize_verdict(v: Any) -> tuple[float, bool, str]:
    """judge() result -> (score 0..1, passed, detail)."""
    if isinstance(v, bool):
        return (1.0 if v else 0.0), v, ""
    if isinstance(v, int | float):
        s = float(v) if math.isfinite(v) else 0.0
        s = min(1.0, max(0.0, s))
        return s, s >= 1.0, ""
    if isinstance(v, Mapping):
        ok = v.get("passed", v.get("valid", False))
        raw = v.get("score", 1.0 if ok else 0.0)
        s = float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else 0.0
        s = min(1.0, max(0.0, s)) if math.isfinite(s) else 0.0
        if "valid" in v and not v["valid"]:
            s = 0.0  # an invalid output earns nothing whatever its score says
        passed = bool(v["passed"]) if "passed" in v else s >= 1.0
        detail = v.get("detail") or "; ".join(str(x) for x in list(v.get("violations") or [])[:3])
        return s, passed, str(detail or "")[:300]
    raise CheckSetupError(f"judge() returned {type(v).__name__}; expected bool, number or dict")


def _parse_results(data: bytes | None) -> tuple[dict[int, dict[str, Any]], str | None, int]:
    """(index -> record, load error, malformed lines)."""
    records: dict[int, dict[str, Any]] = {}
    load_error: str | None = None
    bad = 0
    if not data:
        return records, None, 0
    for line in data.decode("utf-8", errors="replace").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            bad += 1
            continue
        if not isinstance(rec, dict):
            bad += 1
        elif "load_error" in rec:
            load_error = str(rec["load_error"])
        elif isinstance(rec.get("i"), int) and rec["i"] not in records:
            records[rec["i"]] = rec
        else:
            bad += 1
    return records, load_error, bad


def run(check: TestsCheck, max_points: float, ctx: CheckContext) -> CheckOutcome:
    raw = ctx.answer.get(check.field)
    if is_blank(raw):
        return CheckOutcome(0.0, [Evidence(kind="note", label="code", passed=False,
                                           credit=0.0, text="no code submitted")],
                            status="unanswered", detail="no code submitted")
    files, notes = sanitize_files(raw)
    evidence = [Evidence(kind="note", label="sanitize", text=n) for n in notes]
    entry_file, _, func = check.entrypoint.partition(":")
    if entry_file not in files:
        return CheckOutcome(0.0, evidence + [Evidence(
            kind="note", label="code", passed=False, text=f"{entry_file} was not submitted")],
            gradable=False, status="not_gradable", needs_review=True,
            detail=f"{entry_file} was not submitted")

    make_cases = ctx.function(check.cases, "cases")
    summarize = getattr(ctx.module(check.cases), "summary", None)
    judge = ctx.function(check.judge, "judge")
    reference: Callable[..., Any] | None = None
    if check.reference:
        mod = ctx.module(check.reference)
        ref = next((f for f in (getattr(mod, n, None) for n in ("reference", func, "solve"))
                    if callable(f)), None)
        if ref is None:
            raise CheckSetupError(f"{check.reference} defines none of reference(), {func}(), "
                                  "solve()")
        reference = ref
    try:
        # cases(params, n); cases(seed, n) when its first argument is named seed
        first = next(iter(inspect.signature(make_cases).parameters), "")
        cases = list(make_cases(ctx.seed if first == "seed" else dict(ctx.params),
                                check.num_cases))
        json_cases = json.dumps(cases)
    except Exception as exc:
        raise CheckSetupError(f"cases() failed: {type(exc).__name__}: {exc}") from exc

    if ctx.runner is None:
        return CheckOutcome(0.0, evidence, confidence=0.0, needs_review=True, gradable=False,
                            status="infra_error",
                            detail="no sandbox runner was given: the code was not run")
    # Restore what the candidate must not control: the harness and the inputs are ours.
    run_files = dict(files)
    run_files[HARNESS] = HARNESS_SOURCE.encode()
    run_files[CASES_FILE] = json_cases.encode()
    limits = RunLimits(wall_s=min(check.timeout_s, ctx.limits.wall_s) if ctx.limits.wall_s
                       else check.timeout_s, memory_mib=ctx.limits.memory_mib,
                       cpus=ctx.limits.cpus, pids=ctx.limits.pids)
    argv = ["python3", HARNESS, entry_file, func, f"{limits.wall_s:.3f}"]
    if check.driver:
        run_files[DRIVER] = _driver_source(ctx, check.driver)
        argv.append(DRIVER)
    try:
        out = ctx.runner.run(run_files, argv, limits, [RESULTS_FILE])
    except Exception as exc:  # noqa: BLE001 - the runner is ours: its failure is not the candidate's
        return CheckOutcome(0.0, evidence, confidence=0.0, needs_review=True, gradable=False,
                            status="infra_error",
                            detail=f"runner failed: {type(exc).__name__}: {exc}")
    resources = _resources(out)
    evidence.append(resources)
    if out.status == "infra_error":
        return CheckOutcome(0.0, evidence, confidence=0.0, needs_review=True, gradable=False,
                            status="infra_error", detail=f"sandbox failed: {out.detail}")

    records, load_error, bad = _parse_results(out.files.get(RESULTS_FILE))
    if load_error is not None or (not records and out.status not in ("timeout",)):
        reason = load_error or _no_results_reason(out)
        evidence.append(Evidence(kind="note", label="run", passed=False, text=reason,
                                 value={"stderr": out.stderr[-1000:]}))
        return CheckOutcome(0.0, evidence, gradable=False, status="not_gradable",
                            needs_review=True, detail=f"code cannot run: {reason}")

    timed_out = out.status == "timeout"
    missing = ("no result: the run timed out before this case finished" if timed_out else
               f"no result: the run ended ({out.status}) before this case")
    earned = 0.0
    passed_count = 0
    stuck: str | None = None  # the first case without a result: where a timeout struck
    hung = 0  # cases stopped at their time share (the run went on)
    for i, case in enumerate(cases):
        rec = records.get(i)
        expected = reference(case) if reference is not None else None
        verdict: Any = None
        if rec is None:
            score, passed, detail = 0.0, False, ""
            actual = missing
            stuck = stuck or _case_label(case, i)
        elif not rec.get("ok") and "case_timeout" in rec:
            score, passed, detail = 0.0, False, ""
            actual = f"did not finish within its time share ({_seconds(rec['case_timeout'])} s)"
            hung += 1
        elif not rec.get("ok"):
            score, passed, detail = 0.0, False, ""
            actual = f"raised {str(rec.get('error', ''))[:300]}"
        else:
            try:
                verdict = judge(case, rec.get("output"), expected)
            except Exception as exc:
                raise CheckSetupError(f"judge() failed on case {i}: "
                                      f"{type(exc).__name__}: {exc}") from exc
            score, passed, detail = normalize_verdict(verdict)
            actual = _described(verdict, "actual") or _excerpt(rec.get("output"))
        earned += score
        passed_count += passed
        if i < EVIDENCE_CASES:
            summary = _summary(summarize, case)
            evidence.append(Evidence(
                kind="test", label=_case_label(case, i), passed=passed, credit=r4(score),
                value=actual,
                expected=_described(verdict, "expected") or (
                    None if expected is None else _excerpt(expected)),
                text=f"input: {summary}" + (f" | {detail}" if detail else "")))
    case_wall = [_seconds(records[i].get("wall_s")) if i in records else None
                 for i in range(min(len(cases), EVIDENCE_CASES))]
    evidence[evidence.index(resources)] = resources.model_copy(
        update={"value": {**resources.value, "case_wall_s": case_wall}})
    n = len(cases) or 1
    status: Status = "timed_out" if timed_out else "graded"
    detail = f"{passed_count}/{len(cases)} hidden cases passed"
    if timed_out:
        detail += f"; timed out after {len(records)} cases" + (
            f" (on {stuck}); the finished cases keep their credit" if stuck else "")
    elif out.status != "ok":
        detail += f"; run ended with {out.status}"
    if hung:
        detail += f"; {hung} case(s) stopped at their time share"
    if bad:
        detail += f"; {bad} malformed result lines ignored"
    # A timeout after some cases is the candidate's outcome (a hang on a case): final. One
    # before any case finished may be a slow machine: a person should look.
    nothing = timed_out and not records
    return CheckOutcome(r4(earned / n * max_points), evidence, confidence=1.0,
                        needs_review=nothing, gradable=not nothing, status=status,
                        detail=detail)


def _driver_source(ctx: CheckContext, relpath: str) -> bytes:
    """The driver module's source, shipped as it is (it holds no expected outputs)."""
    path = getattr(ctx.module(relpath), "__file__", None)
    if not path:
        raise CheckSetupError(f"{relpath}: the driver has no source file")
    with open(path, "rb") as f:
        return f.read()


def _case_label(case: Any, i: int) -> str:
    cid = case.get("id") if isinstance(case, Mapping) else None
    return f"case {i}: {cid}" if isinstance(cid, str) and cid else f"case {i}"


def _excerpt(value: Any, limit: int = 200) -> str:
    """Compact JSON of a value, cut to `limit` characters."""
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr)
    except (ValueError, TypeError, RecursionError):
        text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def _described(verdict: Any, key: str) -> str | None:
    if isinstance(verdict, Mapping) and isinstance(verdict.get(key), str) and verdict[key]:
        return str(verdict[key])[:300]
    return None


def _summary(summarize: Any, case: Any) -> str:
    """What a case's input is, in one line: the scenario's summary(case), else an excerpt."""
    if callable(summarize):
        try:
            text = summarize(case)
        except Exception as exc:
            raise CheckSetupError(f"summary() failed: {type(exc).__name__}: {exc}") from exc
        if isinstance(text, str) and text:
            return text[:300]
    return _excerpt(case, 160)


def _no_results_reason(out: RunOutput) -> str:
    if out.status == "memory_limit":
        return "the code ran out of memory before finishing a case"
    if out.status == "output_limit":
        return "the code wrote more output than allowed"
    tail = out.stderr.strip().splitlines()[-1:] if out.stderr.strip() else []
    return f"no results (status {out.status}, exit code {out.exit_code})" + \
        (f": {tail[0][:200]}" if tail else "")


def _seconds(v: Any) -> float | None:
    """A per-case time the harness reported (written inside the sandbox: only a hint)."""
    if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
        return round(float(v), 4)
    return None


def _resources(out: RunOutput) -> Evidence:
    return Evidence(kind="resource", label="run", value={
        "status": out.status, "exit_code": out.exit_code, "wall_s": round(out.wall_s, 3),
        "cpu_s": None if out.cpu_s is None else round(out.cpu_s, 3),
        "peak_memory_mib": None if out.peak_memory_bytes is None
        else round(out.peak_memory_bytes / 2**20, 1)})
