"""Schema migrations of the job store, run by Alembic from code (no ``alembic.ini``).

``migrate(url)`` upgrades a database to the newest revision. Concurrent callers are
safe: on PostgreSQL the upgrade runs in one transaction holding an advisory lock;
on SQLite it runs in one ``BEGIN IMMEDIATE`` transaction; within a process a lock
serialises callers, because Alembic installs its context as a module global.

To write a new revision after changing ``jobs/tables.py``::

    from alembic import command
    from dsac_asr.jobs.migrations import alembic_config
    command.revision(alembic_config("sqlite:///dev.sqlite3"), "what changed", autogenerate=True)
"""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from dsac_asr.jobs.database import make_engine, translate_errors

SCRIPT_LOCATION = Path(__file__).parent
VERSION_TABLE = "dsac_alembic_version"
ADVISORY_LOCK_KEY = 0x6473_6163_6D69_6772  # "dsacmigr": one lock id for every dsac-asr process
_PROCESS_LOCK = threading.Lock()


def alembic_config(database_url: str | None = None, connection: Connection | None = None) -> Config:
    """An Alembic configuration for this folder, bound to a URL or an open connection."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    if database_url is not None:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def migrate(database_url: str) -> None:
    """Upgrade the database at ``database_url`` to the newest schema (no-op when current).

    Raises ``TransientError`` when the database cannot be reached.
    """
    engine = make_engine(database_url, immediate=True)
    try:
        with _PROCESS_LOCK, translate_errors(), engine.begin() as connection:
            _lock_postgres(connection)
            command.upgrade(alembic_config(connection=connection), "head")
    finally:
        engine.dispose()


def _lock_postgres(connection: Connection) -> None:
    # Held until this transaction ends; a second process waits here, then finds the
    # schema current and does nothing.
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
