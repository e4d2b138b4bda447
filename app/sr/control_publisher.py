"""Publishing READY on ``fp.bus.control.v1``: an interface and its Kafka implementation.

The publish waits for the broker's ack and returns the record's ``eb_ref``; a failure raises
(infrastructure errors fail loudly; the run stays un-published and a repeated request retries).
"""

from __future__ import annotations

from typing import Protocol

from aiokafka import AIOKafkaProducer

from app.rails.receipts import EbRef

__all__ = ["ControlPublisher", "KafkaControlPublisher"]


class ControlPublisher(Protocol):
    async def publish(self, key: bytes, value: bytes) -> EbRef: ...


class KafkaControlPublisher:
    """aiokafka producer for the control topic; ``acks=all``, one record at a time."""

    def __init__(self, bootstrap_servers: list[str], topic: str) -> None:
        self.topic = topic
        self._producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")

    async def __aenter__(self) -> KafkaControlPublisher:
        await self._producer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._producer.stop()

    async def publish(self, key: bytes, value: bytes) -> EbRef:
        meta = await self._producer.send_and_wait(self.topic, value, key=key)
        return EbRef(topic=meta.topic, partition=meta.partition, offset=meta.offset)
