"""The job store on a real PostgreSQL server: the shared behaviour, plus concurrency."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from postgres_db import postgres_database, postgres_url
from sqlalchemy import create_engine, inspect, text

from dsac_asr.jobs.migrations import VERSION_TABLE, migrate
from dsac_asr.jobs.store import JobStore
from dsac_asr.jobs.tables import Base

pytest.register_assert_rewrite("job_store_suite")
from job_store_suite import (  # noqa: E402
    FakeClock,
    JobStoreBehaviour,
    migrate_in_processes,
    race,
)

pytestmark = pytest.mark.integration
__all__ = ["postgres_url"]  # a fixture, used by name


@pytest.fixture(scope="module")
def migrated_url(postgres_url: str) -> str:
    migrate(postgres_url)
    return postgres_url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(migrated_url: str, clock: FakeClock) -> Iterator[JobStore]:
    store = JobStore.open(migrated_url, clock=clock)
    with store.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(Base.metadata.tables)}"))
    yield store
    store.close()


class TestPostgresJobStore(JobStoreBehaviour):
    """The shared behaviour on PostgreSQL."""


def test_timestamps_are_timestamptz(migrated_url: str) -> None:
    engine = create_engine(migrated_url)
    columns = {column["name"]: column for column in inspect(engine).get_columns("jobs")}
    assert getattr(columns["created_at"]["type"], "timezone", False) is True
    engine.dispose()


def test_migrations_match_the_tables(migrated_url: str) -> None:
    engine = create_engine(migrated_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        assert compare_metadata(context, Base.metadata) == []
        assert context.get_current_revision() == "0006"
    engine.dispose()


def test_concurrent_migrations_from_threads() -> None:
    with postgres_database() as url:
        race(lambda: migrate(url), parties=3)
        _assert_migrated(url)


def test_concurrent_migrations_from_processes() -> None:
    """Separate processes: only the advisory lock keeps them apart."""
    with postgres_database() as url:
        migrate_in_processes(url, 3)
        _assert_migrated(url)


def _assert_migrated(url: str) -> None:
    engine = create_engine(url)
    with engine.connect() as connection:
        versions = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
        assert [row[0] for row in versions] == ["0006"]
        assert {"tenants", "api_keys", "jobs"} <= set(inspect(connection).get_table_names())
    engine.dispose()
