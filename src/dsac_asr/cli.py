"""The ``dsac-asr`` command line: a thin shell around the pipeline."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from dsac_asr import __version__
from dsac_asr.cli_keys import keys_app
from dsac_asr.cli_models import models_app
from dsac_asr.cli_output import OutputTarget, ProgressBar
from dsac_asr.cli_service import api, serve, sweeper, worker
from dsac_asr.config import Settings
from dsac_asr.diarization.backends import diarizer_for
from dsac_asr.errors import DsacError, InvalidOptionError
from dsac_asr.pipeline import Pipeline, TranscriptionOptions
from dsac_asr.transcript import OutputFormat, render

app = typer.Typer(
    help="Speech recognition for South African languages.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(models_app, name="models")
app.add_typer(keys_app, name="keys")
app.command()(serve)
app.command()(worker)
app.command()(api)
app.command()(sweeper)
stderr = Console(stderr=True, highlight=False)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dsac-asr {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Speech recognition for South African languages."""


@app.command()
def transcribe(
    inputs: Annotated[list[Path], typer.Argument(help="Audio or video files.", show_default=False)],
    language: Annotated[
        str, typer.Option("--language", "-l", help="eng, afr, zul, sot (sto), xho, ... or mul.")
    ] = "eng",
    band: Annotated[str, typer.Option(help="auto, nb (8 kHz) or bb (16 kHz).")] = "auto",
    channels: Annotated[str, typer.Option(help="auto, mix or separate.")] = "auto",
    domain: Annotated[str | None, typer.Option(help="Domain, e.g. PARL.")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Model id.")] = None,
    punctuate: Annotated[
        bool, typer.Option(help="Punctuation and casing; --no-punctuate: lower-case plain words.")
    ] = True,
    diarize: Annotated[
        bool, typer.Option("--diarize", help="Label speakers by voice (needs the extra).")
    ] = False,
    speakers: Annotated[
        str | None,
        typer.Option(help="With --diarize (implies it): number of speakers, or auto."),
    ] = None,
    prompt: Annotated[
        str | None,
        typer.Option(help="Whisper: text that conditions decoding (names, spellings)."),
    ] = None,
    temperature: Annotated[
        float | None, typer.Option(help="Whisper: sampling temperature, 0..1.")
    ] = None,
    fmt: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            "-f",
            help="rttm (speaker turns) implies --diarize unless --channels separate.",
        ),
    ] = OutputFormat.JSON,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="File, folder, or - for stdout.")
    ] = None,
) -> None:
    """Transcribe INPUT files; a bad file is reported and the others still run."""
    settings = Settings()
    pipeline = Pipeline.from_settings(settings)
    speaker_count = parse_speakers(speakers)
    wants_turns = fmt is OutputFormat.RTTM and channels.strip().lower() != "separate"
    diarize = diarize or speakers is not None or wants_turns
    if diarize:
        # one error line now, not one per file after decoding
        diarizer_for(settings.diarization_backend, settings.diarization_model).check()
    options = TranscriptionOptions(
        language,
        band,
        channels,
        domain,
        model,
        punctuate,
        diarize,
        speaker_count,
        prompt,
        temperature,
    )
    target = OutputTarget.choose(output, fmt, len(inputs))
    failures = sum(not _transcribe_one(pipeline, path, options, fmt, target) for path in inputs)
    if failures:
        raise typer.Exit(code=1)


def parse_speakers(value: str | None) -> int | None:
    """``--speakers``: a whole number from 1, or ``auto`` (or nothing) for an estimate."""
    if value is None or value.strip().lower() == "auto":
        return None
    if not value.strip().isdigit() or int(value) < 1:
        message = f"--speakers must be a whole number from 1, or auto, not {value!r}"
        raise InvalidOptionError(message)
    return int(value)


def _transcribe_one(
    pipeline: Pipeline,
    path: Path,
    options: TranscriptionOptions,
    fmt: OutputFormat,
    target: OutputTarget,
) -> bool:
    try:
        with ProgressBar(stderr, path.name) as progress:
            transcript = pipeline.transcribe(path, options, progress.update)
    except DsacError as exc:
        stderr.print(f"error: {path}: {exc.message}", soft_wrap=True, markup=False)
        return False
    if "notes" in transcript.metadata:
        stderr.print(f"note: {path}: {transcript.metadata['notes']}", markup=False)
    recording_id = re.sub(r"\s+", "_", path.stem) or "audio"
    target.write(path, render(transcript, fmt, recording_id=recording_id))
    return True


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except DsacError as exc:
        stderr.print(f"error: {exc.message}", soft_wrap=True, markup=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
