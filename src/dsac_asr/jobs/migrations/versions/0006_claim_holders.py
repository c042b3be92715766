"""Claim holders: the process running each job, so its supervisor can name it when it dies.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add jobs.holder and its index."""
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("holder", sa.String(64), nullable=True))
        batch.create_index("ix_jobs_holder", ["holder"])


def downgrade() -> None:
    """Drop jobs.holder and its index."""
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_holder")
        batch.drop_column("holder")
