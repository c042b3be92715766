"""Diarisation of real meeting speech: AMI dev excerpts from ``../shared/real-speech``
(first 30 s, scored with pyannote.metrics on the annotated part, 0.25 s collar).

Bounds come from bench/diarization_real.py's measurements with margin: trn03
(2 speakers) measured DER 0.00 and the right count; trn06 (3 speakers) DER
0.11 with the count found right.
"""

from __future__ import annotations

import pytest
from ami import AMI_FOLDER, UEM_S, load_excerpts

from dsac_asr.diarization import diarize

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(not AMI_FOLDER.is_dir(), reason=f"no AMI excerpts at {AMI_FOLDER}"),
]


def _der(excerpt: object, turns: list) -> float:  # type: ignore[type-arg]
    from pyannote.core import Annotation, Segment, Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    hypothesis = Annotation()
    for index, turn in enumerate(turns):
        hypothesis[Segment(turn.start_s, turn.end_s), index] = turn.speaker
    metric = DiarizationErrorRate(collar=0.25)
    uem = Timeline([Segment(0.0, UEM_S)])
    return float(metric(excerpt.reference, hypothesis, uem=uem))  # type: ignore[attr-defined]


@pytest.mark.parametrize(("name", "bound"), [("trn03", 0.10), ("trn06", 0.25)])
def test_real_meeting_speakers_are_found(name: str, bound: float) -> None:
    excerpt = load_excerpts(names=[name])[0]
    turns = diarize(excerpt.samples, 16000, None)
    assert len({t.speaker for t in turns}) == excerpt.speakers
    assert _der(excerpt, turns) <= bound
    given = diarize(excerpt.samples, 16000, excerpt.speakers)
    assert _der(excerpt, given) <= bound
