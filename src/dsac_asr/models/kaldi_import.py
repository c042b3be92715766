"""Import a Kaldi recipe's chain model as a model folder Vosk can load.

A recipe spreads a chain model over its tree (``exp/chain*/<dir>/final.mdl``,
a graph folder, ``conf/mfcc_hires.conf``, ``exp/nnet3*/extractor/``); Vosk
wants ``am/final.mdl``, ``conf/{mfcc,model}.conf``, ``graph/`` (``HCLG.fst``
or ``HCLr.fst`` + ``Gr.fst``, ``phones/word_boundary.int``...) and
``ivector/``. The import links the original files into that layout (nothing
is copied), generates ``conf/model.conf`` and, when needed,
``ivector/splice.conf``, and writes the manifest. It is file work only: the
Kaldi engine checks the result by loading it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from dsac_asr.errors import InvalidOptionError, ModelError
from dsac_asr.models.install import check_free, install
from dsac_asr.models.manifest import Band, InstalledModel, ModelManifest

KALDI_DEFAULT_SAMPLE_RATE_HZ = 16000
"""Kaldi's ``--sample-frequency`` when a features config does not set it."""
DEFAULT_FRAME_SUBSAMPLING_FACTOR = 3
SILENCE_PHONE_NAMES = frozenset({"sil", "sp", "spn", "nsn", "lau", "noise", "laughter"})
"""Base names (before ``_B``/``_E``/``_I``/``_S``) treated as silence phones."""
DECODER_OPTIONS = (
    "--min-active=200",
    "--max-active=7000",
    "--beam=13.0",
    "--lattice-beam=6.0",
    "--acoustic-scale=1.0",
)
ENDPOINT_OPTIONS = (
    "--endpoint.rule2.min-trailing-silence=0.5",
    "--endpoint.rule3.min-trailing-silence=1.0",
    "--endpoint.rule4.min-trailing-silence=2.0",
)
EXTRACTOR_FILES = ("final.ie", "final.dubm", "final.mat", "global_cmvn.stats", "online_cmvn.conf")
EXTRACTOR_GLOBS = (
    "extractor*/final.ie",
    "*/extractor*/final.ie",
    "exp/*/final.ie",
    "exp/*/*/final.ie",
)
GRAPH_OPTIONAL = ("words.txt", "disambig_tid.int", "phones.txt")
_SAMPLE_FREQUENCY = re.compile(r"^\s*--sample-frequency\s*=\s*([0-9.]+)", re.MULTILINE)
_IVECTOR_INPUT = b"input-node name=ivector"


@dataclass
class VoskLayout:
    """What a Vosk model folder will hold: links to sources and generated text files."""

    links: dict[str, Path] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)


def import_kaldi(
    model_dir: Path,
    graph_dir: Path,
    models_root: Path,
    *,
    model_id: str,
    language: str,
    band: Band,
    domain: str | None = None,
    version: str = "1",
    replace: bool = False,
) -> InstalledModel:
    """Lay out a Kaldi recipe's chain model as ``models_root/<model_id>/`` for Vosk.

    ``model_dir`` is the recipe root (searched for ``exp/chain*/.../final.mdl``)
    or the chain model's own folder; ``graph_dir`` is the decoding graph built
    for it. Raises ModelError naming what is missing and where it was looked
    for, or when the folder exists and ``replace`` is false.
    """
    model_dir, graph_dir = model_dir.absolute(), graph_dir.absolute()
    manifest = _manifest(model_id, language, band, domain, version, model_dir)
    target = models_root / model_id
    check_free(target, replace)
    layout = plan_vosk_layout(model_dir, graph_dir, band)
    install(target, manifest, lambda staging: _write_layout(layout, staging))
    return InstalledModel(manifest=manifest, path=target)


def _manifest(
    model_id: str, language: str, band: Band, domain: str | None, version: str, model_dir: Path
) -> ModelManifest:
    """The manifest of the imported model; a bad id or language is the caller's error."""
    try:
        return ModelManifest(
            id=model_id,
            engine="kaldi",
            languages=[language],
            band=band,
            domain=domain,
            version=version,
            source=f"kaldi-import:{model_dir}",
            description=f"Kaldi chain model imported from {model_dir}",
        )
    except ValidationError as exc:
        raise InvalidOptionError(f"cannot import Kaldi model {model_id!r}: {exc}") from exc


