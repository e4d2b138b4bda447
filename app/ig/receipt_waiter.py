"""Wait for IG's receipts of given ingress records (used by the HTTP push path).

IG stamps each receipt on ``fp.bus.audit.v1`` with the header ``fp-ingress: <partition>:<offset>``
of the submission it decided. The waiter follows the audit topic from its end (positioned before
anything is queued) and resolves the futures of the (partition, offset) pairs it was asked for,
whichever worker decided them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict

from aiokafka import AIOKafkaConsumer, TopicPartition

from app.eb.tansu_compat import fetch_high_watermarks
from app.ig.reconcile import INGRESS_HEADER

__all__ = ["ReceiptWaiter"]

# Receipts seen before anyone asked (IG can answer before the producer's ack returns): kept
# briefly so a late ``expect`` still finds them.
_RECENT_MAX = 50_000


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
        """Position at the audit topic's true end and start following (idempotent)."""
        async with self._lock:
            if self._task is not None:
                return
            consumer = AIOKafkaConsumer(bootstrap_servers=self.servers, group_id=None,
                                        enable_auto_commit=False)
            await consumer.start()
            consumer.assign(self.tps)
            ends = await fetch_high_watermarks(self.servers, await consumer.end_offsets(self.tps))
            for tp in self.tps:
                consumer.seek(tp, ends[tp])
            self._consumer = consumer
            self._task = asyncio.create_task(self._follow())

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

    async def _follow(self) -> None:
        assert self._consumer is not None
        while True:
            batches = await self._consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for record in records:
                    marker = dict(record.headers).get(INGRESS_HEADER)
                    if not marker:
                        continue
                    future = self._pending.pop(marker, None)
                    if future is None:
                        self._recent[marker] = record.value or b""
                        if len(self._recent) > _RECENT_MAX:
                            self._recent.popitem(last=False)
                    elif not future.done():
                        future.set_result(record.value or b"")

    def forget(self, partition: int, offset: int) -> None:
        self._pending.pop(f"{partition}:{offset}".encode(), None)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()
