"""Engines for the job store (SQLite or PostgreSQL) and the translation of their errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, exc, make_url, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from dsac_asr.errors import InvalidOptionError, TransientError

SQLITE_BUSY_TIMEOUT_MS = 30_000
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def parse_url(database_url: str) -> URL:
    """Parse a database URL; bare ``postgresql://``/``postgres://`` use the psycopg 3 driver."""
    try:
        url = make_url(database_url)
    except exc.ArgumentError as error:
        raise InvalidOptionError(f"not a database URL: {database_url!r}") from error
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise InvalidOptionError(
            f"unsupported database {url.drivername!r}: use SQLite or PostgreSQL"
        )
    return url


def make_engine(database_url: str, *, immediate: bool = False) -> Engine:
    """An engine for ``database_url``; SQLite gets WAL, a busy timeout and foreign keys.

    ``immediate`` makes every SQLite transaction ``BEGIN IMMEDIATE`` (one writer at
    a time from the start), which migrations use to serialise concurrent upgrades.
    """
    url = parse_url(database_url)
    if url.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True)
    return _sqlite_engine(url, immediate=immediate)


def _sqlite_engine(url: URL, *, immediate: bool) -> Engine:
    in_memory = url.database in (None, "", ":memory:")
    if not in_memory:
        Path(str(url.database)).parent.mkdir(parents=True, exist_ok=True)
    args: dict[str, Any] = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    pool = {"poolclass": StaticPool} if in_memory else {}
    engine = create_engine(url, connect_args=args, **pool)
    event.listen(engine, "connect", _sqlite_pragmas)
    if immediate:
        event.listen(engine, "connect", _sqlite_immediate_driver)
        event.listen(engine, "begin", _begin_immediate)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _begin_immediate(connection: Any) -> None:
    # pysqlite would only BEGIN (deferred) before the first write: take the write lock now.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_immediate_driver(dbapi_connection: Any, _record: Any) -> None:
    # Stop pysqlite from issuing its own BEGIN, so that ``_begin_immediate`` decides.
    dbapi_connection.isolation_level = None


def is_transient(error: Exception) -> bool:
    """Whether a SQLAlchemy error means the database is unreachable, busy or restarting."""
    if isinstance(error, exc.OperationalError | exc.InterfaceError | exc.TimeoutError):
        return True
    return isinstance(error, exc.DBAPIError) and error.connection_invalidated


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn connection problems into ``TransientError``; other errors pass through."""
    try:
        yield
    except exc.SQLAlchemyError as error:
        if is_transient(error):
            raise TransientError(f"job store unavailable: {_first_line(error)}") from error
        raise


def _first_line(error: Exception) -> str:
    text_ = str(getattr(error, "orig", None) or error).strip()
    return text_.splitlines()[0] if text_ else type(error).__name__


class Database:
    """An engine, a session factory and a clock: what every store method needs."""

    def __init__(self, engine: Engine, *, clock: Clock = utc_now) -> None:
        self.engine = engine
        self.clock = clock
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction, committed on success; connection errors are transient."""
        with translate_errors(), self._sessions.begin() as session:
            yield session

    def ping(self) -> None:
        """Run ``SELECT 1``; raise ``TransientError`` when the database cannot be reached."""
        with translate_errors(), self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
