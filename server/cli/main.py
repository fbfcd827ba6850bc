"""The `burnin` command line."""

from __future__ import annotations

import sys

import typer

from server.cli import grade, hw, jobs, platform, sandbox, scenarios, users
from server.errors import ConfigError

app = typer.Typer(help="Burnin: assessments for AI-infrastructure engineers.", no_args_is_help=True)
platform.register(app)
app.add_typer(platform.db_app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(hw.app, name="hw")
app.add_typer(sandbox.app, name="sandbox")
app.add_typer(scenarios.app, name="scenarios")
grade.register(app)
jobs.register(app)


def main() -> None:
    try:
        app()
    except ConfigError as exc:
        typer.secho(f"error: {exc}", err=True, fg="red")
        sys.exit(2)
