"""How ``dsac-asr serve`` starts its workers."""

from __future__ import annotations

from typer.testing import CliRunner

from dsac_asr.cli import app
from dsac_asr.cli_service import worker_command


def test_serve_starts_workers_without_a_sweeper_of_their_own() -> None:
    """``serve`` sweeps in its own process; its worker must not start a second sweeper."""
    command = worker_command(3)
    assert command[-4:] == ["worker", "--concurrency", "3", "--no-sweep"]
    result = CliRunner().invoke(app, ["worker", "--help"])
    assert result.exit_code == 0 and "--no-sweep" in result.output
