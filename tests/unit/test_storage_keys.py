"""Bucket names and object keys are checked, never repaired."""

from __future__ import annotations

import pytest

from dsac_asr.errors import InvalidOptionError
from dsac_asr.storage.keys import MAX_KEY_BYTES, check_bucket, check_key, check_max_bytes


@pytest.mark.parametrize(
    "name", ["abc", "my-bucket", "audio.za", "a1b2c3", "0bucket9", "x" * 63, "a-b.c-d"]
)
def test_valid_bucket_names_are_returned_unchanged(name: str) -> None:
    assert check_bucket(name) == name


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("ab", "3 to 63"),
        ("x" * 64, "3 to 63"),
        ("", "3 to 63"),
        ("My-Bucket", "lowercase"),
        ("my_bucket", "lowercase"),
        ("my bucket", "lowercase"),
        ("-bucket", "start and end"),
        ("bucket-", "start and end"),
        (".bucket", "start and end"),
        ("my..bucket", "two dots"),
        ("192.168.1.10", "IP address"),
        ("../etc", "lowercase"),
        ("a/b", "lowercase"),
    ],
)
def test_invalid_bucket_names_are_refused_naming_the_problem(name: str, problem: str) -> None:
    with pytest.raises(InvalidOptionError, match=problem) as caught:
        check_bucket(name)
    assert repr(name) in caught.value.message


@pytest.mark.parametrize(
    "key",
    [
        "a",
        "audio/call.wav",
        "decoded/TAG-1.json",
        "deep/er/and/deeper/file",
        "spaces are fine.wav",
        "umlaut-ë/ñ/isiZulu.wav",
        "..hidden",
        "a..b/c",
        ".config",
        "x" * MAX_KEY_BYTES,
    ],
)
def test_valid_keys_are_returned_unchanged(key: str) -> None:
    assert check_key(key) == key


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "empty"),
        ("../x", r"'\.\.' path segments"),
        ("a/../../b", r"'\.\.' path segments"),
        ("a/..", r"'\.\.' path segments"),
        ("..", r"'\.\.' path segments"),
        ("/etc/passwd", "start with '/'"),
        ("a\\b", "backslashes"),
        ("..\\..\\x", "backslashes"),
        ("a\x00b", "NUL"),
        ("a\nb", "control characters"),
        ("a/./b", r"'\.' path segments"),
        ("a//b", "empty path segments"),
        ("dir/", "empty path segments"),
        ("x" * (MAX_KEY_BYTES + 1), "over the limit of 1024"),
        ("ë" * 513, "1026 bytes"),
        ("bad\udcffsurrogate", "not valid Unicode"),
    ],
)
def test_unsafe_keys_are_refused_naming_the_problem(key: str, problem: str) -> None:
    with pytest.raises(InvalidOptionError, match=problem):
        check_key(key)


@pytest.mark.parametrize("value", [None, 0, 1, 10**12])
def test_size_limits_that_are_none_or_not_negative_pass(value: int | None) -> None:
    assert check_max_bytes(value) == value


def test_a_negative_size_limit_is_refused() -> None:
    with pytest.raises(InvalidOptionError, match="negative"):
        check_max_bytes(-1)
