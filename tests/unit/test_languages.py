from __future__ import annotations

import pytest

from dsac_asr.errors import UnknownLanguageError
from dsac_asr.models.languages import iso1_code, language_name, normalize_language


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("eng", "eng"),
        ("EN", "eng"),
        ("afr", "afr"),
        ("af", "afr"),
        ("zul", "zul"),
        ("sto", "sot"),
        ("sot", "sot"),
        ("st", "sot"),
        ("Sesotho", "sot"),
        ("xho", "xho"),
        ("tsn", "tsn"),
        ("nso", "nso"),
        ("ven", "ven"),
        ("tso", "tso"),
        ("ssw", "ssw"),
        ("nbl", "nbl"),
        ("mul", "mul"),
        (" kor ", "kor"),
    ],
)
def test_normalize_language(given: str, canonical: str) -> None:
    assert normalize_language(given) == canonical


@pytest.mark.parametrize("bad", ["", "english!", "e", "zulu-za", "12"])
def test_unknown_language_is_an_input_error(bad: str) -> None:
    with pytest.raises(UnknownLanguageError, match="unknown language"):
        normalize_language(bad)


def test_iso1_codes_and_names() -> None:
    assert iso1_code("eng") == "en"
    assert iso1_code("afr") == "af"
    assert iso1_code("nso") is None
    assert iso1_code("kor") == "ko"
    assert language_name("zul") == "isiZulu"
    assert language_name("xyz") == "xyz"
