"""The callback outbox: one row per job callback event, written with the job's final state.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create the callback_events table."""
    op.create_table(
        "callback_events",
        sa.Column("id", sa.String(160), primary_key=True),
        sa.Column(
            "job_id",
            sa.String(128),
            sa.ForeignKey("jobs.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _timestamp("next_at", nullable=False),
        _timestamp("claimed_until"),
        _timestamp("created_at", nullable=False),
        _timestamp("finished_at"),
    )
    op.create_index("ix_callback_events_job_id", "callback_events", ["job_id"])
    op.create_index("ix_callback_events_due", "callback_events", ["state", "next_at"])


def downgrade() -> None:
    """Drop the callback_events table."""
    op.drop_index("ix_callback_events_due", "callback_events")
    op.drop_index("ix_callback_events_job_id", "callback_events")
    op.drop_table("callback_events")
