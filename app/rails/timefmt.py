"""Timestamps on the wire: exactly ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC, 6 digits, ``Z``).

This module owns the timestamp rail. One textual form means one set of bytes per instant, so
digests and ids over records that carry times never depend on which library formatted them.
Streaming code compares times as integer epoch microseconds (:func:`ts_to_epoch_micros`): exact,
cheap, and free of timezone and float rounding. Naive datetimes are refused everywhere, because a
naive value's instant depends on the machine that reads it.

Which clock a value belongs to (domain ``ts_utc``, emission ``emitted_at_utc``, ingestion, apply)
is the caller's naming business; this module only keeps the form exact.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any

from pydantic import AfterValidator, Strict, WithJsonSchema
from pydantic_core import PydanticCustomError

from app.rails.errors import ContractError

__all__ = [
    "TS_FORMAT_ERROR_TYPE",
    "TS_PATTERN",
    "TsUtc",
    "epoch_micros_to_ts",
    "format_ts",
    "from_epoch_micros",
    "parse_ts",
    "to_epoch_micros",
    "ts_to_epoch_micros",
]

TS_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$"
"""The exact wire form as a regular expression (also the JSON Schema ``pattern``)."""

TS_FORMAT_ERROR_TYPE = "ts_format_invalid"
"""pydantic error type raised by :data:`TsUtc`; envelope parsing maps it to TS_FORMAT_INVALID."""

# fullmatch + explicit [0-9]: `$` would accept a trailing newline and `\d` any Unicode digit.
_TS_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\.([0-9]{6})Z"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MICRO = timedelta(microseconds=1)


def format_ts(dt: datetime) -> str:
    """Format an aware datetime as the wire form, converting it to UTC first.

    Raises:
        ContractError: ``dt`` is not a datetime or is naive.
    """
    if not isinstance(dt, datetime):
        raise ContractError(f"timestamp: expected a datetime, got {type(dt).__name__}")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ContractError(
            f"timestamp: naive datetime {dt.isoformat()} refused; attach a timezone (UTC)"
        )
    u = dt.astimezone(UTC)
    # Built by hand: strftime("%Y") does not zero-pad years below 1000 on every platform.
    return (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d}T"
        f"{u.hour:02d}:{u.minute:02d}:{u.second:02d}.{u.microsecond:06d}Z"
    )


def parse_ts(text: str) -> datetime:
    """Parse the exact wire form into an aware UTC datetime.

    Anything else (offsets, missing or extra fraction digits, lowercase ``z``, a space separator,
    impossible calendar dates, leap seconds) is refused rather than guessed at.

    Raises:
        ContractError: ``text`` is not a string in the exact form or names no real instant.
    """
    if not isinstance(text, str):
        raise ContractError(f"timestamp: expected a string, got {type(text).__name__}")
    m = _TS_RE.fullmatch(text)
    if m is None:
        raise ContractError(
            f"timestamp: {text[:40]!r} is not of the form YYYY-MM-DDTHH:MM:SS.ffffffZ"
        )
    year, month, day, hour, minute, second, micro = (int(g) for g in m.groups())
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)
    except ValueError as exc:
        raise ContractError(f"timestamp: {text!r} is not a real instant: {exc}") from exc


def to_epoch_micros(dt: datetime) -> int:
    """Exact integer microseconds since 1970-01-01T00:00:00Z of an aware datetime."""
    if not isinstance(dt, datetime) or dt.tzinfo is None or dt.utcoffset() is None:
        raise ContractError("timestamp: epoch micros need an aware datetime")
    return (dt - _EPOCH) // _ONE_MICRO


def from_epoch_micros(micros: int) -> datetime:
    """Aware UTC datetime for integer epoch microseconds (years 1..9999)."""
    if isinstance(micros, bool) or not isinstance(micros, int):
        raise ContractError(f"timestamp: epoch micros must be an int, got {type(micros).__name__}")
    try:
        return _EPOCH + timedelta(microseconds=micros)
    except OverflowError as exc:
        raise ContractError(f"timestamp: epoch micros {micros} out of range") from exc


@lru_cache(maxsize=4096)
def _day_micros(date_text: str) -> int | None:
    """Epoch micros of 00:00Z of a ``YYYY-MM-DD`` day (digits already checked), None if the
    calendar has no such day. Cached: a stream's timestamps fall on few days."""
    try:
        day = datetime(int(date_text[0:4]), int(date_text[5:7]), int(date_text[8:10]),
                       tzinfo=UTC)
    except ValueError:
        return None
    return (day - _EPOCH) // _ONE_MICRO


def _epoch_micros_or_none(text: object) -> int | None:
    """:func:`ts_to_epoch_micros` without building a datetime per call (the hot path reads
    several timestamps per event, issue #13); None for exactly what :func:`parse_ts` refuses."""
    if not isinstance(text, str) or _TS_RE.fullmatch(text) is None:
        return None
    day = _day_micros(text[:10])
    hour, minute, second = int(text[11:13]), int(text[14:16]), int(text[17:19])
    if day is None or hour > 23 or minute > 59 or second > 59:
        return None
    return day + ((hour * 60 + minute) * 60 + second) * 1_000_000 + int(text[20:26])


def ts_to_epoch_micros(text: str) -> int:
    """Wire form to integer epoch microseconds; the order of the ints is the order of instants.

    Raises:
        ContractError: as :func:`parse_ts`.
    """
    micros = _epoch_micros_or_none(text)
    if micros is None:  # refused: parse_ts raises, saying why
        return to_epoch_micros(parse_ts(text))
    return micros


def epoch_micros_to_ts(micros: int) -> str:
    """Integer epoch microseconds to the wire form."""
    return format_ts(from_epoch_micros(micros))


def _validate_ts(value: str) -> str:
    if _epoch_micros_or_none(value) is None:
        raise PydanticCustomError(
            TS_FORMAT_ERROR_TYPE,
            "timestamp must be a real UTC instant of the form YYYY-MM-DDTHH:MM:SS.ffffffZ",
        )
    return value


_TS_JSON_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": TS_PATTERN,
    "description": "UTC instant, exactly YYYY-MM-DDTHH:MM:SS.ffffffZ (6 fraction digits, Z).",
}

TsUtc = Annotated[str, Strict(), AfterValidator(_validate_ts), WithJsonSchema(_TS_JSON_SCHEMA)]
"""A wire timestamp string, validated to the exact form and a real calendar instant."""
