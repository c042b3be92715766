"""The seed's header protocol, parsed without HTTP: names, required headers, every mapping."""

from __future__ import annotations

import pytest

from dsac_asr.api.legacy_headers import (
    InvalidHeaderError,
    MissingHeaderError,
    SeedRequest,
    api_key_from,
    normalize_headers,
    parse_seed_headers,
)

BASE = {
    "X_API_KEY": "dsac_key",
    "DEC_LANG": "eng",
    "SR": "BB",
    "NUM_CHANNELS": "1",
    "SAC": "yes",
    "DIA": "no",
    "BUCKET_NAME": "calls",
    "OBJECT_PATH": "media/audio_uploads/call.wav",
    "USER_ID": "42",
}


def parse(**changes: str | None) -> SeedRequest:
    """Parse ``BASE`` with headers changed (a value of None drops the header)."""
    headers = {**BASE, **{k: v for k, v in changes.items() if v is not None}}
    for name in [k for k, v in changes.items() if v is None]:
        headers.pop(name)
    return parse_seed_headers(normalize_headers(headers.items()))


@pytest.mark.parametrize(
    "name", ["X_API_KEY", "x_api_key", "X-API-KEY", "x-api-key", "X-Api-Key", " X_Api-KEY "]
)
def test_header_names_match_in_any_case_with_underscore_or_hyphen(name: str) -> None:
    headers = normalize_headers([(name, " secret ")])
    assert headers == {"X_API_KEY": "secret"}
    assert api_key_from(headers) == "secret"


def test_the_first_of_repeated_headers_wins() -> None:
    assert normalize_headers([("tag", "one"), ("TAG", "two")]) == {"TAG": "one"}


def test_defaults() -> None:
    seed = parse()
    assert seed.language == "eng"
    assert seed.band == "bb"
    assert seed.channels == "auto"
    assert (seed.punctuate, seed.diarize, seed.private) == (True, False, False)
    assert seed.speakers == 1
    assert seed.domain is None
    assert len(seed.tag) == 32 and seed.tag.isalnum()
    assert seed.client_job_id == seed.tag
    assert (seed.user_id, seed.bucket) == ("42", "calls")
    assert seed.object_path == "media/audio_uploads/call.wav"
    assert (seed.object_url, seed.return_url, seed.fe_api_key) == (None, None, None)


def test_each_submission_without_a_tag_gets_a_new_one() -> None:
    assert parse().tag != parse().tag


@pytest.mark.parametrize(
    ("sr", "band"),
    [("NB", "nb"), ("nb", "nb"), ("8000", "nb"), ("BB", "bb"), ("16000", "bb"), ("WB", "bb")],
)
def test_sample_rate_header_picks_the_band(sr: str, band: str) -> None:
    assert parse(SR=sr).band == band


@pytest.mark.parametrize(("code", "canonical"), [("eng", "eng"), ("sto", "sot"), ("MUL", "mul")])
def test_language_codes_are_normalised(code: str, canonical: str) -> None:
    assert parse(DEC_LANG=code).language == canonical


@pytest.mark.parametrize(("sac", "dia"), [("yes", "yes"), ("YES", "no"), ("no", "yes")])
def test_punctuation_and_diarisation_flags(sac: str, dia: str) -> None:
    seed = parse(SAC=sac, DIA=dia)
    assert seed.punctuate is (sac.lower() == "yes")
    assert seed.diarize is (dia.lower() == "yes")


@pytest.mark.parametrize(("given", "speakers"), [("3", 3), ("-1", None), ("0", None), ("1", 1)])
def test_speaker_count_non_positive_means_unknown(given: str, speakers: int | None) -> None:
    assert parse(DIA="yes", NUM_SPK=given).speakers == speakers


@pytest.mark.parametrize(("given", "mode"), [("1", "auto"), ("2", "separate")])
def test_channel_count_picks_the_channel_mode(given: str, mode: str) -> None:
    assert parse(NUM_CHANNELS=given).channels == mode


@pytest.mark.parametrize(("graph", "domain"), [("none", None), ("NONE", None), ("PARL", "PARL")])
def test_custom_graph_is_the_domain(graph: str, domain: str | None) -> None:
    assert parse(CUSTOM_GRAPH=graph).domain == domain


@pytest.mark.parametrize(("priv", "private"), [("yes", True), ("no", False)])
def test_priv_marks_the_job_private(priv: str, private: bool) -> None:
    assert parse(PRIV=priv).private is private


def test_tag_job_id_return_url_and_front_end_key() -> None:
    seed = parse(
        TAG="call-7.v2",
        JOB_ID="slug-abc",
        RETURN_URL="https://fe.example.com/jobcomplete/",
        FE_API_KEY="fe-secret",
    )
    assert (seed.tag, seed.client_job_id) == ("call-7.v2", "slug-abc")
    assert seed.return_url == "https://fe.example.com/jobcomplete/"
    assert seed.fe_api_key == "fe-secret"


def test_return_url_none_means_no_callback() -> None:
    assert parse(RETURN_URL="none").return_url is None


def test_object_url_replaces_the_object_path() -> None:
    seed = parse(OBJECT_URL="https://media.example.com/a.mp3", OBJECT_PATH=None)
    assert seed.object_url == "https://media.example.com/a.mp3"
    assert seed.object_path is None
    assert seed.bucket == "calls"


def test_object_url_none_means_the_object_path() -> None:
    seed = parse(OBJECT_URL="none")
    assert seed.object_url is None
    assert seed.object_path == BASE["OBJECT_PATH"]


def test_unknown_headers_are_ignored() -> None:
    assert parse(SOURCE="url", BATCHED="0", CAP_PROV="4", NUM_THREADS="2").language == "eng"


def test_a_missing_key_is_named() -> None:
    with pytest.raises(MissingHeaderError, match="X_API_KEY"):
        api_key_from(normalize_headers([("DEC_LANG", "eng")]))


@pytest.mark.parametrize(
    "name",
    ["DEC_LANG", "SR", "NUM_CHANNELS", "SAC", "DIA", "BUCKET_NAME", "OBJECT_PATH", "USER_ID"],
)
def test_each_missing_required_header_is_named(name: str) -> None:
    with pytest.raises(MissingHeaderError, match=name) as caught:
        parse(**{name: None})
    assert caught.value.code == "missing_header"


def test_an_empty_required_header_counts_as_missing() -> None:
    with pytest.raises(MissingHeaderError, match="SR"):
        parse(SR="")


def test_all_missing_headers_are_named_at_once() -> None:
    with pytest.raises(MissingHeaderError, match="headers SAC, DIA"):
        parse(SAC=None, DIA=None)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SR", "44100"),
        ("SR", "HD"),
        ("DEC_LANG", "xx"),
        ("SAC", "maybe"),
        ("DIA", "2"),
        ("PRIV", "sometimes"),
        ("NUM_CHANNELS", "two"),
        ("NUM_CHANNELS", "0"),
        ("NUM_SPK", "many"),
        ("NUM_SPK", "33"),
        ("TAG", "../../etc/passwd"),
        ("TAG", "a/b"),
        ("JOB_ID", "line\nbreak"),
        ("USER_ID", "é"),
        ("BUCKET_NAME", "Not A Bucket"),
        ("OBJECT_PATH", "../escape.wav"),
        ("OBJECT_URL", "file:///etc/passwd"),
        ("RETURN_URL", "ftp://fe.example.com/x"),
    ],
)
def test_bad_values_are_refused_naming_the_header(name: str, value: str) -> None:
    with pytest.raises(InvalidHeaderError, match=name) as caught:
        parse(**{name: value})
    assert caught.value.code == "invalid_header"
