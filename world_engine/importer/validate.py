"""Row validation: one slice of the input becomes typed good rows plus bad rows with reasons.

This module owns what a *good* row is. Checks run in a fixed order (time, amount, currency, entity
ids, truth label, features); a row's reason is the first check it fails, so every bad row has
exactly one :class:`~world_engine.importer.bad_rows.BadRowReason` and the counts add up. Good rows
come out typed and ready for the output tables (:class:`GoodRows`); bad rows come out with the
offending column and raw value (:class:`BadRows`) and are added to the run's
:class:`~world_engine.importer.bad_rows.BadRowReport`. What happens to them (refuse the import, or
quarantine them) is the importer's decision, not this module's.

Units: times are epoch microseconds, UTC; amounts are integer minor units. ``source_row`` is the
0-based index of the data row in the whole input, the same number as the row's ``txn_id``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from world_engine.importer.bad_rows import (
    EXAMPLES_PER_REASON,
    BadRowExample,
    BadRowReason,
    BadRowReport,
)
from world_engine.importer.errors import ImportInputError
from world_engine.importer.mapping import ENTITY_COLUMNS, FeatureSpec, ImportMapping
from world_engine.importer.parse import MAX_EXACT_INT, MAX_TS_US, blank, numbers, text, timestamps

__all__ = ["BadRows", "GoodRows", "RowValidator"]

_REASONS: tuple[BadRowReason, ...] = tuple(BadRowReason)
_CODE = {reason: i + 1 for i, reason in enumerate(_REASONS)}  # 0 = the row passed
_MAX_RAW = 200
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_TRUE = ("true", "t", "1", "yes", "y")
_FALSE = ("false", "f", "0", "no", "n")


@dataclass(frozen=True, slots=True)
class GoodRows:
    """The typed good rows of one slice, in source order."""

    source_row: np.ndarray
    ts_us: np.ndarray
    amount_minor: np.ndarray
    currency: pa.Array
    entities: dict[str, pa.Array]
    is_fraud: np.ndarray
    source_label: pa.Array
    subtype: pa.Array
    features: dict[str, pa.Array]

    def __len__(self) -> int:
        return len(self.source_row)


@dataclass(frozen=True, slots=True)
class BadRows:
    """The bad rows of one slice: where, why, which column and its raw value."""

    source_row: np.ndarray
    reason: list[str]
    column: list[str]
    raw_value: list[str | None]


class _Verdicts:
    """Per-row first failure: a reason code (0 = passed) and the column that failed."""

    def __init__(self, n: int) -> None:
        self.code = np.zeros(n, dtype=np.int8)
        self.column = np.full(n, -1, dtype=np.int16)
        self.columns: list[str] = []

    def fail(self, rows: np.ndarray, reason: BadRowReason, column: str) -> None:
        """Mark ``rows`` (a boolean mask) as failing, unless an earlier check already did."""
        fresh = rows & (self.code == 0)
        if not fresh.any():
            return
        if column not in self.columns:
            self.columns.append(column)
        self.code[fresh] = _CODE[reason]
        self.column[fresh] = self.columns.index(column)


class RowValidator:
    """Validates slices of one input against one mapping."""

    def __init__(self, mapping: ImportMapping, input_path: str) -> None:
        self._mapping = mapping
        self._input = input_path
        start = mapping.time.start_utc
        self._start_us = None if start is None else (start - _EPOCH) // dt.timedelta(microseconds=1)

    def validate(
        self, table: pa.Table, first_row: int, report: BadRowReport
    ) -> tuple[GoodRows, BadRows]:
        """Check every row of ``table`` (input rows ``first_row`` onwards); update ``report``."""
        m = self._mapping
        # Columns stay chunked as read (combining 31 text columns would copy the whole input).
        columns = {name: table.column(name) for name in table.column_names}
        verdicts = _Verdicts(table.num_rows)
        ts_us = self._times(columns[m.time.column], verdicts)
        amount_minor = self._amounts(columns[m.amount.column], verdicts)
        currency = self._currency(columns, verdicts, table.num_rows)
        entities = self._entities(columns, verdicts, table.num_rows)
        is_fraud, source_label = self._labels(columns[m.truth.column], verdicts)
        features = {f.name: self._feature(f, columns[f.column], verdicts) for f in m.features}
        subtype: pa.Array = pa.nulls(table.num_rows, pa.string())
        if m.truth.subtype_column is not None:
            raw_subtype = self._text(m.truth.subtype_column, columns[m.truth.subtype_column])
            subtype = pc.if_else(pa.array(blank(raw_subtype)), None, raw_subtype)

        good = verdicts.code == 0
        keep = pa.array(good)

        def kept(values: pa.Array | pa.ChunkedArray) -> pa.Array:
            values = values.filter(keep)
            return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values

        rows = np.arange(first_row, first_row + table.num_rows, dtype=np.int64)
        good_rows = GoodRows(
            source_row=rows[good],
            ts_us=ts_us[good],
            amount_minor=amount_minor[good],
            currency=kept(currency),
            entities={k: kept(v) for k, v in entities.items()},
            is_fraud=is_fraud[good],
            source_label=kept(source_label),
            subtype=kept(subtype),
            features={k: kept(v) for k, v in features.items()},
        )
        return good_rows, self._bad_rows(columns, verdicts, rows, report)

    # -- checks, in order --------------------------------------------------------------------
    def _times(self, column: pa.Array, verdicts: _Verdicts) -> np.ndarray:
        name = self._mapping.time.column
        if self._start_us is None:
            parsed = timestamps(column, assume_utc=self._mapping.time.assume_utc)
            verdicts.fail(parsed.unparseable, BadRowReason.TIME_UNPARSEABLE, name)
            verdicts.fail(parsed.naive, BadRowReason.TIME_NAIVE, name)
            ok = ~(parsed.unparseable | parsed.naive)
            verdicts.fail(ok & ((parsed.ts_us < 0) | (parsed.ts_us > MAX_TS_US)),
                          BadRowReason.TIME_OUT_OF_RANGE, name)
            return parsed.ts_us
        seconds, ok = numbers(column)
        verdicts.fail(~ok, BadRowReason.TIME_UNPARSEABLE, name)
        in_range = ok & (seconds >= 0) & (seconds <= (MAX_TS_US - self._start_us) / 1e6)
        verdicts.fail(ok & ~in_range, BadRowReason.TIME_OUT_OF_RANGE, name)
        offset_us = np.rint(np.where(in_range, seconds, 0.0) * 1e6).astype(np.int64)
        return self._start_us + offset_us

    def _amounts(self, column: pa.Array, verdicts: _Verdicts) -> np.ndarray:
        spec, name = self._mapping.amount, self._mapping.amount.column
        values, ok = numbers(column)
        verdicts.fail(~ok, BadRowReason.AMOUNT_NOT_NUMERIC, name)
        values = np.where(ok, values, 0.0)
        verdicts.fail(values < 0, BadRowReason.AMOUNT_NEGATIVE, name)
        scaled = values * 10**spec.minor_digits if spec.unit == "major" else values
        minor = np.rint(scaled)
        # Decimal text read as a float is off by a few ulps (149.62 * 100 = 14961.999999999998);
        # an amount with more decimals than the currency has is off by a whole fraction.
        tolerance = np.maximum(1e-6, np.abs(scaled) * 2.0**-50) if spec.unit == "major" else 0.0
        verdicts.fail(np.abs(scaled - minor) > tolerance, BadRowReason.AMOUNT_PRECISION, name)
        verdicts.fail(minor > MAX_EXACT_INT, BadRowReason.AMOUNT_OUT_OF_RANGE, name)
        return np.where(minor <= MAX_EXACT_INT, minor, 0).astype(np.int64)

    def _currency(
        self, columns: dict[str, pa.Array], verdicts: _Verdicts, n: int
    ) -> pa.Array:
        spec = self._mapping.amount.currency
        if spec.column is None:
            return pa.array([spec.value] * n, pa.string())
        values = self._text(spec.column, columns[spec.column])
        valid = pc.fill_null(pc.match_substring_regex(values, r"^[A-Z]{3}$"), False)
        verdicts.fail(~np.asarray(valid.to_numpy(zero_copy_only=False), dtype=bool),
                      BadRowReason.CURRENCY_INVALID, spec.column)
        return values

    def _entities(
        self, columns: dict[str, pa.Array], verdicts: _Verdicts, n: int
    ) -> dict[str, pa.Array]:
        out: dict[str, pa.Array] = {}
        for entity in ENTITY_COLUMNS:  # unmapped ids are null in every row, never invented
            spec = self._mapping.entities.get(entity)
            if spec is None:
                out[entity] = pa.nulls(n, pa.string())
                continue
            values = self._text(spec.column, columns[spec.column])
            missing = blank(values)
            if spec.required:
                verdicts.fail(missing, BadRowReason.ID_MISSING, spec.column)
            out[entity] = pc.if_else(pa.array(missing), None, values)
        return out

    def _labels(self, column: pa.Array, verdicts: _Verdicts) -> tuple[np.ndarray, pa.Array]:
        spec = self._mapping.truth
        values = self._text(spec.column, column)
        fraud = _isin(values, spec.fraud_values)
        legit = _isin(values, spec.legit_values)
        verdicts.fail(~(fraud | legit), BadRowReason.LABEL_UNKNOWN, spec.column)
        return fraud, values

    def _feature(self, spec: FeatureSpec, column: pa.Array, verdicts: _Verdicts) -> pa.Array:
        values, ok = _FEATURE_PARSERS[spec.type](self, spec, column)
        if not ok.all():  # rare: only then is it worth finding the blanks
            allowed = ok | (blank(column) & spec.nullable)
            verdicts.fail(~allowed, BadRowReason.FEATURE_INVALID, spec.column)
        return values

    # Feature parsers: (values, null wherever not parsed; parsed).
    def _float_feature(self, spec: FeatureSpec, column: pa.Array) -> tuple[pa.Array, np.ndarray]:
        values, ok = numbers(column)
        return pa.array(values, pa.float64(), mask=~ok), ok

    def _int_feature(self, spec: FeatureSpec, column: pa.Array) -> tuple[pa.Array, np.ndarray]:
        values, ok = numbers(column)
        values = np.where(ok, values, 0.0)
        ok &= (values == np.rint(values)) & (np.abs(values) <= MAX_EXACT_INT)
        return pa.array(values.astype(np.int64), pa.int64(), mask=~ok), ok

    def _string_feature(self, spec: FeatureSpec, column: pa.Array) -> tuple[pa.Array, np.ndarray]:
        values = self._text(spec.column, column)
        ok = ~blank(values)
        return pc.if_else(pa.array(ok), values, None), ok

    def _bool_feature(self, spec: FeatureSpec, column: pa.Array) -> tuple[pa.Array, np.ndarray]:
        if pa.types.is_boolean(column.type):
            return column, ~blank(column)
        lowered = pc.utf8_lower(self._text(spec.column, column))
        true, false = _isin(lowered, _TRUE), _isin(lowered, _FALSE)
        return pa.array(true, pa.bool_(), mask=~(true | false)), true | false

    # -- bad rows ------------------------------------------------------------------------------
    def _bad_rows(
        self,
        columns: dict[str, pa.Array],
        verdicts: _Verdicts,
        rows: np.ndarray,
        report: BadRowReport,
    ) -> BadRows:
        bad = np.flatnonzero(verdicts.code)
        raw: list[str | None] = [None] * len(bad)
        for k, name in enumerate(verdicts.columns):  # cast only the failing cells to text
            at = np.flatnonzero(verdicts.column[bad] == k)
            values = columns[name].take(pa.array(bad[at]))
            try:
                cells = pc.cast(values, pa.string()).to_pylist()
            except pa.ArrowNotImplementedError:
                cells = [repr(v)[:_MAX_RAW] for v in values.to_pylist()]
            for i, cell in zip(at, cells, strict=True):
                raw[i] = None if cell is None else cell[:_MAX_RAW]
        reasons = [_REASONS[c - 1] for c in verdicts.code[bad]]
        names = [verdicts.columns[c] for c in verdicts.column[bad]]
        out = BadRows(rows[bad], [r.value for r in reasons], names, raw)
        for reason in dict.fromkeys(reasons):
            idx = [i for i, r in enumerate(reasons) if r is reason]
            first = [
                BadRowExample(int(out.source_row[i]), reason, names[i], raw[i])
                for i in idx[:EXAMPLES_PER_REASON]
            ]
            report.add(reason, len(idx), first)
        return out

    def _text(self, name: str, column: pa.Array) -> pa.Array:
        try:
            return text(column)
        except pa.ArrowNotImplementedError as exc:
            raise ImportInputError(
                self._input, f"column {name!r} of type {column.type} has no text form"
            ) from exc


def _isin(values: pa.Array, allowed: tuple[str, ...]) -> np.ndarray:
    hits = pc.is_in(values, value_set=pa.array(allowed, pa.string()))
    return np.asarray(pc.fill_null(hits, False).to_numpy(zero_copy_only=False), dtype=bool)


_FeatureParser = Callable[[RowValidator, FeatureSpec, pa.Array], tuple[pa.Array, np.ndarray]]
_FEATURE_PARSERS: dict[str, _FeatureParser] = {
    "float64": RowValidator._float_feature,
    "int64": RowValidator._int_feature,
    "string": RowValidator._string_feature,
    "bool": RowValidator._bool_feature,
}
