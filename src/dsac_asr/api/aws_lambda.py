"""AWS Lambda entry point: the same API behind API Gateway, through Mangum.

``handler`` takes API Gateway proxy events (REST APIs' payload 1.0 and HTTP
APIs' payload 2.0) and returns the proxy response; ``sweep_handler`` is the
scheduled orphan sweeper. The services are opened once per Lambda environment
(on the first event) from ``DSAC_*`` variables, like ``dsac-asr api``. One extra:
``DSAC_DB_SECRET_ARN`` names a Secrets Manager secret (RDS's JSON, with a
``password``) that PostgreSQL gets as ``PGPASSWORD``, so the password is in
neither ``DSAC_DATABASE_URL`` nor the function's configuration; likewise
``DSAC_SECRET_KEY_ARN`` names the secret (JSON, with a ``key``) that becomes
``DSAC_SECRET_KEY``, the server key sealing callback secrets, shared with the workers.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, MutableMapping
from typing import Any

from fastapi import FastAPI

from dsac_asr.api.deps import ApiServices
from dsac_asr.errors import DsacError, MissingExtraError, TransientError

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
SECRET_ARN_VARIABLE = "DSAC_DB_SECRET_ARN"
PASSWORD_VARIABLE = "PGPASSWORD"
SEALING_KEY_ARN_VARIABLE = "DSAC_SECRET_KEY_ARN"
SEALING_KEY_VARIABLE = "DSAC_SECRET_KEY"


def make_handler(app: FastAPI) -> LambdaHandler:
    """A Lambda handler serving ``app`` (no lifespan events: the app needs none)."""
    try:
        from mangum import Mangum
    except ImportError as exc:
        raise MissingExtraError(
            "the AWS Lambda handler needs Mangum: pip install 'dsac-asr[aws]'"
        ) from exc
    return Mangum(app, lifespan="off")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda function: answer one API Gateway event with the API."""
    return _environment_handler()(event, context)


def sweep_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Scheduled (EventBridge): run the sweeper once (jobs whose worker stopped
    mid-job go back on the queue, and the rest of ``sweep_steps``).

    Running workers sweep too; this covers the time when none runs (workers
    scaled to zero while the last one's job was orphaned).
    """
    done = sweep(_environment_services())
    others = {name: ids for name, ids in done.items() if name != "orphans"}
    return {"requeued": done.get("orphans", []), **others}


def sweep(services: ApiServices) -> dict[str, list[str]]:
    """Run every sweep step once now; what each acted on."""
    from dsac_asr.jobs.callback_sender import CallbackSettings
    from dsac_asr.jobs.sweeper import Sweeper, sweep_steps

    callbacks = CallbackSettings.from_settings(services.settings)
    steps = sweep_steps(services.store, services.enqueue, services.objects, callbacks)
    return Sweeper(services.store, steps, interval_s=60.0).sweep()


def sweep_orphans(services: ApiServices) -> list[str]:
    """Queue again the running jobs whose lease expired; their ids."""
    from dsac_asr.jobs.sweeper import requeue_orphans

    return requeue_orphans(services.store, services.enqueue)


@functools.cache
def _environment_services() -> ApiServices:
    """Opened on the first event and kept for the life of the Lambda environment."""
    from dsac_asr.api.app import services_from_settings
    from dsac_asr.config import Settings

    load_database_password(os.environ)
    load_sealing_key(os.environ)
    return services_from_settings(Settings())


@functools.cache
def _environment_handler() -> LambdaHandler:
    from dsac_asr.api.app import create_app

    return make_handler(create_app(_environment_services()))


def load_database_password(
    environ: MutableMapping[str, str], fetch: Callable[[str], str] | None = None
) -> None:
    """Set ``PGPASSWORD`` from the secret ``DSAC_DB_SECRET_ARN`` names, unless already set."""
    arn = environ.get(SECRET_ARN_VARIABLE)
    if arn and PASSWORD_VARIABLE not in environ:
        environ[PASSWORD_VARIABLE] = (fetch or fetch_secret_password)(arn)


def load_sealing_key(
    environ: MutableMapping[str, str], fetch: Callable[[str], str] | None = None
) -> None:
    """Set ``DSAC_SECRET_KEY`` from the secret ``DSAC_SECRET_KEY_ARN`` names, unless already
    set: every process that seals or opens callback secrets must use the same key."""
    arn = environ.get(SEALING_KEY_ARN_VARIABLE)
    if arn and SEALING_KEY_VARIABLE not in environ:
        environ[SEALING_KEY_VARIABLE] = (fetch or functools.partial(fetch_secret_field, "key"))(arn)


def fetch_secret_password(arn: str) -> str:
    """The ``password`` of a Secrets Manager secret holding JSON (as RDS writes it)."""
    return fetch_secret_field("password", arn)


def fetch_secret_field(field: str, arn: str) -> str:
    """The text of ``field`` in a Secrets Manager secret holding a JSON object."""
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError as exc:
        raise MissingExtraError(
            "reading the secret needs boto3: pip install 'dsac-asr[s3]'"
        ) from exc
    try:
        secret = boto3.client("secretsmanager").get_secret_value(SecretId=arn)
    except (BotoCoreError, ClientError) as exc:
        raise TransientError(f"cannot read the secret {arn}: {exc}") from exc
    try:
        value = json.loads(secret["SecretString"])[field]
    except (KeyError, TypeError, ValueError) as exc:
        raise DsacError(f"secret {arn} holds no JSON object with a {field!r}") from exc
    return str(value)
