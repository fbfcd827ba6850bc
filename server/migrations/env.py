"""Alembic environment: runs against the URL the caller put in the config."""

from alembic import context
from sqlalchemy import pool

from server.db import make_engine
from server.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url is not None

engine = make_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
