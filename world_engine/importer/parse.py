"""Column parsers: raw input values (CSV text or Parquet types) to typed arrays plus validity.

Each parser takes one Arrow column and returns numpy values and a boolean mask saying which rows
parsed; it never raises for a bad value (bad input is data: the validator turns a failed row into
a bad-row reason). Text is trimmed of surrounding whitespace first, and an empty field counts as
missing, like a null. Numbers accept exactly ``[+-]digits[.digits][e[+-]digits]`` (what Arrow's
own cast accepts, minus ``inf``/``nan``): the fast path is one vectorised Arrow cast, and only a
column holding a bad value pays for the regex, with the same verdict row by row either way.
Absolute timestamps come from ISO-8601 text (Python's ``datetime.fromisoformat``) or a Parquet
timestamp column; every time is returned as integer microseconds since the epoch, UTC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "MAX_EXACT_INT",
    "MAX_TS_US",
    "ParsedTimes",
    "blank",
    "is_text",
    "numbers",
    "text",
    "timestamps",
]

MAX_EXACT_INT = 2**53
"""Largest integer a float64 holds exactly: the bound on amounts and int64 features."""
MAX_TS_US = (dt.datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=dt.UTC) - dt.datetime(
    1970, 1, 1, tzinfo=dt.UTC
)) // dt.timedelta(microseconds=1)
"""Last representable instant (9999-12-31T23:59:59.999999Z) in epoch microseconds."""

_NUMBER = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_US = dt.timedelta(microseconds=1)


def is_text(column: pa.Array) -> bool:
    return pa.types.is_string(column.type) or pa.types.is_large_string(column.type)


def _mask(values: pa.Array) -> np.ndarray:
    """A boolean Arrow array as numpy, null counting as False."""
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def text(column: pa.Array) -> pa.Array:
    """The column as trimmed strings (nulls stay null); numbers and bools in Arrow's spelling.

    Raises:
        pa.ArrowNotImplementedError: the column's type has no text form (lists, structs).
    """
    strings = column if is_text(column) else pc.cast(column, pa.string())
    return pc.utf8_trim_whitespace(strings)


def blank(column: pa.Array) -> np.ndarray:
    """Rows that are null, or empty after trimming (the CSV spelling of a missing value)."""
    if not is_text(column):
        return np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    return ~_mask(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(column)), 0))


def numbers(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """``(float64 values, parsed)``; unparsed rows hold NaN. Non-finite values do not parse."""
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type) or (
        pa.types.is_decimal(column.type)
    ):
        cast = pc.cast(column, pa.float64())
    elif is_text(column):
        trimmed = pc.utf8_trim_whitespace(column)
        try:
            cast = pc.cast(trimmed, pa.float64())
        except pa.ArrowInvalid:  # some value is not a number: find which, row by row
            well_formed = pc.fill_null(pc.match_substring_regex(trimmed, _NUMBER), False)
            cast = pc.if_else(well_formed, pc.cast(pc.if_else(well_formed, trimmed, "0"),
                                                   pa.float64()), None)
    else:
        nothing = np.full(len(column), np.nan)
        return nothing, np.zeros(len(column), dtype=bool)
    values = np.asarray(pc.fill_null(cast, np.nan).to_numpy(zero_copy_only=False), dtype=float)
    return values, np.isfinite(values)


@dataclass(frozen=True, slots=True)
class ParsedTimes:
    """Absolute times: epoch microseconds (0 where not parsed) and why rows failed."""

    ts_us: np.ndarray
    unparseable: np.ndarray
    naive: np.ndarray


def timestamps(column: pa.Array, *, assume_utc: bool) -> ParsedTimes:
    """Absolute times from ISO-8601 text or a timestamp column.

    A value without a UTC offset is naive: refused (``naive``) unless ``assume_utc`` reads it as
    UTC. Sub-microsecond digits are truncated. Other column types do not parse.
    """
    n = len(column)
    ts_us = np.zeros(n, dtype=np.int64)
    unparseable = np.zeros(n, dtype=bool)
    naive = np.zeros(n, dtype=bool)
    if pa.types.is_timestamp(column.type):
        missing = np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        if column.type.tz is None and not assume_utc:
            return ParsedTimes(ts_us, missing, ~missing)
        # Same zone, finer unit: the stored value stays the UTC instant (or, naive, the wall time).
        micros = pc.cast(column, pa.timestamp("us", tz=column.type.tz), safe=False)
        micros = micros.cast(pa.int64())
        ts_us = np.asarray(pc.fill_null(micros, 0).to_numpy(zero_copy_only=False), np.int64)
        return ParsedTimes(ts_us, missing, naive)
    if not is_text(column):
        return ParsedTimes(ts_us, np.ones(n, dtype=bool), naive)
    for i, value in enumerate(column.to_pylist()):  # fromisoformat is C: about 1 µs a row
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except (AttributeError, ValueError):  # None, or not ISO-8601
            unparseable[i] = True
            continue
        if parsed.tzinfo is None:
            if not assume_utc:
                naive[i] = True
                continue
            parsed = parsed.replace(tzinfo=dt.UTC)
        ts_us[i] = (parsed - _EPOCH) // _US
    return ParsedTimes(ts_us, unparseable, naive)
