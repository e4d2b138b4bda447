"""The vocabulary and the report of bad input rows found by ``fp world import``.

This module owns the stable reason codes a bad row can carry (:class:`BadRowReason`, wire values:
added to, never renamed), one example of a bad row (:class:`BadRowExample`) and the running report
(:class:`BadRowReport`): a count per reason over the whole input plus the first few examples of
each reason, in source-row order. A row has exactly one reason: the first check it fails, in the
fixed order time, amount, currency, entity ids, truth label, features. So the counts add up to the
number of bad rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["EXAMPLES_PER_REASON", "BadRowExample", "BadRowReason", "BadRowReport"]

EXAMPLES_PER_REASON = 3
"""How many examples of each reason the report keeps (the first ones, by source row)."""


class BadRowReason(StrEnum):
    """Why a source row cannot become an event. Values are wire contracts."""

    TIME_UNPARSEABLE = "TIME_UNPARSEABLE"
    """Missing, or not a number (seconds mode) / not an ISO-8601 timestamp (absolute mode)."""
    TIME_NAIVE = "TIME_NAIVE"
    """An absolute timestamp without a UTC offset, and the mapping does not set ``assume_utc``."""
    TIME_OUT_OF_RANGE = "TIME_OUT_OF_RANGE"
    """Negative seconds from start, or a time outside 1970-01-01 .. 9999-12-31 UTC."""
    AMOUNT_NOT_NUMERIC = "AMOUNT_NOT_NUMERIC"
    """Missing, not a number, or not finite."""
    AMOUNT_NEGATIVE = "AMOUNT_NEGATIVE"
    """Below zero (refunds and reversals are their own positive event types, never negatives)."""
    AMOUNT_PRECISION = "AMOUNT_PRECISION"
    """More decimals than the currency's minor unit (major mode) or a fractional minor amount."""
    AMOUNT_OUT_OF_RANGE = "AMOUNT_OUT_OF_RANGE"
    """More than 2**53 minor units: past the exact range of the float the amount was read as."""
    CURRENCY_INVALID = "CURRENCY_INVALID"
    """The currency column's value is not three upper-case letters (ISO 4217 alphabetic)."""
    ID_MISSING = "ID_MISSING"
    """A required entity id is missing or blank."""
    LABEL_UNKNOWN = "LABEL_UNKNOWN"
    """The truth column's value is in neither ``fraud_values`` nor ``legit_values``."""
    FEATURE_INVALID = "FEATURE_INVALID"
    """A feature value does not parse as its declared type (or is missing and not nullable)."""


@dataclass(frozen=True, slots=True)
class BadRowExample:
    """One bad row: where it is, why, and the offending raw value (truncated to 200 characters).

    ``source_row`` is the 0-based index of the data row in the input (a CSV's header line is not
    a row, so CSV line number = ``source_row + 2``); it is also the row's would-be ``txn`` number.
    """

    source_row: int
    reason: BadRowReason
    column: str
    raw_value: str | None

    def describe(self) -> str:
        return f"row {self.source_row} column {self.column!r} value {self.raw_value!r}"


@dataclass(slots=True)
class BadRowReport:
    """Counts per reason and the first examples of each, merged across input slices in order."""

    counts: dict[BadRowReason, int] = field(default_factory=dict)
    examples: dict[BadRowReason, list[BadRowExample]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add(self, reason: BadRowReason, count: int, first: list[BadRowExample]) -> None:
        """Record ``count`` more rows of ``reason``; ``first`` are their earliest examples."""
        if count <= 0:
            return
        self.counts[reason] = self.counts.get(reason, 0) + count
        kept = self.examples.setdefault(reason, [])
        kept.extend(first[: max(0, EXAMPLES_PER_REASON - len(kept))])

    def summary(self) -> dict[str, Any]:
        """Counts by reason code (sorted, JSON-ready): what the manifest's parameters record."""
        return {reason.value: self.counts[reason] for reason in sorted(self.counts)}

    def describe(self) -> str:
        """One line per reason: its count and its first examples."""
        lines = []
        for reason in sorted(self.counts):
            shown = "; ".join(e.describe() for e in self.examples.get(reason, []))
            lines.append(f"{reason.value}: {self.counts[reason]} (first: {shown})")
        return "\n".join(lines)
