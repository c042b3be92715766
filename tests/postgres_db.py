"""A real PostgreSQL for tests: a fresh, uniquely named database per test session.

Use the ``postgres_url`` fixture (``from postgres_db import postgres_url``) or the
``postgres_database()`` context manager. The server is the local PostgreSQL
cluster (TCP on 127.0.0.1:5432, else the unix socket, as user ``postgres``); it
is started with ``pg_ctlcluster`` when it is not running. Set
``DSAC_TEST_POSTGRES_DSN`` to a libpq connection string for another server.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

TCP = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
SOCKET = {"host": "/var/run/postgresql", "user": "postgres"}
START_TIMEOUT_S = 30.0


def _candidates() -> list[dict[str, Any]]:
    dsn = os.environ.get("DSAC_TEST_POSTGRES_DSN")
    if dsn:
        return [dict(psycopg.conninfo.conninfo_to_dict(dsn))]
    return [TCP, SOCKET]


def _connect_admin() -> tuple[psycopg.Connection[Any], dict[str, Any]] | None:
    """A connection to the maintenance database and the parameters that worked, or None."""
    for params in _candidates():
        admin = {**params, "dbname": params.get("dbname", "postgres")}
        try:
            return psycopg.connect(**admin, autocommit=True, connect_timeout=3), params
        except psycopg.OperationalError:
            continue
    return None


def _start_server() -> None:
    clusters = sorted(path.name for path in Path("/etc/postgresql").glob("*"))
    if not clusters or shutil.which("pg_ctlcluster") is None:
        pytest.fail(
            "PostgreSQL is not installed (no /etc/postgresql, no pg_ctlcluster): "
            "apt-get install postgresql, or set DSAC_TEST_POSTGRES_DSN"
        )
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", clusters[-1], "main", "start"]
    subprocess.run(command, check=False, capture_output=True, timeout=60)


def admin_connection() -> tuple[psycopg.Connection[Any], dict[str, Any]]:
    """Connect to the server (starting it if needed); fail the test clearly if impossible."""
    found = _connect_admin()
    if found is None:
        _start_server()
        deadline = time.monotonic() + START_TIMEOUT_S
        while found is None and time.monotonic() < deadline:
            time.sleep(0.5)
            found = _connect_admin()
    if found is None:
        pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 or /var/run/postgresql")
    return found


def sqlalchemy_url(params: dict[str, Any], dbname: str) -> str:
    """A ``postgresql+psycopg://`` URL for ``dbname`` with these connection parameters."""
    user = params.get("user", "postgres")
    password = f":{params['password']}" if params.get("password") else ""
    host = str(params.get("host", "127.0.0.1"))
    if host.startswith("/"):
        return f"postgresql+psycopg://{user}{password}@/{dbname}?host={host}"
    return f"postgresql+psycopg://{user}{password}@{host}:{params.get('port', 5432)}/{dbname}"


@contextmanager
def postgres_database() -> Iterator[str]:
    """Create ``dsac_test_<random>``, yield its SQLAlchemy URL, drop it afterwards."""
    name = f"dsac_test_{secrets.token_hex(6)}"
    admin, params = admin_connection()
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield sqlalchemy_url(params, name)
        finally:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            admin.execute(drop.format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of an empty PostgreSQL database that lives for the test session."""
    with postgres_database() as url:
        yield url
