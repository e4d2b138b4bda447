"""``POST /v1/ingest``: outside producers push NDJSON batches through the same gate.

Per request, in this order (each step bounded, each refusal the documented JSON error
``{"error": <code>, "detail": <text>}``; see README "HTTP ingest: what a client gets"):

1. the API key, from the headers, before any body byte is read (401/503);
2. the bus: a broker the worker's watch believes lost is 503 ``BUS_UNAVAILABLE`` at once, with
   ``Retry-After`` (``app.runtime.broker_watch``);
3. the declared size, then the body, read in chunks up to the policy's limit
   (``max_batch_items`` x (``max_record_bytes`` + 1): 413) within ``http_body_timeout_s`` (408);
4. the batch: no line is 400 ``BATCH_EMPTY``, too many lines 413;
5. every line is queued on ``fp.ig.ingress.v1`` with the ingress key WSP would use (a line over
   ``max_record_bytes`` as its bounded marker, :mod:`app.ig.oversize`), and the broker's acks
   are awaited within ``http_send_timeout_s`` (else 503: some items may be queued);
6. IG's receipt for each item is awaited within ``http_receipt_timeout_s`` (else 504
   ``RECEIPT_TIMEOUT``) and the receipts are answered in the order of the lines.

Nothing here admits anything: IG decides. Every 5xx after step 5 may hide queued items, so its
detail tells the client to re-send the same items: IG's dedupe answers DUPLICATE with the
original ``eb_ref``, so a re-send never admits twice. No input reaches a 500: an unexpected
error is logged with its traceback and answered as a JSON 500 ``INTERNAL_ERROR``.

The route is added to faust's aiohttp application directly (not as a faust ``View``) so it has
its own ``Expect`` handler: ``Expect: 100-continue`` is answered only after the key is checked
(a client that waits for it never sends a body to be refused), and any other ``Expect`` is a
JSON 417 (aiohttp's default handler answered a non-UTF-8 one with a plain-text 500).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

import faust
import orjson
from aiohttp import HttpVersion11, web
from aiohttp.web_protocol import RequestPayloadError

from app.eb.topics import Topic
from app.ig.http_ingest import (
    API_KEY_HEADER,
    HttpRefusal,
    authenticate,
    body_limit,
    check_declared_size,
    ingress_records,
    split_items,
    too_large,
)
from app.ig.receipt_waiter import ReceiptFollowError, ReceiptWaiter
from app.rails.reason_codes import ReasonCode
from app.runtime.agent_context import AgentContext
from app.runtime.broker_watch import broker_lost_reason
from app.runtime.bus_address import bootstrap_servers

__all__ = ["MAX_QUEUED_RECORD_BYTES", "RETRY_AFTER_S", "register"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

RETRY_AFTER_S = 5
"""``Retry-After`` on 503 answers, in seconds."""
MAX_QUEUED_RECORD_BYTES = 1_000_000
"""Largest value the view queues (below the producer's 1 MiB ``max_request_size`` with room for
the key, headers and batch overhead): ``max_record_bytes + 1`` must fit in it."""
_READ_CHUNK_BYTES = 256 * 1024
_WATCH_EVERY_S = 0.25  # how often a wait looks at the broker watch


class _BusLostError(Exception):
    """The broker watch reported the bus lost while the request waited."""


def _json(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(value), status=status, headers=headers,
                        content_type="application/json", charset="utf-8")


def _refusal(refusal: HttpRefusal, *, close: bool = False,
             retry_after: bool = False) -> web.Response:
    headers = {"Retry-After": str(RETRY_AFTER_S)} if retry_after else None
    response = _json(refusal.body(), refusal.status, headers)
    if close:  # the body was not (fully) read: never keep a half-read connection
        response.force_close()
    return response


def _bus_unavailable(detail: str) -> HttpRefusal:
    return HttpRefusal(503, ReasonCode.BUS_UNAVAILABLE, detail)


async def _watched(app: faust.App, awaitable: Awaitable[T], timeout_s: float) -> T:
    """``awaitable`` within ``timeout_s``, giving up early if the broker watch reports a loss.

    Raises:
        TimeoutError: not done in time. _BusLostError: the broker was lost meanwhile.
    """
    task = asyncio.ensure_future(awaitable)
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                done, _ = await asyncio.wait({task}, timeout=_WATCH_EVERY_S)
                if done:
                    return task.result()
                if (reason := broker_lost_reason(app)) is not None:
                    raise _BusLostError(reason)
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


async def _read_body(request: web.Request, limit: int) -> bytes | HttpRefusal:
    """The whole body, or 413 as soon as more than ``limit`` bytes arrived."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(_READ_CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            return too_large(size, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def register(app: faust.App, ctx: AgentContext) -> None:
    """Declare the ingest view on ``app``."""
    policy = ctx.profile.policy.ingest
    worker = ctx.profile.wiring.worker
    if policy.max_record_bytes + 1 > MAX_QUEUED_RECORD_BYTES:
        raise ValueError(f"policy.ingest.max_record_bytes ({policy.max_record_bytes}) must stay "
                         f"below {MAX_QUEUED_RECORD_BYTES}: larger records cannot be queued")
    limit = body_limit(policy.max_batch_items, policy.max_record_bytes)
    ingress = app.topic(ctx.topic(Topic.INGRESS), key_serializer="raw", value_serializer="raw",
                        partitions=ctx.partitions)
    waiter = ReceiptWaiter(bootstrap_servers(ctx.profile), ctx.topic(Topic.AUDIT), ctx.partitions)

    @app.on_before_shutdown.connect
    async def _stop_waiter(sender: Any, **kwargs: Any) -> None:
        await waiter.stop()

    async def queue(records: Sequence[Any]) -> list[Any]:
        sent = [await ingress.send(key=r.key, value=r.value, headers=r.headers, force=True)
                for r in records]
        return list(await asyncio.gather(*sent))

    def key_refusal(request: web.Request) -> HttpRefusal | None:
        return authenticate(request.headers.get(API_KEY_HEADER),
                            os.environ.get(ctx.profile.wiring.ingest_api_key_env))

    async def expect(request: web.Request) -> web.StreamResponse | None:
        """``Expect`` handling (aiohttp calls it before the handler, the body still unread)."""
        if request.version != HttpVersion11 or \
                request.headers.get("Expect", "").strip().lower() != "100-continue":
            return _refusal(HttpRefusal(417, ReasonCode.EXPECT_UNSUPPORTED,
                                        "only 'Expect: 100-continue' is supported"), close=True)
        if (refusal := key_refusal(request)) is not None:
            return _refusal(refusal, close=True, retry_after=refusal.status == 503)
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        return None

    async def ingest(request: web.Request) -> web.Response:
        refusal = key_refusal(request)
        if refusal is not None:
            return _refusal(refusal, close=True, retry_after=refusal.status == 503)
        if (lost := broker_lost_reason(app)) is not None:
            return _refusal(_bus_unavailable(f"the event bus is unavailable ({lost}); "
                                                   "nothing was queued: retry later"),
                            close=True, retry_after=True)
        if (refusal := check_declared_size(request.content_length, limit)) is not None:
            return _refusal(refusal, close=True)
        try:
            async with asyncio.timeout(worker.http_body_timeout_s):
                body = await _read_body(request, limit)
        except TimeoutError:
            return _refusal(HttpRefusal(
                408, ReasonCode.BODY_READ_TIMEOUT,
                f"the body did not arrive within {worker.http_body_timeout_s:g}s; nothing "
                "was queued"), close=True)
        except RequestPayloadError as exc:
            return _refusal(HttpRefusal(
                400, ReasonCode.BODY_UNREADABLE,
                f"the body is not readable ({type(exc.__cause__ or exc).__name__}); nothing "
                "was queued"), close=True)
        if isinstance(body, HttpRefusal):
            return _refusal(body, close=True)
        items = split_items(body, policy.max_batch_items)
        if isinstance(items, HttpRefusal):
            return _refusal(items)
        records = ingress_records(items, policy.max_record_bytes,
                                  policy.partition_key_precedence)
        return await _queue_and_wait(records)

    async def _queue_and_wait(records: Sequence[Any]) -> web.Response:
        resend = "some items may be queued and will be decided: re-send the same items " \
                 "(an item already admitted comes back DUPLICATE with its original eb_ref)"
        try:
            await _watched(app, waiter.start(), worker.http_send_timeout_s)
        except (TimeoutError, _BusLostError, OSError, ReceiptFollowError) as exc:
            return _refusal(_bus_unavailable(
                f"cannot follow IG's receipts ({type(exc).__name__}); nothing was queued: "
                "retry later"), retry_after=True)
        try:
            metas = await _watched(app, queue(records), worker.http_send_timeout_s)
        except (TimeoutError, _BusLostError, OSError) as exc:
            why = "lost" if isinstance(exc, _BusLostError) else "did not acknowledge in time"
            return _refusal(_bus_unavailable(f"the event bus {why}; {resend}"),
                            retry_after=True)
        futures = [waiter.expect(m.partition, m.offset) for m in metas]
        try:
            receipts = await _watched(app, asyncio.gather(*futures),
                                      worker.http_receipt_timeout_s)
        except (TimeoutError, _BusLostError, ReceiptFollowError) as exc:
            for m in metas:
                waiter.forget(m.partition, m.offset)
            if isinstance(exc, TimeoutError):
                return _refusal(HttpRefusal(
                    504, ReasonCode.RECEIPT_TIMEOUT,
                    f"IG did not decide within {worker.http_receipt_timeout_s:g}s; {resend}"))
            return _refusal(_bus_unavailable(
                f"the event bus was lost before IG's receipts arrived; {resend}"),
                retry_after=True)
        return _json({"receipts": [orjson.loads(r) for r in receipts]})

    async def post(request: web.Request) -> web.Response:
        try:
            return await ingest(request)
        except (ConnectionError, asyncio.CancelledError):
            raise  # the client went away: nobody to answer
        except Exception:
            logger.exception("ig_http: unexpected error answering POST /v1/ingest")
            response = _json({"error": "INTERNAL_ERROR",
                              "detail": "unexpected server error; re-send the same items (a "
                                        "re-send never admits twice)"}, 500)
            response.force_close()
            return response

    app.web.web_app.router.add_route("POST", "/v1/ingest", post, expect_handler=expect)
