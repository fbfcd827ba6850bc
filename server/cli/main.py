"""The `burnin` command line."""

import typer

from server.cli import hw, sandbox, scenarios

app = typer.Typer(help="Burnin: assessments for AI-infrastructure engineers.", no_args_is_help=True)
app.add_typer(hw.app, name="hw")
app.add_typer(sandbox.app, name="sandbox")
app.add_typer(scenarios.app, name="scenarios")


def main() -> None:
    app()
