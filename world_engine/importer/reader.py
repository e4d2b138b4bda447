"""Reads the mapped columns of an external CSV or Parquet table, and fingerprints the file.

This module owns the input side of ``fp world import``: which format a file is (the mapping's
``source.format``, else its suffix), reading only the columns the mapping names, and the file's
sha256 (part of the import's ``parameter_hash``). CSV columns are read as *strings*, never
inferred, and an empty field stays an empty string: turning text into numbers, times and labels
is the validator's job, row by row, so one bad value makes one bad row instead of a failed read.
Parquet columns keep their stored types. A file-level problem (missing file, unknown format, a
mapped column absent, a CSV line with the wrong number of fields) is an
:class:`~world_engine.importer.errors.ImportInputError`.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from world_engine.importer.errors import ImportInputError
from world_engine.importer.mapping import ImportMapping

__all__ = ["InputFingerprint", "SourceFormat", "fingerprint", "read_source", "source_format"]

SourceFormat = Literal["csv", "parquet"]

_SUFFIXES: dict[str, SourceFormat] = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".csv.bz2": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class InputFingerprint:
    """The input's identity: its bytes' sha256 and size (its name and location do not count)."""

    sha256: str
    size_bytes: int


def fingerprint(path: str | os.PathLike[str]) -> InputFingerprint:
    """sha256 and size of the file at ``path``, hashed in 1 MiB chunks.

    Raises:
        ImportInputError: the file cannot be read.
    """
    digest, size = hashlib.sha256(), 0
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except OSError as exc:
        raise ImportInputError(str(path), f"cannot read the file: {exc.strerror}") from exc
    return InputFingerprint(digest.hexdigest(), size)


def source_format(path: str | os.PathLike[str], mapping: ImportMapping) -> SourceFormat:
    """The mapping's ``source.format``, else the one the file's suffix names."""
    if mapping.source.format is not None:
        return mapping.source.format
    name = Path(path).name.lower()
    for suffix, kind in _SUFFIXES.items():
        if name.endswith(suffix):
            return kind
    raise ImportInputError(
        str(path),
        f"cannot tell the format from the name; use one of {sorted(_SUFFIXES)} or set "
        "source.format in the mapping",
    )


def read_source(path: str | os.PathLike[str], mapping: ImportMapping) -> pa.Table:
    """The mapped columns of the input, in :meth:`ImportMapping.source_columns` order.

    Raises:
        ImportInputError: unreadable or malformed file, or a mapped column it does not have.
    """
    kind = source_format(path, mapping)
    columns = list(mapping.source_columns())
    try:
        if kind == "csv":
            return _read_csv(path, mapping, columns)
        return _read_parquet(path, columns)
    except (OSError, pa.ArrowException) as exc:
        raise ImportInputError(str(path), f"cannot read it as {kind}: {exc}") from exc


def _check_columns(path: str | os.PathLike[str], present: list[str], wanted: list[str]) -> None:
    missing = [c for c in wanted if c not in present]
    if missing:
        raise ImportInputError(
            str(path), f"mapped columns {missing} are not in the file (it has {present})"
        )
    repeated = sorted({c for c in wanted if present.count(c) > 1})
    if repeated:
        raise ImportInputError(str(path), f"mapped columns {repeated} appear more than once")


def _read_csv(path: str | os.PathLike[str], mapping: ImportMapping, columns: list[str]) -> pa.Table:
    parse = pcsv.ParseOptions(delimiter=mapping.source.csv_delimiter)
    with pcsv.open_csv(path, parse_options=parse) as head:  # reads one block: the header's names
        _check_columns(path, list(head.schema.names), columns)
    convert = pcsv.ConvertOptions(
        include_columns=columns,
        column_types={c: pa.string() for c in columns},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    return pcsv.read_csv(path, parse_options=parse, convert_options=convert)


def _read_parquet(path: str | os.PathLike[str], columns: list[str]) -> pa.Table:
    _check_columns(path, list(pq.read_schema(path).names), columns)
    return pq.read_table(path, columns=columns)
