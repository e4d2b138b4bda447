"""State snapshots of a partition-owned stage: create-only, content-addressed, keyed by offsets.

A snapshot is the stage's state after applying every record of one partition below
``next_offset``, so a worker taking the partition over loads it and replays only the tail
instead of the whole log. Key::

    <owner>/snapshots/<log id>/<stage>/p<partition:03d>/<next_offset:012d>-<sha16>.bin

``sha16`` is the first 16 hex digits of the sha256 of the state bytes, and the object holds
nothing else that could vary (no wall clock): the same state at the same offset is the same key
and the same bytes, so a repeated write is a no-op of the create-only store, never a conflict.
``log id`` (topic plus bus generation, :func:`app.eb.topics.log_id_of`) keeps a snapshot of a
wiped bus from being trusted against the new log, whose offsets start again at 0.

The object is one canonical-JSON manifest line, ``\\n``, then the state bytes. The manifest
names the format version, what the snapshot covers and the state's digest; a reader trusts a
snapshot only when all of them agree with its key and its bytes. A damaged or unknown-format
snapshot is skipped with a log line (an older one, or the log itself, rebuilds the state): a
snapshot is a cache of the log, never a truth of its own.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.objectstore.base import ObjectStore
from app.rails.canonical_json import canonical_dumps, canonical_loads, sha256_hex
from app.rails.errors import DigestMismatchError, ObjectNotFoundError
from app.runtime.structured_log import log_event

__all__ = [
    "FORMAT_VERSION",
    "SnapshotManifest",
    "StageSnapshot",
    "newest_snapshot",
    "snapshot_key",
    "snapshot_prefix",
    "write_snapshot",
]

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
"""Bumped when the manifest layout changes; a reader skips versions it does not know."""

_NAME = re.compile(r"(?P<offset>[0-9]{12})-(?P<sha16>[0-9a-f]{16})\.bin")


class SnapshotManifest(BaseModel):
    """Line 0 of a snapshot object: what it covers and the digest of the state that follows."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    record_type: Literal["stage_snapshot"] = "stage_snapshot"
    format_version: int = Field(ge=1)
    owner: str
    log_id: str
    stage: str
    partition: int = Field(ge=0)
    next_offset: int = Field(ge=0, description="Every offset below this one is in the state.")
    state_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    state_bytes: int = Field(ge=0)


@dataclass(frozen=True)
class StageSnapshot:
    """A verified snapshot: the stage's state bytes and the offset the tail replays from."""

    key: str
    next_offset: int
    state: bytes


def snapshot_prefix(owner: str, log_id: str, stage: str, partition: int) -> str:
    """The folder holding one partition's snapshots of one stage on one log."""
    return f"{owner}/snapshots/{log_id}/{stage}/p{partition:03d}"


def snapshot_key(owner: str, log_id: str, stage: str, partition: int, next_offset: int,
                 state: bytes) -> str:
    """Where the snapshot of ``state`` covering offsets below ``next_offset`` lives."""
    return (f"{snapshot_prefix(owner, log_id, stage, partition)}/"
            f"{next_offset:012d}-{sha256_hex(state)[:16]}.bin")


async def write_snapshot(store: ObjectStore, *, owner: str, log_id: str, stage: str,
                         partition: int, next_offset: int, state: bytes) -> str:
    """Write a snapshot create-only (idempotent: the same state again is a no-op); its key."""
    if next_offset < 0:
        raise ValueError(f"next_offset must be >= 0, got {next_offset}")
    manifest = SnapshotManifest(
        format_version=FORMAT_VERSION, owner=owner, log_id=log_id, stage=stage,
        partition=partition, next_offset=next_offset, state_sha256=sha256_hex(state),
        state_bytes=len(state))
    key = snapshot_key(owner, log_id, stage, partition, next_offset, state)
    await store.put(key, canonical_dumps(manifest.model_dump(mode="json")) + b"\n" + state)
    return key


async def newest_snapshot(store: ObjectStore, *, owner: str, log_id: str, stage: str,
                          partition: int, at_or_below: int) -> StageSnapshot | None:
    """The newest verified snapshot with ``next_offset <= at_or_below``, or None.

    ``at_or_below`` is the partition's true log end (``app.eb.partition_reader.log_ends``, not
    ListOffsets): a snapshot past it was cut from another log and would skip records. Damaged
    or unknown-format snapshots are logged and skipped, so the next older one is tried; a store
    that cannot be read at all raises (an outage is not a reason to replay the whole log).
    """
    prefix = snapshot_prefix(owner, log_id, stage, partition)
    named: list[tuple[int, str, str]] = []
    for key in await store.list(prefix):
        match = _NAME.fullmatch(key.rsplit("/", 1)[-1])
        if match is not None and int(match["offset"]) <= at_or_below:
            named.append((int(match["offset"]), match["sha16"], key))
    for offset, sha16, key in sorted(named, reverse=True):
        try:
            data = await store.get(key)
            return _verified(key, data, owner=owner, log_id=log_id, stage=stage,
                             partition=partition, next_offset=offset, sha16=sha16)
        except (DigestMismatchError, ObjectNotFoundError, ValueError) as exc:
            log_event(logger, "stage_snapshot.skipped", key=key, why=str(exc)[:300])
    return None


def _verified(key: str, data: bytes, *, owner: str, log_id: str, stage: str, partition: int,
              next_offset: int, sha16: str) -> StageSnapshot:
    """Parse and check a snapshot object against its key; raises ValueError when untrusted."""
    head, newline, state = data.partition(b"\n")
    if not newline:
        raise ValueError("no manifest line")
    try:
        body = canonical_loads(head)
    except ValueError as exc:
        raise ValueError(f"manifest is not JSON: {exc}") from exc
    if not isinstance(body, dict) or body.get("format_version") != FORMAT_VERSION:
        version = body.get("format_version") if isinstance(body, dict) else None
        raise ValueError(f"unknown snapshot format version {version!r}")
    try:
        manifest = SnapshotManifest.model_validate(body)
    except ValidationError as exc:
        raise ValueError(f"manifest invalid: {exc.error_count()} errors") from exc
    expected = (owner, log_id, stage, partition, next_offset)
    found = (manifest.owner, manifest.log_id, manifest.stage, manifest.partition,
             manifest.next_offset)
    if found != expected:
        raise ValueError(f"manifest covers {found}, its key says {expected}")
    actual = sha256_hex(state)
    if (len(state) != manifest.state_bytes or actual != manifest.state_sha256
            or not actual.startswith(sha16)):
        raise ValueError("state bytes do not match the manifest's digest")
    return StageSnapshot(key=key, next_offset=next_offset, state=state)
