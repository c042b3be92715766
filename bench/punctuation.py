"""Punctuation and casing restore on Kaldi-style output of known sentences.

    python bench/punctuation.py [--model whisper-base] [--pauses 0.1,0.2,0.3,0.4]

Known English sentences (South African names, acronyms and questions among
them) are spoken by flite four to a paragraph, in one go, so the pauses
between sentences are the voice's own. The bundled Whisper model recognises
them with word timings; its words are then made Kaldi-style: lower case,
no punctuation, and an acronym of the spelling list split into its letters
(the acronym's time shared out evenly: these letter timings are synthetic).
The restore runs on that, and its output is aligned with the reference text
word by word (difflib) to score, on the words both have:

- sentence-boundary precision, recall and F1 (a boundary: a word that ends a
  sentence; the last word of each paragraph is left out, it is given);
- question marks: reference questions whose last word got "?", and false "?";
- casing accuracy: words written exactly as the reference writes them, all
  words and the reference's capitalised words that do not start a sentence;
- acronym joining: reference acronyms that came out as that one word.

Each is printed for the casing models available (rules; truecase when the
``casing`` extra is installed) and, for boundaries, for several pause lengths.
"""

from __future__ import annotations

import argparse
import difflib
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from corpus import SAMPLE_RATE_HZ

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from kaldi_style import kaldi_words, spelled_out, tightened
from speech import SENTENCES, read_mono, speak

from dsac_asr.engines import EngineOptions, RecognitionRequest, load_engine
from dsac_asr.models.registry import ModelRegistry
from dsac_asr.transcript import Segment, Transcript, Word
from dsac_asr.transcript.casing import plain_word
from dsac_asr.transcript.restore import restore_punctuation
from dsac_asr.transcript.sentences import SentenceRules
from dsac_asr.transcript.spellings import Spellings, load_spellings
from dsac_asr.transcript.truecasing import Caser, RuleCaser, TruecaseCaser, truecase_model

SOUTH_AFRICAN = (
    "The ANC held its national conference in Johannesburg last December.",
    "Do you know when the results will be announced?",
    "The DA said the budget was not good enough.",
    "We spoke to the SABC about the new schedule.",
    "The EFF walked out of parliament on Tuesday.",
    "Where is the nearest police station?",
    "SARS wants every taxpayer to file before the end of October.",
    "The SAPS arrested three men near Durban.",
    "My brother studies law at UCT in Cape Town.",
    "The IEC will open the voting stations early in the morning.",
    "Can you send me the report by Friday?",
    "Eskom warned that load shedding may return this winter.",
    "The NPA has not decided whether to prosecute.",
    "I think the meeting in Pretoria went very well.",
    "The river flooded the small town after heavy rain.",
    "Is the new road to Polokwane finished yet?",
    "The SADC summit was held in Mozambique.",
    "She lost her job and applied for UIF benefits.",
    "The company took the dispute to the CCMA.",
    "Our team won the final match in Bloemfontein.",
    "Why did the price of bread go up again?",
    "The IFP has strong support in the province.",
    "Farmers in the Free State need more rain.",
    "President Ramaphosa addressed the nation on Sunday evening.",
    "How many people attended the rally?",
    "The minister promised new houses for families in Soweto.",
    "Learners wrote their exams in English and Afrikaans.",
    "Mandela was released from prison in February.",
    "After the meeting, the minister spoke to reporters in Cape Town.",
    "If it rains tomorrow, the match in Durban will be cancelled.",
    "Yes, the ANC and the DA agreed on that point.",
    "When the lights went out, we lit candles and waited.",
)
PARAGRAPH_SENTENCES = 4
VOICES = ("slt", "rms", "awb")
END_MARKS = ".?!"


@dataclass(frozen=True)
class Token:
    """A word as written, with what ends it."""

    written: str
    plain: str
    ends: str  # "." / "?" / "!" when it ends a sentence, else ""
    comma: bool = False


