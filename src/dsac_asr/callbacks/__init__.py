"""Callbacks on the wire: what an attempt sends and what its answer means.

``delivery`` (one HTTP attempt and what its answer means), ``webhooks``
(Standard Webhooks signatures), ``schedule`` (when to try again) and
``sealing`` (secrets at rest). The job side of callbacks builds on these in
``jobs/``: ``jobs.callback_outbox`` (events written with a job's final state,
claims, attempts; mixed into the job store), ``jobs.callback_messages``
(bodies and headers of a job's event) and ``jobs.callback_sender`` (claim,
attempt, record: run by the queue task and the sweeper).

Layering: this package imports neither ``jobs/`` nor the queue library nor the
web framework; ``jobs/`` and ``api/`` import it.
"""
