"""Results a job owns: a TAG in use is refused, a DELETE removes only what its job still
owns, transcripts stay out of clients' buckets, and grants tell reading from writing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_fakes import ApiHarness, finish_job, make_harness, small_transcript

from dsac_asr.errors import InvalidOptionError, ObjectInUseError
from dsac_asr.jobs.results import result_key, transcript_key

AUDIO_KEY = "inbox/call.wav"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiHarness]:
    harness = make_harness(tmp_path)
    harness.objects.put_bytes("calls", AUDIO_KEY, b"RIFF fake audio", "audio/wav")
    yield harness
    harness.client.close()
    harness.store.close()


def key_of(api: ApiHarness, name: str, *grants: str) -> str:
    tenant = api.store.find_tenant(name) or api.store.create_tenant(name, grants)
    key, _ = api.store.issue_key(tenant.id)
    return key


def seed(api: ApiHarness, key: str, tag: str | None = "call-42", **extra: str) -> httpx.Response:
    headers = {
        "X_API_KEY": key,
        "USER_ID": "7",
        "DEC_LANG": "eng",
        "SR": "BB",
        "SAC": "yes",
        "DIA": "no",
        "NUM_CHANNELS": "1",
        "BUCKET_NAME": "calls",
        "OBJECT_PATH": AUDIO_KEY,
        **extra,
    }
    if tag is not None:
        headers["TAG"] = tag
    return api.client.post("/legacy/decode", headers=headers)


def test_a_tag_in_use_by_a_live_job_is_refused_with_409(api: ApiHarness) -> None:
    key = key_of(api, "acme", "calls")
    first = seed(api, key)
    assert first.status_code == 200, first.text
    again = seed(api, key)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "object_in_use"
    assert "decoded/call-42.json" in again.json()["error"]["message"]
    assert api.queue.enqueued == [first.json()["job_id"]]  # the refused one was never queued
    other_tag = seed(api, key, tag="call-43")
    assert other_tag.status_code == 200


def test_a_reused_tag_after_the_first_job_finished_takes_the_result_over(
    api: ApiHarness,
) -> None:
    key = key_of(api, "acme", "calls")
    headers = {"Authorization": f"Bearer {key}"}
    first = seed(api, key).json()["job_id"]
    finish_job(api, first, small_transcript())
    second = seed(api, key)
    assert second.status_code == 200, second.text
    second_id = second.json()["job_id"]
    finish_job(api, second_id, small_transcript())
    tagged = result_key(second_id, "call-42")
    assert api.store.object_owner("calls", tagged) == second_id
    # The first job's DELETE leaves the second job's decoded/call-42.json alone.
    assert api.client.delete(f"/v1/jobs/{first}", headers=headers).status_code == 204
    assert api.objects.exists("calls", tagged)
    assert api.objects.exists(api.settings.internal_bucket, transcript_key(second_id))
    assert not api.objects.exists(api.settings.internal_bucket, transcript_key(first))
    # The second job's DELETE removes it.
    assert api.client.delete(f"/v1/jobs/{second_id}", headers=headers).status_code == 204
    assert not api.objects.exists("calls", tagged)


def test_a_job_that_never_wrote_its_tagged_result_does_not_delete_it(
    api: ApiHarness,
) -> None:
    """decoded/call-42.json is already there (written before claims, or by the client):
    a queued job with that TAG is deleted without removing it."""
    key = key_of(api, "acme", "calls")
    api.objects.put_bytes("calls", "decoded/call-42.json", b"{}", "application/json")
    first = seed(api, key).json()["job_id"]
    assert api.store.object_owner("calls", "decoded/call-42.json") == first
    headers = {"Authorization": f"Bearer {key}"}
    assert api.client.delete(f"/v1/jobs/{first}", headers=headers).status_code == 204
    assert api.objects.get_bytes("calls", "decoded/call-42.json") == b"{}"
    assert api.store.object_owner("calls", "decoded/call-42.json") is None


def test_another_tenant_cannot_take_over_a_finished_jobs_tag(api: ApiHarness) -> None:
    acme = key_of(api, "acme", "calls")
    rival = key_of(api, "rival", "calls")
    done = seed(api, acme).json()["job_id"]
    finish_job(api, done, small_transcript())
    refused = seed(api, rival)
    assert refused.status_code == 409
    assert api.store.object_owner("calls", "decoded/call-42.json") == done


def test_seed_transcripts_never_land_in_the_clients_bucket(api: ApiHarness) -> None:
    key = key_of(api, "acme", "calls")
    job_id = seed(api, key).json()["job_id"]
    finish_job(api, job_id, small_transcript())
    stored = sorted(p.name for p in (api.settings.data_dir / "objects" / "calls").rglob("*.json"))
    assert stored == ["call-42.json"]
    assert api.objects.exists(api.settings.internal_bucket, transcript_key(job_id))
    # A TAG naming the old transcript place reaches only decoded/, never transcripts/.
    sneaky = seed(api, key, tag=f"{job_id}.transcript")
    assert sneaky.status_code == 200
    assert sneaky.json()["result"]["key"] == f"decoded/{job_id}.transcript.json"


def test_a_read_only_grant_cannot_write_seed_results(api: ApiHarness) -> None:
    key = key_of(api, "reader", "calls:ro")
    refused = seed(api, key)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "bucket_read_only"
    assert api.queue.enqueued == []


def test_a_read_only_grant_reads_and_writes_results_elsewhere(api: ApiHarness) -> None:
    key = key_of(api, "reader", "calls:ro", "own")
    headers = {"Authorization": f"Bearer {key}"}
    body = {"source": {"object": {"bucket": "calls", "key": AUDIO_KEY}}}
    created = api.client.post("/v1/jobs", headers=headers, json=body)
    assert created.status_code == 202, created.text
    job_id = created.json()["id"]
    job = finish_job(api, job_id, small_transcript())
    assert job.result_bucket == "own"
    assert api.objects.exists("own", result_key(job_id))
    assert not api.objects.exists("calls", result_key(job_id))
    view = api.client.get(f"/v1/jobs/{job_id}", headers=headers).json()
    assert view["result"] == {"bucket": "own", "key": result_key(job_id)}
    text = api.client.get(f"/v1/jobs/{job_id}/transcript?format=txt", headers=headers)
    assert text.status_code == 200 and "Hello world." in text.text
    assert api.client.delete(f"/v1/jobs/{job_id}", headers=headers).status_code == 204
    assert api.objects.get_bytes("calls", AUDIO_KEY) == b"RIFF fake audio"
    assert not api.objects.exists("own", result_key(job_id))


def test_a_read_only_grant_cannot_delete_audio_with_a_private_job(api: ApiHarness) -> None:
    key = key_of(api, "reader", "calls:ro")
    headers = {"Authorization": f"Bearer {key}"}
    body = {"source": {"object": {"bucket": "calls", "key": AUDIO_KEY}}, "private": True}
    refused = api.client.post("/v1/jobs", headers=headers, json=body)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "bucket_read_only"


def test_cross_tenant_overwrite_is_refused_by_a_read_only_grant(api: ApiHarness) -> None:
    """Tenant acme writes decoded/call-42.json; tenant rival, granted the bucket
    read-only, can neither overwrite it (seed) nor delete it."""
    acme = key_of(api, "acme", "calls")
    rival = key_of(api, "rival", "calls:ro")
    done = seed(api, acme).json()["job_id"]
    finish_job(api, done, small_transcript())
    before = api.objects.get_bytes("calls", "decoded/call-42.json")
    assert seed(api, rival).status_code == 403
    assert seed(api, rival, PRIV="yes").status_code == 403
    rival_headers = {"Authorization": f"Bearer {rival}"}
    assert api.client.delete(f"/v1/jobs/{done}", headers=rival_headers).status_code == 404
    assert api.objects.get_bytes("calls", "decoded/call-42.json") == before


def test_grants_parse_read_only_and_read_write(api: ApiHarness) -> None:
    tenant = api.store.create_tenant("mixed", ["a-bucket:ro", "b-bucket", "c-bucket:rw"])
    assert tenant.buckets == ("a-bucket", "b-bucket", "c-bucket")
    assert tenant.read_only == frozenset({"a-bucket"})
    assert not tenant.can_write("a-bucket")
    assert tenant.can_write("b-bucket") and tenant.can_write("c-bucket")
    assert not tenant.can_write("elsewhere")
    assert tenant.default_bucket == "b-bucket"
    upgraded = api.store.grant_buckets(tenant.id, ["a-bucket:rw", "b-bucket:ro"])
    assert upgraded.buckets == ("a-bucket", "b-bucket", "c-bucket")
    assert upgraded.read_only == frozenset({"b-bucket"})
    assert api.store.get_tenant(tenant.id) == upgraded
    with pytest.raises(InvalidOptionError, match="ro or rw"):
        api.store.create_tenant("bad", ["a-bucket:write"])


def test_a_tenant_with_only_read_only_grants_uploads_to_its_own_bucket(
    api: ApiHarness,
) -> None:
    tenant = api.store.create_tenant("reader", ["calls:ro"])
    assert tenant.default_bucket == "tenant-reader"


def test_claims_move_only_from_finished_jobs_of_the_same_tenant(api: ApiHarness) -> None:
    store = api.store
    key = key_of(api, "acme", "calls")
    live = seed(api, key).json()["job_id"]
    acme_id = store.get_job(live, None).tenant_id
    with pytest.raises(ObjectInUseError):
        store.claim_object("calls", "decoded/call-42.json", "someone-else", acme_id)
    store.claim_object("calls", "decoded/call-42.json", live, acme_id)  # its own: fine
    assert not store.release_object("calls", "decoded/call-42.json", "someone-else")
    assert not store.release_object("calls", "decoded/call-42.json", live)  # never written
    assert store.object_owner("calls", "decoded/call-42.json") is None
    store.claim_object("calls", "x.json", "gone-job", "t1")  # a holder that no longer exists
    store.claim_object("calls", "x.json", "new-job", "t2")
    assert store.object_owner("calls", "x.json") == "new-job"
    assert store.release_objects("new-job") == []  # claimed, not written: nothing to delete
    store.claim_object("calls", "y.json", "new-job", "t2")
    store.claim_object("calls", "y.json", "new-job", "t2", written=True)
    store.claim_object("calls", "y.json", "new-job", "t2")  # written stays noted
    assert store.release_objects("new-job") == [("calls", "y.json")]
    assert store.release_objects("new-job") == []


def test_a_private_job_never_deletes_an_object_another_job_wrote(api: ApiHarness) -> None:
    """A private object job naming another job's upload (or result) leaves it alone;
    the client's own unclaimed object is deleted as asked."""
    from dsac_asr.jobs.results import delete_private_audio

    key = key_of(api, "acme", "calls")
    headers = {"Authorization": f"Bearer {key}"}
    files = {"file": ("call.wav", b"RIFF theirs", "audio/wav")}
    upload = api.client.post("/v1/jobs", headers=headers, files=files).json()
    for target in (upload["source"]["key"], AUDIO_KEY):
        body = {"source": {"object": {"bucket": "calls", "key": target}}, "private": True}
        created = api.client.post("/v1/jobs", headers=headers, json=body)
        assert created.status_code == 202, created.text
        delete_private_audio(api.store, api.objects, api.store.get_job(created.json()["id"], None))
    assert api.objects.exists("calls", upload["source"]["key"])  # the upload job's
    assert not api.objects.exists("calls", AUDIO_KEY)  # the client's own, private
