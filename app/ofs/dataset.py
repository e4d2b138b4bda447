"""Training datasets: one row per decision trigger of some runs, features rebuilt offline,
labels as known at a time, described by a :class:`~app.rails.dataset.DatasetManifest`.

:func:`assemble_dataset` is pure (archived traffic, audit records and label timelines in;
manifest and Parquet bytes out); :func:`build_dataset` reads its inputs from the object store
(IG's archive, DLA's audit log, the Label Store) and :func:`write_dataset` stores the result
create-only::

    ofs/datasets/<dataset_id>/data.parquet
    ofs/datasets/<dataset_id>/manifest.json     (written last: its presence means complete)

A Parquet file larger than :data:`PART_BYTES` (the object store refuses objects over its limit,
64 MiB by default; the full ULB table is ~67 MiB) is stored as consecutive byte ranges
``data.parquet.000``, ``data.parquet.001``, ... of the same file; :func:`read_data` joins them
and checks the manifest's ``content_digest`` either way.

Rows. Every trigger the offline fold snapshots (``app.ofs.rebuild``: the traffic the run's
decisions answer, under each decision's recorded posture), except those whose authorisation time
+ ``maturity_days`` is after ``label_as_of_utc`` (counted as ``excluded_immature``), ordered by
``(ts_us, trigger_event_id)``. A flow's id is its payload's ``flow_id`` (``txn_id`` for imported
tables without one). Its label follows the manifest's label definition: 1 iff the latest
assertion among ``label_types`` observed at or before ``label_as_of_utc`` has a value in
``positive_values``, else 0 (a revision observed later is not seen).

Columns, fixed (the model factory reads them): ``run_id``, ``flow_id``, ``trigger_event_id``,
``ts_utc`` (strings), ``ts_us`` (int64), ``label`` (int8), ``incumbent_score`` (float64: the
audited decision's score, NaN when none), ``incumbent_outcome`` (string: APPROVE, STEP_UP,
REVIEW, DECLINE; "" with no audited decision), ``incumbent_bundle`` (``bundle_id@version`` or
""), then one float64 column per feature, named by the feature, in the manifest's order (the
sorted names of the rows' snapshots): booleans 1.0/0.0, None or absent NaN.

Bytes. Fixed schema, fixed writer options and no metadata that varies (no timestamps, no paths):
the same inputs give the same bytes, so the same manifest rebuilds the same ``content_digest``.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, get_args

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from app.df.policy import DecisionPolicy
from app.dla.lookup import read_audit_records
from app.labels.reader import read_label_store
from app.labels.timeline import LabelTimelines, order_key
from app.objectstore.base import ObjectStore
from app.ofs.archive_source import (
    ArchivedRun,
    audit_of_run,
    declared_of_run,
    read_archived_run,
)
from app.ofs.errors import DatasetInputError, NothingToBuildError
from app.ofs.rebuild import DEFAULT_TOPIC, rebuild_snapshots
from app.ofs.run import check_run_id
from app.rails.audit import AuditRecord
from app.rails.canonical_json import canonical_loads, pretty_dumps
from app.rails.dataset import (
    DatasetCounts,
    DatasetManifest,
    DatasetRun,
    LabelDefinition,
    TrafficSpan,
    dataset_id_of,
)
from app.rails.decision import FeatureSetRef, FeatureSnapshot
from app.rails.digests import digest_bytes
from app.rails.errors import ContractError
from app.rails.label import LabelType
from app.rails.payloads.declared import DeclaredContract
from app.rails.policy_rev import PolicyRev
from app.rails.posture import Posture
from app.rails.timefmt import ts_to_epoch_micros

__all__ = [
    "DATASETS_PREFIX",
    "DEFAULT_LABEL_DEFINITION",
    "RunInputs",
    "assemble_dataset",
    "build_dataset",
    "code_version",
    "data_key",
    "dataset_schema",
    "flow_id_of",
    "manifest_key",
    "part_key",
    "read_data",
    "read_manifest",
    "write_dataset",
]

DATASETS_PREFIX = "ofs/datasets"
DAY_US = 86_400_000_000
DEFAULT_LABEL_DEFINITION = LabelDefinition(label_types=get_args(LabelType),
                                           positive_values=("fraud", "abuse"))
"""Every label type; fraud and abuse are positive."""

_WRITER: dict[str, Any] = {"compression": "zstd", "compression_level": 3, "use_dictionary": True,
           "write_statistics": True, "row_group_size": 1 << 20, "version": "2.6",
           "data_page_version": "1.0"}
"""Pinned Parquet writer options (the library defaults could move under us)."""


PART_BYTES = 32 * 1024 * 1024
"""A dataset's Parquet above this is stored in parts of this size (see the module doc)."""


