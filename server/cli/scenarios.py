"""`burnin scenarios` commands."""

import typer

app = typer.Typer(help="The scenario bank: validate, list, preview, selftest.", no_args_is_help=True)
