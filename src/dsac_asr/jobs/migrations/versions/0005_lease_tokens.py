"""Fenced leases: each claim's token on its job, and the sweeper's turn.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add jobs.lease_id and the sweeps table."""
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("lease_id", sa.String(32), nullable=True))
    op.create_table(
        "sweeps",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("holder", sa.String(64), nullable=True),
    )


def downgrade() -> None:
    """Drop the sweeps table and jobs.lease_id."""
    op.drop_table("sweeps")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("lease_id")
