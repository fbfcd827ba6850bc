"""`burnin scenarios` commands."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="The scenario bank: validate, list, preview, selftest.", no_args_is_help=True)

RootOpt = Annotated[
    Path | None,
    typer.Option("--root", help="Bank root (default: the installed scenarios/ package)."),
]


def _bank(root: Path | None):  # type: ignore[no-untyped-def]
    from scenarios.loader import load_bank

    if root is not None and not root.is_dir():
        typer.echo(f"error: bank root {root} is not a directory", err=True)
        raise typer.Exit(2)
    return load_bank(root)


@app.command()
def validate(root: RootOpt = None) -> None:
    """Validate every scenario; print each error with file, line/field and reason."""
    bank = _bank(root)
    for err in bank.errors:
        typer.echo(f"{err.scenario}: {err}", err=True)
    typer.echo(f"{len(bank.scenarios)} valid, {len({e.scenario for e in bank.errors})} "
               f"with errors ({len(bank.errors)} errors)")
    if bank.errors:
        raise typer.Exit(1)


@app.command("list")
def list_(root: RootOpt = None,
          as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False) -> None:
    """List the valid scenarios (broken ones are reported on stderr)."""
    from scenarios.scale import scenario_tiers

    bank = _bank(root)
    rows = [
        {"id": s.id, "title": s.manifest.title, "kind": s.manifest.kind,
         "version": s.manifest.version, "difficulty": s.manifest.difficulty,
         "time_estimate_min": s.manifest.time_estimate_min,
         "dimensions": list(s.manifest.dimensions), "stack_layers": list(s.manifest.stack_layers),
         "scale_tiers": scenario_tiers(s), "folder": s.path.name}
        for s in sorted(bank.scenarios.values(), key=lambda s: s.id)
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
    else:
        for r in rows:
            typer.echo(f"{r['id']:<28} {r['kind']:<7} {r['time_estimate_min']:>4} min  {r['title']}")
    if bank.errors:
        typer.echo(f"{len({e.scenario for e in bank.errors})} scenario(s) with errors; "
                   "run `burnin scenarios validate`", err=True)


@app.command()
def preview(scenario_id: Annotated[str, typer.Argument(help="Scenario id.")],
            out: Annotated[Path, typer.Option("--out", help="Directory to write the view to.")],
            seed: Annotated[int, typer.Option("--seed", help="Variant seed.")] = 0,
            root: RootOpt = None) -> None:
    """Write exactly the candidate's view of one variant: prompt, form, artifacts, starter."""
    from scenarios.render import RenderError

    bank = _bank(root)
    if scenario_id not in bank.scenarios:
        for err in bank.errors_for(scenario_id):
            typer.echo(f"{err.scenario}: {err}", err=True)
        typer.echo(f"error: no valid scenario with id {scenario_id!r}", err=True)
        raise typer.Exit(1)
    try:
        view = bank.scenarios[scenario_id].candidate_view(seed)
    except RenderError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if out.exists():
        if not out.is_dir():
            typer.echo(f"error: {out} exists and is not a directory", err=True)
            raise typer.Exit(2)
        # Stale files from another seed would not be part of this view.
        for sub in ("artifacts", "starter"):
            shutil.rmtree(out / sub, ignore_errors=True)
    view.write(out)
    typer.echo(f"wrote {scenario_id} seed {seed} to {out} "
               f"({len(view.artifacts)} artifacts, {len(view.starter)} starter files)")


@app.command()
def templates(root: RootOpt = None,
              as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False
              ) -> None:
    """List the role templates: role, minutes, scenarios with weights and pinned scale tiers."""
    from scenarios.templates import template_minutes

    bank = _bank(root)
    rows = [
        {"id": t.id, "role": t.role, "title": t.title, "seniority": t.seniority,
         "time_limit_min": t.time_limit_min,
         "scenario_minutes": template_minutes(t, bank.scenarios), "description": t.description,
         "scenarios": [i.model_dump(exclude_none=True) for i in t.scenarios]}
        for t in bank.templates.values()
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
    else:
        for r in rows:
            typer.echo(f"{r['id']:<28} {r['role']:<26} {r['time_limit_min']:>4} min  {r['title']}")
            for i in r["scenarios"]:
                tier = f"  scale {i['scale']}" if "scale" in i else ""
                typer.echo(f"    {i['scenario']:<28} weight {i['weight']:g}{tier}")
    template_errors = [e for e in bank.errors if e.scenario == "templates"]
    for err in template_errors:
        typer.echo(f"templates: {err}", err=True)
    if template_errors:
        raise typer.Exit(1)


@app.command()
def selftest(scenario_id: Annotated[str | None, typer.Argument(help="Only this scenario.")] = None,
             seeds: Annotated[int, typer.Option(help="Seeds for the solver/checks.")] = 200,
             root: RootOpt = None,
             no_sandbox: Annotated[bool, typer.Option(
                 "--no-sandbox", help="Do not run code (calibration of code scenarios fails)."
             )] = False) -> None:
    """Validate, check generator determinism, solve every variant, grade the calibration."""
    from scenarios.selftest import run_selftest
    from server.notebooks.runner import try_build_runner

    bank = _bank(root)
    failed = False
    targets = sorted(bank.scenarios)
    if scenario_id is not None:
        if scenario_id not in bank.scenarios:
            for err in bank.errors_for(scenario_id):
                typer.echo(f"FAIL {scenario_id}: {err}")
            if not bank.errors_for(scenario_id):
                typer.echo(f"error: no scenario with id {scenario_id!r}", err=True)
            raise typer.Exit(1)
        targets = [scenario_id]
    else:
        for err in bank.errors:
            typer.echo(f"FAIL {err.scenario}: {err}")
            failed = True
    runner, why = (None, "--no-sandbox") if no_sandbox else try_build_runner()
    if runner is None and any(c.check.kind == "tests" for sid in targets
                              for c in bank.scenarios[sid].rubric.criteria):
        typer.echo(f"warning: no sandbox, code is not run ({why})", err=True)
    for sid in targets:
        res = run_selftest(bank.scenarios[sid], seeds=seeds,
                           progress=lambda m: typer.echo(f"  .. {m}", err=True), runner=runner,
                           grade=True)
        typer.echo(f"{'ok  ' if res.ok else 'FAIL'} {sid}: " + "; ".join(res.notes))
        for cal in res.calibration:
            typer.echo(f"     {cal}")
        for p in res.problems[:50]:
            typer.echo(f"     {p}")
        if len(res.problems) > 50:
            typer.echo(f"     ... {len(res.problems) - 50} more")
        failed = failed or not res.ok
    if failed:
        raise typer.Exit(1)


@app.command()
def schema(out: Annotated[Path | None, typer.Option("--out", help="Directory (default: scenarios/schema).")] = None) -> None:
    """Write the JSON Schemas of scenario.yaml, rubric.yaml, calibration files and templates."""
    from scenarios.schemas import SCHEMA_DIR, write_schemas

    for path in write_schemas(out or SCHEMA_DIR):
        typer.echo(f"wrote {path}")
