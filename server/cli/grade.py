"""`burnin grade`: grade one answer offline and print its report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer


def grade(
    answer_file: Annotated[Path, typer.Argument(
        metavar="ANSWER.json", help="Answer document (same format as calibration answers).")],
    scenario: Annotated[str | None, typer.Option(
        "--scenario", help="Scenario id (default: the document's 'scenario').")] = None,
    seed: Annotated[int | None, typer.Option(
        "--seed", help="Variant seed (default: the document's 'seed').")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    no_sandbox: Annotated[bool, typer.Option(
        "--no-sandbox", help="Do not run code (tests checks become infra_error).")] = False,
    root: Annotated[Path | None, typer.Option(
        "--root", help="Bank root (default: the installed scenarios/ package).")] = None,
) -> None:
    """Grade one answer to one scenario variant and print the report."""
    from graders.engine import grade_answer
    from scenarios.loader import load_bank
    from scenarios.render import RenderError
    from server.notebooks.runner import try_build_runner

    try:
        doc = json.loads(answer_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        _fail(f"cannot read {answer_file}: {exc}")
    if not isinstance(doc, dict):
        _fail(f"{answer_file}: expected a JSON object")
    answers = doc.get("answers", doc) if isinstance(doc.get("answers"), dict) else doc
    scenario_id = scenario or doc.get("scenario")
    if not isinstance(scenario_id, str):
        _fail("no scenario id: pass --scenario or put 'scenario' in the document")
    the_seed = seed if seed is not None else doc.get("seed")
    if not isinstance(the_seed, int) or isinstance(the_seed, bool) or the_seed < 0:
        _fail("no seed: pass --seed or put 'seed' in the document")
    if root is not None and not root.is_dir():
        _fail(f"bank root {root} is not a directory", code=2)
    bank = load_bank(root)
    if scenario_id not in bank.scenarios:
        for err in bank.errors_for(scenario_id):
            typer.echo(f"{err.scenario}: {err}", err=True)
        _fail(f"no valid scenario with id {scenario_id!r}")
    sc = bank.scenarios[scenario_id]
    from scenarios.answers import answer_problems

    for fid, reason in answer_problems(sc.manifest.answer, answers):
        typer.echo(f"warning: answer {fid}: {reason}", err=True)
    runner, why = (None, "--no-sandbox") if no_sandbox else try_build_runner()
    if runner is None and any(c.check.kind == "tests" for c in sc.rubric.criteria):
        typer.echo(f"warning: code will not run ({why})", err=True)
    try:
        report = grade_answer(sc, the_seed, answers, runner)
    except RenderError as exc:
        _fail(f"cannot render seed {the_seed}: {exc}")
    if as_json:
        typer.echo(json.dumps(_json(report), indent=2, sort_keys=False))
    else:
        typer.echo(_text(report))


def _fail(msg: str, code: int = 1) -> Any:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code)


def _json(report: Any) -> dict[str, Any]:
    data = report.model_dump(mode="json")
    for c in data["criteria"]:
        c["id"] = c["criterion_id"]
    return {"scenario": report.scenario_id, "seed": report.seed, "score": data["score"],
            "dimensions": data["dimensions"], "criteria": data["criteria"],
            "pending_review": data["pending_review"], "grader_version": data["grader_version"]}


def _text(report: Any) -> str:
    score = "-" if report.score is None else f"{report.score:.1f}"
    head = f"{report.scenario_id} seed {report.seed}: score {score}/100 " \
        f"(grader {report.grader_version})"
    lines = [head]
    if report.dimensions:
        lines.append("  " + "  ".join(f"{k} {v:.0f}" for k, v in report.dimensions.items()))
    for c in report.criteria:
        flag = " [review]" if c.needs_review else ""
        lines.append(f"  {c.criterion_id:<22} {c.points:>6.2f}/{c.max_points:<6g} "
                     f"{c.scorer:<15} {c.status}{flag}: {c.detail}")
        for e in c.evidence:
            if e.kind in ("level", "resource"):
                continue
            text = (e.text or "").replace("\n", " ")
            if len(text) > 110:
                text = text[:109] + "\u2026"
            if e.kind == "quote" and isinstance(e.value, dict):
                basis = e.value.get("basis") or next(iter(e.value), "")
                lines.append(f"      - {e.label} ({e.credit if e.credit is not None else '-'}, "
                             f"{basis}): \"{text}\"")
                continue
            value = "" if e.value is None else f" {json.dumps(e.value, default=str)[:80]}"
            expected = "" if e.expected is None else \
                f" (expected {json.dumps(e.expected, default=str)[:40]})"
            lines.append(f"      - {e.kind} {e.label}:{value}{expected} {text}".rstrip())
    if report.pending_review:
        lines.append("  waiting for a person: " + ", ".join(report.pending_review))
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    """Add `burnin grade` to the main app."""
    app.command("grade")(grade)
