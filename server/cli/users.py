"""`burnin users create|list|disable|enable`."""

from __future__ import annotations

import json

import typer
from pydantic import ValidationError

from server.accounts import service
from server.accounts.schemas import UserCreate, UserUpdate
from server.audit.service import Actor
from server.cli.common import cli_transaction, load_settings
from server.errors import validation_messages
from server.models import Role

app = typer.Typer(help="Staff accounts: create, list, disable, enable.", no_args_is_help=True)
CLI = Actor("cli")


def _org_id(session: object, slug: str) -> int:
    org = service.org_by_slug(session, slug)  # type: ignore[arg-type]
    if org is None:
        typer.secho(f"error: no organization with slug {slug!r}; `burnin demo` makes 'demo', "
                    "or pass --create-org", err=True, fg="red")
        raise typer.Exit(1)
    return org.id


@app.command()
def create(
    email: str = typer.Argument(..., help="E-mail address (login name)."),
    role: Role = typer.Option(..., help="admin, recruiter or hiring_manager."),
    name: str = typer.Option("", help="Display name (default: the part before @)."),
    org: str = typer.Option("demo", help="Organization slug."),
    create_org: bool = typer.Option(False, "--create-org", help="Create the organization."),
) -> None:
    """Create a staff user and print a one-time password."""
    settings = load_settings()
    try:
        data = UserCreate(email=email, name=name or email.split("@")[0], role=role)
    except ValidationError as exc:
        msg = "; ".join(validation_messages(exc))
        typer.secho(f"error: {msg}", err=True, fg="red")
        raise typer.Exit(2) from exc
    with cli_transaction(settings) as session:
        if create_org and service.org_by_slug(session, org) is None:
            service.create_organization(session, name=org, slug=org)
        user, password = service.create_user(session, org_id=_org_id(session, org), data=data,
                                             actor=CLI)
    typer.echo(f"created {user.email} ({user.role.value}); one-time password: {password}")


@app.command("list")
def list_(
    org: str = typer.Option("demo", help="Organization slug."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List the staff users of an organization."""
    settings = load_settings()
    with cli_transaction(settings) as session:
        users = service.users_of_org(session, _org_id(session, org))
        rows = [{"id": u.id, "email": u.email, "name": u.name, "role": u.role.value,
                 "active": u.is_active} for u in users]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for r in rows:
        typer.echo(f"{r['id']:>4}  {r['email']:<32} {r['role']:<15} "
                   f"{'active' if r['active'] else 'disabled'}")


def _set_active(email: str, active: bool) -> None:
    settings = load_settings()
    with cli_transaction(settings) as session:
        user = service.user_by_email(session, email)
        if user is None:
            typer.secho(f"error: no user {email}", err=True, fg="red")
            raise typer.Exit(1)
        service.update_user(session, org_id=user.org_id, user_id=user.id,
                            data=UserUpdate(is_active=active), actor=CLI)
    typer.echo(f"{email} {'enabled' if active else 'disabled'}")


@app.command()
def disable(email: str = typer.Argument(..., help="E-mail of the user.")) -> None:
    """Disable a user and end their sessions."""
    _set_active(email, False)


@app.command()
def enable(email: str = typer.Argument(..., help="E-mail of the user.")) -> None:
    """Enable a disabled user."""
    _set_active(email, True)
