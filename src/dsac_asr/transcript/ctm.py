"""Kaldi CTM: one line per word.

``<utterance-id> <channel> <start> <duration> <word> <confidence> [<speaker>]``

Times are in seconds with 2 decimals (the duration is taken between the rounded
start and end, so start + duration is the rounded end), confidences with 3. The seventh column,
the speaker label, is written only for words whose speaker is known. The
channel column is always ``1``: a transcript does not record which input
channel a speaker came from (stereo channels and diarised speakers look the
same once labelled), so the speaker column carries that information instead.
Words are written in order of start time; whitespace inside a word (which
would break the columns) is replaced by ``_``.
"""

from __future__ import annotations

from dsac_asr.transcript.model import Transcript, Word
from dsac_asr.transcript.rttm import check_file_id

CTM_CHANNEL = "1"
DEFAULT_UTTERANCE_ID = "audio"


def _ctm_line(utterance_id: str, word: Word) -> str:
    start_s = round(word.start_s, 2)
    duration_s = max(round(word.end_s, 2) - start_s, 0.0)
    columns = [
        utterance_id,
        CTM_CHANNEL,
        f"{start_s:.2f}",
        f"{duration_s:.2f}",
        "_".join(word.text.split()),
        f"{word.confidence:.3f}",
    ]
    if word.speaker is not None:
        columns.append(word.speaker)
    return " ".join(columns)


def render_ctm(transcript: Transcript, *, utterance_id: str = DEFAULT_UTTERANCE_ID) -> str:
    """The transcript as Kaldi CTM text ("" when there are no words).

    Raises ``InvalidOptionError`` when ``utterance_id`` is empty or holds whitespace.
    """
    check_file_id(utterance_id, "CTM utterance id")
    words = sorted((w for w in transcript.words if w.text.strip()), key=lambda w: w.start_s)
    return "".join(f"{_ctm_line(utterance_id, word)}\n" for word in words)
