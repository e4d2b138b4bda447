"""``GET /v1/audit/{decision|event|action}/{id}`` on a worker: the audit chain(s) of an id.

200 with every version of each matching chain (latest first), 404 when the id is in no audit
record (yet), 400 for an id that is not 64 lowercase hex. Read-only: it reads the segment
indexes in the object store, so any worker answers for every partition.
"""

from __future__ import annotations

from typing import Any

import faust

from app.dla.index import IdKind
from app.dla.lookup import ID_KINDS, AuditIndex, is_hex64
from app.objectstore.base import ObjectStore

__all__ = ["audit_lookup", "mount_audit_api"]


async def audit_lookup(index: AuditIndex, store: ObjectStore, kind: str, id_: str
                       ) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) for one lookup; pure of faust so it is tested directly."""
    if kind not in ID_KINDS:
        return 404, {"error": f"unknown id kind {kind[:20]!r}: use one of {list(ID_KINDS)}"}
    if not is_hex64(id_):
        return 400, {"error": f"malformed {kind} id: expected 64 lowercase hex characters"}
    records = await index.resolve(store, kind_of(kind), id_)
    if not records:
        return 404, {"error": f"no audit record for {kind} id {id_}"}
    return 200, {"kind": kind, "id": id_,
                 "records": [r.model_dump(mode="json") for r in records]}


def kind_of(text: str) -> IdKind:
    for kind in ID_KINDS:
        if kind == text:
            return kind
    raise ValueError(text)


def mount_audit_api(app: faust.App, store: ObjectStore) -> None:
    index = AuditIndex()

    @app.page("/v1/audit/{kind}/{record_id}")
    async def audit_view(web: Any, request: Any, kind: str, record_id: str) -> Any:
        status, body = await audit_lookup(index, store, kind, record_id)
        return web.json(body, status=status)
