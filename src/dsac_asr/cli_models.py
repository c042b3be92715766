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
from dsac_asr.models.kaldi_import import import_kaldi
from dsac_asr.models.manifest import Band, InstalledModel
from dsac_asr.models.registry import ModelRegistry

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
    }


@models_app.command("list")
def list_models(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the installed models (id, engine, languages, band, domains, size, source)."""
    registry = _registry()
    rows = [_row(model) for model in registry.models()]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"Models (directory: {registry.models_dir})")
    for column in ("id", "engine", "languages", "band", "domains", "size", "source"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row.values())
    stdout.print(table)


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
    try:
        parsed_band = Band.parse(band)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--band") from exc
    installed = import_kaldi(
        model_dir,
        graph_dir,
        Settings().resolved_models_dir,
        model_id=model_id,
        language=language,
        band=parsed_band,
        domain=domain,
        replace=replace,
    )
    stdout.print(f"imported {installed.id} into {installed.path}", markup=False)
