"""Factories for importer tests: valid rows and mappings by default; a test changes one thing.

``make_rows(n)`` gives valid rows (every 4th one fraud); ``base_mapping()`` a valid mapping
document for them; ``write_csv``/``write_parquet`` put rows in a file; ``pack_table`` reads one
output of a sealed pack back.
"""

from __future__ import annotations

import csv
import glob
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

Row = dict[str, Any]


def base_mapping() -> dict[str, Any]:
    return {
        "mapping_version": "1",
        "name": "synthetic_test",
        "time": {"column": "t", "mode": "seconds_from_start", "start_utc": "2024-03-01T00:00:00Z"},
        "amount": {"column": "amt", "unit": "major", "currency": {"value": "EUR"}},
        "entities": {"card_id": {"column": "card"}, "merchant_id": {"column": "shop"}},
        "features": [
            {"column": "score", "name": "score", "type": "float64"},
            {"column": "n_items", "name": "n_items", "type": "int64"},
        ],
        "truth": {"column": "is_bad", "fraud_values": ["1"], "legit_values": ["0"]},
        "label_feed": {"min_delay_days": 10, "max_delay_days": 20},
    }


def make_rows(n: int = 12) -> list[Row]:
    """Valid rows: 1 h apart from second 0 (so they span a UTC day boundary at n > 24)."""
    return [
        {
            "t": str(3600 * i + 0.5),
            "amt": f"{10 + i}.{i % 100:02d}",
            "card": f"C{i % 5}",
            "shop": f"M{i % 3}",
            "score": str(0.25 * i),
            "n_items": str(i % 7),
            "is_bad": "1" if i % 4 == 3 else "0",
        }
        for i in range(n)
    ]


def write_csv(path: Path, rows: list[Row]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_parquet(path: Path, table: pa.Table) -> Path:
    pq.write_table(table, path)
    return path


def pack_table(locator: str | Path, output_id: str) -> pa.Table:
    """Every part of one output of a sealed pack, concatenated in path order."""
    files = sorted(glob.glob(f"{locator}/outputs/{output_id}/utc_day=*/part-*.parquet"))
    return pa.concat_tables([pq.read_table(f) for f in files])