@dataclass
class Scores:
    """Counts behind the printed figures."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    commas_tp: int = 0
    commas_fp: int = 0
    commas_fn: int = 0
    questions: int = 0
    questions_marked: int = 0
    false_questions: int = 0
    words: int = 0
    cased: int = 0
    capitals: int = 0
    capitals_cased: int = 0
    acronyms: int = 0
    acronyms_joined: int = 0
    acronyms_spelled: int = 0
    acronyms_rejoined: int = 0
    reference_words: int = 0


def _tokens(words: Sequence[str]) -> list[Token]:
    tokens = []
    for text in words:
        written = text.strip("\"'()[],;:" + END_MARKS)
        ends = text.rstrip("\"')")[-1:] if text.rstrip("\"')")[-1:] in END_MARKS else ""
        tokens.append(Token(written, plain_word(written), ends, text.endswith(",")))
    return tokens


def _paragraphs() -> list[list[str]]:
    sentences = [*SOUTH_AFRICAN, *SENTENCES[:8]]
    step = PARAGRAPH_SENTENCES
    return [list(sentences[i : i + step]) for i in range(0, len(sentences), step)]


def _recognise(paragraphs: list[list[str]], model_id: str) -> dict[str, list[list[Word]]]:
    """Each paragraph spoken by flite in one go and recognised with word timings:
    Whisper's own timings, and the same tightened to where the sound is."""
    registry = ModelRegistry(Path(tempfile.mkdtemp()))
    engine = load_engine(registry.get(model_id), EngineOptions())
    timings: dict[str, list[list[Word]]] = {"whisper": [], "tightened": []}
    with tempfile.TemporaryDirectory() as tmp:
        for index, sentences in enumerate(paragraphs):
            voice = VOICES[index % len(VOICES)]
            wav = speak(" ".join(sentences), Path(tmp) / f"p{index}.wav", voice)
            samples = read_mono(wav, SAMPLE_RATE_HZ).astype(np.float32)
            segments = engine.recognize(samples, RecognitionRequest("eng"))
            words = [
                Word(w.text, w.start_s, w.end_s, w.confidence) for s in segments for w in s.words
            ]
            timings["whisper"].append(words)
            timings["tightened"].append(tightened(words, samples, SAMPLE_RATE_HZ))
    return timings


def _restore(
    words: list[Word], spellings: Spellings, caser: Caser, pause_s: float, language: str
) -> list[str]:
    transcript = Transcript((Segment(tuple(words), ""),), language, "kaldi-style", 0.0)
    rules = SentenceRules(short_pause_s=pause_s)
    return [w.text for w in restore_punctuation(transcript, spellings, caser, rules).words]


def _score(
    reference: list[Token], hypothesis: list[Token], acronyms: frozenset[str], s: Scores
) -> None:
    """Add one paragraph's counts to ``s``."""
    s.reference_words += len(reference)
    s.acronyms += sum(token.written in acronyms for token in reference)
    starts = {0} | {i + 1 for i, token in enumerate(reference) if token.ends}
    matcher = difflib.SequenceMatcher(
        None, [t.plain for t in reference], [t.plain for t in hypothesis], autojunk=False
    )
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            ref, hyp = reference[block.a + k], hypothesis[block.b + k]
            _count_word(ref, hyp, block.a + k in starts, block.a + k == len(reference) - 1, s)
            s.acronyms_joined += ref.written in acronyms and hyp.written == ref.written


def _count_word(ref: Token, hyp: Token, sentence_start: bool, last: bool, s: Scores) -> None:
    s.words += 1
    s.cased += hyp.written == ref.written
    if not sentence_start and ref.written[:1].isupper():
        s.capitals += 1
        s.capitals_cased += hyp.written == ref.written
    if last:
        return
    s.commas_tp += ref.comma and hyp.comma
    s.commas_fp += hyp.comma and not ref.comma
    s.commas_fn += ref.comma and not hyp.comma
    s.tp += bool(ref.ends and hyp.ends)
    s.fp += bool(hyp.ends and not ref.ends)
    s.fn += bool(ref.ends and not hyp.ends)
    s.questions += ref.ends == "?"
    s.questions_marked += ref.ends == "?" and hyp.ends == "?"
    s.false_questions += hyp.ends == "?" and ref.ends != "?"


