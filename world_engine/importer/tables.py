"""Wire form of an import: Arrow tables for the outputs that :mod:`.catalog` declares.

This module owns the row shapes: traffic (good rows, truth columns removed), truth (one row per
good row), the label feed (the bank's delayed view of the fraud rows) and the quarantine (bad rows).
Columns come out in catalogue order; the pack writer checks names, types and nulls against the
interface pack and sorts each partition by time, then primary key.

The label feed is the only place the seed matters. For the fraud rows, in source-row order, two
named streams under the seed draw whether the bank ever learns of the row (``coverage``) and after
how long (uniform whole microseconds in ``[min_delay_days, max_delay_days]``); one draw of each
per fraud row, whatever the coverage, so changing one setting never shifts the other's draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from world_engine.importer.mapping import ENTITY_COLUMNS, LabelFeedSpec
from world_engine.importer.parse import MAX_TS_US
from world_engine.importer.validate import BadRows, GoodRows
from world_engine.rng import stream

__all__ = [
    "FraudRows",
    "label_table",
    "quarantine_table",
    "row_ids",
    "traffic_table",
    "truth_table",
]

_DAY_US = 86_400_000_000
_TS = pa.timestamp("us", tz="UTC")


def row_ids(prefix: str, source_row: np.ndarray) -> pa.Array:
    """``<prefix>_<12-digit source row>`` for each row (e.g. ``txn_000000000042``)."""
    digits = pc.utf8_lpad(pc.cast(pa.array(source_row, pa.int64()), pa.string()), width=12,
                          padding="0")
    return pc.binary_join_element_wise(prefix + "_", digits, "")


def _ts(ts_us: np.ndarray) -> pa.Array:
    return pa.array(ts_us, pa.int64()).cast(_TS)


def traffic_table(rows: GoodRows) -> pa.Table:
    """The business-traffic rows: ids, time, entities, money, features (no truth column)."""
    columns = {
        "txn_id": row_ids("txn", rows.source_row),
        "ts_utc": _ts(rows.ts_us),
        **{entity: rows.entities[entity] for entity in ENTITY_COLUMNS},
        "amount_minor": pa.array(rows.amount_minor, pa.int64()),
        "currency": rows.currency,
        **rows.features,
    }
    return pa.table(columns)


def truth_table(rows: GoodRows) -> pa.Table:
    """Ground truth per good row."""
    return pa.table(
        {
            "txn_id": row_ids("txn", rows.source_row),
            "ts_utc": _ts(rows.ts_us),
            "is_fraud": pa.array(rows.is_fraud, pa.bool_()),
            "label": pa.array(np.where(rows.is_fraud, "fraud", "legit"), pa.string()),
            "subtype": rows.subtype,
            "source_label": rows.source_label,
        }
    )


def quarantine_table(bad: BadRows) -> pa.Table:
    """The bad rows, by source row, with reason code, failing column and raw value."""
    return pa.table(
        {
            "source_row": pa.array(bad.source_row, pa.int64()),
            "txn_id": row_ids("txn", bad.source_row),
            "reason_code": pa.array(bad.reason, pa.string()),
            "column": pa.array(bad.column, pa.string()),
            "raw_value": pa.array(bad.raw_value, pa.string()),
        }
    )


@dataclass(slots=True)
class FraudRows:
    """The fraud rows seen so far (source order): what the label feed is drawn from."""

    source_row: list[np.ndarray]
    ts_us: list[np.ndarray]
    card_id: list[pa.Array]
    account_id: list[pa.Array]

    @classmethod
    def empty(cls) -> FraudRows:
        return cls([], [], [], [])

    def add(self, rows: GoodRows) -> None:
        fraud = rows.is_fraud
        keep = pa.array(fraud)
        self.source_row.append(rows.source_row[fraud])
        self.ts_us.append(rows.ts_us[fraud])
        self.card_id.append(rows.entities["card_id"].filter(keep))
        self.account_id.append(rows.entities["account_id"].filter(keep))

    def __len__(self) -> int:
        return sum(len(a) for a in self.source_row)


def label_table(fraud: FraudRows, feed: LabelFeedSpec, seed: int) -> pa.Table:
    """One label event per fraud row the bank learns of, observed after a seeded delay."""
    source_row = np.concatenate([np.zeros(0, np.int64), *fraud.source_row])
    ts_us = np.concatenate([np.zeros(0, np.int64), *fraud.ts_us])
    n = len(source_row)
    learned = stream(seed, "importer.label_feed.coverage").random(n) < feed.coverage
    low, high = round(feed.min_delay_days * _DAY_US), round(feed.max_delay_days * _DAY_US)
    delay_us = stream(seed, "importer.label_feed.delay").integers(low, high, size=n, endpoint=True)
    observed_us = ts_us + delay_us
    learned &= observed_us <= MAX_TS_US  # a label after the calendar ends is never learned
    keep = pa.array(learned)

    def strings(parts: list[pa.Array]) -> pa.Array:
        return pa.concat_arrays([pa.array([], pa.string()), *parts]).filter(keep)

    return pa.table(
        {
            "label_event_id": row_ids("lbl", source_row[learned]),
            "txn_id": row_ids("txn", source_row[learned]),
            "card_id": strings(fraud.card_id),
            "account_id": strings(fraud.account_id),
            "label_type": pa.array([feed.label_type] * int(learned.sum()), pa.string()),
            "label_value": pa.array(["fraud"] * int(learned.sum()), pa.string()),
            "effective_ts_utc": _ts(ts_us[learned]),
            "observed_ts_utc": _ts(observed_us[learned]),
        }
    )
