"""`burnin sandbox` commands."""

import typer

app = typer.Typer(help="Sandboxes for untrusted code: build, check, run, kernel.", no_args_is_help=True)
