"""Publish raw bytes through the worker's producer, skipping faust's Topic machinery.

Hot paths (WSP framing, IG admission and receipts) already hold canonical bytes and must see the
broker's ack themselves; faust's ``Topic.send`` adds serializers, signals and attachment logic
that cost more than the send. This goes straight to the app's (aiokafka) producer, so batching,
``acks`` and the default murmur2 partitioner are unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable

import faust
from aiokafka.structs import RecordMetadata

__all__ = ["publish"]


async def publish(app: faust.App, topic: str, key: bytes, value: bytes,
                  headers: dict[str, bytes] | None = None, *,
                  partition: int | None = None) -> Awaitable[RecordMetadata]:
    """Queue one record; the returned awaitable resolves on the broker's ack (or raises).

    ``partition`` overrides the key's partition: the hot path writes each decision to the rtdl
    partition numbered like its trigger's, so one rtdl partition answers for one traffic one.
    """
    return await app.producer.send(topic, key, value, partition, None,
                                   list(headers.items()) if headers else None)
