"""``dsac-asr keys``: create, list and revoke tenants' API keys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console

from dsac_asr.config import Settings
from dsac_asr.errors import DsacError, NotFoundError
from dsac_asr.jobs.model import ApiKey, Tenant
from dsac_asr.jobs.services import open_store
from dsac_asr.jobs.store import JobStore

keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
stderr = Console(stderr=True, highlight=False)


@contextmanager
def _store() -> Iterator[JobStore]:
    """The migrated job store; a ``DsacError`` becomes a message and exit status 1."""
    try:
        store = open_store(Settings())
        try:
            yield store
        finally:
            store.close()
    except DsacError as exc:
        stderr.print(f"error: {exc.message}", soft_wrap=True, markup=False)
        raise typer.Exit(code=1) from exc


def _tenant(store: JobStore, name: str, buckets: list[str]) -> Tenant:
    """The tenant called ``name`` with ``buckets`` granted, created if missing."""
    tenant = store.find_tenant(name)
    if tenant is None:
        return store.create_tenant(name, buckets)
    return store.grant_buckets(tenant.id, buckets) if buckets else tenant


@keys_app.command()
def create(
    tenant: Annotated[str, typer.Option("--tenant", help="Tenant name (created if new).")],
    buckets: Annotated[
        list[str] | None,
        typer.Option(
            "--bucket",
            help="A bucket the tenant may read and write results to; B:ro reads only, "
            "B:rw is B. Repeat for more.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Issue a new API key for TENANT and print it (it is not shown again)."""
    with _store() as store:
        owner = _tenant(store, tenant, buckets or [])
        api_key, _ = store.issue_key(owner.id)
    if as_json:
        payload = {"tenant": owner.name, "api_key": api_key, "webhook_secret": owner.webhook_secret}
        typer.echo(json.dumps(payload))
        return
    typer.echo(f"tenant:         {owner.name}")
    grants = [f"{b} (read only)" if b in owner.read_only else b for b in owner.buckets]
    typer.echo(f"buckets:        {', '.join(grants) or '-'}")
    typer.echo(f"api key:        {api_key}")
    typer.echo(f"webhook secret: {owner.webhook_secret}")
    stderr.print("Store the API key now: it is kept only as a hash and is not shown again.")


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def _key_row(key: ApiKey, tenant: str) -> dict[str, str | None]:
    revoked = key.revoked_at.isoformat() if key.revoked_at else None
    return {"id": key.id, "prefix": key.prefix, "tenant": tenant} | {
        "created": key.created_at.isoformat(),
        "revoked": revoked,
    }


@keys_app.command("list")
def list_keys(
    tenant: Annotated[str | None, typer.Option("--tenant", help="Only this tenant.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show every key: id, prefix, tenant, created, revoked (never the key itself)."""
    with _store() as store:
        owner = store.find_tenant(tenant) if tenant else None
        if tenant and owner is None:
            raise NotFoundError(f"no tenant named {tenant!r}")
        keys = store.list_keys(owner.id if owner else None)
    if as_json:
        typer.echo(json.dumps([_key_row(key, name) for key, name in keys], indent=2))
        return
    rows = [
        [key.prefix, name, _when(key.created_at), _when(key.revoked_at), key.id]
        for key, name in keys
    ]
    _print_columns(["PREFIX", "TENANT", "CREATED (UTC)", "REVOKED (UTC)", "ID"], rows)


def _print_columns(header: list[str], rows: list[list[str]]) -> None:
    """Plain aligned columns (never truncated, easy to grep)."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    for line in [header, *rows]:
        typer.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )


@keys_app.command()
def revoke(
    key: Annotated[str, typer.Argument(help="The key's id or prefix (see `keys list`).")],
) -> None:
    """Revoke a key: requests carrying it are refused from now on."""
    with _store() as store:
        revoked = store.revoke_key(key)
    typer.echo(f"revoked key {revoked.prefix} (id {revoked.id}) at {_when(revoked.revoked_at)} UTC")
