"""Test speech that alternates between English (flite) and another language (espeak-ng)."""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from speech import SENTENCES, concatenate_speech

from dsac_asr.engines.base import RecognizedSegment

AFRIKAANS = (
    "Die kat sit op die mat en kyk na die voëls in die tuin.",
    "Ons gaan môre vroeg see toe as die weer mooi is.",
    "My broer werk in Kaapstad by 'n groot bank.",
    "Die kinders speel buite in die son tot dit donker word.",
    "Sy het gister 'n nuwe boek by die winkel gekoop.",
    "Dit reën al drie dae lank en die paaie is nat.",
    "Ek drink elke oggend koffie met melk en suiker.",
    "Die trein na Johannesburg vertrek om agtuur vanaand.",
    "Hulle het 'n lekker braai gehou vir sy verjaarsdag.",
    "Die boer ry met sy trekker oor die groen lande.",
)
GERMAN = (
    "Die Katze sitzt auf der Matte und schaut in den Garten.",
    "Morgen fahren wir früh ans Meer, wenn das Wetter schön ist.",
    "Mein Bruder arbeitet in Berlin bei einer großen Bank.",
    "Die Kinder spielen draußen in der Sonne, bis es dunkel wird.",
    "Gestern hat sie im Laden ein neues Buch gekauft.",
    "Es regnet seit drei Tagen und die Straßen sind nass.",
    "Ich trinke jeden Morgen Kaffee mit Milch und Zucker.",
    "Der Zug nach Hamburg fährt heute Abend um acht Uhr ab.",
    "Sie haben zu seinem Geburtstag ein schönes Fest gefeiert.",
    "Der Bauer fährt mit seinem Traktor über die grünen Felder.",
)
OTHER = {"afr": ("espeak:af", AFRIKAANS), "deu": ("espeak:de", GERMAN)}
ENGLISH_VOICES = ("slt", "rms", "awb")


@dataclass(frozen=True)
class Alternation:
    """Audio whose spoken lines alternate between English and ``other``."""

    samples: npt.NDArray[np.float32]
    spans: list[tuple[float, float]]
    languages: list[str]


def alternate(
    folder: Path, other: str, regions: int, sample_rate_hz: int, pause_s: float = 1.0
) -> Alternation:
    """``regions`` lines, English first, then ``other`` (``afr`` or ``deu``), and so on."""
    voice, sentences = OTHER[other]
    lines: list[tuple[str, str]] = []
    languages: list[str] = []
    for index in range(regions):
        turn = index // 2
        if index % 2 == 0:
            lines.append((ENGLISH_VOICES[turn % len(ENGLISH_VOICES)], SENTENCES[turn]))
            languages.append("eng")
        else:
            lines.append((voice, sentences[turn % len(sentences)]))
            languages.append(other)
    samples, spans = concatenate_speech(folder, lines, sample_rate_hz, pause_s)
    return Alternation(samples, spans, languages)


def region_languages(
    spans: Sequence[tuple[float, float]], words: Sequence[tuple[float, float, str | None]]
) -> list[str | None]:
    """The most common language of the (start_s, end_s, language) words whose
    middle falls in each span (widened by half the pause); None for a span without words."""
    starts = [start for start, _end in spans]
    found: list[Counter[str | None]] = [Counter() for _ in spans]
    for start_s, end_s, language in words:
        middle = (start_s + end_s) / 2
        index = max(0, bisect.bisect_right(starts, middle + 0.3) - 1)
        found[index][language] += 1
    return [counts.most_common(1)[0][0] if counts else None for counts in found]


def segment_words(segments: Sequence[RecognizedSegment]) -> list[tuple[float, float, str | None]]:
    """(start_s, end_s, language) of every word of ``segments``."""
    return [(w.start_s, w.end_s, s.language) for s in segments for w in s.words]


def accuracy(expected: Sequence[str], found: Sequence[str | None]) -> float:
    """The share of regions whose language was found right."""
    return sum(e == f for e, f in zip(expected, found, strict=True)) / max(1, len(expected))