def plan_vosk_layout(model_dir: Path, graph_dir: Path, band: Band) -> VoskLayout:
    """Find a recipe's pieces and say where each goes in Vosk's layout."""
    model_dir, graph_dir = model_dir.absolute(), graph_dir.absolute()
    chain_dir = find_chain_dir(model_dir, graph_dir)
    final_mdl = chain_dir / "final.mdl"
    layout = VoskLayout(links={"am/final.mdl": final_mdl})
    layout.links.update(_graph_links(graph_dir))
    mfcc = _find_mfcc_conf(model_dir, chain_dir)
    _check_sample_rate(mfcc, band)
    layout.links["conf/mfcc.conf"] = mfcc
    layout.texts["conf/model.conf"] = _model_conf(chain_dir, graph_dir)
    if _needs_ivectors(final_mdl):
        _add_extractor(layout, _find_extractor(model_dir, chain_dir))
    return layout


def find_chain_dir(model_dir: Path, graph_dir: Path) -> Path:
    """The folder holding the chain model's ``final.mdl`` (the one owning the graph if several)."""
    if (model_dir / "final.mdl").is_file():
        return model_dir
    found = sorted(p.parent for p in model_dir.glob("exp/chain*/**/final.mdl"))
    found = found or sorted(p.parent for p in model_dir.rglob("final.mdl"))
    if not found:
        raise ModelError(
            f"no final.mdl found: looked in {model_dir}, under {model_dir}/exp/chain*/ "
            f"and anywhere below {model_dir}"
        )
    choices = [d for d in found if graph_dir.is_relative_to(d)] or found
    if len(choices) > 1:
        listed = ", ".join(str(d) for d in choices)
        raise ModelError(f"several models under {model_dir} ({listed}): pass one of these folders")
    return choices[0]


def _graph_links(graph_dir: Path) -> dict[str, Path]:
    """Links for the decoding graph; ModelError listing every missing required file."""
    if not graph_dir.is_dir():
        raise ModelError(f"the graph folder {graph_dir} does not exist")
    if (graph_dir / "HCLG.fst").is_file():
        required = ["HCLG.fst", "words.txt"]
    else:
        required = ["HCLr.fst", "Gr.fst", "disambig_tid.int"]
    required.append("phones/word_boundary.int")
    missing = [name for name in required if not (graph_dir / name).is_file()]
    if missing:
        raise ModelError(
            f"the graph in {graph_dir} lacks {', '.join(missing)} (a graph needs HCLG.fst "
            "with words.txt, or HCLr.fst + Gr.fst + disambig_tid.int, and "
            "phones/word_boundary.int for word timings)"
        )
    optional = [name for name in GRAPH_OPTIONAL if (graph_dir / name).is_file()]
    return {f"graph/{name}": graph_dir / name for name in dict.fromkeys(required + optional)}


def _search_dirs(model_dir: Path, chain_dir: Path) -> list[Path]:
    """The recipe root, then the chain dir and each folder above it."""
    return list(dict.fromkeys([model_dir, chain_dir, *chain_dir.parents]))


def _find_mfcc_conf(model_dir: Path, chain_dir: Path) -> Path:
    """``conf/mfcc_hires.conf`` (else ``conf/mfcc.conf``) in the recipe or above the model."""
    folders = _search_dirs(model_dir, chain_dir)
    for name in ("mfcc_hires.conf", "mfcc.conf"):
        for folder in folders:
            if (folder / "conf" / name).is_file():
                return folder / "conf" / name
    looked = ", ".join(str(folder / "conf") for folder in folders)
    raise ModelError(f"no conf/mfcc_hires.conf or conf/mfcc.conf found: looked in {looked}")


def _check_sample_rate(mfcc_conf: Path, band: Band) -> None:
    """ModelError when the features config's sample frequency is not the band's."""
    match = _SAMPLE_FREQUENCY.search(_read_text(mfcc_conf))
    rate_hz = float(match.group(1)) if match else KALDI_DEFAULT_SAMPLE_RATE_HZ
    if int(rate_hz) != band.sample_rate_hz:
        origin = "sets" if match else "leaves Kaldi's default"
        raise ModelError(
            f"{mfcc_conf} {origin} --sample-frequency={int(rate_hz)} but the model is "
            f"imported as band {band.value} ({band.sample_rate_hz} Hz)"
        )


