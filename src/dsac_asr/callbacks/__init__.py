"""Job callbacks, from the outbox to the receiver.

``outbox`` (events written with a job's final state, claims, attempts; mixed
into the job store), ``sender`` (claim, attempt, record: run by the queue task
and the sweeper), ``schedule`` (when to try again), ``delivery`` (one HTTP
attempt and what its answer means), ``messages`` (bodies and headers),
``webhooks`` (Standard Webhooks signatures) and ``sealing`` (secrets at rest).

Layering: this package uses the job store's model and tables (``jobs.model``,
``jobs.tables``, ``jobs.database``) and is used by the job service (store,
queue, sweeper); it never imports the queue library or the web framework.
"""
