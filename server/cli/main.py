"""The `burnin` command line."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from server.errors import ConfigError

if TYPE_CHECKING:
    import typer


def build_app() -> typer.Typer:
    """The whole command tree (imports every command module, hence the server)."""
    import typer

    from server.cli import grade, hw, jobs, platform, sandbox, scenarios, users

    app = typer.Typer(help="Burnin: assessments for AI-infrastructure engineers.",
                      no_args_is_help=True)
    platform.register(app)
    app.add_typer(platform.db_app, name="db")
    app.add_typer(users.app, name="users")
    app.add_typer(hw.app, name="hw")
    app.add_typer(sandbox.app, name="sandbox")
    app.add_typer(scenarios.app, name="scenarios")
    grade.register(app)
    jobs.register(app)
    return app


def __getattr__(name: str) -> object:
    # `app` is built on first use so that `burnin hw ...` never imports the server.
    if name == "app":
        app = build_app()
        globals()["app"] = app
        return app
    raise AttributeError(name)


def main() -> None:
    if sys.argv[1:2] == ["hw"]:
        # Fast path: the hardware models need neither the server nor the database. Pydantic's
        # plugin discovery reads every installed distribution's entry points (~0.1 s here)
        # and no plugin is used by these commands.
        import os

        os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
        from server.cli.hw import app as hw_app

        hw_app(args=sys.argv[2:], prog_name="burnin hw")
        return
    try:
        build_app()()
    except ConfigError as exc:
        import typer

        typer.secho(f"error: {exc}", err=True, fg="red")
        sys.exit(2)
