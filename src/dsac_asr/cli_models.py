"""``dsac-asr models``: list, verify and import models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from dsac_asr.config import Settings
from dsac_asr.engines import EngineOptions, RecognitionRequest, load_engine
from dsac_asr.errors import DsacError
from dsac_asr.models.ctc_import import import_ctc
from dsac_asr.models.kaldi_import import import_kaldi
from dsac_asr.models.manifest import Band, InstalledModel
from dsac_asr.models.registry import ModelRegistry
from dsac_asr.models.whisper_import import import_whisper

models_app = typer.Typer(help="List, verify and import models.", no_args_is_help=True)
stdout = Console(highlight=False)


def _registry() -> ModelRegistry:
    return ModelRegistry(Settings().resolved_models_dir)


def _row(model: InstalledModel) -> dict[str, str]:
    m = model.manifest
    return {
        "id": m.id,
        "engine": m.engine,
        "languages": ",".join(m.languages),
        "band": f"{m.band.value} ({m.band.sample_rate_hz // 1000} kHz)",
        "domains": ",".join(model.domains) or "-",
        "size": f"{model.size_bytes() / 1e6:.0f} MB",
        "source": m.source,
        "quality": "; ".join(f"{code}: {note}" for code, note in m.quality.items()),
    }


@models_app.command("list")
def list_models(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the installed models (id, engine, languages, band, domains, size, source,
    quality notes)."""
    registry = _registry()
    rows = [_row(model) for model in registry.models()]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"Models (directory: {registry.models_dir})")
    columns = ("id", "engine", "languages", "band", "domains", "size", "source")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(row[column] for column in columns))
    stdout.print(table)
    for row in rows:
        if row["quality"]:
            stdout.print(f"Quality of {row['id']}: {row['quality']}", markup=False)


@models_app.command()
def verify() -> None:
    """Load every model and recognise a second of silence; exit 1 if any fails."""
    registry = _registry()
    models, broken = registry.scan()
    failed = len(broken)
    for problem in broken:
        stdout.print(f"FAIL {problem.path}: {problem.problem}", markup=False)
    for model in models:
        failed += not _verify_one(model)
    if failed:
        raise typer.Exit(code=1)


def _verify_one(model: InstalledModel) -> bool:
    try:
        engine = load_engine(model, EngineOptions())
        silence = np.zeros(engine.sample_rate_hz, dtype=np.float32)
        engine.recognize(silence, RecognitionRequest(language=model.manifest.languages[0]))
    except DsacError as exc:
        stdout.print(f"FAIL {model.id}: {exc.message}", markup=False)
        return False
    stdout.print(f"ok   {model.id}", markup=False)
    return True


def _band(band: str) -> Band:
    try:
        return Band.parse(band)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--band") from exc


@models_app.command("import-whisper")
def import_whisper_command(
    hf_dir: Annotated[Path, typer.Argument(help="transformers Whisper checkpoint folder.")],
    model_id: Annotated[str, typer.Option("--id", help="New model id.")],
    language: Annotated[str, typer.Option(help="Language code, e.g. zul.")],
    band: Annotated[str, typer.Option(help="nb (telephone) or bb (broadband).")] = "bb",
    language_token: Annotated[
        str | None,
        typer.Option(
            help="Whisper language token the fine-tune was trained with (e.g. sw), or none; "
            "default: from the checkpoint, else the language's own."
        ),
    ] = None,
    domain: Annotated[str | None, typer.Option(help="Domain, e.g. PARL.")] = None,
    quantization: Annotated[str, typer.Option(help="CTranslate2 weight type.")] = "int8",
    replace: Annotated[bool, typer.Option(help="Replace an existing model.")] = False,
) -> None:
    """Convert a Whisper fine-tune (Hugging Face transformers) to a CTranslate2 model
    (needs the convert extra)."""
    installed = import_whisper(
        hf_dir,
        Settings().resolved_models_dir,
        model_id=model_id,
        language=language,
        band=_band(band),
        language_token=language_token,
        domain=domain,
        quantization=quantization,
        replace=replace,
    )
    token = installed.manifest.language_token or "the language's own"
    stdout.print(
        f"imported {installed.id} into {installed.path} (language token: {token})",
        markup=False,
        soft_wrap=True,
    )


@models_app.command("import-ctc")
def import_ctc_command(
    source: Annotated[
        Path, typer.Argument(help="ONNX folder (model.onnx + tokens.txt) or transformers CTC.")
    ],
    model_id: Annotated[str, typer.Option("--id", help="New model id.")],
    language: Annotated[str, typer.Option(help="Language code, e.g. zul.")],
    band: Annotated[str, typer.Option(help="nb (telephone) or bb (broadband).")] = "bb",
    domain: Annotated[str | None, typer.Option(help="Domain, e.g. PARL.")] = None,
    normalize: Annotated[
        bool | None,
        typer.Option(help="Scale audio to zero mean, unit variance (default: as the model)."),
    ] = None,
    quantize: Annotated[bool, typer.Option(help="int8 weights for an exported checkpoint.")] = True,
    replace: Annotated[bool, typer.Option(help="Replace an existing model.")] = False,
) -> None:
    """Import a CTC model (wav2vec2/MMS checkpoint, exported to ONNX with the convert
    extra; or an ONNX folder) for the CTC engine (the ctc extra)."""
    installed = import_ctc(
        source,
        Settings().resolved_models_dir,
        model_id=model_id,
        language=language,
        band=_band(band),
        domain=domain,
        normalize=normalize,
        quantize=quantize,
        replace=replace,
    )
    stdout.print(f"imported {installed.id} into {installed.path}", markup=False, soft_wrap=True)


@models_app.command("import-kaldi")
def import_kaldi_command(
    model_dir: Annotated[Path, typer.Argument(help="Recipe root or chain model folder.")],
    graph_dir: Annotated[Path, typer.Argument(help="Graph folder (HCLG.fst or HCLr+Gr).")],
    model_id: Annotated[str, typer.Option("--id", help="New model id.")],
    language: Annotated[str, typer.Option(help="Language code, e.g. zul.")],
    band: Annotated[str, typer.Option(help="nb (8 kHz) or bb (16 kHz).")],
    domain: Annotated[str | None, typer.Option(help="Domain, e.g. PARL.")] = None,
    replace: Annotated[bool, typer.Option(help="Replace an existing model.")] = False,
) -> None:
    """Turn a Kaldi recipe's chain model into a model folder Vosk loads."""
    installed = import_kaldi(
        model_dir,
        graph_dir,
        Settings().resolved_models_dir,
        model_id=model_id,
        language=language,
        band=_band(band),
        domain=domain,
        replace=replace,
    )
    stdout.print(f"imported {installed.id} into {installed.path}", markup=False, soft_wrap=True)
