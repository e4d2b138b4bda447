"""Duplicate JSON object keys are refused with their paths (issue #11 item 8).

orjson keeps the last of two equal keys, other parsers the first: one record would be two
different events to two consumers, so the gate refuses it instead of picking one.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from app.rails.envelope import EnvelopeRejection, duplicate_key_paths, parse_envelope
from app.rails.reason_codes import ReasonCode
from tests.factories import make_envelope_bytes


def _rejection(raw: bytes) -> EnvelopeRejection:
    result = parse_envelope(raw)
    assert isinstance(result, EnvelopeRejection), result
    return result


def test_issue_11_a_repeated_amount_in_the_payload_is_quarantined_not_last_wins() -> None:
    raw = make_envelope_bytes().replace(b'"amount_minor":', b'"amount_minor":100,"amount_minor":')
    assert orjson.loads(raw)["payload"]["amount_minor"] != 100  # orjson alone: last one wins
    rejection = _rejection(raw)
    assert rejection.reason_code is ReasonCode.DUPLICATE_JSON_KEY
    assert rejection.field_paths == ("payload.amount_minor",)
    assert "100" not in rejection.detail  # names, never values


def test_a_repeated_top_level_field_is_quarantined_with_its_path() -> None:
    raw = b'{"seed":8,' + make_envelope_bytes()[1:]
    rejection = _rejection(raw)
    assert (rejection.reason_code, rejection.field_paths) == (ReasonCode.DUPLICATE_JSON_KEY,
                                                              ("seed",))


def test_repeats_inside_arrays_and_in_pretty_printed_json_are_found() -> None:
    body = orjson.loads(make_envelope_bytes())
    pretty = json.dumps(body, indent=2)
    assert not isinstance(parse_envelope(pretty.encode()), EnvelopeRejection)  # layout alone: fine
    nested = pretty.replace('"payload": {',
                            '"payload": {"items": [{"a": 1, "a": 2}], "x": 1, "x": 2,')
    rejection = _rejection(nested.encode())
    assert rejection.reason_code is ReasonCode.DUPLICATE_JSON_KEY
    assert rejection.field_paths == ("payload.items.0.a", "payload.x")


def test_equal_keys_in_different_objects_are_not_duplicates() -> None:
    raw = b'{"a":{"k":1},"b":{"k":2},"c":[{"k":1},{"k":2}]}'
    assert duplicate_key_paths(raw, orjson.loads(raw)) == ()
    spaced = b'{"a": {"k": 1}, "b": {"k": 2}}'
    assert duplicate_key_paths(spaced, orjson.loads(spaced)) == ()


def test_an_escaped_key_that_equals_another_is_a_duplicate() -> None:
    raw = b'{"seed":1,"se\\u0065d":2}'
    assert duplicate_key_paths(raw, orjson.loads(raw)) == ("seed",)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=20,
)


def no_false_alarm(obj: dict[str, Any], indent: int | None) -> bool:
    """Any JSON object written by a real serializer has no duplicate key to report."""
    raw = json.dumps(obj, indent=indent).encode()
    return duplicate_key_paths(raw, orjson.loads(raw)) == ()


def repeat_is_found(obj: dict[str, Any], key: str) -> bool:
    """Prepending ``key`` again to an object that has it is always reported at the top level."""
    raw = orjson.dumps(obj)
    doubled = b"{" + orjson.dumps(key) + b":null," + raw[1:]
    return key in duplicate_key_paths(doubled, orjson.loads(doubled))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=4), JSON_VALUES, max_size=5),
       st.sampled_from([None, 1]))
def test_property_serialized_objects_never_report_a_duplicate(obj: dict[str, Any],
                                                              indent: int | None) -> None:
    assert no_false_alarm(obj, indent)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=4), JSON_VALUES, min_size=1, max_size=5), st.data())
def test_property_a_repeated_key_is_always_reported(obj: dict[str, Any], data: Any) -> None:
    key = data.draw(st.sampled_from(sorted(obj)))
    assert repeat_is_found(obj, key)
