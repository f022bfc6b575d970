"""Alembic environment: runs against the engine the caller hands over.

``Database.migrate`` passes its engine in ``config.attributes``; the ``alembic``
command line (see ``alembic.ini``) falls back to the URL from the settings.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, create_engine, text

from core.config import get_settings
from storage.sql.models import Base

config = context.config
target_metadata = Base.metadata


def _engine() -> Engine:
    engine = config.attributes.get("engine")
    if isinstance(engine, Engine):
        return engine
    return create_engine(get_settings().sql_url)


def run_migrations_offline() -> None:
    context.configure(url=get_settings().sql_url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


#: Arbitrary constant naming the PostgreSQL advisory lock that serialises migrations.
MIGRATION_LOCK_ID = 0x1C_0_2026


def run_migrations_online() -> None:
    engine = _engine()
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # Several API pods may start at once; only one migrates, the others wait and find nothing to do.
            connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
            connection.commit()
        # SQLite cannot ALTER most things in place; batch mode rewrites the table instead.
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
            connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
