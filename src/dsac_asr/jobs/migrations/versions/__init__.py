"""Alembic revisions of the job store, oldest first (``NNNN_<slug>.py``)."""
