"""Errors of ``fp world import``: a bad mapping, an unreadable input, bad rows under ``refuse``.

    FraudPlatformError (app.rails.errors)
    └── WorldEngineError (world_engine.errors)
        └── WorldImportError          base of every deliberate importer error
            ├── ImportMappingError    MAP.yaml is unreadable or invalid (dotted path of the field)
            ├── ImportInputError      the input file is missing, of an unknown format, structurally
            │                         broken (a CSV line with the wrong number of fields), lacks a
            │                         mapped column, or has no importable row
            └── ImportBadRowsError    the policy is ``refuse`` and bad rows were found: counts per
                                      reason and the first examples; nothing was written

Seed and scenario problems are the engine's :class:`~world_engine.errors.WorldParamsError`, and a
pack already at the locator is :class:`~world_engine.errors.WorldPackExistsError`. Whatever is
raised, nothing is left at the locator.
"""

from __future__ import annotations

from world_engine.errors import WorldEngineError
from world_engine.importer.bad_rows import BadRowReport

__all__ = ["ImportBadRowsError", "ImportInputError", "ImportMappingError", "WorldImportError"]


class WorldImportError(WorldEngineError):
    """Base of importer errors; carries a stable ``reason_code``."""

    reason_code = "WORLD_IMPORT_ERROR"


class ImportMappingError(WorldImportError):
    """The mapping is invalid; ``field`` is the dotted path of the bad field (empty: the file)."""

    reason_code = "IMPORT_MAPPING_INVALID"

    def __init__(self, source: str, field: str, problem: str) -> None:
        self.source = source
        self.field = field
        self.problem = problem
        where = f" at '{field}'" if field else ""
        super().__init__(f"mapping {source}{where}: {problem}")


class ImportInputError(WorldImportError):
    """The input file cannot be imported as a whole; fix the file or the mapping."""

    reason_code = "IMPORT_INPUT_INVALID"

    def __init__(self, input_path: str, problem: str) -> None:
        self.input_path = input_path
        self.problem = problem
        super().__init__(f"input {input_path}: {problem}")


class ImportBadRowsError(WorldImportError):
    """Bad rows under ``bad_rows: refuse``; ``report`` holds the counts and first examples."""

    reason_code = "IMPORT_BAD_ROWS"

    def __init__(self, input_path: str, rows_read: int, report: BadRowReport) -> None:
        self.input_path = input_path
        self.rows_read = rows_read
        self.report = report
        super().__init__(
            f"input {input_path}: {report.total} of {rows_read} rows are bad and the mapping says "
            "bad_rows: refuse, so nothing was written. Fix the rows, or set bad_rows: quarantine "
            "to import the good rows and keep the bad ones in the quarantine output.\n"
            + report.describe()
        )
