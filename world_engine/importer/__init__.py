"""``fp world import``: seal an external transaction table (CSV or Parquet) as a world pack.

An engine-side tool, outside ``app/`` (the platform never imports it): a MAP.yaml
(:class:`ImportMapping`) says which column is the event time, the amount and currency, the entity
ids, the payload features and the fraud label; :func:`import_world` validates every row, applies
the bad-row policy (``refuse`` or ``quarantine``) and writes the traffic, truth, optional label
feed and quarantine outputs through the engine's own pack writer, so SR verifies an imported world
exactly like a generated one. See ``README.md`` here for the mapping, the identity rules and the
worked ULB credit-card example (``mappings/ulb_creditcard.yaml``).

Module map: ``mapping`` (MAP.yaml contract), ``reader`` (CSV/Parquet columns, input sha256),
``parse`` (text to typed values), ``validate`` (good rows, bad rows with reasons), ``bad_rows``
(reason codes and report), ``catalog`` (the import's interface pack), ``tables`` (Arrow rows of each
output, the seeded label feed), ``importer`` (order of work), ``ulb_dataset`` (fetches the public
ULB data set into ``.cache/``).
"""

from __future__ import annotations

from pathlib import Path

from world_engine.importer.bad_rows import BadRowExample, BadRowReason, BadRowReport
from world_engine.importer.catalog import IMPORTER_ENGINE, IMPORTER_VERSION, build_interface
from world_engine.importer.errors import (
    ImportBadRowsError,
    ImportInputError,
    ImportMappingError,
    WorldImportError,
)
from world_engine.importer.importer import IMPORT_KIND, import_world
from world_engine.importer.mapping import ImportMapping, load_mapping, parse_mapping

__all__ = [
    "IMPORTER_ENGINE",
    "IMPORTER_VERSION",
    "IMPORT_KIND",
    "MAPPINGS_DIR",
    "BadRowExample",
    "BadRowReason",
    "BadRowReport",
    "ImportBadRowsError",
    "ImportInputError",
    "ImportMapping",
    "ImportMappingError",
    "WorldImportError",
    "build_interface",
    "import_world",
    "load_mapping",
    "parse_mapping",
]

MAPPINGS_DIR = Path(__file__).parent / "mappings"
"""Shipped mappings (``ulb_creditcard.yaml``)."""