def data_key(dataset_id: str) -> str:
    return f"{DATASETS_PREFIX}/{dataset_id}/data.parquet"


def part_key(dataset_id: str, n: int) -> str:
    return f"{data_key(dataset_id)}.{n:03d}"


def manifest_key(dataset_id: str) -> str:
    return f"{DATASETS_PREFIX}/{dataset_id}/manifest.json"


def code_version() -> str:
    """The installed package's version (``fraud-platform`` in pyproject)."""
    try:
        return metadata.version("fraud-platform")
    except metadata.PackageNotFoundError:  # running from a source tree that was not installed
        return "0+unknown"


def dataset_schema(features: Sequence[str]) -> pa.Schema:
    """The Parquet schema: the metadata columns, then one float64 column per feature."""
    return pa.schema([
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("flow_id", pa.string(), nullable=False),
        pa.field("trigger_event_id", pa.string(), nullable=False),
        pa.field("ts_utc", pa.string(), nullable=False),
        pa.field("ts_us", pa.int64(), nullable=False),
        pa.field("label", pa.int8(), nullable=False),
        pa.field("incumbent_score", pa.float64(), nullable=False),
        pa.field("incumbent_outcome", pa.string(), nullable=False),
        pa.field("incumbent_bundle", pa.string(), nullable=False),
        *(pa.field(name, pa.float64(), nullable=False) for name in features)])


@dataclass(frozen=True)
class RunInputs:
    """What one run contributes: its archived traffic and its audit records."""

    run: ArchivedRun
    audit: Sequence[AuditRecord]
    """The run's audit records (:func:`app.ofs.archive_source.audit_of_run`)."""
    declared: Mapping[tuple[str, str], DeclaredContract] = field(default_factory=dict)
    """The run's generated payload contracts (an imported world; {} for a generated one)."""


@dataclass(frozen=True, slots=True)
class _Row:
    run_id: str
    flow_id: str
    event_id: str
    ts_utc: str
    ts_us: int
    label: int
    audit: AuditRecord | None
    snapshot: FeatureSnapshot


def flow_id_of(envelope: Mapping[str, Any]) -> str:
    """A trigger's flow: its payload's ``flow_id``, else ``txn_id`` (imported tables), as a
    string ("" when it has neither)."""
    payload = envelope.get("payload")
    if not isinstance(payload, dict):
        return ""
    flow = payload.get("flow_id", payload.get("txn_id"))
    return "" if flow is None else str(flow)


def _is_positive(timelines: LabelTimelines, subject: tuple[str, str], known_at_us: int,
                 definition: LabelDefinition) -> tuple[bool, bool]:
    """(labelled: some assertion of the definition's types known then, positive)."""
    active = timelines.active(subject, known_at_us=known_at_us)
    among = [a for t, a in active.items() if t in definition.label_types]
    if not among:
        return False, False
    verdict = max(among, key=order_key)
    return True, verdict.label_value in definition.positive_values


def _feature_value(value: object) -> float:
    if value is None:
        return math.nan
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    return float(value)  # type: ignore[arg-type]  # FeatureValue: int | float here


def _parquet_bytes(rows: Sequence[_Row], features: Sequence[str]) -> bytes:
    """The rows under :func:`dataset_schema`, written with the pinned options."""
    n = len(rows)
    columns: dict[str, Any] = {
        "run_id": [r.run_id for r in rows], "flow_id": [r.flow_id for r in rows],
        "trigger_event_id": [r.event_id for r in rows], "ts_utc": [r.ts_utc for r in rows],
        "ts_us": np.array([r.ts_us for r in rows], dtype=np.int64),
        "label": np.array([r.label for r in rows], dtype=np.int8),
        "incumbent_score": np.array(
            [math.nan if r.audit is None or r.audit.decision.score is None
             else float(r.audit.decision.score) for r in rows], dtype=np.float64),
        "incumbent_outcome": ["" if r.audit is None else r.audit.decision.outcome.value
                              for r in rows],
        "incumbent_bundle": ["" if r.audit is None or r.audit.decision.bundle is None
                             else f"{r.audit.decision.bundle.bundle_id}@"
                                  f"{r.audit.decision.bundle.version}" for r in rows]}
    index = {name: i for i, name in enumerate(features)}
    matrix = np.full((len(features), n), np.nan, dtype=np.float64)
    for j, row in enumerate(rows):
        for name, value in row.snapshot.values.items():
            matrix[index[name], j] = _feature_value(value)
    for name, i in index.items():
        columns[name] = matrix[i]
    table = pa.Table.from_pydict(columns, schema=dataset_schema(features))
    sink = io.BytesIO()
    pq.write_table(table, sink, **_WRITER)
    return sink.getvalue()