@dataclass(frozen=True)
class Material:
    """The reference paragraphs, their recognised words and the acronyms to spell out."""

    paragraphs: list[list[str]]
    recognised: list[list[Word]]
    acronyms: frozenset[str]
    language: str = "eng"


def _run(material: Material, spellings: Spellings, caser: Caser, pause_s: float) -> Scores:
    """Restore every paragraph with these settings and score it."""
    scores = Scores()
    acronyms = material.acronyms
    for sentences, words in zip(material.paragraphs, material.recognised, strict=True):
        reference = _tokens(" ".join(sentences).split())
        spoken = kaldi_words(words, acronyms)
        restored = _restore(spoken, spellings, caser, pause_s, material.language)
        scores.acronyms_spelled += sum(spelled_out(word, acronyms) for word in words)
        scores.acronyms_rejoined += sum(word.rstrip(",.?") in acronyms for word in restored)
        _score(reference, _tokens(restored), acronyms, scores)
    return scores


def _f1(tp: int, fp: int, fn: int) -> str:
    precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-9)
    return f"P {precision:.3f} R {recall:.3f} F1 {f1:.3f} (tp {tp} fp {fp} fn {fn})"


def _report(label: str, s: Scores) -> None:
    print(
        f"{label}:\n  sentence ends {_f1(s.tp, s.fp, s.fn)}; "
        f"questions {s.questions_marked}/{s.questions} marked, {s.false_questions} false\n"
        f"  commas {_f1(s.commas_tp, s.commas_fp, s.commas_fn)}\n"
        f"  casing {s.cased / max(s.words, 1):.3f} of {s.words} words; capitals inside "
        f"sentences {s.capitals_cased}/{s.capitals}\n  acronyms: {s.acronyms_spelled} "
        f"spelled out as letters, {s.acronyms_rejoined} joined back; "
        f"{s.acronyms_joined}/{s.acronyms} of the reference's written as it writes them"
    )


def main() -> None:
    """Make the speech, recognise it once, then score the restore in each setting."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="whisper-base")
    parser.add_argument("--pauses", default="0.1,0.2,0.3,0.4")
    args = parser.parse_args()
    paragraphs = _paragraphs()
    spellings = load_spellings()
    timings = _recognise(paragraphs, args.model)
    words = sum(len(" ".join(p).split()) for p in paragraphs)
    print(f"{len(paragraphs)} paragraphs, {words} reference words, model {args.model}")
    casers: list[Caser] = [RuleCaser(english=True)]
    model = truecase_model()
    casers += [TruecaseCaser(model)] if model is not None else []
    best = casers[-1]
    pause = SentenceRules().short_pause_s
    for source, recognised in timings.items():
        material = Material(paragraphs, recognised, spellings.acronyms)
        for caser in casers:
            _report(
                f"{source} timings, {caser.name}, pause {pause}",
                _run(material, spellings, caser, pause),
            )
    material = Material(paragraphs, timings["tightened"], spellings.acronyms)
    for other in (float(p) for p in args.pauses.split(",")):
        _report(
            f"tightened timings, {best.name}, pause {other}", _run(material, spellings, best, other)
        )
    pauses_only = replace(material, language="und")
    _report(
        f"tightened timings, pauses only (no English rules), pause {pause}",
        _run(pauses_only, spellings, RuleCaser(), pause),
    )
    no_list = _run(material, Spellings({}), best, pause)
    _report(f"tightened timings, {best.name}, no spelling list, pause {pause}", no_list)


if __name__ == "__main__":
    main()
