"""AL's executed-intents table: name and key encoding.

Key v1: the intent's ``action_id`` (hex64, ASCII bytes). Entries are filed under the changelog
partition of the rtdl partition whose decision carried the intent, so a partition's new owner
recovers exactly the keys it is responsible for. Value: ``{"outcome_id": hex64, "status": str}``
(JSON), the outcome AL published for the intent.
"""

from __future__ import annotations

__all__ = ["AL_EXECUTED_TABLE", "executed_key", "executed_value"]

AL_EXECUTED_TABLE = "al-executed-v1"


def executed_key(action_id: str) -> bytes:
    return action_id.encode("ascii")


def executed_value(outcome_id: str, status: str) -> dict[str, str]:
    return {"outcome_id": outcome_id, "status": status}
