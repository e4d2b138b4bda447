"""The interface pack of an imported world: its output catalogue and gate map, from the mapping.

This module owns what the platform will see of an import. An imported world has

* ``<event_type>`` (role ``business_traffic``, gate ``gate.traffic``): one row per good source
  row, primary key ``txn_id`` = ``txn_<12-digit source row>``, time column ``ts_utc``, the six
  entity ids (null when unmapped), ``amount_minor`` + ``currency``, then the mapped features;
* ``<event_type>_label`` or the mapping's ``label_feed.event_type`` (role ``label_feed``, gate
  ``gate.labels``), only with a ``label_feed``: the bank's delayed fraud labels;
* ``<event_type>_truth`` (role ``truth``, gate ``gate.truth``): every good row's ground truth,
  never streamed;
* ``<event_type>_quarantine`` (role ``reference``, gate ``gate.quarantine``), only under
  ``bad_rows: quarantine``: the bad rows, their reason codes and raw values.

The YAML bytes are produced deterministically from the mapping (PyYAML, insertion order), copied
into the pack, and their sha256 enters the ``manifest_fingerprint``.
"""

from __future__ import annotations

from typing import Any

import yaml

from world_engine.importer.mapping import ENTITY_COLUMNS, ImportMapping, LabelFeedSpec
from world_engine.interface import InterfacePack

__all__ = ["IMPORTER_ENGINE", "IMPORTER_VERSION", "build_interface"]

IMPORTER_ENGINE = "fp-importer"
IMPORTER_VERSION = "1.0.0"
"""Engine name and version in every imported pack: part of its ``manifest_fingerprint``."""

_TS = "timestamp[us, tz=UTC]"
_HEADER = (
    "# Interface pack of a world imported by `fp world import` (docs/world_pack_format.md),\n"
    "# generated from mapping {name!r}. Money is int64 minor units plus an ISO 4217 currency;\n"
    "# txn_id = txn_<12-digit 0-based source row>. Truth is never streamed.\n"
)


def _col(name: str, type_: str, nullable: bool, description: str | None = None) -> dict[str, Any]:
    column: dict[str, Any] = {"name": name, "type": type_, "nullable": nullable}
    if description is not None:
        column["description"] = description
    return column


def _output(
    output_id: str,
    role: str,
    event_type: str | None,
    schema_version: str,
    primary_key: list[str],
    time_column: str | None,
    gate: str,
    description: str,
    columns: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "output_id": output_id,
        "role": role,
        "event_type": event_type,
        "schema_version": schema_version,
        "primary_key": primary_key,
        "time_column": time_column,
        "path_template": f"outputs/{output_id}/utc_day={{utc_day}}/part-{{part:05d}}.parquet",
        "gate": gate,
        "description": description,
        "columns": columns,
    }


def _traffic(m: ImportMapping) -> dict[str, Any]:
    mapped = {name: spec.column for name, spec in m.entities.items()}
    columns = [
        _col("txn_id", "string", False, "txn_<12 digits>: the 0-based source row"),
        _col("ts_utc", _TS, False, f"from source column {m.time.column!r} ({m.time.mode})"),
    ]
    for entity in ENTITY_COLUMNS:
        source = mapped.get(entity)
        required = source is not None and m.entities[entity].required
        note = f"from source column {source!r}" if source else "not in the source: always null"
        columns.append(_col(entity, "string", not required, note))
    currency = m.amount.currency
    columns += [
        _col("amount_minor", "int64", False, f"from source column {m.amount.column!r}"),
        _col("currency", "string", False,
             f"fixed {currency.value}" if currency.value else f"from column {currency.column!r}"),
    ]
    columns += [
        _col(f.name, f.type, f.nullable, f"from source column {f.column!r}") for f in m.features
    ]
    return _output(m.traffic_output_id, "business_traffic", m.output.event_type,
                   m.output.schema_version, ["txn_id"], "ts_utc", "gate.traffic",
                   f"Imported transactions of {m.name}; one per good source row.", columns)


def _labels(m: ImportMapping, feed: LabelFeedSpec) -> dict[str, Any]:
    columns = [
        _col("label_event_id", "string", False, "lbl_<txn digits>"),
        _col("txn_id", "string", False),
        _col("card_id", "string", True),
        _col("account_id", "string", True),
        _col("label_type", "string", False, feed.label_type),
        _col("label_value", "string", False, "fraud"),
        _col("effective_ts_utc", _TS, False, "when it was true (the transaction time)"),
        _col("observed_ts_utc", _TS, False, "when the bank learned it"),
    ]
    return _output(m.label_output_id, "label_feed", m.label_output_id, feed.schema_version,
                   ["label_event_id"], "observed_ts_utc", "gate.labels",
                   f"{feed.label_type} labels on fraud rows, {feed.min_delay_days:g}-"
                   f"{feed.max_delay_days:g} days after the transaction (coverage "
                   f"{feed.coverage:g}).", columns)


def _truth(m: ImportMapping) -> dict[str, Any]:
    columns = [
        _col("txn_id", "string", False),
        _col("ts_utc", _TS, False, "the transaction time"),
        _col("is_fraud", "bool", False),
        _col("label", "string", False, "fraud | legit"),
        _col("subtype", "string", True,
             f"from source column {m.truth.subtype_column!r}" if m.truth.subtype_column
             else "not in the source: always null"),
        _col("source_label", "string", False, f"raw value of source column {m.truth.column!r}"),
    ]
    return _output(m.truth_output_id, "truth", None, "v1", ["txn_id"], "ts_utc", "gate.truth",
                   "Ground truth per transaction; never streamed, never a feature input.",
                   columns)


def _quarantine(m: ImportMapping) -> dict[str, Any]:
    columns = [
        _col("source_row", "int64", False, "0-based data row of the input"),
        _col("txn_id", "string", False, "the id the row would have had"),
        _col("reason_code", "string", False, "BadRowReason: the first check the row failed"),
        _col("column", "string", False, "the source column that failed"),
        _col("raw_value", "string", True, "its raw value (first 200 characters)"),
    ]
    return _output(m.quarantine_output_id, "reference", None, "v1", ["source_row"], None,
                   "gate.quarantine", "Source rows that were not imported, and why.", columns)


def build_interface(mapping: ImportMapping) -> tuple[bytes, InterfacePack]:
    """The interface pack's exact YAML bytes and its parsed form (validated like the engine's)."""
    outputs = [_traffic(mapping)]
    gates = [{"gate_id": "gate.traffic", "outputs": [mapping.traffic_output_id]}]
    if mapping.label_feed is not None:
        outputs.append(_labels(mapping, mapping.label_feed))
        gates.append({"gate_id": "gate.labels", "outputs": [mapping.label_output_id]})
    outputs.append(_truth(mapping))
    gates.append({"gate_id": "gate.truth", "outputs": [mapping.truth_output_id]})
    if mapping.bad_rows == "quarantine":
        outputs.append(_quarantine(mapping))
        gates.append({"gate_id": "gate.quarantine", "outputs": [mapping.quarantine_output_id]})
    document = {
        "interface_version": "1",
        "engine": {"name": IMPORTER_ENGINE, "version": IMPORTER_VERSION},
        "outputs": outputs,
        "gates": gates,
    }
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    raw = (_HEADER.format(name=mapping.name) + body).encode("utf-8")
    return raw, InterfacePack.model_validate(yaml.safe_load(raw))
