"""The Lambda handler: API Gateway proxy events of the real shapes (REST payload 1.0 and
HTTP API payload 2.0) through Mangum into the same app, and the database secret."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from api_fakes import ApiHarness, make_harness

from dsac_asr.api import aws_lambda
from dsac_asr.api.aws_lambda import LambdaHandler, load_database_password, make_handler
from dsac_asr.jobs.model import Tenant

AUDIO_KEY = "media/audio_uploads/call.wav"
HOST = "abc123defg.execute-api.af-south-1.amazonaws.com"
CONTEXT = SimpleNamespace(
    function_name="dsac-asr-api",
    aws_request_id="c6af9ac6-7b61-11e6-9a41-93e812345678",
    invoked_function_arn="arn:aws:lambda:af-south-1:123456789012:function:dsac-asr-api",
)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiHarness]:
    harness = make_harness(tmp_path / "api")
    yield harness
    harness.client.close()
    harness.store.close()


@pytest.fixture
def lambda_handler(api: ApiHarness) -> LambdaHandler:
    """The Mangum adapter around the API-unit-test app."""
    return make_handler(api.client.app)  # type: ignore[arg-type]


@pytest.fixture
def acme(api: ApiHarness) -> tuple[Tenant, str]:
    tenant = api.store.create_tenant("acme", ("calls",))
    key, _ = api.store.issue_key(tenant.id)
    api.objects.put_bytes("calls", AUDIO_KEY, b"RIFF fake audio", "audio/wav")
    return tenant, key


def seed_headers(key: str) -> dict[str, str]:
    """What the front end's ``requests.post(URL, headers=...)`` sends, as it spells it."""
    return {
        "X_API_KEY": key,
        "JOB_ID": "slug-123",
        "USER_ID": "7",
        "DEC_LANG": "eng",
        "SR": "BB",
        "SAC": "yes",
        "DIA": "no",
        "NUM_SPK": "-1",
        "BATCHED": "0",
        "NUM_CHANNELS": "1",
        "BUCKET_NAME": "calls",
        "SOURCE": "url",
        "OBJECT_PATH": AUDIO_KEY,
        "RETURN_URL": "https://93.184.216.34/jobcomplete/",
        "User-Agent": "python-requests/2.31.0",
        "Content-Length": "0",
    }


def rest_event(method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    """An API Gateway REST API proxy event (payload 1.0), as a ``{proxy+}`` resource gets it."""
    all_headers = {"Host": HOST, "X-Forwarded-Proto": "https", "X-Forwarded-Port": "443"}
    all_headers |= headers
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourceId": "2gxmpl",
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "extendedRequestId": "JJbxmplHYosFVYQ=",
            "requestTime": "10/Mar/2025:00:03:59 +0000",
            "path": f"/prod{path}",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": "prod",
            "domainPrefix": "abc123defg",
            "requestTimeEpoch": 1741565039000,
            "requestId": "e6a0b5c1-xmpl-4b3f-9d2b-0c1f6c9f4c5e",
            "identity": {"sourceIp": "203.0.113.10", "userAgent": "python-requests/2.31.0"},
            "domainName": HOST,
            "apiId": "abc123defg",
        },
        "body": None,
        "isBase64Encoded": False,
    }


def http_event(method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    """An API Gateway HTTP API event (payload 2.0): header names arrive lower-cased."""
    all_headers = {"host": HOST, "x-forwarded-proto": "https", "x-forwarded-port": "443"}
    all_headers |= {name.lower(): value for name, value in headers.items()}
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123defg",
            "domainName": HOST,
            "domainPrefix": "abc123defg",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": "python-requests/2.31.0",
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "$default",
            "stage": "$default",
            "time": "10/Mar/2025:00:03:59 +0000",
            "timeEpoch": 1741565039000,
        },
        "isBase64Encoded": False,
    }


EVENTS = pytest.mark.parametrize("make_event", [rest_event, http_event], ids=["rest", "http"])


@EVENTS
def test_health_check(lambda_handler: LambdaHandler, make_event: Any) -> None:
    response = lambda_handler(make_event("GET", "/healthz", {}), CONTEXT)
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"status": "ok"}
    assert response["isBase64Encoded"] is False


@EVENTS
def test_seed_submission_is_queued(
    api: ApiHarness,
    acme: tuple[Tenant, str],
    lambda_handler: LambdaHandler,
    make_event: Any,
) -> None:
    tenant, key = acme
    response = lambda_handler(make_event("POST", "/legacy/decode", seed_headers(key)), CONTEXT)
    assert response["statusCode"] == 200, response["body"]
    assert response["headers"]["content-type"] == "application/json"
    body = json.loads(response["body"])
    assert body["client_job_id"] == "slug-123"
    assert body["result"] == {"bucket": "calls", "key": f"decoded/{body['tag']}.json"}
    assert api.queue.enqueued == [body["job_id"]]
    job = api.store.get_job(body["job_id"], tenant.id)
    assert job.options.callback_url == "https://93.184.216.34/jobcomplete/"
    assert job.options.user_id == "7"


