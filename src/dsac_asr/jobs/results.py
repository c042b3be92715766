"""Where a job's objects live, and writing and deleting them only as their owner.

* The seed-shaped result: ``decoded/<TAG>.json`` (``decoded/<job id>.json`` without a
  TAG) in the job's result bucket, which a seed client reads.
* The full transcript (for the other formats): ``transcripts/<job id>.json`` in the
  service's own bucket (``DSAC_INTERNAL_BUCKET``), never in a client's bucket and out
  of reach of any TAG (a TAG names only ``decoded/...``).
* An upload: ``uploads/<job id>/<name>`` in the tenant's default bucket.

Each is claimed by its job (``jobs/claims.py``) before it is written; deleting a job
deletes only what it still claims, plus the objects of jobs made before claims that
no job claims.
"""

from __future__ import annotations

from collections.abc import Callable

from dsac_asr.errors import NotFoundError
from dsac_asr.jobs.claims import ObjectClaims
from dsac_asr.jobs.model import Job, SourceKind
from dsac_asr.storage.base import ObjectStore
from dsac_asr.transcript import OutputFormat, Transcript, render
from dsac_asr.transcript.serialize import dumps, loads


def result_key(job_id: str, tag: str | None = None) -> str:
    """The seed's result key: ``decoded/<TAG>.json`` (the job id when no tag was given)."""
    return f"decoded/{tag or job_id}.json"


def transcript_key(job_id: str) -> str:
    """Where the full transcript (for the other formats) is kept, in the internal bucket."""
    return f"transcripts/{job_id}.json"


def legacy_transcript_key(job_id: str) -> str:
    """Where jobs finished before issue 13 kept their transcript, beside the result."""
    return f"decoded/{job_id}.transcript.json"


def claim_submission(claims: ObjectClaims, job: Job) -> None:
    """Claim a new job's upload and result key (``ObjectInUseError`` if another live
    job, or another tenant's job, holds the result key)."""
    if job.source.kind is SourceKind.UPLOAD and job.source.key:
        bucket, key = job.source.bucket, job.source.key
        claims.claim_object(bucket, key, job.id, job.tenant_id, written=True)
    claims.claim_object(
        job.result_bucket, result_key(job.id, job.options.tag), job.id, job.tenant_id
    )


def write_results(
    claims: ObjectClaims,
    objects: ObjectStore,
    internal_bucket: str,
    job: Job,
    transcript: Transcript,
    before_write: Callable[[], None] = lambda: None,
) -> str:
    """Claim and write the job's transcript and seed result; return the result's key.

    ``before_write`` runs before each object is written (a worker renews its lease
    there, and stops if its claim on the job was lost)."""
    key = result_key(job.id, job.options.tag)
    claims.claim_object(job.result_bucket, key, job.id, job.tenant_id, written=True)
    claims.claim_object(
        internal_bucket, transcript_key(job.id), job.id, job.tenant_id, written=True
    )
    before_write()
    body = dumps(transcript)
    objects.put_bytes(internal_bucket, transcript_key(job.id), body, "application/json")
    before_write()
    seed = render(transcript, OutputFormat.JSON)
    objects.put_bytes(job.result_bucket, key, seed, "application/json")
    return key


def load_transcript(objects: ObjectStore, internal_bucket: str, job: Job) -> Transcript:
    """The finished job's transcript (from before issue 13: beside its result)."""
    try:
        return loads(objects.get_bytes(internal_bucket, transcript_key(job.id)))
    except NotFoundError:
        return loads(objects.get_bytes(job.source.bucket, legacy_transcript_key(job.id)))


def delete_owned(claims: ObjectClaims, objects: ObjectStore, job: Job) -> list[tuple[str, str]]:
    """Delete every object the job still claims, and the unclaimed ones of a job made
    before claims; never an object another job claims. Returns what was deleted."""
    legacy = _unclaimed_legacy_objects(claims, job)
    deleted = claims.release_objects(job.id) + legacy
    for bucket, key in deleted:
        objects.delete(bucket, key)
    return deleted


def _unclaimed_legacy_objects(claims: ObjectClaims, job: Job) -> list[tuple[str, str]]:
    candidates = [(job.source.bucket, legacy_transcript_key(job.id))]
    if job.result_key:
        candidates.append((job.result_bucket, job.result_key))
    if job.source.key and job.source.key.startswith(f"uploads/{job.id}/"):
        candidates.append((job.source.bucket, job.source.key))
    return [(b, k) for b, k in candidates if claims.object_owner(b, k) is None]


def delete_private_audio(claims: ObjectClaims, objects: ObjectStore, job: Job) -> None:
    """Delete a private job's audio: its upload, or the object it was given if no other
    job claims it (a URL source left nothing behind)."""
    if not job.options.private or job.source.kind is SourceKind.URL or not job.source.key:
        return
    bucket, key = job.source.bucket, job.source.key
    owner = claims.object_owner(bucket, key)
    if owner == job.id:
        claims.release_object(bucket, key, job.id)
    elif owner is not None:
        return
    objects.delete(bucket, key)


def undo_results(
    claims: ObjectClaims, objects: ObjectStore, internal_bucket: str, job: Job
) -> None:
    """Remove the results just written for a job that was cancelled or deleted meanwhile."""
    key = result_key(job.id, job.options.tag)
    for bucket, written in ((job.result_bucket, key), (internal_bucket, transcript_key(job.id))):
        if claims.release_object(bucket, written, job.id):
            objects.delete(bucket, written)
