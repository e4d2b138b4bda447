"""``import_world``: seal an external transaction table (CSV or Parquet) as a world pack.

This module owns the order of work: check the seed and scenario, fingerprint the input, read its
mapped columns, validate every row (in slices of :data:`SLICE_ROWS`, so intermediates stay
bounded), apply the bad-row policy, then hand the outputs to the engine's
:class:`~world_engine.pack_writer.PackWriter`, which writes, gates and seals them write-once.

Identity. The manifest's ``parameters`` are ``{"kind": "fp.world_import.v1", "input": {sha256,
size_bytes, format}, "mapping": <canonical mapping>, "import_report": {...}}`` and
``parameter_hash`` is the sha256 of their canonical JSON, as for generated worlds. The report
(rows read and imported, fraud rows, label events, bad rows by reason) is a function of the input
bytes and the mapping, so it adds no identity of its own, but it lets anyone read the counts from
the manifest. The input's name and location are not part of it: the same bytes, mapping and seed
give the same locator and a byte-identical pack, and a second import is refused as existing.

Bad rows. ``refuse``: any bad row raises :class:`ImportBadRowsError` (counts per reason plus the
first examples) and nothing is written. ``quarantine``: bad rows are left out of traffic, truth
and labels, written to the ``<event_type>_quarantine`` reference output (reason, column, raw
value) and counted in the manifest's ``import_report``.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pyarrow as pa

from app.rails.canonical_json import canonical_dumps, sha256_hex
from world_engine.generate import check_inputs
from world_engine.importer.bad_rows import BadRowReport
from world_engine.importer.catalog import build_interface
from world_engine.importer.errors import ImportBadRowsError, ImportInputError
from world_engine.importer.mapping import ImportMapping, load_mapping
from world_engine.importer.reader import fingerprint, read_source, source_format
from world_engine.importer.tables import (
    FraudRows,
    label_table,
    quarantine_table,
    traffic_table,
    truth_table,
)
from world_engine.importer.validate import BadRows, GoodRows, RowValidator
from world_engine.pack_writer import PackWriter, WorldLocator

__all__ = ["IMPORT_KIND", "SLICE_ROWS", "import_world"]

IMPORT_KIND = "fp.world_import.v1"
"""Tags an import's parameters, so they can never hash like a generator's."""
SLICE_ROWS = 1 << 20
"""Rows validated at a time (bounds the validator's intermediates, not the pack's buffers)."""

_DAY_US = 86_400_000_000
_EPOCH = dt.date(1970, 1, 1)


def import_world(
    input_path: str | os.PathLike[str],
    mapping: ImportMapping | str | os.PathLike[str],
    seed: int,
    oracle_root: str | os.PathLike[str],
    scenario_id: str = "baseline",
) -> WorldLocator:
    """Import ``input_path`` under ``mapping`` and seal it as a world pack under ``oracle_root``.

    Args:
        input_path: a CSV (text, header line first) or Parquet file.
        mapping: an :class:`ImportMapping` or the path of a MAP.yaml.
        seed: integer in [0, 2**63 - 1]; drives only the label feed's draws.
        oracle_root: local folder of the Oracle Store.
        scenario_id: the scenario name the pack is sealed for (a path token).

    Returns:
        The sealed pack's locator, identity and row counts per output; the manifest's
        ``parameters.import_report`` holds the row, fraud and bad-row counts.

    Raises:
        WorldParamsError: bad seed or scenario_id.
        ImportMappingError: the mapping file is invalid.
        ImportInputError: the input cannot be read, lacks a mapped column, or has no good row.
        ImportBadRowsError: ``bad_rows: refuse`` and bad rows were found; nothing was written.
        WorldPackExistsError: the locator already holds a pack; nothing was written.
    """
    check_inputs(seed, scenario_id)
    if not isinstance(mapping, ImportMapping):
        mapping = load_mapping(mapping)
    where = str(input_path)
    digest = fingerprint(input_path)
    kind = source_format(input_path, mapping)
    table = read_source(input_path, mapping)
    if table.num_rows == 0:
        raise ImportInputError(where, "the file has no data rows")

    report = BadRowReport()
    validator = RowValidator(mapping, where)
    good_slices: list[GoodRows] = []
    bad_slices: list[BadRows] = []
    for first in range(0, table.num_rows, SLICE_ROWS):
        good, bad = validator.validate(table.slice(first, SLICE_ROWS), first, report)
        good_slices.append(good)
        bad_slices.append(bad)
    del table
    if report.total and mapping.bad_rows == "refuse":
        raise ImportBadRowsError(where, sum(len(g) for g in good_slices) + report.total, report)
    imported = sum(len(g) for g in good_slices)
    if imported == 0:
        raise ImportInputError(where, f"none of its rows is importable\n{report.describe()}")

    fraud = FraudRows.empty()
    for good in good_slices:
        fraud.add(good)
    labels = None if mapping.label_feed is None else label_table(fraud, mapping.label_feed, seed)
    parameters = {
        "kind": IMPORT_KIND,
        "input": {"sha256": digest.sha256, "size_bytes": digest.size_bytes, "format": kind},
        "mapping": mapping.canonical(),
        "import_report": {
            "rows_read": imported + report.total,
            "rows_imported": imported,
            "fraud_rows": len(fraud),
            "label_events": 0 if labels is None else labels.num_rows,
            "bad_rows": report.total,
            "bad_rows_by_reason": report.summary(),
        },
    }
    return _write(mapping, seed, oracle_root, scenario_id, parameters, good_slices, bad_slices,
                  labels)


def _first_day(good_slices: list[GoodRows]) -> dt.date:
    first_us = min(int(g.ts_us.min()) for g in good_slices if len(g))
    return _EPOCH + dt.timedelta(days=first_us // _DAY_US)


def _write(
    mapping: ImportMapping,
    seed: int,
    oracle_root: str | os.PathLike[str],
    scenario_id: str,
    parameters: dict[str, Any],
    good_slices: list[GoodRows],
    bad_slices: list[BadRows],
    labels: pa.Table | None,
) -> WorldLocator:
    raw_interface, interface = build_interface(mapping)
    with PackWriter(
        oracle_root=oracle_root,
        seed=seed,
        scenario_id=scenario_id,
        parameters=parameters,
        parameter_hash=sha256_hex(canonical_dumps(parameters)),
        interface_bytes=raw_interface,
        interface=interface,
        reference_day=_first_day(good_slices),
    ) as writer:
        for good in good_slices:
            if len(good):
                writer.add(mapping.traffic_output_id, traffic_table(good))
                writer.add(mapping.truth_output_id, truth_table(good))
        if labels is not None:
            writer.add(mapping.label_output_id, labels)
        if mapping.bad_rows == "quarantine":
            for bad in bad_slices:
                if len(bad.source_row):
                    writer.add(mapping.quarantine_output_id, quarantine_table(bad))
        return writer.seal()

