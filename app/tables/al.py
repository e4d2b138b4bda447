"""AL's tables: executed intents and per-partition progress; names and key encodings.

``al-executed-v1`` — key: the intent's ``action_id`` (hex64, ASCII bytes); value:
``{"outcome_id": hex64, "status": str}`` (JSON), the outcome AL published for the intent.

``al-progress-v1`` — key: ``<log id>/p<NNN>`` (ASCII bytes), the rtdl log (topic plus the
embedded broker's instance, see :func:`app.eb.topics.log_id_of`) and partition; value:
``{"next_offset": int}``, every record of the partition below it has been applied (its intents
have outcomes acked on the log). AL resumes a partition from here, never from faust's committed
offset: faust acks records a stream skips during a rebalance, so the group's offset can run past
decisions AL never saw.

Entries of both are filed under the changelog partition of the rtdl partition they describe, so
a partition's new owner recovers exactly what it is responsible for.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AL_EXECUTED_TABLE",
    "AL_PROGRESS_TABLE",
    "executed_key",
    "executed_value",
    "progress_key",
    "progress_of",
    "progress_value",
]

AL_EXECUTED_TABLE = "al-executed-v1"
AL_PROGRESS_TABLE = "al-progress-v1"


def executed_key(action_id: str) -> bytes:
    return action_id.encode("ascii")


def executed_value(outcome_id: str, status: str) -> dict[str, str]:
    return {"outcome_id": outcome_id, "status": status}


def progress_key(log_id: str, partition: int) -> bytes:
    return f"{log_id}/p{partition:03d}".encode("ascii")


def progress_value(next_offset: int) -> dict[str, int]:
    return {"next_offset": next_offset}


def progress_of(value: Any) -> int:
    """The resume offset a progress entry holds (0 when there is none: read from the start)."""
    if not isinstance(value, dict):
        return 0
    offset = value.get("next_offset")
    valid = isinstance(offset, int) and not isinstance(offset, bool) and offset >= 0
    return offset if valid else 0
