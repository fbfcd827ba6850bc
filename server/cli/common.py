"""What the CLI commands share: settings, a database transaction, errors as messages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from sqlalchemy.orm import Session

from server import db
from server.config import Settings
from server.errors import AppError, ConfigError


def load_settings() -> Settings:
    try:
        settings = Settings()
        settings.ensure_data_dir()
        settings.secret_key  # noqa: B018  (generated on first run, 0600)
        settings.db_url  # noqa: B018  (validates the scheme)
    except ValueError as exc:
        raise ConfigError(f"invalid BURNIN_ setting: {exc}") from exc
    return settings


def prepare_database(settings: Settings) -> None:
    """Bring the embedded SQLite database to the current schema; a server database must be
    upgraded explicitly with `burnin db upgrade`."""
    url = settings.db_url
    if url.startswith("sqlite"):
        db.upgrade(url)
        return
    engine = db.make_engine(url)
    try:
        current = db.current_revision(engine)
    except Exception as exc:
        raise ConfigError(f"cannot reach the database: {exc}") from exc
    finally:
        engine.dispose()
    if current != db.head_revision():
        raise ConfigError(
            f"the database schema is at {current}, not {db.head_revision()}; "
            "run `burnin db upgrade` first"
        )


@contextmanager
def cli_transaction(settings: Settings) -> Iterator[Session]:
    prepare_database(settings)
    engine = db.make_engine(settings.db_url)
    try:
        with db.transaction(db.make_sessionmaker(engine)) as session:
            yield session
    except AppError as exc:
        typer.secho(f"error: {exc.message}", err=True, fg="red")
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
