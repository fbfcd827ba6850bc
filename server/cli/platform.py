"""`burnin serve`, `burnin demo`, `burnin db ...`."""

from __future__ import annotations

import json
import os
import socket

import typer

from server import db
from server.cli.common import cli_transaction, load_settings, prepare_database
from server.errors import ConfigError

db_app = typer.Typer(help="Database schema: upgrade, current.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(demo)


def _check_port(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port}: {exc.strerror}; "
                "pass --port with a free port or stop the process using it"
            ) from exc


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
) -> None:
    """Run the platform (API, pages, workers) until interrupted."""
    import uvicorn

    from server.app import create_app
    from server.ops.gcpause import freeze_startup
    from server.ops.logging import configure

    if "BURNIN_BASE_URL" not in os.environ:
        os.environ["BURNIN_BASE_URL"] = f"http://{host}:{port}"
    settings = load_settings()
    _check_port(host, port)
    prepare_database(settings)
    configure(settings.log_level, as_json=settings.log_json)
    typer.echo(f"Burnin on {settings.base_url} (data in {settings.data_dir})", err=True)
    app = create_app(settings)
    freeze_startup()  # the loaded bank is never walked by the collector again (ops.gcpause)
    uvicorn.run(app, host=host, port=port, log_config=None,
                timeout_graceful_shutdown=10, server_header=False,
                timeout_keep_alive=settings.keep_alive_s,
                # Forwarded headers: only from BURNIN_TRUSTED_PROXIES (ops.middleware).
                proxy_headers=False)


def demo(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Create demo data: an organization with an admin, a recruiter and a hiring manager.
    Prints their one-time passwords (new ones each run)."""
    from server.bank.service import BankService
    from server.ops.demo import demo_org_id, make_demo, make_demo_invites

    settings = load_settings()
    bank = BankService(settings.scenarios_root)
    with cli_transaction(settings) as session:
        users = make_demo(session)
        urls = make_demo_invites(session, org_id=demo_org_id(session), bank=bank,
                                 base_url=settings.base_url, secret_key=settings.secret_key)
    out = {
        "base_url": settings.base_url,
        "users": [u.__dict__ for u in users],
        "invite_urls": urls,
    }
    if as_json:
        typer.echo(json.dumps(out))
        return
    typer.echo(f"Demo organization ready at {settings.base_url}\n")
    typer.echo(f"{'role':<16} {'e-mail':<26} one-time password")
    for u in users:
        typer.echo(f"{u.role:<16} {u.email:<26} {u.password}")
    if urls:
        typer.echo("\nDemo candidate links (open one in a private window to take the demo "
                   "assessment):")
        for url in urls:
            typer.echo(f"  {url}")
    typer.echo("\nThe passwords and links are shown only now; run `burnin demo` again for new "
               "ones.")


@db_app.command()
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Migrate the database schema to the latest revision."""
    settings = load_settings()
    db.upgrade(settings.db_url, revision)
    typer.echo(f"database at {revision}")


@db_app.command()
def current() -> None:
    """Print the database schema revision and the newest one this version knows."""
    settings = load_settings()
    engine = db.make_engine(settings.db_url)
    try:
        typer.echo(f"current: {db.current_revision(engine)}  head: {db.head_revision()}")
    finally:
        engine.dispose()
