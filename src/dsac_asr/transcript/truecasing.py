"""Casing models: lower-case words of one sentence in, their written case out.

English uses the statistical truecaser of the ``truecase`` package (the
``casing`` extra; its English model ships inside the package and is loaded
once per process: 6 s and 0.43 GB measured). Without it, and
for other languages, casing falls back to rules: English "I". Sentence
capitals and the spelling list are applied by the caller on top of either.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

MAX_LOWER_SHARE = 0.2
"""A word the casing model saw in lower case more often than this keeps lower case."""
_I_FORMS = {"i": "I", "i'm": "I'm", "i've": "I've", "i'll": "I'll", "i'd": "I'd"}
_TITLES = frozenset(
    "president minister premier mayor judge justice deputy chief doctor professor advocate "
    "king queen prince princess bishop archbishop general captain inspector".split()
)
_lock = threading.Lock()
_loaded: list[Any] = []


class Caser(Protocol):
    """Cases the lower-case words of one sentence."""

    @property
    def name(self) -> str:
        """What does the casing, for the transcript's metadata."""
        ...

    def case(self, words: Sequence[str]) -> list[str]:
        """The words of one sentence in their written case (same count, same order)."""
        ...


@dataclass(frozen=True)
class RuleCaser:
    """Rules only: words stay lower case, except English "I" when ``english``."""

    english: bool = False
    name: str = "rules"

    def case(self, words: Sequence[str]) -> list[str]:
        """``words`` with English "I" capitalised when ``english``."""
        if not self.english:
            return list(words)
        return [_I_FORMS.get(word, word) for word in words]


@dataclass(frozen=True)
class TruecaseCaser:
    """The ``truecase`` package's English model (uni-, bi- and trigram casing statistics)."""

    model: Any
    name: str = "truecase"

    def case(self, words: Sequence[str]) -> list[str]:
        """``words`` cased by the model; words it has not seen stay as they are."""
        if not words:
            return []
        cased = [str(word) for word in self.model.get_true_case_from_tokens(list(words), "as-is")]
        cased[0] = self._first_word(words)
        kept = [c if self._mostly_capital(w) else w for w, c in zip(words, cased, strict=True)]
        return RuleCaser(english=True).case(kept)

    def _mostly_capital(self, word: str) -> bool:
        """Whether the model saw ``word`` in lower case at most ``MAX_LOWER_SHARE`` of the
        times (all-capital forms not counted, unless they are all it saw): its capital
        choices for words mostly seen in lower case ("minister", "river") are more
        often wrong than right in running speech."""
        forms = self.model.word_casing_lookup.get(word, ())
        counts = {str(f): int(self.model.uni_dist[f]) for f in forms if not str(f).isupper()}
        total = sum(counts.values())
        return total == 0 or counts.get(word, 0) <= MAX_LOWER_SHARE * total

    def _first_word(self, words: Sequence[str]) -> str:
        """The model's choice for the first word, without its own sentence capital
        (it would write "Anc" for "ANC"); the caller adds sentence capitals."""
        forms = self.model.word_casing_lookup.get(words[0].lower())
        if not forms:
            return words[0]
        following = words[1] if len(words) > 1 else None
        return str(max(sorted(forms), key=lambda form: self.model.get_score(None, form, following)))


def with_titles(words: Sequence[str]) -> list[str]:
    """English titles capitalised before a name: "president Ramaphosa" -> "President ..."."""
    titled = list(words)
    for index in range(len(titled) - 2, -1, -1):
        if titled[index] in _TITLES and titled[index + 1][:1].isupper():
            titled[index] = titled[index].capitalize()
    return titled


def truecase_model() -> Any | None:
    """The ``truecase`` English model, loaded once per process; None when not installed."""
    with _lock:
        if not _loaded:
            _loaded.append(_load_truecase())
        return _loaded[0]


def _load_truecase() -> Any | None:
    try:
        from truecase.TrueCaser import TrueCaser
    except ImportError:
        return None
    return TrueCaser()


def caser_for(language: str) -> Caser:
    """The best casing model for ``language`` (ISO 639-3) that is installed."""
    if language != "eng":
        return RuleCaser()
    model = truecase_model()
    return TruecaseCaser(model) if model is not None else RuleCaser(english=True)
