"""The job store behaviour shared by the SQLite (unit) and PostgreSQL (integration) tests.

A test module subclasses ``JobStoreBehaviour`` and provides two fixtures: ``clock``
(a ``FakeClock``) and ``store`` (an empty, migrated ``JobStore`` using that clock).
Register assertion rewriting first: ``pytest.register_assert_rewrite("job_store_suite")``.
"""

from __future__ import annotations

from .callbacks import CallbackLogBehaviour, OutboxBehaviour
from .claims import ClaimBehaviour
from .fencing import FencingBehaviour
from .helpers import FakeClock, make_job, migrate_in_processes, race, token
from .lifecycle import LifecycleBehaviour
from .tenants_and_jobs import JobBehaviour, TenantBehaviour

__all__ = ["FakeClock", "JobStoreBehaviour", "make_job", "migrate_in_processes", "race", "token"]


class JobStoreBehaviour(
    TenantBehaviour,
    JobBehaviour,
    LifecycleBehaviour,
    FencingBehaviour,
    CallbackLogBehaviour,
    OutboxBehaviour,
    ClaimBehaviour,
):
    """Everything a job store must do, whatever its database."""
