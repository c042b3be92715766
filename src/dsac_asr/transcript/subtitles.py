"""SubRip (SRT) and WebVTT subtitles.

Each segment becomes one or more cues. A segment that would last longer than
``MAX_CUE_DURATION_S`` or hold more than ``MAX_CUE_CHARS`` characters is split
at word boundaries, using the word timings. Cue text is wrapped on at most two
lines of about ``MAX_LINE_CHARS`` characters. Segments without words (and so
without timings) are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dsac_asr.transcript.model import Segment, Transcript, Word
from dsac_asr.transcript.turns import segment_speaker

MAX_CUE_DURATION_S = 7.0
MAX_CUE_CHARS = 84
MAX_LINE_CHARS = 42

_Token = tuple[str, Word]


@dataclass(frozen=True)
class Cue:
    """One subtitle: a time span, its text and its speaker (``None`` when unknown)."""

    start_s: float
    end_s: float
    text: str
    speaker: str | None = None


def _tokens(segment: Segment) -> list[_Token]:
    """Pair each word with its display text: the segment's own (punctuated) text
    when its tokens line up one-to-one with the words, else the words' texts."""
    texts = segment.text.split()
    if len(texts) != len(segment.words):
        texts = [word.text.strip() for word in segment.words]
    return [(text, word) for text, word in zip(texts, segment.words, strict=True) if text]


def _too_long(group: Sequence[_Token]) -> bool:
    chars = len(" ".join(text for text, _ in group))
    duration_s = group[-1][1].end_s - group[0][1].start_s
    return chars > MAX_CUE_CHARS or duration_s > MAX_CUE_DURATION_S


def _starts_group(groups: Sequence[Sequence[_Token]], token: _Token) -> bool:
    if not groups:
        return True
    speaker_changes = token[1].speaker != groups[-1][0][1].speaker
    return speaker_changes or _too_long([*groups[-1], token])


def _split(tokens: Sequence[_Token]) -> list[list[_Token]]:
    """Greedy split: a new group starts when the next token would overflow the current
    one or is spoken by another speaker."""
    groups: list[list[_Token]] = []
    for token in tokens:
        if _starts_group(groups, token):
            groups.append([])
        groups[-1].append(token)
    return groups


def segment_cues(segment: Segment) -> list[Cue]:
    """The cues for one segment, split to respect the duration and length limits."""
    fallback_speaker = segment_speaker(segment)
    return [
        Cue(
            start_s=group[0][1].start_s,
            end_s=max(group[-1][1].end_s, group[0][1].start_s),
            text=" ".join(text for text, _ in group),
            speaker=group[0][1].speaker or fallback_speaker,
        )
        for group in _split(_tokens(segment))
    ]


def transcript_cues(transcript: Transcript) -> list[Cue]:
    """All cues of a transcript, ordered by start time (stable)."""
    cues = [cue for segment in transcript.segments for cue in segment_cues(segment)]
    return sorted(cues, key=lambda cue: cue.start_s)


def wrap_lines(text: str, max_line_chars: int = MAX_LINE_CHARS) -> list[str]:
    """``text`` on one line if it fits, else on two lines split at the space that
    best balances them."""
    words = text.split(" ")
    if len(text) <= max_line_chars or len(words) < 2:
        return [text]
    splits = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]
    first, second = min(splits, key=lambda pair: max(len(pair[0]), len(pair[1])))
    return [first, second]


def format_timestamp(seconds: float, decimal_mark: str) -> str:
    """``HH:MM:SS<mark>mmm`` for ``seconds`` (negative times are clamped to zero)."""
    total_ms = max(0, round(seconds * 1000))
    hours, rest_ms = divmod(total_ms, 3_600_000)
    minutes, rest_ms = divmod(rest_ms, 60_000)
    secs, millis = divmod(rest_ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal_mark}{millis:03d}"


def _timing(cue: Cue, decimal_mark: str) -> str:
    start = format_timestamp(cue.start_s, decimal_mark)
    return f"{start} --> {format_timestamp(cue.end_s, decimal_mark)}"


def _srt_block(number: int, cue: Cue) -> str:
    text = cue.text if cue.speaker is None else f"{cue.speaker}: {cue.text}"
    return "\n".join([str(number), _timing(cue, ","), *wrap_lines(text)])


def render_srt(transcript: Transcript) -> str:
    """SubRip subtitles; with speakers each cue starts ``A: ``. Empty transcript: ""."""
    blocks = [_srt_block(n, cue) for n, cue in enumerate(transcript_cues(transcript), 1)]
    return "".join(f"{block}\n\n" for block in blocks).removesuffix("\n")


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _vtt_block(cue: Cue) -> str:
    text = _vtt_escape("\n".join(wrap_lines(cue.text)))
    if cue.speaker is not None:
        text = f"<v {_vtt_escape(cue.speaker)}>{text}"
    return f"{_timing(cue, '.')}\n{text}"


def render_vtt(transcript: Transcript) -> str:
    """WebVTT subtitles; with speakers each cue is wrapped in a ``<v A>`` voice tag.

    An empty transcript gives just the ``WEBVTT`` header.
    """
    blocks = ["WEBVTT", *(_vtt_block(cue) for cue in transcript_cues(transcript))]
    return "\n\n".join(blocks) + "\n"
