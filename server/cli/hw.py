"""`burnin hw` commands."""

import typer

app = typer.Typer(help="Hardware models: training, serving, collectives, checkpoints.", no_args_is_help=True)