def _read_text(path: Path) -> str:
    """A small text file's content, with read failures as ModelError."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ModelError(f"cannot read {path}: {exc}") from exc


def _model_conf(chain_dir: Path, graph_dir: Path) -> str:
    """Vosk's ``conf/model.conf``: decoder, subsampling and endpoint options."""
    lines = [*DECODER_OPTIONS, f"--frame-subsampling-factor={_subsampling(chain_dir)}"]
    silence = silence_phones(graph_dir)
    if silence:
        lines.append(f"--endpoint.silence-phones={silence}")
    lines.extend(ENDPOINT_OPTIONS)
    return "\n".join(lines) + "\n"


def _subsampling(chain_dir: Path) -> int:
    """The chain model's frame subsampling factor (3 when not recorded)."""
    path = chain_dir / "frame_subsampling_factor"
    if not path.is_file():
        return DEFAULT_FRAME_SUBSAMPLING_FACTOR
    text = _read_text(path).strip()
    if not text.isdigit() or int(text) < 1:
        raise ModelError(f"{path} should hold a positive whole number, not {text!r}")
    return int(text)


def silence_phones(graph_dir: Path) -> str | None:
    """Colon-separated silence phone ids: ``phones/silence.csl``, else from ``phones.txt``."""
    csl = graph_dir / "phones" / "silence.csl"
    if csl.is_file():
        return _read_text(csl).strip() or None
    table = graph_dir / "phones.txt"
    if not table.is_file():
        return None
    ids = [
        parts[1]
        for parts in (line.split() for line in _read_text(table).splitlines())
        if len(parts) == 2 and _is_silence_phone(parts[0])
    ]
    return ":".join(ids) or None


def _is_silence_phone(name: str) -> bool:
    """True for silence/noise phones such as ``SIL``, ``sil_B``, ``SPN_S``."""
    base = re.sub(r"_[BEIS]$", "", name).lower()
    return base in SILENCE_PHONE_NAMES


def _needs_ivectors(final_mdl: Path) -> bool:
    """True when the nnet3 model declares an ``ivector`` input node."""
    tail = b""
    try:
        with final_mdl.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                if _IVECTOR_INPUT in tail + chunk:
                    return True
                tail = chunk[-len(_IVECTOR_INPUT) :]
    except OSError as exc:
        raise ModelError(f"cannot read {final_mdl}: {exc}") from exc
    return False


def _find_extractor(model_dir: Path, chain_dir: Path) -> Path:
    """The nearest i-vector extractor folder, preferring one that matches the chain dir.

    Looks (a few levels deep, never a full walk) in the recipe root, then in
    the chain dir and each folder above it, for ``exp/nnet3*/extractor/final.ie``
    and similar; ``exp/nnet3_cleaned`` goes with ``exp/chain_cleaned``.
    """
    suffix = chain_dir.parent.name.removeprefix("chain")
    for folder in _search_dirs(model_dir, chain_dir):
        found = {path.parent for pattern in EXTRACTOR_GLOBS for path in folder.glob(pattern)}
        if found:
            return min(found, key=lambda d: (d.parent.name.removeprefix("nnet3") != suffix, str(d)))
    raise ModelError(
        f"{chain_dir / 'final.mdl'} uses i-vectors but no extractor (a folder with final.ie) "
        f"was found in {model_dir / 'exp'} or beside {chain_dir} and the folders above it"
    )


def _add_extractor(layout: VoskLayout, extractor: Path) -> None:
    """Link the extractor's files as ``ivector/``; write ``splice.conf`` if it has none."""
    missing = [name for name in EXTRACTOR_FILES if not (extractor / name).is_file()]
    has_splice = (extractor / "splice.conf").is_file()
    if not has_splice and not (extractor / "splice_opts").is_file():
        missing.append("splice_opts (or splice.conf)")
    if missing:
        raise ModelError(f"the i-vector extractor in {extractor} lacks {', '.join(missing)}")
    layout.links.update({f"ivector/{name}": extractor / name for name in EXTRACTOR_FILES})
    if has_splice:
        layout.links["ivector/splice.conf"] = extractor / "splice.conf"
    else:
        options = _read_text(extractor / "splice_opts").split()
        layout.texts["ivector/splice.conf"] = "".join(f"{opt}\n" for opt in options)


def _write_layout(layout: VoskLayout, folder: Path) -> None:
    """Fill ``folder`` with the layout's links and generated files."""
    for relative, source in layout.links.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).symlink_to(source)
    for relative, text in layout.texts.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text, encoding="utf-8")
