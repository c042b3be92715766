"""API keys on the native API: missing, wrong and revoked keys; both header forms."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_fakes import ApiHarness, bearer, make_harness


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiHarness]:
    harness = make_harness(tmp_path)
    yield harness
    harness.client.close()
    harness.store.close()


def _assert_unauthorized(response: httpx.Response) -> None:
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "unauthorized"
    assert error["message"]


@pytest.mark.parametrize("path", ["/v1/jobs", "/v1/models", "/v1/jobs/abc"])
def test_no_key_is_unauthorized(api: ApiHarness, path: str) -> None:
    response = api.client.get(path)
    _assert_unauthorized(response)
    assert "missing" in response.json()["error"]["message"]


def test_no_key_on_submission_is_unauthorized_and_queues_nothing(api: ApiHarness) -> None:
    response = api.upload({})
    _assert_unauthorized(response)
    assert api.queue.enqueued == []
    assert not (api.settings.data_dir / "objects").exists()


@pytest.mark.parametrize(
    "headers",
    [
        bearer("dsac_not-a-real-key"),
        {"X-API-Key": "dsac_not-a-real-key"},
        {"Authorization": "Bearer "},
        bearer("x" * 1000),
    ],
)
def test_wrong_key_is_unauthorized(api: ApiHarness, headers: dict[str, str]) -> None:
    api.tenant("acme")
    _assert_unauthorized(api.client.get("/v1/jobs", headers=headers))


def test_revoked_key_is_unauthorized(api: ApiHarness) -> None:
    tenant = api.store.create_tenant("acme")
    key, record = api.store.issue_key(tenant.id)
    assert api.client.get("/v1/jobs", headers=bearer(key)).status_code == 200
    api.store.revoke_key(record.id)
    _assert_unauthorized(api.client.get("/v1/jobs", headers=bearer(key)))
    _assert_unauthorized(api.client.get("/v1/jobs", headers={"X-API-Key": key}))


def test_bearer_and_x_api_key_headers_both_authenticate(api: ApiHarness) -> None:
    tenant = api.store.create_tenant("acme")
    key, _ = api.store.issue_key(tenant.id)
    created = api.upload(bearer(key), language="eng")
    assert created.status_code == 202
    job_id = created.json()["id"]
    for headers in (bearer(key), {"X-API-Key": key}, {"x-api-key": key}):
        response = api.client.get(f"/v1/jobs/{job_id}", headers=headers)
        assert response.status_code == 200, headers
        assert response.json()["id"] == job_id


def test_each_key_authenticates_as_its_own_tenant(api: ApiHarness) -> None:
    _, acme = api.tenant("acme")
    _, globex = api.tenant("globex")
    job_id = api.upload(acme).json()["id"]
    assert [job["id"] for job in api.client.get("/v1/jobs", headers=acme).json()["jobs"]] == [
        job_id
    ]
    assert api.client.get("/v1/jobs", headers=globex).json() == {"jobs": [], "next_cursor": None}
