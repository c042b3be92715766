"""Object claims: which job owns each object the service wrote.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the object_claims table."""
    op.create_table(
        "object_claims",
        sa.Column("bucket", sa.String(255), primary_key=True),
        sa.Column("key", sa.String(1024), primary_key=True),
        sa.Column("job_id", sa.String(128), nullable=False),
        sa.Column("tenant_id", sa.String(32), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("written", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_object_claims_job_id", "object_claims", ["job_id"])


def downgrade() -> None:
    """Drop the object_claims table."""
    op.drop_index("ix_object_claims_job_id", "object_claims")
    op.drop_table("object_claims")