@EVENTS
def test_seed_errors_come_back_as_proxy_responses(
    acme: tuple[Tenant, str], lambda_handler: LambdaHandler, make_event: Any
) -> None:
    _, key = acme
    missing = seed_headers(key)
    del missing["DEC_LANG"]
    response = lambda_handler(make_event("POST", "/legacy/decode", missing), CONTEXT)
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"]["code"] == "missing_header"
    wrong = seed_headers("dsac_wrong")
    response = lambda_handler(make_event("POST", "/legacy/decode", wrong), CONTEXT)
    assert response["statusCode"] == 401


@EVENTS
def test_native_api_through_the_gateway(
    acme: tuple[Tenant, str], lambda_handler: LambdaHandler, make_event: Any
) -> None:
    _, key = acme
    response = lambda_handler(make_event("GET", "/v1/jobs", {"X-API-Key": key}), CONTEXT)
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"jobs": [], "next_cursor": None}


def test_the_module_handler_builds_the_app_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSAC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DSAC_DB_SECRET_ARN", raising=False)
    clear_environment_caches()
    try:
        response = aws_lambda.handler(http_event("GET", "/healthz", {}), CONTEXT)
        again = aws_lambda.handler(rest_event("GET", "/v1/models", {}), CONTEXT)
        swept = aws_lambda.sweep_handler({"source": "aws.events"}, CONTEXT)
    finally:
        clear_environment_caches()
    assert response["statusCode"] == 200
    assert again["statusCode"] == 401
    assert swept == {"requeued": [], "callbacks": []}  # nothing orphaned, nothing due
    assert (tmp_path / "data" / "dsac.sqlite3").is_file()


def clear_environment_caches() -> None:
    aws_lambda._environment_handler.cache_clear()
    aws_lambda._environment_services.cache_clear()


def test_the_sweeper_requeues_jobs_whose_worker_died(
    api: ApiHarness, acme: tuple[Tenant, str], lambda_handler: LambdaHandler
) -> None:
    _, key = acme
    event = http_event("POST", "/legacy/decode", seed_headers(key))
    job_id = json.loads(lambda_handler(event, CONTEXT)["body"])["job_id"]
    services = api.client.app.state.services  # type: ignore[attr-defined]
    assert aws_lambda.sweep_orphans(services) == []
    assert api.store.claim(job_id, lease_s=-1.0) is not None  # a worker took it, then died
    assert aws_lambda.sweep_orphans(services) == [job_id]
    assert api.queue.enqueued == [job_id, job_id]


def test_the_database_password_comes_from_the_secret() -> None:
    environ = {"DSAC_DB_SECRET_ARN": "arn:aws:secretsmanager:af-south-1:1:secret:db"}
    load_database_password(environ, fetch=lambda arn: f"pw-of-{arn[-2:]}")
    assert environ["PGPASSWORD"] == "pw-of-db"


def test_the_sealing_key_comes_from_its_secret_unless_given() -> None:
    environ = {"DSAC_SECRET_KEY_ARN": "arn:aws:secretsmanager:af-south-1:1:secret:key"}
    aws_lambda.load_sealing_key(environ, fetch=lambda arn: f"key-of-{arn[-3:]}")
    assert environ["DSAC_SECRET_KEY"] == "key-of-key"
    given = {"DSAC_SECRET_KEY_ARN": "arn:x", "DSAC_SECRET_KEY": "given"}
    aws_lambda.load_sealing_key(given, fetch=lambda arn: "fetched")
    assert given["DSAC_SECRET_KEY"] == "given"


def test_a_password_already_set_or_no_secret_is_left_alone() -> None:
    def refuse(arn: str) -> str:
        raise AssertionError("must not fetch")

    environ = {"DSAC_DB_SECRET_ARN": "arn:x", "PGPASSWORD": "given"}
    load_database_password(environ, fetch=refuse)
    assert environ["PGPASSWORD"] == "given"
    empty: dict[str, str] = {}
    load_database_password(empty, fetch=refuse)
    assert empty == {}


def test_the_secret_is_read_from_secrets_manager(monkeypatch: pytest.MonkeyPatch) -> None:
    moto = pytest.importorskip("moto")
    import boto3

    monkeypatch.setenv("AWS_DEFAULT_REGION", "af-south-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with moto.mock_aws():
        client = boto3.client("secretsmanager")
        secret = json.dumps({"username": "dsac", "password": "s3cr3t/+="})
        arn = client.create_secret(Name="dsac-db", SecretString=secret)["ARN"]
        assert aws_lambda.fetch_secret_password(arn) == "s3cr3t/+="
        sealing = json.dumps({"key": "k" * 48})
        key_arn = client.create_secret(Name="dsac-key", SecretString=sealing)["ARN"]
        environ = {"DSAC_SECRET_KEY_ARN": key_arn}
        aws_lambda.load_sealing_key(environ)
        assert environ["DSAC_SECRET_KEY"] == "k" * 48
