"""JSON Schema export of the contracts: one versioned, committed file per model.

This module owns the link between the pydantic models in ``app/rails`` and the files under
``schemas/``: the rails contracts in ``schemas/rails/`` (:data:`EXPORTED`) and the payload
contracts, one per ``(event_type, schema_version)``, in ``schemas/payloads/``
(:data:`PAYLOAD_EXPORTED`). Each directory is a generated set of its own: the single-directory
functions take ``directory`` (the rails one by default), the ``*_all_*`` functions cover every
directory in :data:`SCHEMA_DIRS`. Producers in other languages and reviewers read the files; a test
fails when they drift from the models, and ``fp schemas generate`` rewrites them. Output is
deterministic (sorted keys, two-space indent, trailing newline), so the committed bytes only change
when a contract does. A changed encoding is a new version (a new file next to the old one, with a
written migration), never an edit in place: keep old versions listed.

The only rails module that touches disk, and only when a ``write_*`` or ``diff_*`` function is
called; rendering is pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from app.rails.action import ActionOutcome
from app.rails.anomaly import HotPathAnomaly
from app.rails.archive import ArchivedRecord
from app.rails.audit import AuditAnomaly, AuditRecord
from app.rails.bundle import ModelBundle, ScorecardBundle
from app.rails.canonical_json import pretty_dumps
from app.rails.case import CaseEvent, CaseEvidence
from app.rails.control import RunReady
from app.rails.dataset import DatasetManifest
from app.rails.decision import DecisionRecord
from app.rails.digests import Digest
from app.rails.envelope import CanonicalEnvelope
from app.rails.governance import GovernanceFact
from app.rails.label import LabelAssertion
from app.rails.payloads import PAYLOAD_MODELS
from app.rails.pins import ContextPins
from app.rails.policy_rev import PolicyRev
from app.rails.promotion import PromotionEvidence
from app.rails.receipts import EbRef, IngestionReceipt, QuarantineRef
from app.rails.run_facts import RunFactsView
from app.rails.watermark import TrafficWatermark

__all__ = [
    "EXPORTED",
    "EXPORTED_BY_DIR",
    "JSON_SCHEMA_DIALECT",
    "PAYLOAD_EXPORTED",
    "PAYLOAD_SCHEMA_DIR",
    "SCHEMA_DIR",
    "SCHEMA_DIRS",
    "ExportedSchema",
    "diff_all_schemas",
    "diff_schemas",
    "render_all_schemas",
    "render_schemas",
    "write_all_schemas",
    "write_schemas",
]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_DIR = "schemas/rails"
"""Where the rails files live, relative to the repository root."""
PAYLOAD_SCHEMA_DIR = "schemas/payloads"
"""Where the payload files live (``<event_type>.<schema_version>.schema.json``)."""
_SUFFIX = ".schema.json"


@dataclass(frozen=True)
class ExportedSchema:
    """One model exported under a stable name and version."""

    name: str
    version: str
    model: type[BaseModel]
    directory: str = SCHEMA_DIR

    @property
    def relative_path(self) -> str:
        """e.g. ``schemas/rails/canonical_envelope.v1.schema.json``."""
        return f"{self.directory}/{self.name}.{self.version}{_SUFFIX}"

    def render(self) -> dict[str, Any]:
        """The model's validation schema plus ``$schema`` and a stable ``$id``."""
        schema = self.model.model_json_schema(mode="validation")
        schema["$schema"] = JSON_SCHEMA_DIALECT
        schema["$id"] = (
            f"urn:fraud-platform:{self.directory.replace('/', ':')}:{self.name}:{self.version}"
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
    ExportedSchema("decision_record", "v1", DecisionRecord),
    ExportedSchema("governance_fact", "v1", GovernanceFact),
    ExportedSchema("hot_path_anomaly", "v1", HotPathAnomaly),
    ExportedSchema("scorecard_bundle", "v1", ScorecardBundle),
    ExportedSchema("action_outcome", "v1", ActionOutcome),
    ExportedSchema("audit_record", "v1", AuditRecord),
    ExportedSchema("audit_anomaly", "v1", AuditAnomaly),
    ExportedSchema("archived_record", "v1", ArchivedRecord),
    ExportedSchema("traffic_watermark", "v1", TrafficWatermark),
    ExportedSchema("label_assertion", "v1", LabelAssertion),
    ExportedSchema("case_event", "v1", CaseEvent),
    ExportedSchema("case_evidence", "v1", CaseEvidence),
    ExportedSchema("dataset_manifest", "v1", DatasetManifest),
    ExportedSchema("model_bundle", "v1", ModelBundle),
    ExportedSchema("promotion_evidence", "v1", PromotionEvidence),
)
"""Every exported rails contract. Append new versions; never drop or edit a released one."""

