"""``POST /v1/ingest``: outside producers push NDJSON batches through the same gate.

Authenticate (API key from the environment variable the profile names), refuse oversize batches
(413), queue every item on ``fp.ig.ingress.v1`` with the ingress key WSP would use, then answer
with IG's receipt for each item, in order. Nothing here admits anything: IG decides.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import faust
import orjson
from faust.web import Request, View

from app.eb.topics import Topic
from app.ig.http_ingest import API_KEY_HEADER, HttpRefusal, check_request, ingress_key, split_items
from app.ig.receipt_waiter import ReceiptWaiter
from app.runtime.agent_context import AgentContext
from app.runtime.bus_address import bootstrap_servers

__all__ = ["RECEIPT_TIMEOUT_S", "register"]

RECEIPT_TIMEOUT_S = 30.0


def register(app: faust.App, ctx: AgentContext) -> None:
    """Declare the ingest view on ``app``."""
    policy = ctx.profile.policy.ingest
    ingress = app.topic(ctx.topic(Topic.INGRESS), key_serializer="raw", value_serializer="raw",
                        partitions=ctx.partitions)
    state: dict[str, ReceiptWaiter] = {}

    async def waiter() -> ReceiptWaiter:
        if "w" not in state:
            state["w"] = ReceiptWaiter(bootstrap_servers(ctx.profile), ctx.topic(Topic.AUDIT),
                                       ctx.partitions)
        await state["w"].start()
        return state["w"]

    def refuse(view: View, refusal: HttpRefusal) -> Any:
        return view.json({"error": str(refusal.reason_code), "detail": refusal.detail},
                         status=refusal.status)

    @app.page("/v1/ingest")
    class Ingest(View):
        async def post(self, request: Request, **kwargs: Any) -> Any:
            body = await request.read()
            refusal = check_request(request.headers.get(API_KEY_HEADER),
                                    os.environ.get(ctx.profile.wiring.ingest_api_key_env),
                                    len(body),
                                    policy.max_batch_items * (policy.max_record_bytes + 1))
            if refusal is not None:
                return refuse(self, refusal)
            items = split_items(body, policy.max_batch_items)
            if isinstance(items, HttpRefusal):
                return refuse(self, items)
            follower = await waiter()
            precedence = policy.partition_key_precedence
            sent = [await ingress.send(key=ingress_key(raw, precedence), value=raw, force=True)
                    for raw in items]
            metas = await asyncio.gather(*sent)
            futures = [follower.expect(m.partition, m.offset) for m in metas]
            try:
                async with asyncio.timeout(RECEIPT_TIMEOUT_S):
                    receipts = await asyncio.gather(*futures)
            except TimeoutError:
                for m in metas:
                    follower.forget(m.partition, m.offset)
                return self.json({"error": "RECEIPT_TIMEOUT", "detail": "IG did not decide "
                                  f"within {RECEIPT_TIMEOUT_S:.0f}s; items stay queued"},
                                 status=504)
            return self.json({"receipts": [orjson.loads(r) for r in receipts]})
