"""The timestamp rail: one exact textual form, aware datetimes only, exact epoch micros."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from app.rails.errors import ContractError
from app.rails.timefmt import (
    TS_FORMAT_ERROR_TYPE,
    TsUtc,
    epoch_micros_to_ts,
    format_ts,
    from_epoch_micros,
    parse_ts,
    to_epoch_micros,
    ts_to_epoch_micros,
)


class _Stamped(BaseModel):
    at: TsUtc


def test_format_ts_writes_six_fraction_digits_and_z() -> None:
    assert format_ts(datetime(2024, 3, 1, 12, 0, 5, 7, tzinfo=UTC)) == "2024-03-01T12:00:05.000007Z"


def test_format_ts_converts_other_offsets_to_utc() -> None:
    cet = timezone(timedelta(hours=1))
    assert format_ts(datetime(2024, 3, 1, 0, 30, tzinfo=cet)) == "2024-02-29T23:30:00.000000Z"


def test_format_ts_zero_pads_years_below_1000() -> None:
    assert format_ts(datetime(7, 1, 2, tzinfo=UTC)) == "0007-01-02T00:00:00.000000Z"


def test_format_ts_refuses_naive_datetime() -> None:
    with pytest.raises(ContractError, match="naive"):
        format_ts(datetime(2024, 3, 1))  # noqa: DTZ001 - the naive value is the point of the test


def test_format_ts_refuses_non_datetime() -> None:
    with pytest.raises(ContractError):
        format_ts("2024-03-01T00:00:00.000000Z")  # type: ignore[arg-type]  # wrong type on purpose


def test_parse_ts_returns_aware_utc_datetime() -> None:
    parsed = parse_ts("2024-03-01T12:00:05.000007Z")
    assert parsed == datetime(2024, 3, 1, 12, 0, 5, 7, tzinfo=UTC)
    assert parsed.utcoffset() == timedelta(0)


def test_parse_ts_inverts_format_ts() -> None:
    dt = datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert parse_ts(format_ts(dt)) == dt


@pytest.mark.parametrize(
    "text",
    [
        "2024-03-01T12:00:05Z",  # no fraction
        "2024-03-01T12:00:05.123Z",  # milliseconds
        "2024-03-01T12:00:05.123456789Z",  # nanoseconds
        "2024-03-01T12:00:05.000000+00:00",  # offset instead of Z
        "2024-03-01T12:00:05.000000",  # no zone at all
        "2024-03-01T12:00:05.000000z",  # lowercase z
        "2024-03-01 12:00:05.000000Z",  # space separator
        "2024-03-01T12:00:05.000000Z\n",  # trailing newline
        " 2024-03-01T12:00:05.000000Z",  # leading space
        "\uff12\uff10\uff12\uff14-03-01T12:00:05.000000Z",  # fullwidth (non-ASCII) digits
        "2024-02-30T12:00:05.000000Z",  # no such day
        "2024-13-01T12:00:05.000000Z",  # no such month
        "2024-03-01T24:00:00.000000Z",  # hour 24
        "2016-12-31T23:59:60.000000Z",  # leap second
        "",
    ],
)
def test_parse_ts_refuses_every_other_form(text: str) -> None:
    with pytest.raises(ContractError):
        parse_ts(text)


def test_parse_ts_refuses_non_string() -> None:
    with pytest.raises(ContractError):
        parse_ts(1709294405)  # type: ignore[arg-type]  # wrong type on purpose


def test_epoch_micros_of_known_instants() -> None:
    assert ts_to_epoch_micros("1970-01-01T00:00:00.000000Z") == 0
    assert ts_to_epoch_micros("1970-01-01T00:00:01.000001Z") == 1_000_001
    assert ts_to_epoch_micros("1969-12-31T23:59:59.999999Z") == -1


def test_epoch_micros_round_trip_both_ways() -> None:
    ts = "2024-03-01T12:00:05.000007Z"
    assert epoch_micros_to_ts(ts_to_epoch_micros(ts)) == ts
    assert to_epoch_micros(from_epoch_micros(1_709_294_405_000_007)) == 1_709_294_405_000_007


def test_epoch_micros_preserve_order_of_instants() -> None:
    texts = [
        "2024-03-01T12:00:05.000007Z",
        "0001-01-01T00:00:00.000000Z",
        "9999-12-31T23:59:59.999999Z",
        "2024-03-01T12:00:05.000006Z",
    ]
    assert sorted(texts, key=ts_to_epoch_micros) == sorted(texts)


def test_to_epoch_micros_refuses_naive_datetime() -> None:
    with pytest.raises(ContractError):
        to_epoch_micros(datetime(2024, 3, 1))  # noqa: DTZ001 - the naive value is the point


@pytest.mark.parametrize("micros", [True, 1.5, "0", 10**20])
def test_from_epoch_micros_refuses_non_int_or_out_of_range(micros: object) -> None:
    with pytest.raises(ContractError):
        from_epoch_micros(micros)  # type: ignore[arg-type]  # wrong type on purpose


def test_ts_utc_field_accepts_the_exact_form() -> None:
    assert _Stamped(at="2024-03-01T12:00:05.000007Z").at == "2024-03-01T12:00:05.000007Z"


@pytest.mark.parametrize("text", ["2024-03-01T12:00:05Z", "2024-02-30T00:00:00.000000Z"])
def test_ts_utc_field_reports_ts_format_error_type(text: str) -> None:
    with pytest.raises(ValidationError) as info:
        _Stamped(at=text)
    assert [e["type"] for e in info.value.errors()] == [TS_FORMAT_ERROR_TYPE]


def test_ts_utc_field_refuses_datetime_objects() -> None:
    with pytest.raises(ValidationError):
        _Stamped(at=datetime(2024, 3, 1, tzinfo=UTC))  # type: ignore[arg-type]  # strict: str only


def _reference_micros(text: object) -> int | None:
    """The datetime-based definition the fast path must equal (None = refused)."""
    try:
        return to_epoch_micros(parse_ts(text))  # type: ignore[arg-type]  # refusal is the point
    except ContractError:
        return None


@given(st.one_of(
    st.datetimes(timezones=st.just(UTC)).map(format_ts),
    st.builds(lambda d, h, m, s, us: f"{d.isoformat()}T{h:02d}:{m:02d}:{s:02d}.{us:06d}Z",
              st.dates(), *[st.integers(0, 99)] * 3, st.integers(0, 999_999)),
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z\Z"),
    st.text(max_size=30),
))
@settings(max_examples=3000, deadline=None)
def test_fast_epoch_micros_and_validation_equal_the_datetime_definition(text: str) -> None:
    """Issue #13: ts_to_epoch_micros and the TsUtc validator skip the datetime per call; they
    accept exactly what parse_ts accepts (impossible days, hour 24, second 60, year 0 refused)
    and give the same micros."""
    expected = _reference_micros(text)
    if expected is None:
        with pytest.raises(ContractError):
            ts_to_epoch_micros(text)
        with pytest.raises(ValidationError):
            _Stamped.model_validate({"at": text})
    else:
        assert ts_to_epoch_micros(text) == expected
        assert _Stamped.model_validate({"at": text}).at == text
