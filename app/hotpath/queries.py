"""Read-only queries over a worker's hot-path state, for ``GET /v1/graph`` and ``/v1/features``.

Pure functions of the engine's shards and the query: they never mutate state, so serving a
query cannot change a later decision. Each answer names the shard(s) it came from: state is kept
per (run, traffic partition) and a worker only holds the partitions it owns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from app.hotpath.engine import HotPath
from app.ofp import Txn
from app.rails.ids import HEX32_PATTERN
from app.rails.partition_key import kafka_partition, partition_key_bytes
from app.rails.timefmt import ts_to_epoch_micros

__all__ = ["ENTITY_KINDS", "QueryError", "feature_query", "graph_query"]

ENTITY_KINDS = ("card", "account", "customer", "device", "ip", "merchant")


class QueryError(Exception):
    """A query that cannot be answered: ``status`` is the HTTP status to return."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _run_id(value: str | None) -> str:
    if not value or re.fullmatch(HEX32_PATTERN.strip("^$"), value) is None:
        raise QueryError(400, "run_id (32 lowercase hex) is required")
    return value


def _as_of_us(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return ts_to_epoch_micros(value)
    except Exception as exc:
        raise QueryError(400, f"as_of must be YYYY-MM-DDTHH:MM:SS.ffffffZ: {exc}") from None


def graph_query(engine: HotPath, params: Mapping[str, str], kind: str,
                entity_id: str) -> dict[str, Any]:
    """Neighbours of one entity in this worker's shards of the run, merged across partitions."""
    run_id = _run_id(params.get("run_id"))
    if kind not in ENTITY_KINDS:
        raise QueryError(400, f"kind must be one of {', '.join(ENTITY_KINDS)}")
    as_of = _as_of_us(params.get("as_of"))
    shards = engine.shards(run_id)
    if not shards:
        raise QueryError(404, "this worker holds no state of that run")
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    seen_in: list[int] = []
    for shard in shards:
        found = shard.graph.neighbours(kind, entity_id, as_of_us=as_of)
        if found:
            seen_in.append(shard.partition)
        for n in found:
            key = (n["kind"], n["id"])
            if key in merged:
                m = merged[key]
                m["first_seen_us"] = min(m["first_seen_us"], n["first_seen_us"])
                m["last_seen_us"] = max(m["last_seen_us"], n["last_seen_us"])
                m["count"] += n["count"]
            else:
                merged[key] = dict(n)
    if not seen_in:
        raise QueryError(404, f"{kind} {entity_id!r} has no edges in this worker's shards")
    return {"run_id": run_id, "entity": {"kind": kind, "id": entity_id},
            "partitions": seen_in, "neighbours": [merged[k] for k in sorted(merged)]}


def feature_query(engine: HotPath, params: Mapping[str, str], partitions: int) -> dict[str, Any]:
    """OFP features as of ``as_of`` for a hypothetical authorisation (nothing is applied)."""
    run_id = _run_id(params.get("run_id"))
    missing = [f for f in ("card_id", "account_id", "customer_id", "merchant_id", "as_of",
                           "amount_minor") if not params.get(f)]
    if missing:
        raise QueryError(400, f"missing query parameters: {', '.join(missing)}")
    as_of = _as_of_us(params["as_of"])
    assert as_of is not None
    try:
        amount = int(params["amount_minor"])
    except ValueError:
        raise QueryError(400, "amount_minor must be an integer (minor units)") from None
    partition = kafka_partition(partition_key_bytes(f"card_id:{params['card_id']}"), partitions)
    shard = next((s for s in engine.shards(run_id) if s.partition == partition), None)
    if shard is None:
        raise QueryError(404, f"partition {partition} of that run is not on this worker")
    txn = Txn(ts_us=as_of, amount_minor=amount, card_id=params["card_id"],
              account_id=params["account_id"], customer_id=params["customer_id"],
              device_id=params.get("device_id") or None, ip_id=params.get("ip_id") or None,
              merchant_id=params["merchant_id"])
    values, complete = shard.features.features(txn)
    return {"run_id": run_id, "partition": partition, "as_of": params["as_of"],
            "complete": complete, "values": dict(sorted(values.items()))}
