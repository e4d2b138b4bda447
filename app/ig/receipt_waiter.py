"""Wait for IG's receipts of given ingress records (used by the HTTP push path).

IG stamps each receipt on ``fp.bus.audit.v1`` with the header ``fp-ingress: <partition>:<offset>``
of the submission it decided. The waiter follows the audit topic from its end (positioned before
anything is queued) and resolves the futures of the (partition, offset) pairs it was asked for,
whichever worker decided them.

Failure: if following stops (the consumer raised), every pending future fails with
:class:`ReceiptFollowError` and the waiter resets, so the next request starts a new follower;
nothing here waits without a bound of the caller's choosing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict

from aiokafka import AIOKafkaConsumer, TopicPartition

from app.eb.tansu_compat import fetch_high_watermarks
from app.ig.reconcile import INGRESS_HEADER
from app.runtime.structured_log import log_event

__all__ = ["ReceiptFollowError", "ReceiptWaiter"]

logger = logging.getLogger(__name__)

# Receipts seen before anyone asked (IG can answer before the producer's ack returns): kept
# briefly so a late ``expect`` still finds them.
_RECENT_MAX = 50_000
_STOP_TIMEOUT_S = 5.0


class ReceiptFollowError(Exception):
    """Following the audit topic stopped; the receipts asked for will not come from here."""


class ReceiptWaiter:
    """One follower of the audit topic per worker; ``expect`` before queueing, then ``wait``."""

    def __init__(self, bootstrap_servers: list[str], audit_topic: str, partitions: int) -> None:
        self.servers = bootstrap_servers
        self.tps = [TopicPartition(audit_topic, p) for p in range(partitions)]
        self._pending: dict[bytes, asyncio.Future[bytes]] = {}
        self._recent: OrderedDict[bytes, bytes] = OrderedDict()
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Position at the audit topic's true end and start following (idempotent).

        Unbounded on a dead broker (aiokafka retries): callers bound it with a timeout; a start
        that did not finish leaves nothing behind and the next call starts again.
        """
        async with self._lock:
            if self._task is not None:
                return
            consumer = AIOKafkaConsumer(bootstrap_servers=self.servers, group_id=None,
                                        enable_auto_commit=False)
            try:
                await consumer.start()
                consumer.assign(self.tps)
                ends = await fetch_high_watermarks(self.servers,
                                                   await consumer.end_offsets(self.tps))
                for tp in self.tps:
                    consumer.seek(tp, ends[tp])
            except BaseException:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(_STOP_TIMEOUT_S):
                        await consumer.stop()
                raise
            self._consumer = consumer
            self._task = asyncio.create_task(self._follow(consumer))

    def expect(self, partition: int, offset: int) -> asyncio.Future[bytes]:
        """A future that resolves with the receipt bytes for that ingress record."""
        key = f"{partition}:{offset}".encode()
        future = self._pending.get(key)
        if future is None:
            future = self._pending[key] = asyncio.get_running_loop().create_future()
            early = self._recent.pop(key, None)
            if early is not None:
                del self._pending[key]
                future.set_result(early)
        return future

    async def _follow(self, consumer: AIOKafkaConsumer) -> None:
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=200)
                for records in batches.values():
                    for record in records:
                        marker = dict(record.headers).get(INGRESS_HEADER)
                        if marker:
                            self._deliver(marker, record.value or b"")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log_event(logger, "ig_http.receipt_follow_failed", error=type(exc).__name__,
                      detail=str(exc)[:200])
            self._fail_pending(exc)
            self._task = self._consumer = None
            with contextlib.suppress(Exception):
                async with asyncio.timeout(_STOP_TIMEOUT_S):
                    await consumer.stop()

    def _deliver(self, marker: bytes, value: bytes) -> None:
        future = self._pending.pop(marker, None)
        if future is None:
            self._recent[marker] = value
            if len(self._recent) > _RECENT_MAX:
                self._recent.popitem(last=False)
        elif not future.done():
            future.set_result(value)

    def _fail_pending(self, cause: Exception) -> None:
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(ReceiptFollowError(f"audit follower stopped: {cause}"))
                future.exception()  # retrieved here: a request that gave up never awaits it

    def forget(self, partition: int, offset: int) -> None:
        self._pending.pop(f"{partition}:{offset}".encode(), None)

    async def stop(self) -> None:
        """Stop following (bounded); pending futures fail."""
        task, consumer = self._task, self._consumer
        self._task = self._consumer = None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._fail_pending(ReceiptFollowError("the worker is stopping"))
        if consumer is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(_STOP_TIMEOUT_S):
                    await consumer.stop()