def assemble_dataset(inputs: Iterable[RunInputs], timelines: LabelTimelines, *,
                     label_as_of_utc: str, maturity_days: int,
                     label_definition: LabelDefinition, policy: DecisionPolicy,
                     policy_rev: PolicyRev, topic: str = DEFAULT_TOPIC,
                     version: str | None = None) -> tuple[DatasetManifest, bytes]:
    """The dataset of ``inputs`` (pure; see the module doc for rows, labels and columns).

    Raises:
        DatasetInputError: a malformed time or a negative maturity.
        NothingToBuildError: no audited decision, no archived traffic, no row left after the
            maturity window, or no label of the listed types known at ``label_as_of_utc``.
    """
    as_of_us = _as_of(label_as_of_utc)
    if maturity_days < 0:
        raise DatasetInputError(f"--maturity-days must be 0 or more, got {maturity_days}")
    ordered = sorted(inputs, key=lambda i: i.run.run_id)
    if not ordered:
        raise DatasetInputError("no run given")
    rows: list[_Row] = []
    excluded = labelled = 0
    horizon = as_of_us - maturity_days * DAY_US
    for item in ordered:
        run_id = item.run.run_id
        if not item.audit:
            raise NothingToBuildError(f"no audited decision of run {run_id} in the object "
                                      f"store (dla/segments)")
        if not item.run.partitions:
            raise NothingToBuildError(f"no archived traffic of run {run_id} (ig/archive)")
        postures: dict[str, Posture] = {}
        audits: dict[str, AuditRecord] = {}
        for record in item.audit:
            postures.setdefault(record.decision.trigger_event_id, record.decision.posture)
            audits.setdefault(record.decision.trigger_event_id, record)
        rebuild = rebuild_snapshots(item.run.traffic(), run_id, policy=policy,
                                    policy_rev=policy_rev, postures=postures, topic=topic,
                                    declared=item.declared)
        envelopes = item.run.envelopes()
        for event_id, snapshot in rebuild.snapshots.items():
            envelope = envelopes[event_id]
            ts_utc = str(envelope["ts_utc"])
            ts_us = ts_to_epoch_micros(ts_utc)
            if ts_us > horizon:
                excluded += 1
                continue
            flow_id = flow_id_of(envelope)
            known, positive = _is_positive(timelines, (run_id, flow_id), as_of_us,
                                           label_definition)
            labelled += known
            rows.append(_Row(run_id, flow_id, event_id, ts_utc, ts_us, int(positive),
                             audits.get(event_id), snapshot))
    if not rows:
        raise NothingToBuildError(f"no trigger old enough: all {excluded} are within "
                                  f"{maturity_days} days of {label_as_of_utc}")
    if not labelled:
        raise NothingToBuildError(f"no label of types {', '.join(label_definition.label_types)} "
                                  f"known at {label_as_of_utc} for any of the {len(rows)} flows")
    rows.sort(key=lambda r: (r.ts_us, r.event_id))
    features = sorted({name for r in rows for name in r.snapshot.values})
    sets = sorted({(s.name, s.digest) for r in rows for s in r.snapshot.feature_sets})
    data = _parquet_bytes(rows, features)
    positives = sum(r.label for r in rows)
    draft = DatasetManifest(
        dataset_id="0" * 64,
        runs=tuple(DatasetRun(run_id=i.run.run_id, traffic=tuple(
            TrafficSpan(partition=s.partition, generation=s.generation,
                        first_offset=s.first_offset, next_offset=s.next_offset)
            for s in i.run.spans())) for i in ordered),
        label_as_of_utc=label_as_of_utc, maturity_days=maturity_days,
        label_definition=label_definition,
        feature_sets=tuple(FeatureSetRef(name=n, digest=d) for n, d in sets),
        features=tuple(features), policy_rev=policy_rev,
        code_version=version or code_version(),
        counts=DatasetCounts(rows=len(rows), positives=positives,
                             negatives=len(rows) - positives, excluded_immature=excluded,
                             without_incumbent=sum(r.audit is None for r in rows)),
        content_digest=digest_bytes(data))
    return draft.model_copy(update={"dataset_id": dataset_id_of(draft)}), data


