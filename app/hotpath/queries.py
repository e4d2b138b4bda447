"""Read-only queries over a worker's hot-path state, for ``GET /v1/graph`` and ``/v1/features``.

Pure functions of the engine's shards and the query: they never mutate state, so serving a
query cannot change a later decision. Each answer names the shard(s) it came from: state is kept
per (run, traffic partition) and a worker only holds the partitions it owns.

Parameters are validated before anything is read (issue #11 item 10): an unknown parameter name,
a missing one, a malformed id or timestamp, or an amount that is not a non-negative integer of
minor units is HTTP 400 ``QUERY_INVALID`` naming the parameter, never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from app.hotpath.engine import HotPath
from app.ofp import ENTITY_KINDS, Txn
from app.rails.ids import HEX32_PATTERN
from app.rails.reason_codes import ReasonCode
from app.rails.timefmt import ts_to_epoch_micros

__all__ = ["ENTITY_KINDS", "FEATURE_PARAMS", "GRAPH_PARAMS", "QueryError", "feature_query",
           "graph_query"]



GRAPH_PARAMS = frozenset({"run_id", "as_of"})
FEATURE_PARAMS = frozenset({"run_id", "card_id", "account_id", "customer_id", "merchant_id",
                            "device_id", "ip_id", "as_of", "amount_minor"})
_MAX_ENTITY_ID_CHARS = 256
_AMOUNT = re.compile(r"^[0-9]{1,18}$")  # non-negative, fits 64 bits


class QueryError(Exception):
    """A query that cannot be answered: ``status`` is the HTTP status to return, ``code`` the
    stable error code (``QUERY_INVALID`` for a bad parameter, ``NOT_FOUND`` for absent state)."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or (ReasonCode.QUERY_INVALID.value if status == 400 else "NOT_FOUND")

    def body(self) -> dict[str, str]:
        """The JSON error body: ``{"error": <code>, "detail": <message>}``."""
        return {"error": self.code, "detail": str(self)}


def _invalid(message: str) -> QueryError:
    return QueryError(400, message)


def _known_params(params: Mapping[str, str], allowed: frozenset[str]) -> None:
    unknown = sorted(set(params) - allowed)
    if unknown:
        shown = ", ".join(repr(name[:40]) for name in unknown[:5])
        raise _invalid(f"unknown query parameter(s) {shown}; allowed: "
                       f"{', '.join(sorted(allowed))}")


def _run_id(value: str | None) -> str:
    if not value or re.fullmatch(HEX32_PATTERN.strip("^$"), value) is None:
        raise _invalid("run_id (32 lowercase hex) is required")
    return value


def _as_of_us(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return ts_to_epoch_micros(value)
    except Exception:
        raise _invalid("as_of must be YYYY-MM-DDTHH:MM:SS.ffffffZ (a real UTC instant)") from None


def _entity_id(name: str, value: str | None, *, required: bool) -> str | None:
    if not value:
        if required:
            raise _invalid(f"missing query parameter: {name}")
        return None
    if len(value) > _MAX_ENTITY_ID_CHARS or not value.isprintable():
        raise _invalid(f"{name} must be 1-{_MAX_ENTITY_ID_CHARS} printable characters")
    return value


def _amount_minor(value: str | None) -> int:
    if not value:
        raise _invalid("missing query parameter: amount_minor")
    if _AMOUNT.fullmatch(value) is None:
        raise _invalid("amount_minor must be a non-negative integer of minor units")
    return int(value)


def graph_query(engine: HotPath, params: Mapping[str, str], kind: str,
                entity_id: str) -> dict[str, Any]:
    """Neighbours of one entity in the run's fold on this worker (one fold holds the whole run
    over every traffic partition; merged over folds should a run ever have more than one)."""
    _known_params(params, GRAPH_PARAMS)
    run_id = _run_id(params.get("run_id"))
    if kind not in ENTITY_KINDS:
        raise _invalid(f"kind must be one of {', '.join(ENTITY_KINDS)}")
    _entity_id("entity_id", entity_id, required=True)
    as_of = _as_of_us(params.get("as_of"))
    shards = engine.shards(run_id)
    if not shards:
        raise QueryError(404, "this worker holds no state of that run")
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for shard in shards:
        for n in shard.graph.neighbours(kind, entity_id, as_of_us=as_of):
            key = (n["kind"], n["id"])
            if key in merged:
                m = merged[key]
                m["first_seen_us"] = min(m["first_seen_us"], n["first_seen_us"])
                m["last_seen_us"] = max(m["last_seen_us"], n["last_seen_us"])
                m["count"] += n["count"]
            else:
                merged[key] = dict(n)
    if not merged:
        raise QueryError(404, f"{kind} {entity_id!r} has no edges in this worker's fold of it")
    return {"run_id": run_id, "entity": {"kind": kind, "id": entity_id},
            "neighbours": [merged[k] for k in sorted(merged)]}


def feature_query(engine: HotPath, params: Mapping[str, str]) -> dict[str, Any]:
    """OFP features as of ``as_of`` for a hypothetical authorisation (nothing is applied)."""
    _known_params(params, FEATURE_PARAMS)
    run_id = _run_id(params.get("run_id"))
    ids = {name: _entity_id(name, params.get(name), required=True) or ""
           for name in ("card_id", "account_id", "customer_id", "merchant_id")}
    optional = {name: _entity_id(name, params.get(name), required=False)
                for name in ("device_id", "ip_id")}
    if not params.get("as_of"):
        raise _invalid("missing query parameter: as_of")
    as_of = _as_of_us(params["as_of"])
    assert as_of is not None
    amount = _amount_minor(params.get("amount_minor"))
    shard = next(iter(engine.shards(run_id)), None)
    if shard is None:
        raise QueryError(404, "this worker holds no fold of that run")
    txn = Txn(ts_us=as_of, amount_minor=amount, card_id=ids["card_id"],
              account_id=ids["account_id"], customer_id=ids["customer_id"],
              device_id=optional["device_id"], ip_id=optional["ip_id"],
              merchant_id=ids["merchant_id"])
    values, complete = shard.features.features(txn)
    return {"run_id": run_id, "as_of": params["as_of"],
            "complete": complete, "values": dict(sorted(values.items()))}
