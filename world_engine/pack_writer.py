"""Writes a world pack exactly as docs/world_pack_format.md says, write-once and crash-safe.

This module owns the bytes of a pack: Parquet parts partitioned by ``utc_day`` with fixed writer
settings (zstd level 3, 131 072-row groups, format 2.6, data page v1, statistics on, Arrow schema
stored; pyarrow writes no timestamps, so equal tables give equal bytes for a given pyarrow
version), the gate bundles (``index.json`` + ``_passed.flag``), ``manifest.json`` and, last,
``_SEALED.json``. Everything is written into a hidden temporary sibling of the locator folder and
renamed into place only after ``_SEALED.json``: a crash leaves no half pack at the locator, and a
rename onto an existing pack fails, so a sealed pack is never replaced. Files are opened with
``"xb"`` (create-only). Rows of each part are sorted by the output's time column, then its
primary key; tables must match the interface pack's Arrow schema (no extra, missing or
mistyped columns, no nulls in non-nullable ones).

Partitions are buffered until complete: the caller generates days in order and calls
:meth:`PackWriter.flush_through` with the last finished day, so memory holds only the partitions
that later days can still add to (clearings and labels that land in the future).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from app.rails.canonical_json import canonical_dumps, sha256_hex
from app.rails.ids import make_id
from world_engine.errors import WorldPackExistsError, WorldPackWriteError
from world_engine.interface import InterfacePack, OutputSpec

__all__ = [
    "MAX_ROWS_PER_PART",
    "PACK_FORMAT",
    "PARQUET_OPTIONS",
    "PackWriter",
    "WorldLocator",
    "locator_path",
    "manifest_fingerprint",
]

PACK_FORMAT = "fp.world_pack.v1"
MAX_ROWS_PER_PART = 2_000_000
PARQUET_OPTIONS: dict[str, Any] = {
    "row_group_size": 131_072,
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": True,
    "write_statistics": True,
    "version": "2.6",
    "data_page_version": "1.0",
    "store_schema": True,
}
"""Fixed writer settings: part of the determinism contract, never taken from the environment."""

_DAY_US = 86_400_000_000
_EPOCH = dt.date(1970, 1, 1)


def manifest_fingerprint(
    engine_name: str, engine_version: str, interface_sha256: str, parameter_hash: str
) -> str:
    """sha256 of canonical ``["world_manifest", name, version, interface sha, parameter_hash]``."""
    return make_id("world_manifest", engine_name, engine_version, interface_sha256, parameter_hash)


def locator_path(
    oracle_root: str | os.PathLike[str],
    seed: int,
    parameter_hash: str,
    fingerprint: str,
    scenario_id: str,
) -> Path:
    """``<root>/seed=…/parameter_hash=…/manifest_fingerprint=…/scenario_id=…`` (absolute)."""
    root = str(oracle_root)
    if "://" in root:
        raise WorldPackWriteError(
            f"oracle root {root!r}: the generator writes local folders only; generate locally and "
            "upload the sealed pack folder"
        )
    return Path(os.path.abspath(root)) / (
        f"seed={seed}/parameter_hash={parameter_hash}/"
        f"manifest_fingerprint={fingerprint}/scenario_id={scenario_id}"
    )


@dataclass(frozen=True, slots=True)
class WorldLocator:
    """Where a sealed pack is and what identifies it."""

    path: str
    seed: int
    parameter_hash: str
    manifest_fingerprint: str
    scenario_id: str
    row_counts: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.path


@dataclass(slots=True)
class _FileEntry:
    path: str
    sha256: str
    size_bytes: int


class PackWriter:
    """Buffers output tables by ``utc_day``, writes parts, gates, manifest and seal."""

    def __init__(
        self,
        *,
        oracle_root: str | os.PathLike[str],
        seed: int,
        scenario_id: str,
        parameters: dict[str, Any],
        parameter_hash: str,
        interface_bytes: bytes,
        interface: InterfacePack,
        reference_day: dt.date,
    ) -> None:
        self._interface = interface
        self._interface_sha = sha256_hex(interface_bytes)
        self._fingerprint = manifest_fingerprint(
            interface.engine.name, interface.engine.version, self._interface_sha, parameter_hash
        )
        self._seed, self._scenario_id = seed, scenario_id
        self._parameters, self._parameter_hash = parameters, parameter_hash
        self._reference_day = (reference_day - _EPOCH).days
        self._final = locator_path(
            oracle_root, seed, parameter_hash, self._fingerprint, scenario_id
        )
        self._root = Path(os.path.abspath(str(oracle_root)))
        self._schemas = {o.output_id: o.arrow_schema() for o in interface.outputs}
        self._buffers: dict[tuple[str, int], list[pa.Table]] = defaultdict(list)
        self._files: dict[str, list[_FileEntry]] = {o.output_id: [] for o in interface.outputs}
        self._rows: dict[str, int] = {o.output_id: 0 for o in interface.outputs}
        self._written: set[tuple[str, int]] = set()
        self._tmp: Path | None = None
        self.refuse_existing()
        self._final.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = Path(
            tempfile.mkdtemp(prefix=f".{self._final.name}.", suffix=".tmp", dir=self._final.parent)
        )
        self._write_bytes("interface_pack.yaml", interface_bytes)

    @property
    def locator(self) -> Path:
        return self._final

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    def refuse_existing(self) -> None:
        """Raise :class:`WorldPackExistsError` if anything but an empty folder is at the locator."""
        if (self._final / "_SEALED.json").exists():
            raise WorldPackExistsError(str(self._final), sealed=True)
        if self._final.exists() and any(self._final.iterdir()):
            raise WorldPackExistsError(str(self._final), sealed=False)

    # -- rows ----------------------------------------------------------------------------------
    def add(self, output_id: str, table: pa.Table) -> None:
        """Buffer rows of ``output_id`` into their ``utc_day`` partitions."""
        spec = self._interface.output(output_id)
        table = self._conform(spec, table)
        if table.num_rows == 0:
            return
        if spec.time_column is None:
            self._buffer(output_id, self._reference_day, table)
            return
        days = table.column(spec.time_column).cast(pa.int64()).to_numpy() // _DAY_US
        if (days == days[0]).all():
            self._buffer(output_id, int(days[0]), table)
            return
        for day in np.unique(days):
            self._buffer(output_id, int(day), table.filter(pa.array(days == day)))

    def _buffer(self, output_id: str, day: int, table: pa.Table) -> None:
        if (output_id, day) in self._written:
            raise WorldPackWriteError(
                f"{output_id}: rows for utc_day {_EPOCH + dt.timedelta(days=day)} arrived after "
                "that partition was written (generate days in order, flush only finished days)"
            )
        self._buffers[(output_id, day)].append(table)

    def flush_through(self, last_day: dt.date) -> None:
        """Write every buffered partition whose ``utc_day`` is on or before ``last_day``."""
        limit = (last_day - _EPOCH).days
        for key in sorted(k for k in self._buffers if k[1] <= limit):
            self._write_partition(key[0], key[1], self._buffers.pop(key))

    def _conform(self, spec: OutputSpec, table: pa.Table) -> pa.Table:
        schema = self._schemas[spec.output_id]
        if table.column_names != list(schema.names):
            raise WorldPackWriteError(
                f"{spec.output_id}: columns {table.column_names} differ from the interface pack "
                f"{schema.names}"
            )
        for f in schema:
            if not f.nullable and table.column(f.name).null_count:
                raise WorldPackWriteError(f"{spec.output_id}.{f.name}: nulls in a non-null column")
        return table.cast(schema)

    def _write_partition(self, output_id: str, day: int, tables: list[pa.Table]) -> None:
        spec = self._interface.output(output_id)
        table = pa.concat_tables(tables)
        keys = [(c, "ascending") for c in ((spec.time_column,) if spec.time_column else ())]
        table = table.sort_by(keys + [(c, "ascending") for c in spec.primary_key])
        utc_day = (_EPOCH + dt.timedelta(days=day)).isoformat()
        self._written.add((output_id, day))
        for part in range(max(1, -(-table.num_rows // MAX_ROWS_PER_PART))):
            self._write_part(
                spec, utc_day, part, table.slice(part * MAX_ROWS_PER_PART, MAX_ROWS_PER_PART)
            )

    def _write_part(self, spec: OutputSpec, utc_day: str, part: int, table: pa.Table) -> None:
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, **PARQUET_OPTIONS)
        data = sink.getvalue()
        rel = spec.part_path(utc_day, part)
        entry = self._write_bytes(rel, memoryview(data))
        self._files[spec.output_id].append(entry)
        self._rows[spec.output_id] += table.num_rows

    def _write_bytes(self, rel: str, data: bytes | memoryview) -> _FileEntry:
        if self._tmp is None:
            raise WorldPackWriteError("the pack writer is closed")
        path = self._tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "xb") as fh:  # create-only: a pack file is never replaced
            fh.write(data)
        return _FileEntry(rel, hashlib.sha256(data).hexdigest(), len(data))

    # -- sealing -------------------------------------------------------------------------------
    def seal(self) -> WorldLocator:
        """Write what is left, the gates, the manifest and ``_SEALED.json``; move into place."""
        for key in sorted(self._buffers):
            self._write_partition(key[0], key[1], self._buffers.pop(key))
        for spec in self._interface.outputs:
            if not self._files[spec.output_id]:  # an empty output still gets one (empty) part
                reference = (_EPOCH + dt.timedelta(days=self._reference_day)).isoformat()
                self._write_part(spec, reference, 0, self._schemas[spec.output_id].empty_table())
        gates = []
        for gate in self._interface.gates:
            files = sorted((f for o in gate.outputs for f in self._files[o]), key=lambda f: f.path)
            index = canonical_dumps(
                {
                    "gate_id": gate.gate_id,
                    "files": [
                        {"path": f.path, "sha256": f.sha256, "size_bytes": f.size_bytes}
                        for f in files
                    ],
                }
            )
            index_sha = sha256_hex(index)
            self._write_bytes(f"gates/{gate.gate_id}/index.json", index)
            self._write_bytes(
                f"gates/{gate.gate_id}/_passed.flag",
                canonical_dumps(
                    {
                        "gate_id": gate.gate_id,
                        "bundle_digest": {"algo": "sha256", "hex": index_sha},
                    }
                ),
            )
            gates.append({"gate_id": gate.gate_id, "index_sha256": index_sha})
        manifest = canonical_dumps(
            {
                "pack_format": PACK_FORMAT,
                "engine": {
                    "name": self._interface.engine.name,
                    "version": self._interface.engine.version,
                },
                "interface_pack": {
                    "version": self._interface.interface_version,
                    "sha256": self._interface_sha,
                },
                "seed": self._seed,
                "parameter_hash": self._parameter_hash,
                "manifest_fingerprint": self._fingerprint,
                "scenario_id": self._scenario_id,
                "parameters": self._parameters,
                "outputs": [
                    {
                        "output_id": o.output_id,
                        "role": o.role,
                        "row_count": self._rows[o.output_id],
                        "files": sorted(f.path for f in self._files[o.output_id]),
                    }
                    for o in self._interface.outputs
                ],
                "gates": gates,
            }
        )
        self._write_bytes("manifest.json", manifest)
        self._write_bytes(
            "_SEALED.json",
            canonical_dumps({"pack_format": PACK_FORMAT, "manifest_sha256": sha256_hex(manifest)}),
        )
        self._move_into_place()
        return WorldLocator(
            path=str(self._final),
            seed=self._seed,
            parameter_hash=self._parameter_hash,
            manifest_fingerprint=self._fingerprint,
            scenario_id=self._scenario_id,
            row_counts=dict(self._rows),
        )

    def _move_into_place(self) -> None:
        if self._tmp is None:
            raise WorldPackWriteError("the pack writer is closed")
        self.refuse_existing()
        try:
            os.rename(self._tmp, self._final)  # atomic; fails onto a non-empty folder
        except OSError as exc:
            if self._final.exists():
                raise WorldPackExistsError(
                    str(self._final), sealed=(self._final / "_SEALED.json").exists()
                ) from exc
            raise WorldPackWriteError(f"cannot move the pack into {self._final}: {exc}") from exc
        self._tmp = None

    def abort(self) -> None:
        """Remove the temporary folder (and parents left empty); the locator is untouched."""
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        folder = self._final.parent
        while folder != self._root and folder.is_relative_to(self._root):
            try:
                folder.rmdir()  # only succeeds when empty
            except OSError:
                break
            folder = folder.parent

    def __enter__(self) -> PackWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._tmp is not None:
            self.abort()