def _as_of(text: str) -> int:
    try:
        return ts_to_epoch_micros(text)
    except (ContractError, ValueError) as exc:
        raise DatasetInputError(f"--label-as-of: not a UTC timestamp like "
                                f"2024-03-01T12:00:00.000000Z: {text[:80]!r}") from exc


async def build_dataset(store: ObjectStore, run_ids: Sequence[str], label_as_of_utc: str,
                        maturity_days: int,
                        label_definition: LabelDefinition = DEFAULT_LABEL_DEFINITION, *,
                        policy: DecisionPolicy, policy_rev: PolicyRev,
                        topic: str = DEFAULT_TOPIC, version: str | None = None
                        ) -> tuple[DatasetManifest, bytes]:
    """Read the runs' archived traffic, the audit log and the Label Store, then
    :func:`assemble_dataset`. Nothing is written (see :func:`write_dataset`).

    Raises:
        DatasetInputError: a malformed run id or time, a negative maturity, no run.
        NothingToBuildError: see :func:`assemble_dataset`.
    """
    for run_id in run_ids:
        try:
            check_run_id(run_id)
        except Exception as exc:
            raise DatasetInputError(str(exc)) from None
    _as_of(label_as_of_utc)
    audit = await read_audit_records(store)
    inputs = [RunInputs(run=await read_archived_run(store, run_id),
                        audit=audit_of_run(audit, run_id),
                        declared=await declared_of_run(store, run_id))
              for run_id in sorted(set(run_ids))]
    timelines = (await read_label_store(store)).timelines
    return assemble_dataset(inputs, timelines, label_as_of_utc=label_as_of_utc,
                            maturity_days=maturity_days, label_definition=label_definition,
                            policy=policy, policy_rev=policy_rev, topic=topic, version=version)


async def write_dataset(store: ObjectStore, manifest: DatasetManifest, data: bytes) -> bool:
    """Store the Parquet bytes, then the manifest, create-only; True when this call wrote the
    manifest, False when the dataset was already complete with these exact bytes.

    Raises:
        ObjectExistsError: the dataset id already holds other bytes (a writer that is not
            deterministic, or a tampered store); nothing is overwritten.
    """
    key = manifest_key(manifest.dataset_id)
    existed = await store.exists(key)
    if len(data) <= PART_BYTES:
        await store.put(data_key(manifest.dataset_id), data)
    else:
        for n, start in enumerate(range(0, len(data), PART_BYTES)):
            await store.put(part_key(manifest.dataset_id, n), data[start:start + PART_BYTES])
    await store.put(key, pretty_dumps(manifest.model_dump(mode="json")))
    return not existed


async def read_data(store: ObjectStore, manifest: DatasetManifest) -> bytes:
    """The dataset's Parquet bytes (one object, or its parts joined), checked against the
    manifest's ``content_digest``.

    Raises:
        DatasetInputError: the bytes are missing or are not the ones the manifest names.
    """
    single = data_key(manifest.dataset_id)
    if await store.exists(single):
        data = await store.get(single)
    else:
        parts: list[bytes] = []
        while await store.exists(part_key(manifest.dataset_id, len(parts))):
            parts.append(await store.get(part_key(manifest.dataset_id, len(parts))))
        data = b"".join(parts)
    if digest_bytes(data) != manifest.content_digest:
        raise DatasetInputError(f"dataset {manifest.dataset_id}: the stored Parquet is missing "
                                "or is not the bytes its manifest names")
    return data


async def read_manifest(store: ObjectStore, dataset_id: str) -> DatasetManifest | None:
    """The stored manifest of ``dataset_id`` (None: no complete dataset of that id)."""
    key = manifest_key(dataset_id)
    if not await store.exists(key):
        return None
    return DatasetManifest.model_validate(canonical_loads(await store.get(key)))
