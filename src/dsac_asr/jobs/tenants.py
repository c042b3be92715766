"""Tenants and their API keys: keys are kept only as SHA-256 digests, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dsac_asr.callbacks.webhooks import new_secret
from dsac_asr.errors import InvalidOptionError, NotFoundError
from dsac_asr.jobs.database import Database
from dsac_asr.jobs.model import ApiKey, Tenant
from dsac_asr.jobs.rows import READ_ONLY_SUFFIX, key_from_row, tenant_from_row
from dsac_asr.jobs.tables import ApiKeyRow, TenantRow

TENANT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
KEY_PREFIX = "dsac_"
KEY_PREFIX_LENGTH = 12
MAX_KEY_LENGTH = 256


def hash_key(api_key: str) -> str:
    """The SHA-256 hex digest under which a key is stored."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_api_key() -> str:
    """A fresh key: ``dsac_`` and 32 URL-safe random characters (192 bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(24)


def _unique_buckets(buckets: Iterable[str]) -> list[str]:
    """Grants as stored: ``B`` (read and write, the meaning a plain name always had) or
    ``B:ro`` (read only). ``B:rw`` is ``B``; a bucket named again takes its last mode."""
    modes: dict[str, bool] = {}
    for grant in buckets:
        name, read_only = _parse_grant(grant)
        modes[name] = read_only
    return [name + READ_ONLY_SUFFIX if read_only else name for name, read_only in modes.items()]


def _parse_grant(grant: str) -> tuple[str, bool]:
    """``(bucket, read_only)`` from ``B``, ``B:rw`` or ``B:ro``."""
    name, _, mode = grant.strip().partition(":")
    name = name.strip()
    if not name:
        raise InvalidOptionError("bucket names must not be empty")
    if mode not in ("", "rw", "ro"):
        raise InvalidOptionError(f"bucket grant {grant!r}: the mode after ':' is ro or rw")
    return name, mode == "ro"


def _stored_grants(tenant: Tenant) -> list[str]:
    """The tenant's grants in the form ``_unique_buckets`` reads."""
    return [b + READ_ONLY_SUFFIX if b in tenant.read_only else b for b in tenant.buckets]


class TenantStore(Database):
    """Tenants and API keys (the job methods are added by ``JobStore``)."""

    def create_tenant(self, name: str, buckets: Iterable[str] = ()) -> Tenant:
        """Create a tenant; a bad or already used name raises ``InvalidOptionError``."""
        if not TENANT_NAME.fullmatch(name):
            raise InvalidOptionError(
                f"invalid tenant name {name!r}: 2-63 of a-z, 0-9 and '-', not starting with '-'"
            )
        row = TenantRow(
            id=uuid.uuid4().hex,
            name=name,
            buckets=_unique_buckets(buckets),
            webhook_secret=new_secret(),
            created_at=self.clock(),
        )
        try:
            with self.session() as session:
                session.add(row)
        except IntegrityError as error:
            raise InvalidOptionError(f"tenant {name!r} already exists") from error
        return tenant_from_row(row)

    def get_tenant(self, tenant_id: str) -> Tenant:
        """The tenant with this id; ``NotFoundError`` if there is none."""
        with self.session() as session:
            return tenant_from_row(tenant_row(session, tenant_id))

    def find_tenant(self, name: str) -> Tenant | None:
        """The tenant with this name, or None."""
        with self.session() as session:
            row = session.scalar(select(TenantRow).where(TenantRow.name == name))
            return tenant_from_row(row) if row else None

    def grant_buckets(self, tenant_id: str, buckets: Iterable[str]) -> Tenant:
        """Add buckets the tenant may read, and write unless granted ``B:ro`` (those it
        has are kept, in order; naming one again changes its mode)."""
        with self.session() as session:
            row = tenant_row(session, tenant_id, for_update=True)
            row.buckets = _unique_buckets([*_stored_grants(tenant_from_row(row)), *buckets])
            return tenant_from_row(row)

    def issue_key(self, tenant_id: str) -> tuple[str, ApiKey]:
        """A new key for the tenant: the plaintext (shown once, never stored) and its record."""
        plaintext = new_api_key()
        row = ApiKeyRow(
            id=uuid.uuid4().hex,
            tenant_id=tenant_id,
            key_hash=hash_key(plaintext),
            prefix=plaintext[:KEY_PREFIX_LENGTH],
            created_at=self.clock(),
        )
        with self.session() as session:
            tenant_row(session, tenant_id)
            session.add(row)
        return plaintext, key_from_row(row)

    def authenticate(self, api_key: str) -> Tenant | None:
        """The tenant owning this key, or None for an unknown or revoked key."""
        if not api_key or len(api_key) > MAX_KEY_LENGTH:
            return None
        digest = hash_key(api_key)
        with self.session() as session:
            query = select(ApiKeyRow, TenantRow).join(TenantRow)
            found = session.execute(query.where(ApiKeyRow.key_hash == digest)).first()
            if found is None:
                return None
            key, tenant = found
            if not hmac.compare_digest(key.key_hash, digest) or key.revoked_at is not None:
                return None
            return tenant_from_row(tenant)

    def list_keys(self, tenant_id: str | None = None) -> list[tuple[ApiKey, str]]:
        """Every key (of one tenant, if given), oldest first, with its tenant's name."""
        query = select(ApiKeyRow, TenantRow.name).join(TenantRow)
        if tenant_id is not None:
            query = query.where(ApiKeyRow.tenant_id == tenant_id)
        with self.session() as session:
            rows = session.execute(query.order_by(ApiKeyRow.created_at, ApiKeyRow.id))
            return [(key_from_row(key), name) for key, name in rows]

    def revoke_key(self, key_id_or_prefix: str) -> ApiKey:
        """Revoke a key named by its id or prefix (already revoked keys stay as they are)."""
        with self.session() as session:
            row = _key_row(session, key_id_or_prefix)
            if row.revoked_at is None:
                row.revoked_at = self.clock()
            return key_from_row(row)


def tenant_row(session: Session, tenant_id: str, *, for_update: bool = False) -> TenantRow:
    """The tenant's row in this session; ``NotFoundError`` if there is none."""
    query = select(TenantRow).where(TenantRow.id == tenant_id)
    row = session.scalar(query.with_for_update() if for_update else query)
    if row is None:
        raise NotFoundError(f"no tenant with id {tenant_id!r}")
    return row


def _key_row(session: Session, key_id_or_prefix: str) -> ApiKeyRow:
    wanted = or_(ApiKeyRow.id == key_id_or_prefix, ApiKeyRow.prefix == key_id_or_prefix)
    rows = session.scalars(select(ApiKeyRow).where(wanted).with_for_update()).all()
    if not rows:
        raise NotFoundError(f"no API key with id or prefix {key_id_or_prefix!r}")
    if len(rows) > 1:
        raise InvalidOptionError(f"{key_id_or_prefix!r} names several keys: give the key id")
    return rows[0]
