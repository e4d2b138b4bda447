"""IG's dedupe key ``(run_id, event_type, event_id)`` and its byte encoding (v1).

Encoding v1: ``b"<run_id>|<event_type>|<event_id>"`` (all three are from restricted charsets with
no ``|``). The same bytes are the record key on ``fp.ig.ingress.v1``, so the ingress partition of
a submission and the partition of its dedupe state agree under Kafka's default partitioner.
"""

from __future__ import annotations

__all__ = ["dedupe_key"]


def dedupe_key(run_id: str, event_type: str, event_id: str) -> bytes:
    """Encode a dedupe key (see module docstring)."""
    return f"{run_id}|{event_type}|{event_id}".encode()