PAYLOAD_EXPORTED: tuple[ExportedSchema, ...] = tuple(
    ExportedSchema(event_type, schema_version, model, PAYLOAD_SCHEMA_DIR)
    for (event_type, schema_version), model in sorted(PAYLOAD_MODELS.items())
)
"""Every payload contract, named by event type and schema version (from ``PAYLOAD_MODELS``)."""

EXPORTED_BY_DIR: dict[str, tuple[ExportedSchema, ...]] = {
    SCHEMA_DIR: EXPORTED,
    PAYLOAD_SCHEMA_DIR: PAYLOAD_EXPORTED,
}
"""Each generated directory and the contracts it holds; nothing else may live in it."""

SCHEMA_DIRS: tuple[str, ...] = tuple(EXPORTED_BY_DIR)


def _exported(directory: str) -> tuple[ExportedSchema, ...]:
    try:
        return EXPORTED_BY_DIR[directory]
    except KeyError:
        raise ValueError(f"{directory!r} is not a schema directory; one of {SCHEMA_DIRS}") from None


def render_schemas(directory: str = SCHEMA_DIR) -> dict[str, bytes]:
    """Relative path -> exact file bytes for every contract exported into ``directory``."""
    return {item.relative_path: pretty_dumps(item.render()) for item in _exported(directory)}


def render_all_schemas() -> dict[str, bytes]:
    """Relative path -> exact file bytes for every contract of every schema directory."""
    return {rel: data for d in SCHEMA_DIRS for rel, data in render_schemas(d).items()}


def _on_disk(root: Path, directory: str) -> set[str]:
    folder = root / directory
    if not folder.is_dir():
        return set()
    return {f"{directory}/{p.name}" for p in folder.glob(f"*{_SUFFIX}") if p.is_file()}


def diff_schemas(root: Path, directory: str = SCHEMA_DIR) -> list[str]:
    """Relative paths of ``directory`` under ``root`` that are drifted, missing or extra.

    Empty means in sync.
    """
    rendered = render_schemas(directory)
    drifted = {
        rel
        for rel, data in rendered.items()
        if not (root / rel).is_file() or (root / rel).read_bytes() != data
    }
    extra = _on_disk(root, directory) - rendered.keys()
    return sorted(drifted | extra)


def diff_all_schemas(root: Path) -> list[str]:
    """:func:`diff_schemas` over every schema directory."""
    return sorted(rel for directory in SCHEMA_DIRS for rel in diff_schemas(root, directory))


def write_schemas(root: Path, directory: str = SCHEMA_DIR) -> list[str]:
    """Make ``root/<directory>`` match the models; returns the relative paths changed.

    Files that differ are rewritten, and schema files no model exports any more are removed
    (the directory is generated; the change shows up in review as a deleted file).
    """
    rendered = render_schemas(directory)
    changed: list[str] = []
    (root / directory).mkdir(parents=True, exist_ok=True)
    for rel, data in rendered.items():
        target = root / rel
        if not target.is_file() or target.read_bytes() != data:
            target.write_bytes(data)
            changed.append(rel)
    for rel in sorted(_on_disk(root, directory) - rendered.keys()):
        (root / rel).unlink()
        changed.append(rel)
    return sorted(changed)


def write_all_schemas(root: Path) -> list[str]:
    """:func:`write_schemas` for every schema directory; returns every relative path changed."""
    return sorted(rel for directory in SCHEMA_DIRS for rel in write_schemas(root, directory))
