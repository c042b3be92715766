"""The model registry: installed models, and routing by language x band x domain."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dsac_asr.errors import ModelError, ModelNotFoundError, NoModelForRequestError
from dsac_asr.models.bundled import bundled_models
from dsac_asr.models.domains import SHIPPED_DIR, domain_files, read_prompt
from dsac_asr.models.languages import MULTILINGUAL, language_name
from dsac_asr.models.manifest import MANIFEST_NAME, Band, InstalledModel, read_manifest


@dataclass(frozen=True)
class RouteRequest:
    """What a job asks for. ``language`` is a canonical code (or ``mul``)."""

    language: str
    band: Band
    domain: str | None = None
    model_id: str | None = None


@dataclass(frozen=True)
class Route:
    """The model chosen for a request, and notes on any fallback taken."""

    model: InstalledModel
    language: str
    notes: tuple[str, ...] = ()
    domain: str | None = None

    @property
    def domain_prompt(self) -> str | None:
        """The prompt text of the requested domain when the model serves it by prompt."""
        if self.domain is None or (self.model.manifest.domain or "").upper() == self.domain:
            return None
        path = self.model.domain_prompts.get(self.domain)
        return read_prompt(path) if path is not None else None

    @property
    def sample_rate_hz(self) -> int:
        """The rate the audio must be decoded to for this model."""
        return self.model.manifest.sample_rate_hz


@dataclass(frozen=True)
class BrokenModel:
    """A folder in the model directory whose manifest cannot be read."""

    path: Path
    problem: str


class ModelRegistry:
    """Models in a model directory (one folder each) plus the bundled ones."""

    def __init__(self, models_dir: Path, *, include_bundled: bool = True) -> None:
        self.models_dir = models_dir
        self._include_bundled = include_bundled

    def scan(self) -> tuple[list[InstalledModel], list[BrokenModel]]:
        """Read every model folder: installed models first, then bundled ones."""
        models: list[InstalledModel] = []
        broken: list[BrokenModel] = []
        folders = (
            sorted(self.models_dir.glob(f"*/{MANIFEST_NAME}")) if self.models_dir.is_dir() else []
        )
        for manifest_path in folders:
            try:
                manifest = read_manifest(manifest_path.parent)
            except ModelError as exc:
                broken.append(BrokenModel(manifest_path.parent, exc.message))
                continue
            models.append(InstalledModel(manifest=manifest, path=manifest_path.parent))
        if self._include_bundled:
            local_ids = {m.id for m in models}
            models.extend(m for m in bundled_models() if m.id not in local_ids)
        return [self._with_domains(m) for m in models], broken

    def _with_domains(self, model: InstalledModel) -> InstalledModel:
        shipped = [SHIPPED_DIR] if model.manifest.engine == "whisper" else []
        own = self.models_dir / model.id / "domains" if model.bundled else model.path / "domains"
        prompts = domain_files([*shipped, own])
        return model.model_copy(update={"domain_prompts": prompts})

    def models(self) -> list[InstalledModel]:
        """Every usable installed model."""
        return self.scan()[0]

    def get(self, model_id: str) -> InstalledModel:
        """The model with id ``model_id``."""
        models = self.models()
        for model in models:
            if model.id == model_id:
                return model
        raise ModelNotFoundError(f"no model {model_id!r}; installed: {_describe(models)}")

    def route(self, request: RouteRequest) -> Route:
        """Pick the model for ``request``, or explain plainly why none fits."""
        if request.model_id is not None:
            return _route_to(self.get(request.model_id), request)
        candidates = [m for m in self.models() if _serves(m, request.language)]
        if not candidates:
            raise NoModelForRequestError(_no_language_message(request.language, self))
        candidates = _filter_domain(candidates, request.domain)
        best = min(candidates, key=lambda m: _preference(m, request))
        return _route_to(best, request)


def _serves(model: InstalledModel, language: str) -> bool:
    languages = model.manifest.languages
    if language == MULTILINGUAL:
        return MULTILINGUAL in languages or len(languages) > 1
    return language in languages


def _filter_domain(models: list[InstalledModel], domain: str | None) -> list[InstalledModel]:
    if domain is None:
        general = [m for m in models if m.manifest.domain is None]
        return general or models
    wanted = domain.upper()
    graphs = [m for m in models if (m.manifest.domain or "").upper() == wanted]
    prompts = [m for m in models if wanted in m.domain_prompts]
    if graphs or prompts:
        return graphs or prompts
    have = sorted({d for m in models for d in m.domains}) or ["none"]
    raise NoModelForRequestError(
        f"no installed model has domain {domain!r} for this language; domains available: "
        + ", ".join(have)
    )


def _preference(model: InstalledModel, request: RouteRequest) -> tuple[int, int, int, int, str]:
    """Sort key, best first: the band asked for, then the manifest's ``priority``, then a
    model made for the language before a multilingual one (for ``mul``: a Whisper model,
    the engine that identifies languages), then an installed model before a bundled one."""
    manifest = model.manifest
    if request.language == MULTILINGUAL:
        fit = 0 if manifest.engine == "whisper" else 1
    else:
        fit = 0 if manifest.specific_to == request.language else 1
    return (
        0 if manifest.band is request.band else 1,
        -manifest.priority,
        fit,
        1 if model.bundled else 0,
        model.id,
    )


def _route_to(model: InstalledModel, request: RouteRequest) -> Route:
    if not _serves(model, request.language):
        raise NoModelForRequestError(
            f"model {model.id!r} does not serve {language_name(request.language)} "
            f"({request.language}); it serves {', '.join(model.manifest.languages)}"
        )
    if request.domain and request.domain.upper() not in {d.upper() for d in model.domains}:
        raise NoModelForRequestError(
            f"model {model.id!r} has no domain {request.domain!r}; it has: "
            + (", ".join(model.domains) or "none")
        )
    notes: list[str] = []
    model_band = model.manifest.band
    if model_band is not request.band:
        notes.append(_band_note(model, request))
    domain = request.domain.upper() if request.domain else None
    return Route(model=model, language=request.language, notes=tuple(notes), domain=domain)


def _band_note(model: InstalledModel, request: RouteRequest) -> str:
    """What a request got instead of a model of its band."""
    model_band = model.manifest.band
    wanted = f"no {request.band.sample_rate_hz // 1000} kHz model for {request.language}"
    trained = f"{model_band.sample_rate_hz // 1000} kHz"
    if model.manifest.sample_rate_hz != model_band.sample_rate_hz:  # hears 16 kHz either way
        return f"{wanted}: used {model.id} (trained on {trained} audio)"
    how = "upsampled" if model_band is Band.BB else "downsampled"
    return f"{wanted}: used {model.id} ({trained}) on {how} audio"


def _describe(models: list[InstalledModel]) -> str:
    if not models:
        return "none"
    return "; ".join(f"{m.id} ({', '.join(m.manifest.languages)})" for m in models)


def _no_language_message(language: str, registry: ModelRegistry) -> str:
    return (
        f"no installed model serves {language_name(language)} ({language}). "
        f"Installed: {_describe(registry.models())}. To add one, put a model folder with a "
        f"{MANIFEST_NAME} in {registry.models_dir}, or import one with 'dsac-asr models "
        "import-whisper HF_DIR --id ID --language CODE' (a Whisper fine-tune), 'dsac-asr "
        "models import-ctc DIR --id ID --language CODE' (wav2vec2/MMS or ONNX CTC) or "
        "'dsac-asr models import-kaldi MODEL_DIR GRAPH_DIR --id ID --language CODE --band nb'"
        " (see docs/models.md)."
    )
