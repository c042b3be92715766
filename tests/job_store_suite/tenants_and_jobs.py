"""Tenants, keys and jobs: what the SQLite and PostgreSQL stores must both do."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from dsac_asr.errors import InvalidOptionError, NotFoundError
from dsac_asr.jobs.model import JobError, JobStatus, Tenant
from dsac_asr.jobs.store import JobStore

from .helpers import FakeClock, Tenants, make_job


class TenantBehaviour(Tenants):
    """Tenants and keys."""

    def test_create_tenant(self, store: JobStore) -> None:
        tenant = store.create_tenant("acme-2", ["calls", "radio", "calls"])
        assert (tenant.name, tenant.buckets) == ("acme-2", ("calls", "radio"))
        assert tenant.created_at.tzinfo is not None
        assert tenant.webhook_secret.startswith("whsec_")
        assert len(base64.b64decode(tenant.webhook_secret[6:], validate=True)) >= 24
        assert store.get_tenant(tenant.id) == tenant
        assert store.find_tenant("acme-2") == tenant
        assert store.find_tenant("nobody") is None

    @pytest.mark.parametrize("name", ["", "a", "-acme", "Acme", "ac_me", "a" * 64, "ac me"])
    def test_bad_tenant_names_are_refused(self, store: JobStore, name: str) -> None:
        with pytest.raises(InvalidOptionError, match="invalid tenant name"):
            store.create_tenant(name, [])

    def test_longest_and_shortest_names_are_accepted(self, store: JobStore) -> None:
        assert store.create_tenant("a" * 63, []).name == "a" * 63
        assert store.create_tenant("0-", []).name == "0-"

    def test_duplicate_tenant_is_refused(self, store: JobStore, acme: Tenant) -> None:
        with pytest.raises(InvalidOptionError, match="already exists"):
            store.create_tenant("acme", [])
        assert store.get_tenant(acme.id) == acme

    def test_unknown_tenant(self, store: JobStore) -> None:
        with pytest.raises(NotFoundError):
            store.get_tenant("0" * 32)
        with pytest.raises(NotFoundError):
            store.issue_key("0" * 32)

    def test_grant_buckets_adds_new_ones_in_order(self, store: JobStore, acme: Tenant) -> None:
        granted = store.grant_buckets(acme.id, ["radio", "calls", "tv"])
        assert granted.buckets == ("calls", "radio", "tv")
        assert store.get_tenant(acme.id).buckets == ("calls", "radio", "tv")

    def test_issued_key_authenticates(self, store: JobStore, acme: Tenant) -> None:
        plaintext, key = store.issue_key(acme.id)
        assert plaintext.startswith("dsac_") and len(plaintext) == 37
        assert key.prefix == plaintext[:12] and key.tenant_id == acme.id
        assert key.revoked_at is None
        assert store.authenticate(plaintext) == acme

    @pytest.mark.parametrize("wrong", ["", "dsac_", "x" * 10_000])
    def test_wrong_keys_do_not_authenticate(
        self, store: JobStore, acme: Tenant, wrong: str
    ) -> None:
        plaintext, _ = store.issue_key(acme.id)
        assert store.authenticate(wrong) is None
        assert store.authenticate(plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")) is None

    def test_revoked_key_no_longer_authenticates(self, store: JobStore, acme: Tenant) -> None:
        first, first_key = store.issue_key(acme.id)
        second, _ = store.issue_key(acme.id)
        revoked = store.revoke_key(first_key.prefix)
        assert revoked.id == first_key.id and revoked.revoked_at is not None
        assert store.authenticate(first) is None
        assert store.authenticate(second) == acme
        assert store.revoke_key(first_key.id) == revoked  # again: unchanged

    def test_revoke_unknown_key(self, store: JobStore) -> None:
        with pytest.raises(NotFoundError):
            store.revoke_key("dsac_nothere")

    def test_list_keys(
        self, store: JobStore, clock: FakeClock, acme: Tenant, globex: Tenant
    ) -> None:
        _, a_key = store.issue_key(acme.id)
        clock.advance(1)
        _, g_key = store.issue_key(globex.id)
        assert store.list_keys() == [(a_key, "acme"), (g_key, "globex")]
        assert store.list_keys(globex.id) == [(g_key, "globex")]


class JobBehaviour(Tenants):
    """Creating, reading, listing, deleting jobs, and tenant isolation."""

    def test_round_trip(self, store: JobStore, acme: Tenant) -> None:
        job = make_job(acme, "job-1", error=JobError("x", "y"), transcript_metadata={"a": "b"})
        assert store.create_job(job) == job
        assert store.get_job("job-1", acme.id) == job
        assert store.get_job("job-1", None) == job

    def test_times_come_back_in_utc(self, store: JobStore, acme: Tenant) -> None:
        johannesburg = timezone(timedelta(hours=2))
        local = datetime(2025, 3, 1, 10, 0, tzinfo=johannesburg)
        stored = store.create_job(make_job(acme, "j", created_at=local))
        assert stored.created_at == local and stored.created_at.utcoffset() == timedelta(0)

    def test_naive_times_are_refused(self, store: JobStore, acme: Tenant) -> None:
        with pytest.raises(InvalidOptionError, match="timezone"):
            store.create_job(make_job(acme, "j", created_at=datetime(2025, 1, 1)))

    def test_duplicate_job_id_is_refused(self, store: JobStore, acme: Tenant) -> None:
        store.create_job(make_job(acme, "job-1"))
        with pytest.raises(InvalidOptionError, match="in use"):
            store.create_job(make_job(acme, "job-1", minute=5))

    def test_job_of_unknown_tenant_is_refused(self, store: JobStore, acme: Tenant) -> None:
        with pytest.raises(NotFoundError):
            store.create_job(replace(make_job(acme, "j"), tenant_id="0" * 32))

    def test_other_tenants_job_looks_missing(
        self, store: JobStore, acme: Tenant, globex: Tenant
    ) -> None:
        job = store.create_job(make_job(acme, "secret"))
        with pytest.raises(NotFoundError) as missing:
            store.get_job("nope", globex.id)
        for attempt in (store.get_job, store.cancel, store.delete_job):
            with pytest.raises(NotFoundError) as foreign:
                attempt("secret", globex.id)
            assert foreign.value.message == missing.value.message.replace("nope", "secret")
        assert store.list_jobs(globex.id) == ([], None)
        assert store.count_active(globex.id) == 0
        assert store.get_job("secret", acme.id) == job

    def test_delete_job(self, store: JobStore, acme: Tenant) -> None:
        job = store.create_job(make_job(acme, "j"))
        assert store.delete_job("j", acme.id) == job
        with pytest.raises(NotFoundError):
            store.get_job("j", None)
        assert store.is_cancelled("j")

    def test_count_active(self, store: JobStore, acme: Tenant) -> None:
        for index, status in enumerate([*JobStatus, JobStatus.QUEUED]):
            store.create_job(make_job(acme, f"j{index}", status=status))
        assert store.count_active(acme.id) == 3

    def test_pages_walk_every_job_once_newest_first(
        self, store: JobStore, acme: Tenant, globex: Tenant
    ) -> None:
        minutes = [0, 1, 1, 1, 2, 3, 3, 4, 5, 6, 6]
        for index, minute in enumerate(minutes):
            store.create_job(make_job(acme, f"j{index:02d}", minute=minute))
        store.create_job(make_job(globex, "other", minute=3))
        newest_first = sorted(((m, f"j{i:02d}") for i, m in enumerate(minutes)), reverse=True)
        assert _walk(store, acme.id, None, 3) == [job_id for _, job_id in newest_first]

    def test_pages_with_status_filter(self, store: JobStore, acme: Tenant) -> None:
        for index in range(9):
            status = JobStatus.FAILED if index % 3 else JobStatus.QUEUED
            store.create_job(make_job(acme, f"j{index}", minute=index, status=status))
        assert _walk(store, acme.id, JobStatus.FAILED, 2) == ["j8", "j7", "j5", "j4", "j2", "j1"]
        assert _walk(store, acme.id, JobStatus.RUNNING, 2) == []

    def test_exact_last_page_has_no_cursor(self, store: JobStore, acme: Tenant) -> None:
        for index in range(4):
            store.create_job(make_job(acme, f"j{index}", minute=index))
        page, cursor = store.list_jobs(acme.id, limit=2)
        assert cursor is not None
        page, cursor = store.list_jobs(acme.id, limit=2, cursor=cursor)
        assert [job.id for job in page] == ["j1", "j0"] and cursor is None

    @pytest.mark.parametrize("cursor", ["!!!", "bm9waXBl", base64.b64encode(b"2025|x").decode()])
    def test_bad_cursor_is_refused(self, store: JobStore, acme: Tenant, cursor: str) -> None:
        with pytest.raises(InvalidOptionError, match="cursor"):
            store.list_jobs(acme.id, cursor=cursor)

    @pytest.mark.parametrize("limit", [0, -1, 1001])
    def test_bad_limit_is_refused(self, store: JobStore, acme: Tenant, limit: int) -> None:
        with pytest.raises(InvalidOptionError, match="limit"):
            store.list_jobs(acme.id, limit=limit)

    def test_ping(self, store: JobStore) -> None:
        store.ping()


def _walk(store: JobStore, tenant_id: str, status: JobStatus | None, limit: int) -> list[str]:
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page, cursor = store.list_jobs(tenant_id, status=status, limit=limit, cursor=cursor)
        assert len(page) <= limit
        seen += [job.id for job in page]
        if cursor is None:
            return seen
