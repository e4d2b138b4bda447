"""The model factory on the ULB table's own columns, without the platform: the learning loop's
ceiling on ULB (issue #15), for when the full run is bound by the embedded broker.

Builds the dataset layout the factory reads straight from ``creditcard.csv`` (``make ulb-data``):
``txn.v1..v28``, ``txn.amount_minor`` and ``txn.hour_utc`` as the import maps them (second 0 is
2013-09-01T00:00:00Z), the Class column as the label, no incumbent. Trains with the factory's
pinned parameters on the first ``--train-fraction`` of event time and prints the held-out
ROC-AUC and average precision. ``python -m bench.bench_ulb_factory [--csv PATH]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from app.factory import train_and_evaluate

START_US = 1_377_993_600_000_000  # 2013-09-01T00:00:00Z, the ULB mapping's second 0
DEFAULT_CSV = Path(".cache/datasets/ulb_creditcard/creditcard.csv")


def table_of(csv: Path) -> tuple[pa.Table, list[str]]:
    source = pcsv.read_csv(csv)
    n = source.num_rows
    seconds = np.asarray(source.column("Time").to_numpy(), dtype=np.float64)
    ts = (START_US + np.round(seconds * 1e6)).astype(np.int64)
    features = [f"txn.v{i}" for i in range(1, 29)] + ["txn.amount_minor", "txn.hour_utc"]
    columns: dict[str, pa.Array] = {
        "run_id": pa.array(["ulb"] * n), "flow_id": pa.array([f"txn_{i:012d}" for i in range(n)]),
        "trigger_event_id": pa.array([f"{i:064x}" for i in range(n)]),
        "ts_utc": pa.array([""] * n), "ts_us": pa.array(ts),
        "label": pa.array(np.asarray(source.column("Class").to_numpy(), dtype=np.int8)),
        "incumbent_score": pa.array(np.full(n, np.nan)),
        "incumbent_outcome": pa.array([""] * n), "incumbent_bundle": pa.array([""] * n)}
    for i in range(1, 29):
        columns[f"txn.v{i}"] = pa.array(np.asarray(source.column(f"V{i}").to_numpy(),
                                                   dtype=np.float64))
    columns["txn.amount_minor"] = pa.array(
        np.round(np.asarray(source.column("Amount").to_numpy()) * 100))
    columns["txn.hour_utc"] = pa.array(((ts // 3_600_000_000) % 24).astype(np.float64))
    return pa.table(columns), features


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--train-fraction", type=float, default=0.8)
    args = parser.parse_args()
    table, features = table_of(args.csv)
    started = time.monotonic()
    result = train_and_evaluate(table, features, "0" * 64, train_fraction=args.train_fraction,
                                bundle_id="ulb-bench", version=1, scope="auth",
                                code_version="bench")
    e = result.evaluation
    print(f"ULB factory: train {result.train_rows:,} rows, test {result.test_rows:,} "
          f"({e.test_positives} positive) from {result.split_ts_utc}; held-out ROC-AUC "
          f"{e.candidate.roc_auc:.4f}, AP {e.candidate.average_precision:.4f}, recall at 1 % FPR "
          f"{e.candidate.recall_at_1pct_fpr:.4f}; {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
