"""Punctuation and casing restore for engines that write neither (Kaldi), on made-up timings."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise
from pathlib import Path

from dsac_asr.models.manifest import Band, ModelManifest
from dsac_asr.transcript import Segment, Transcript, Word
from dsac_asr.transcript.acronyms import join_acronyms
from dsac_asr.transcript.restore import restore_punctuation
from dsac_asr.transcript.sentences import SentenceRules, is_question, split_sentences
from dsac_asr.transcript.spellings import Spellings, load_spellings
from dsac_asr.transcript.truecasing import RuleCaser, with_titles

WORD_S = 0.25
STEP_S = 0.3  # words 0.05 s apart: no pause


def timed(text: str, start_s: float = 0.0, speaker: str | None = None) -> list[Word]:
    """Words of ``text`` one after another; "|" marks a 0.8 s pause, "," a 0.25 s one."""
    words: list[Word] = []
    t = start_s
    for token in text.split():
        if token in ("|", ","):
            t += 0.8 if token == "|" else 0.25
            continue
        words.append(Word(token, t, t + WORD_S, 0.5 + 0.01 * len(words), speaker))
        t += STEP_S
    return words


def transcript_of(*segments: list[Word], language: str = "eng") -> Transcript:
    made = tuple(Segment(tuple(w), " ".join(x.text for x in w), w[0].speaker) for w in segments)
    return Transcript(made, language, "kaldi-model", 60.0)


def test_spelled_out_acronym_becomes_one_word_spanning_its_letters() -> None:
    words = timed("the a n c said")
    joined = join_acronyms(words, frozenset({"ANC", "DA"}))
    assert [w.text for w in joined] == ["the", "ANC", "said"]
    acronym = joined[1]
    assert (acronym.start_s, acronym.end_s) == (words[1].start_s, words[3].end_s)
    assert acronym.confidence == min(w.confidence for w in words[1:4])
    starts = [w.start_s for w in joined]
    assert starts == sorted(starts)
    assert all(w.start_s <= w.end_s <= n.start_s for w, n in pairwise(joined))


def test_acronym_joining_takes_the_longest_and_leaves_other_letters() -> None:
    acronyms = frozenset({"SA", "SABC", "DA"})
    joined = join_acronyms(timed("i s a b c a d a x y"), acronyms)
    assert [w.text for w in joined] == ["i", "SABC", "a", "DA", "x", "y"]


def test_letters_apart_by_a_pause_are_not_joined() -> None:
    joined = join_acronyms(timed("the d | a said"), frozenset({"DA"}))
    assert [w.text for w in joined] == ["the", "d", "a", "said"]


def test_sentences_end_at_pauses_and_commas_follow_introductory_clauses() -> None:
    words = timed("if it rains , the match is off | we will play on , sunday")
    sentences = split_sentences(words, SentenceRules(), english=True)
    texts = [[words[i].text for i in s.span] for s in sentences]
    assert texts[0] == "if it rains the match is off".split()
    assert [words[i].text for i in sentences[0].commas] == ["rains"]
    assert texts[1] == "we will play on sunday".split()
    assert not sentences[1].commas


def test_a_pause_after_a_word_that_cannot_end_a_sentence_is_no_sentence_end() -> None:
    words = timed("we went to the , shop and , bought bread")
    sentences = split_sentences(words, SentenceRules(), english=True)
    assert [(s.span, s.commas) for s in sentences] == [(range(len(words)), frozenset())]
    other = split_sentences(words, SentenceRules(), english=False)
    assert [(len(s.span), sorted(s.commas)) for s in other] == [(4, []), (4, [5])]


def test_long_sentences_are_cut_at_their_longest_pause() -> None:
    words = timed(" ".join(["one"] * 8))
    words[5] = Word("one", words[5].start_s + 0.1, words[5].end_s + 0.1, 1.0)
    rules = SentenceRules(short_pause_s=0.12, long_pause_s=1.0, min_words=20, max_words=6)
    sentences = split_sentences(words, rules, english=False)
    assert [(s.span, sorted(s.commas)) for s in sentences] == [(range(5), []), (range(5, 8), [])]
    unsplit = split_sentences(words, replace(rules, max_words=8), english=False)
    assert [(s.span, sorted(s.commas)) for s in unsplit] == [(range(8), [4])]


def test_questions_are_told_by_how_they_open() -> None:
    assert is_question("do you know the way".split())
    assert is_question("where is the station".split())
    assert is_question("how many people came".split())
    assert not is_question("the station is closed".split())
    assert not is_question("when we arrived it rained".split())


def test_restore_cases_punctuates_and_keeps_timings() -> None:
    words = timed("the a n c met in cape town | do you think i was right | yes")
    restored = restore_punctuation(transcript_of(words), load_spellings(), RuleCaser(english=True))
    assert restored.text == "The ANC met in Cape Town. Do you think I was right? Yes."
    out = restored.words
    assert out[1].start_s == words[1].start_s and out[1].end_s == words[3].end_s
    assert [(w.start_s, w.end_s) for w in out[2:]] == [(w.start_s, w.end_s) for w in words[4:]]
    assert restored.metadata["punctuation"] == "restored (pauses, rules casing)"
    assert restored.segments[0].text == restored.text


def test_each_speaker_gets_own_sentences_across_interleaved_segments() -> None:
    agent = timed("good morning how can i help", 0.0, "A")
    customer = timed("my line is down", 0.6, "B")
    segments = (agent[:2], customer[:2], agent[2:], customer[2:])
    restored = restore_punctuation(transcript_of(*segments), Spellings({}), RuleCaser(True))
    by_speaker = {
        speaker: " ".join(w.text for w in restored.words if w.speaker == speaker)
        for speaker in ("A", "B")
    }
    assert by_speaker == {"A": "Good morning how can I help.", "B": "My line is down."}
    assert [len(s.words) for s in restored.segments] == [2, 2, 4, 2]


def test_titles_are_capitalised_before_names() -> None:
    assert with_titles(["the", "deputy", "president", "Mashatile", "said"]) == [
        "the", "Deputy", "President", "Mashatile", "said",
    ]  # fmt: skip
    assert with_titles(["the", "president", "said"]) == ["the", "president", "said"]


def test_non_english_gets_pause_sentences_without_english_rules() -> None:
    words = timed("i ngiyabonga kakhulu | sawubona baba")
    restored = restore_punctuation(
        transcript_of(words, language="zul"), load_spellings(), RuleCaser()
    )
    assert restored.text == "I ngiyabonga kakhulu. Sawubona baba."


def test_operator_spellings_extend_the_shipped_list(tmp_path: Path) -> None:
    extra = tmp_path / "spellings.txt"
    extra.write_text("# ours\nDSAC\nMakhanda Road\n", encoding="utf-8")
    spellings = load_spellings([extra, tmp_path / "missing.txt"])
    assert {"ANC", "SABC", "DSAC"} <= spellings.acronyms
    assert "Eskom" not in spellings.acronyms
    assert spellings.written(["makhanda", "road"]) == ("Makhanda", "Road")
    assert spellings.written(["cape", "town"]) == ("Cape", "Town")


def test_manifest_says_which_engines_write_punctuation() -> None:
    def manifest(engine: str, punctuated: bool | None = None) -> ModelManifest:
        fields = {"id": "m", "engine": engine, "languages": ["eng"], "band": Band.BB}
        return ModelManifest.model_validate({**fields, "punctuated": punctuated})

    assert manifest("whisper").writes_punctuation
    assert not manifest("kaldi").writes_punctuation
    assert manifest("kaldi", punctuated=True).writes_punctuation
