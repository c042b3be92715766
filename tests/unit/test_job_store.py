"""The job store on SQLite (a fresh database file per test), plus SQLite-only checks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from dsac_asr.errors import InvalidOptionError, TransientError
from dsac_asr.jobs.database import parse_url
from dsac_asr.jobs.migrations import VERSION_TABLE, migrate
from dsac_asr.jobs.store import JobStore
from dsac_asr.jobs.tables import Base

pytest.register_assert_rewrite("job_store_suite")
from job_store_suite import FakeClock, JobStoreBehaviour, migrate_in_processes  # noqa: E402


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "dsac.sqlite3"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(db_path: Path, clock: FakeClock) -> Iterator[JobStore]:
    url = f"sqlite:///{db_path}"
    migrate(url)
    store = JobStore.open(url, clock=clock)
    yield store
    store.close()


class TestSqliteJobStore(JobStoreBehaviour):
    """The shared behaviour on SQLite."""


def test_keys_are_stored_only_as_hashes(store: JobStore, db_path: Path) -> None:
    tenant = store.create_tenant("acme", [])
    plaintext, _ = store.issue_key(tenant.id)
    assert store.authenticate(plaintext) == tenant
    files = [db_path, *db_path.parent.glob("dsac.sqlite3-*")]
    stored = b"".join(path.read_bytes() for path in files)
    assert plaintext.encode() not in stored
    assert plaintext[12:].encode() not in stored
    assert store.list_keys()[0][0].prefix.encode() in stored  # the check can see the data


def test_sqlite_uses_wal_and_a_busy_timeout(store: JobStore) -> None:
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_migrations_match_the_tables(db_path: Path) -> None:
    migrate(f"sqlite:///{db_path}")
    engine = create_engine(f"sqlite:///{db_path}")
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        assert compare_metadata(context, Base.metadata) == []
        assert context.get_current_revision() == "0006"
    engine.dispose()


def test_concurrent_migrations_are_safe(db_path: Path) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            migrate(f"sqlite:///{db_path}")
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    engine = create_engine(f"sqlite:///{db_path}")
    assert {"tenants", "api_keys", "jobs", VERSION_TABLE} <= set(inspect(engine).get_table_names())
    engine.dispose()


@pytest.mark.slow
def test_concurrent_migrations_from_processes(db_path: Path) -> None:
    migrate_in_processes(f"sqlite:///{db_path}", 3, start_in_s=2.0)
    engine = create_engine(f"sqlite:///{db_path}")
    assert {"tenants", "api_keys", "jobs", VERSION_TABLE} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_in_memory_database(clock: FakeClock) -> None:
    store = JobStore.open("sqlite://", clock=clock)
    Base.metadata.create_all(store.engine)
    assert store.create_tenant("acme", []).name == "acme"
    assert store.find_tenant("acme") is not None


def test_unreachable_database_is_transient() -> None:
    unreachable = JobStore.open("postgresql+psycopg://postgres@127.0.0.1:1/none")
    with pytest.raises(TransientError):
        unreachable.ping()
    with pytest.raises(TransientError):
        unreachable.get_job("j", None)
    unreachable.close()
    with pytest.raises(TransientError):
        migrate("postgresql+psycopg://postgres@127.0.0.1:1/none")


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgres://u@h/db", "postgresql+psycopg"),
        ("postgresql://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
        ("sqlite:///x.db", "sqlite"),
    ],
)
def test_database_urls(url: str, driver: str) -> None:
    assert parse_url(url).drivername == driver


@pytest.mark.parametrize("url", ["mysql://u@h/db", "not a url"])
def test_unsupported_database_urls(url: str) -> None:
    with pytest.raises(InvalidOptionError):
        parse_url(url)
