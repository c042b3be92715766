"""Object claims: which job owns each object the service writes for it.

A job claims its objects (its upload, its seed result ``decoded/<TAG>.json``, its
transcript) before they are written. A claim held by a live (queued or running)
job, or by another tenant's job, is never taken over (:class:`ObjectInUseError`,
409 at submission); a claim of the same tenant's finished job moves to the new job,
which then owns what it overwrites. A claim notes whether its job has written the
object: deleting a job deletes only what it wrote and still claims, so one job's
``DELETE`` never removes an object another job wrote.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dsac_asr.errors import ObjectInUseError
from dsac_asr.jobs.database import Database
from dsac_asr.jobs.model import JobStatus
from dsac_asr.jobs.tables import JobRow, ObjectClaimRow

_LIVE = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)


class ObjectClaims(Database):
    """Claims on objects, kept beside the jobs (mixed into ``JobStore``)."""

    def claim_object(
        self, bucket: str, key: str, job_id: str, tenant_id: str, *, written: bool = False
    ) -> None:
        """Make ``job_id`` the owner of ``bucket/key`` (``written``: it is writing it now);
        ``ObjectInUseError`` when another live job, or another tenant's job, holds it."""
        for _ in range(2):  # a concurrent first claim makes the insert fail: look again
            wanted = ObjectClaimRow(
                bucket=bucket,
                key=key,
                job_id=job_id,
                tenant_id=tenant_id,
                claimed_at=self.clock(),
                written=written,
            )
            try:
                with self.session() as session:
                    self._claim(session, wanted)
                return
            except IntegrityError:
                continue
        raise ObjectInUseError(_in_use(bucket, key))

    def _claim(self, session: Session, wanted: ObjectClaimRow) -> None:
        held = session.get(ObjectClaimRow, (wanted.bucket, wanted.key), with_for_update=True)
        if held is None:
            session.add(wanted)
            return
        if held.job_id == wanted.job_id:
            held.written = held.written or wanted.written
            return
        holder = session.get(JobRow, held.job_id)
        if holder is not None and (held.tenant_id != wanted.tenant_id or holder.status in _LIVE):
            raise ObjectInUseError(_in_use(wanted.bucket, wanted.key))
        held.job_id, held.tenant_id = wanted.job_id, wanted.tenant_id
        held.claimed_at, held.written = wanted.claimed_at, wanted.written

    def object_owner(self, bucket: str, key: str) -> str | None:
        """The id of the job that claims ``bucket/key``, or None."""
        with self.session() as session:
            held = session.get(ObjectClaimRow, (bucket, key))
            return held.job_id if held is not None else None

    def release_object(self, bucket: str, key: str, job_id: str) -> bool:
        """Drop ``job_id``'s claim on ``bucket/key``; True if it held it and wrote the
        object (then delete it)."""
        with self.session() as session:
            held = session.get(ObjectClaimRow, (bucket, key), with_for_update=True)
            if held is None or held.job_id != job_id:
                return False
            session.delete(held)
            return held.written

    def release_objects(self, job_id: str) -> list[tuple[str, str]]:
        """Drop every claim of ``job_id``; the (bucket, key) pairs it wrote, to delete."""
        query = select(ObjectClaimRow).where(ObjectClaimRow.job_id == job_id)
        with self.session() as session:
            rows = session.scalars(query.with_for_update()).all()
            wrote = [(row.bucket, row.key) for row in rows if row.written]
            session.execute(delete(ObjectClaimRow).where(ObjectClaimRow.job_id == job_id))
        return wrote


def _in_use(bucket: str, key: str) -> str:
    return (
        f"{key} in bucket {bucket} belongs to another job that is still queued or running, "
        "or that another tenant submitted: wait for it to finish, or use another TAG"
    )
