"""Key validation edge cases: what a key may be, and that a valid key never leaves the root."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.objectstore.keys import (
    MAX_KEY_LENGTH,
    MAX_SEGMENT_LENGTH,
    is_valid_key,
    key_problem,
    normalize_prefix,
    validate_key,
)
from app.rails.errors import InvalidObjectKeyError

_SEGMENT_ALPHABET = "abcXYZ019._=-"


@pytest.mark.parametrize(
    "key",
    [
        "a",
        "ig/receipts/3f2a.json",
        "sr/run_id=0123abcd/run_plan.json",
        "a.b-c_d=e/F9",
        ".hidden",
        "...",
        "a/..b/c..",
        "x" * MAX_SEGMENT_LENGTH,
    ],
)
def test_valid_keys_are_returned_unchanged(key: str) -> None:
    assert validate_key(key) == key
    assert is_valid_key(key)


@pytest.mark.parametrize(
    ("key", "problem_fragment"),
    [
        ("", "empty"),
        ("..", "'..' segment"),
        ("a/../b", "'..' segment"),
        ("a/..", "'..' segment"),
        (".", "'.' segment"),
        ("./a", "'.' segment"),
        ("/abs", "absolute"),
        ("//a", "absolute"),
        ("a//b", "empty segment"),
        ("a/", "ends with '/'"),
        ("a\\b", "backslash"),
        ("..\\evil", "backslash"),
        ("a b", "outside"),
        ("a@obj", "outside"),
        ("caf\u00e9", "outside"),
        ("a\x00b", "outside"),
        ("a\nb", "outside"),
        ("x" * (MAX_SEGMENT_LENGTH + 1), "limit"),
        ("a/" * (MAX_KEY_LENGTH // 2) + "a", "limit"),
    ],
)
def test_invalid_keys_are_refused_with_the_broken_rule(key: str, problem_fragment: str) -> None:
    with pytest.raises(InvalidObjectKeyError) as caught:
        validate_key(key)
    assert caught.value.key == key
    assert caught.value.reason_code == "OBJECT_KEY_INVALID"
    assert problem_fragment in caught.value.problem
    assert not is_valid_key(key)


def test_non_string_key_is_reported_not_crashed_on() -> None:
    assert key_problem(b"bytes-key") == "a key must be a str, not bytes"
    assert not is_valid_key(None)


def test_bad_characters_are_named_in_the_problem() -> None:
    problem = key_problem("ok/bad:name*")
    assert problem is not None
    assert "':'" in problem
    assert "'*'" in problem


def test_key_at_exactly_the_length_limit_is_accepted_and_one_more_is_not() -> None:
    folders = "/".join(["x" * 100] * 5) + "/"
    key = folders + "y" * (MAX_KEY_LENGTH - len(folders))
    assert len(key) == MAX_KEY_LENGTH
    assert validate_key(key) == key
    assert not is_valid_key(key + "y")


@pytest.mark.parametrize(
    ("prefix", "folder"),
    [("", ""), ("sr", "sr/"), ("sr/", "sr/"), ("sr/run1", "sr/run1/"), ("sr/run1/", "sr/run1/")],
)
def test_prefixes_normalise_to_a_folder_with_trailing_slash(prefix: str, folder: str) -> None:
    assert normalize_prefix(prefix) == folder


@pytest.mark.parametrize("prefix", ["/", "//", "../x", "/abs", "a//", "a\\b"])
def test_invalid_prefixes_are_refused_naming_the_prefix(prefix: str) -> None:
    with pytest.raises(InvalidObjectKeyError) as caught:
        normalize_prefix(prefix)
    assert caught.value.key == prefix
    assert "invalid list prefix" in caught.value.problem


_segments = st.text(alphabet=_SEGMENT_ALPHABET, min_size=1, max_size=12).filter(
    lambda s: s not in (".", "..")
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_segments, min_size=1, max_size=6))
def test_keys_built_from_allowed_segments_are_valid_and_stay_under_the_root(
    segments: list[str],
) -> None:
    key = validate_key("/".join(segments))
    root = PurePosixPath("/store/root")
    joined = root / key
    assert joined.is_relative_to(root)
    assert ".." not in joined.relative_to(root).parts


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_validation_accepts_exactly_the_keys_with_no_problem(key: str) -> None:
    problem = key_problem(key)
    if problem is None:
        assert validate_key(key) == key
        assert all(part not in ("", ".", "..") for part in key.split("/"))
    else:
        with pytest.raises(InvalidObjectKeyError):
            validate_key(key)
