"""Object claims: one owner per object, never taken from a live job or another tenant."""

from __future__ import annotations

import pytest

from dsac_asr.errors import ObjectInUseError
from dsac_asr.jobs.model import JobStatus, Tenant
from dsac_asr.jobs.store import JobStore

from .helpers import Tenants, make_job, race

TAGGED = "decoded/call-42.json"


class ClaimBehaviour(Tenants):
    """Claiming, taking over and releasing objects."""

    def test_a_live_jobs_claim_is_never_taken(self, store: JobStore, acme: Tenant) -> None:
        for job_id in ("a", "b"):
            store.create_job(make_job(acme, job_id))
        store.claim_object("calls", TAGGED, "a", acme.id)
        with pytest.raises(ObjectInUseError):
            store.claim_object("calls", TAGGED, "b", acme.id)
        assert store.object_owner("calls", TAGGED) == "a"

    def test_a_finished_jobs_claim_moves_within_its_tenant_only(
        self, store: JobStore, acme: Tenant, globex: Tenant
    ) -> None:
        for tenant, job_id in ((acme, "a"), (acme, "b"), (globex, "g")):
            store.create_job(make_job(tenant, job_id))
        store.claim_object("calls", TAGGED, "a", acme.id, written=True)
        store.finish_failure("a", "not_media", "no", lease_id=None)  # queued: no claim
        assert store.get_job("a", None).status is JobStatus.FAILED
        with pytest.raises(ObjectInUseError):
            store.claim_object("calls", TAGGED, "g", globex.id)
        store.claim_object("calls", TAGGED, "b", acme.id)
        assert store.object_owner("calls", TAGGED) == "b"
        assert store.release_objects("a") == []  # "a" no longer owns it
        assert not store.release_object("calls", TAGGED, "b")  # "b" never wrote it

    def test_two_jobs_racing_for_one_key_get_one_claim(self, store: JobStore, acme: Tenant) -> None:
        for job_id in ("a", "b"):
            store.create_job(make_job(acme, job_id))
        ids = iter(["a", "b"])

        def claim() -> bool:
            job_id = next(ids)
            try:
                store.claim_object("calls", TAGGED, job_id, acme.id)
            except ObjectInUseError:
                return False
            return True

        assert sorted(race(claim)) == [False, True]
