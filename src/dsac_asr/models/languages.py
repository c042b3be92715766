"""Language codes: the seed's codes, ISO 639-1/639-3 codes and English names.

Canonical codes are ISO 639-3 (``eng``, ``afr``, ``zul``, ``sot``...), with
``mul`` for the multilingual mode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dsac_asr.errors import UnknownLanguageError

MULTILINGUAL = "mul"


@dataclass(frozen=True)
class Language:
    """One language dsac-asr knows by name."""

    code: str
    name: str
    iso1: str | None
    aliases: tuple[str, ...] = ()


SOUTH_AFRICAN = (
    Language("eng", "English", "en", ("english",)),
    Language("afr", "Afrikaans", "af", ("afrikaans",)),
    Language("zul", "isiZulu", "zu", ("zulu", "isizulu")),
    Language("xho", "isiXhosa", "xh", ("xhosa", "isixhosa")),
    Language("sot", "Sesotho", "st", ("sto", "sesotho", "sotho", "southern sotho")),
    Language("tsn", "Setswana", "tn", ("setswana", "tswana")),
    Language("nso", "Sepedi", None, ("sepedi", "pedi", "northern sotho")),
    Language("ven", "Tshivenda", "ve", ("tshivenda", "venda")),
    Language("tso", "Xitsonga", "ts", ("xitsonga", "tsonga")),
    Language("ssw", "siSwati", "ss", ("siswati", "swati")),
    Language("nbl", "isiNdebele", "nr", ("isindebele", "ndebele", "southern ndebele")),
)

_OTHER_ISO1 = {"kor": "ko", "fra": "fr", "deu": "de", "spa": "es", "por": "pt", "nld": "nl"}
_BY_KEY: dict[str, Language] = {}
for _lang in SOUTH_AFRICAN:
    for _key in (_lang.code, _lang.iso1, *_lang.aliases):
        if _key:
            _BY_KEY[_key] = _lang
_ISO3 = re.compile(r"^[a-z]{3}$")


def normalize_language(code: str) -> str:
    """Return the canonical code for ``code`` (``sto`` -> ``sot``, ``en`` -> ``eng``).

    Codes outside the South African set pass through when they look like ISO
    639-3 codes, so operators can install models for any language.
    """
    key = code.strip().lower()
    if key in (MULTILINGUAL, "multilingual"):
        return MULTILINGUAL
    if key in _BY_KEY:
        return _BY_KEY[key].code
    if _ISO3.match(key):
        return key
    known = ", ".join(lang.code for lang in SOUTH_AFRICAN)
    raise UnknownLanguageError(
        f"unknown language {code!r}: use an ISO 639-3 code such as {known}, or 'mul'"
    )


def iso1_code(code: str) -> str | None:
    """The two-letter ISO 639-1 code of a canonical code, when it has one."""
    lang = _BY_KEY.get(code)
    if lang is not None:
        return lang.iso1
    return _OTHER_ISO1.get(code)


def language_name(code: str) -> str:
    """A human name for a canonical code (the code itself when unknown)."""
    if code == MULTILINGUAL:
        return "multilingual"
    lang = _BY_KEY.get(code)
    return lang.name if lang is not None else code
