"""Fixed transcripts shared by the transcript tests (their golden files live in golden/)."""

from __future__ import annotations

from dsac_asr.transcript import Segment, SpeakerSpan, Transcript, Word

WordSpec = tuple[str, float, float, float]


def make_segment(specs: list[WordSpec], speaker: str | None = None) -> Segment:
    """A segment whose text is its words joined by spaces."""
    words = tuple(Word(text, start, end, conf, speaker=speaker) for text, start, end, conf in specs)
    return Segment(words=words, text=" ".join(w.text for w in words), speaker=speaker)


def plain_transcript() -> Transcript:
    """English, no speakers; a non-ASCII word, an ampersand and one long segment."""
    long_text = (
        "The committee will now consider the second reading of the bill"
        " on water services and sanitation in rural municipalities."
    )
    long_words = long_text.split(" ")
    return Transcript(
        segments=(
            make_segment(
                [
                    ("This", 0.38, 0.71, 1.0),
                    ("is", 0.71, 0.85, 0.98),
                    ("a", 0.85, 0.92, 0.951),
                    ("test.", 0.92, 1.4, 0.8766),
                ]
            ),
            make_segment(
                [
                    ("Fish", 2.0, 2.3, 0.9),
                    ("&", 2.3, 2.4, 0.5),
                    ("chips", 2.4, 2.8, 0.85),
                    ("at", 2.8, 2.9, 0.99),
                    ("the", 2.9, 3.0, 0.99),
                    ("café.", 3.0, 3.556, 0.75),
                ]
            ),
            make_segment(
                [
                    (text, 4.0 + 0.4 * i, 4.0 + 0.4 * i + 0.35, 0.9)
                    for i, text in enumerate(long_words)
                ]
            ),
        ),
        language="en",
        model_id="whisper-tiny.en",
        duration_s=12.5,
    )


def two_speaker_transcript() -> Transcript:
    """A short stereo call: speaker A (agent) and B (customer), A speaking twice in a row."""
    return Transcript(
        segments=(
            make_segment(
                [
                    ("Good", 0.5, 0.8, 0.99),
                    ("morning,", 0.8, 1.2, 0.97),
                    ("how", 1.3, 1.45, 0.95),
                    ("can", 1.45, 1.6, 0.96),
                    ("I", 1.6, 1.7, 0.99),
                    ("help?", 1.7, 2.1, 0.93),
                ],
                speaker="A",
            ),
            make_segment(
                [("This", 2.3, 2.5, 0.98), ("is", 2.5, 2.6, 0.99), ("Thandi.", 2.6, 3.2, 0.62)],
                speaker="A",
            ),
            make_segment(
                [
                    ("Hi,", 3.5, 3.8, 0.9),
                    ("my", 3.9, 4.05, 0.97),
                    ("account", 4.05, 4.5, 0.94),
                    ("is", 4.5, 4.6, 0.99),
                    ("locked.", 4.6, 5.1, 0.88),
                ],
                speaker="B",
            ),
            make_segment(
                [("Let", 5.6, 5.75, 0.99), ("me", 5.75, 5.85, 0.99), ("check.", 5.85, 6.3, 0.95)],
                speaker="A",
            ),
        ),
        language="en",
        model_id="vosk-en-8k",
        duration_s=7.0,
        speaker_turns=(  # B's "mm" at 5.6 s overlaps A and has no word
            SpeakerSpan(0.42, 3.25, "A"),
            SpeakerSpan(3.46, 5.12, "B"),
            SpeakerSpan(5.6, 5.9, "B"),
            SpeakerSpan(5.55, 6.31, "A"),
        ),
    )


def empty_transcript() -> Transcript:
    """No segments at all (silence)."""
    return Transcript(segments=(), language="en", model_id="whisper-tiny.en", duration_s=3.0)
