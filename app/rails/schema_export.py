"""JSON Schema export of the rails contracts: one versioned, committed file per model.

This module owns the link between the pydantic models in ``app/rails`` and the files under
``schemas/rails/``. Producers in other languages and reviewers read the files; a test fails when
they drift from the models, and ``fp schemas generate`` rewrites them. Output is deterministic
(sorted keys, two-space indent, trailing newline), so the committed bytes only change when a
contract does. A changed encoding is a new version (a new file next to the old one, with a written
migration), never an edit in place: keep old versions listed in :data:`EXPORTED`.

The only rails module that touches disk, and only when :func:`write_schemas` or
:func:`diff_schemas` is called; rendering is pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from app.rails.canonical_json import pretty_dumps
from app.rails.control import RunReady
from app.rails.digests import Digest
from app.rails.envelope import CanonicalEnvelope
from app.rails.pins import ContextPins
from app.rails.policy_rev import PolicyRev
from app.rails.receipts import EbRef, IngestionReceipt, QuarantineRef
from app.rails.run_facts import RunFactsView

__all__ = [
    "EXPORTED",
    "JSON_SCHEMA_DIALECT",
    "SCHEMA_DIR",
    "ExportedSchema",
    "diff_schemas",
    "render_schemas",
    "write_schemas",
]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_DIR = "schemas/rails"
"""Where the files live, relative to the repository root."""
_SUFFIX = ".schema.json"


@dataclass(frozen=True)
class ExportedSchema:
    """One model exported under a stable name and version."""

    name: str
    version: str
    model: type[BaseModel]

    @property
    def relative_path(self) -> str:
        """e.g. ``schemas/rails/canonical_envelope.v1.schema.json``."""
        return f"{SCHEMA_DIR}/{self.name}.{self.version}{_SUFFIX}"

    def render(self) -> dict[str, Any]:
        """The model's validation schema plus ``$schema`` and a stable ``$id``."""
        schema = self.model.model_json_schema(mode="validation")
        schema["$schema"] = JSON_SCHEMA_DIALECT
        schema["$id"] = (
            f"urn:fraud-platform:{SCHEMA_DIR.replace('/', ':')}:{self.name}:{self.version}"
        )
        return schema


EXPORTED: tuple[ExportedSchema, ...] = (
    ExportedSchema("canonical_envelope", "v1", CanonicalEnvelope),
    ExportedSchema("context_pins", "v1", ContextPins),
    ExportedSchema("digest", "v1", Digest),
    ExportedSchema("eb_ref", "v1", EbRef),
    ExportedSchema("policy_rev", "v1", PolicyRev),
    ExportedSchema("quarantine_ref", "v1", QuarantineRef),
    ExportedSchema("ingestion_receipt", "v1", IngestionReceipt),
    ExportedSchema("run_facts_view", "v1", RunFactsView),
    ExportedSchema("run_ready", "v1", RunReady),
)
"""Every exported contract. Append new versions; never drop or edit a released one."""


def render_schemas() -> dict[str, bytes]:
    """Relative path -> exact file bytes for every exported contract."""
    return {item.relative_path: pretty_dumps(item.render()) for item in EXPORTED}


def _on_disk(root: Path) -> set[str]:
    directory = root / SCHEMA_DIR
    if not directory.is_dir():
        return set()
    return {f"{SCHEMA_DIR}/{p.name}" for p in directory.glob(f"*{_SUFFIX}") if p.is_file()}


def diff_schemas(root: Path) -> list[str]:
    """Relative paths under ``root`` that are drifted, missing or extra; empty means in sync."""
    rendered = render_schemas()
    drifted = {
        rel
        for rel, data in rendered.items()
        if not (root / rel).is_file() or (root / rel).read_bytes() != data
    }
    extra = _on_disk(root) - rendered.keys()
    return sorted(drifted | extra)


def write_schemas(root: Path) -> list[str]:
    """Make ``root/schemas/rails`` match the models; returns the relative paths changed.

    Files that differ are rewritten, and schema files no model exports any more are removed
    (the directory is generated; the change shows up in review as a deleted file).
    """
    rendered = render_schemas()
    changed: list[str] = []
    (root / SCHEMA_DIR).mkdir(parents=True, exist_ok=True)
    for rel, data in rendered.items():
        target = root / rel
        if not target.is_file() or target.read_bytes() != data:
            target.write_bytes(data)
            changed.append(rel)
    for rel in sorted(_on_disk(root) - rendered.keys()):
        (root / rel).unlink()
        changed.append(rel)
    return sorted(changed)
