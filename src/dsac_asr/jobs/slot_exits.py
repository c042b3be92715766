"""When a job slot dies: was it stopped from outside, or did it crash?

A worker runs each job slot in a child process and starts it again when it dies
(``cli_service.Supervisor``). The jobs the dead slot was running are found by
their claim's holder (``host:pid``) and their leases expire at once, so the
sweeper queues them again at its next turn instead of a lease later.

Whether the death counts towards the job's poison-input limit
(``DSAC_MAX_JOB_ATTEMPTS``) depends on how the slot died:

- **stopped from outside** (SIGKILL, SIGTERM, SIGINT or SIGHUP, with no
  out-of-memory kill on this machine meanwhile): an operator, an orchestrator or
  a test killed it; the input is not to blame and the attempt is taken back;
- **crashed** (any other signal such as SIGSEGV or SIGABRT, an exit while
  holding jobs, or a SIGKILL while the kernel's out-of-memory killer struck,
  counted in ``/proc/vmstat``): the attempt counts, and after
  ``DSAC_MAX_JOB_ATTEMPTS`` of them the job fails as ``worker_crashed``.

When the whole worker is told to stop (SIGTERM or Ctrl-C: ``docker stop``, a
rolling update, a spot interruption's notice), ``stopping`` takes back the
attempts of its slots' running jobs before asking the slots to finish them: a
job cut off when the grace period ends (the orchestrator's SIGKILL, which kills
the supervisor too) is queued again once its lease runs out, not counted. When
the whole worker dies unannounced (kill -9, a lost machine), nothing is there
to tell; the jobs' leases run out and every such attempt counts.
"""

from __future__ import annotations

import enum
import logging
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

from dsac_asr.errors import DsacError
from dsac_asr.jobs.holders import process_holder
from dsac_asr.jobs.store import JobStore

log = logging.getLogger(__name__)
VMSTAT = Path("/proc/vmstat")
STOPPING_SIGNALS = frozenset({signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGHUP})
"""Signals by which someone stops a process; the out-of-memory killer sends SIGKILL too."""
OomCounter = Callable[[], int | None]


class ExitCause(enum.Enum):
    """How a job slot ended."""

    STOPPED = "stopped from outside"
    CRASHED = "crashed"


def oom_kills(vmstat: Path = VMSTAT) -> int | None:
    """Processes the kernel's out-of-memory killer has killed on this machine since it
    started (all cgroups); None where the kernel does not say."""
    try:
        lines = vmstat.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        name, _, value = line.partition(" ")
        if name == "oom_kill" and value.strip().isdigit():
            return int(value)
    return None


def exit_cause(returncode: int, oom_before: int | None, oom_after: int | None) -> ExitCause:
    """Classify a slot's exit (``returncode`` as ``subprocess`` gives it: ``-N`` for
    signal N) given the machine's out-of-memory kill count before and after."""
    if returncode >= 0 or -returncode not in STOPPING_SIGNALS:
        return ExitCause.CRASHED
    oom_unknown = oom_before is None or oom_after is None
    if -returncode == signal.SIGKILL and (oom_unknown or oom_after != oom_before):
        return ExitCause.CRASHED  # maybe the out-of-memory killer: the input may be to blame
    return ExitCause.STOPPED


class SlotExits:
    """Tells the job store about job slots that died or are being stopped; the
    supervisor calls ``exited`` for each child that ended, ``looked`` after each
    look at its children and ``stopping`` for each child it is about to stop."""

    def __init__(self, store: JobStore, oom_counter: OomCounter = oom_kills) -> None:
        self.store, self.oom_counter = store, oom_counter
        self.oom_seen = oom_counter()

    def looked(self) -> None:
        """The children that were alive at this point died after it: kills counted
        before it are not theirs."""
        self.oom_seen = self.oom_counter()

    def exited(self, name: str, child: subprocess.Popen[bytes]) -> list[str]:
        """The child ended: expire the leases of the jobs it held (attempts taken back
        if it was stopped from outside); their ids."""
        cause = exit_cause(child.returncode, self.oom_seen, self.oom_counter())
        try:
            job_ids = self.store.expire_claims(
                process_holder(child.pid), counted=cause is ExitCause.CRASHED
            )
        except DsacError as exc:  # their leases run out instead
            log.warning("%s ended (%s); cannot reach the job store: %s", name, cause.value, exc)
            return []
        if job_ids:
            counted = "counted" if cause is ExitCause.CRASHED else "not counted"
            log.warning(
                "%s %s (exit %s) while running jobs %s: queued again (attempt %s)",
                name, cause.value, child.returncode, ", ".join(job_ids), counted,
            )  # fmt: skip
        return job_ids

    def stopping(self, name: str, child: subprocess.Popen[bytes]) -> list[str]:
        """The worker is stopping and is about to ask the child to finish its jobs: take
        their attempts back now (a job cut off by the stop is not counted); their ids."""
        try:
            job_ids = self.store.take_back_attempts(process_holder(child.pid))
        except DsacError as exc:  # a job cut off by the stop then counts
            log.warning("stopping %s; cannot reach the job store: %s", name, exc)
            return []
        if job_ids:
            log.info(
                "stopping %s while it runs jobs %s: attempt not counted if the stop cuts "
                "them off", name, ", ".join(job_ids),
            )  # fmt: skip
        return job_ids
