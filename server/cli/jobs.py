"""`burnin jobs list|retry` and `burnin worker`."""

from __future__ import annotations

import json
import logging
import signal
import threading
from typing import Annotated, Any

import typer

from server import db
from server.audit.service import Actor
from server.cli.common import cli_transaction, load_settings, prepare_database
from server.grading import service
from server.models import GradingJob, JobState

app = typer.Typer(help="Grading jobs: list, retry dead ones.", no_args_is_help=True)
CLI = Actor("cli")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="jobs")
    root.command()(worker)


@app.command("list")
def list_(
    state: Annotated[JobState | None,
                     typer.Option(help="Only jobs in this state (e.g. dead).")] = None,
    limit: int = typer.Option(200, min=1, help="At most this many, newest first."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
) -> None:
    """List grading jobs, newest first."""
    with cli_transaction(load_settings()) as session:
        rows = [service.job_row(j) for j in service.list_jobs(session, state, limit)]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    if not rows:
        typer.echo("no jobs" + (f" in state {state.value}" if state else ""))
        return
    for r in rows:
        err = (r["error"] or "").splitlines()[-1:] or [""]
        typer.echo(f"{r['id']:>6}  attempt {r['attempt_id']:<6} {r['state']:<8} "
                   f"tries {r['tries']}/{r['max_tries']}  {err[0][:80]}")


@app.command()
def retry(
    job_id: int | None = typer.Argument(None, help="The dead job to queue again."),
    all_dead: bool = typer.Option(False, "--all-dead", help="Queue every dead job again."),
) -> None:
    """Queue dead jobs again (tries reset)."""
    if (job_id is None) == (not all_dead):
        typer.secho("error: give a job id or --all-dead (not both)", err=True, fg="red")
        raise typer.Exit(2)
    with cli_transaction(load_settings()) as session:
        if all_dead:
            jobs: list[GradingJob] = list(service.list_jobs(session, JobState.dead, limit=100_000))
        else:
            job = session.get(GradingJob, job_id)
            if job is None:
                typer.secho(f"error: no grading job {job_id}", err=True, fg="red")
                raise typer.Exit(1)
            jobs = [job]
        done = [service.retry_job(session, j, CLI).id for j in jobs]
    typer.echo(f"queued again: {', '.join(map(str, done)) or 'nothing (no dead jobs)'}")


def worker(
    workers: int = typer.Option(2, min=1, max=64, help="Worker threads in this process."),
    grade_fn: str = typer.Option("", help="module:attribute of the grade function "
                                 "(default: the grading library)."),
    lease_s: float = typer.Option(None, help="Lease length (default BURNIN_GRADING_LEASE_S)."),
    job_timeout_s: float = typer.Option(None, help="Give up a try after this many seconds."),
    poll_s: float = typer.Option(1.0, help="Pause between polls when the queue is empty."),
    backoff_s: float = typer.Option(5.0, help="First retry delay; doubles each try."),
) -> None:
    """Run grading workers in this process until interrupted (for other hosts)."""
    from server.grading.grade_fn import import_grade_fn, load_grade_fn
    from server.grading.worker import WorkerConfig, WorkerPool
    from server.ops.logging import configure

    settings = load_settings()
    configure(settings.log_level, as_json=settings.log_json)
    prepare_database(settings)
    fn: Any = import_grade_fn(grade_fn) if grade_fn else load_grade_fn(settings)
    if fn is None:
        typer.secho("error: the grading library is not installed here; install it or pass "
                    "--grade-fn", err=True, fg="red")
        raise typer.Exit(2)
    cfg = WorkerConfig(lease_s=lease_s or settings.grading_lease_s,
                       job_timeout_s=job_timeout_s or settings.grading_job_timeout_s,
                       poll_s=poll_s, backoff_base_s=backoff_s)
    engine = db.make_engine(settings.db_url)
    pool = WorkerPool(db.make_sessionmaker(engine), fn, workers=workers, cfg=cfg)
    stopping = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        logging.getLogger("burnin.grading").info("stopping workers", extra={"signal": signum})
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    pool.start()
    typer.echo(f"grading workers: {workers} (lease {cfg.lease_s:g}s)", err=True)
    stopping.wait()
    pool.stop(timeout=cfg.lease_s)
    engine.dispose()
