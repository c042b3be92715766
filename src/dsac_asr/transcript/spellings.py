"""Spellings: how words are written, for engines that write only lower case.

A spelling list holds one written form per line (``ANC``, ``Eskom``,
``Cape Town``). A form re-cases the same words wherever they occur; a form in
capitals is also an acronym, whose letters, spoken one by one ("a n c"), are
joined into one word. dsac-asr ships a South African list
(``spellings/default.txt``); an operator extends it with a file of the same
shape, ``spellings.txt`` in the model directory.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

SHIPPED_FILE = Path(__file__).with_name("spellings") / "default.txt"
OPERATOR_FILE_NAME = "spellings.txt"


@dataclass(frozen=True)
class Spellings:
    """Written forms by their lower-case words (one or several words each)."""

    forms: dict[tuple[str, ...], tuple[str, ...]]

    @classmethod
    def of(cls, entries: Iterable[str]) -> Spellings:
        """Spellings from written forms such as ``"ANC"`` or ``"Cape Town"``."""
        forms = {}
        for entry in entries:
            words = tuple(entry.split())
            if words:
                forms[tuple(word.lower() for word in words)] = words
        return cls(forms)

    @property
    def acronyms(self) -> frozenset[str]:
        """Forms that are one word of two or more capital letters (``ANC``)."""
        return frozenset(
            words[0]
            for words in self.forms.values()
            if len(words) == 1 and len(words[0]) > 1 and words[0].isalpha() and words[0].isupper()
        )

    @property
    def longest_form(self) -> int:
        """The most words any form has (0 for an empty list)."""
        return max((len(key) for key in self.forms), default=0)

    def written(self, words: Sequence[str]) -> tuple[str, ...] | None:
        """The written form of exactly these lower-case ``words``, or None."""
        return self.forms.get(tuple(words))


def read_spellings(path: Path) -> list[str]:
    """The written forms in a spelling file: non-blank lines that are not ``#`` comments."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def load_spellings(extra_files: Iterable[Path] = ()) -> Spellings:
    """The shipped spellings plus those of every existing file in ``extra_files``."""
    entries = read_spellings(SHIPPED_FILE)
    for path in extra_files:
        if path.is_file():
            entries.extend(read_spellings(path))
    return Spellings.of(entries)
