"""Taking turns at sweeping: every worker may run the sweeper, one at a time.

A row per kind of sweep holds when the next one is due; the process that moves
it on (one conditional UPDATE) sweeps, the others wait for the next turn. This
works alike on SQLite and PostgreSQL and needs no lock held between sweeps.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError

from dsac_asr.jobs.database import Database
from dsac_asr.jobs.tables import SweepRow


class SweepTurns(Database):
    """Store methods for the sweeper's turns (mixed into ``JobStore``)."""

    def take_sweep_turn(self, name: str, interval_s: float, holder: str) -> bool:
        """Whether ``holder`` sweeps now: True for the first caller once the last turn's
        ``interval_s`` has passed (across every process sharing the database)."""
        now = self.clock()
        values = {"next_at": now + timedelta(seconds=interval_s), "holder": holder}
        due = update(SweepRow).where(SweepRow.name == name, SweepRow.next_at <= now)
        with self.session() as session:
            result = cast(CursorResult[Any], session.execute(due.values(values)))
            if result.rowcount == 1:
                return True
            if session.scalar(select(SweepRow.name).where(SweepRow.name == name)) is not None:
                return False
        try:
            with self.session() as session:
                session.add(SweepRow(name=name, **values))
        except IntegrityError:  # another process took the first turn
            return False
        return True

    def sweep_holder(self, name: str) -> str | None:
        """Who took the last turn of the sweep ``name`` (None before the first)."""
        with self.session() as session:
            return session.scalar(select(SweepRow.holder).where(SweepRow.name == name))
