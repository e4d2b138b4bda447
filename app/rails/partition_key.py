"""Partition keys and Kafka's default partitioner: which partition an admitted event lands on.

This module owns the ordering rail (DESIGN section 5). IG stamps each admitted event with a
deterministic ``partition_key`` taken from its payload by a precedence list of entity fields
(first non-empty wins, e.g. card before account before customer before merchant), so all events of
one entity share a partition and keep their order; an event naming no entity falls back to its
``event_id``. The key is ``"<field>:<value>"``: self-describing on the bus, and a card and a
merchant with the same raw id never look like the same key.

The record key is the partition key and the partition is Kafka's default, murmur2 of the key
bytes masked positive, modulo the partition count, exactly as Java clients, aiokafka and Redpanda
compute it; :func:`kafka_partition` reproduces it so tests and tools can predict placement.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from app.rails.envelope import CanonicalEnvelope
from app.rails.errors import ContractError

__all__ = [
    "DEFAULT_KEY_PRECEDENCE",
    "derive_partition_key",
    "kafka_partition",
    "murmur2",
    "partition_key_bytes",
    "partition_key_of",
]

DEFAULT_KEY_PRECEDENCE: tuple[str, ...] = ("card_id", "account_id", "customer_id", "merchant_id")
"""Entity fields in the order IG prefers them; a profile may set its own list."""

_M = 0x5BD1E995
_SEED = 0x9747B28C
_MASK32 = 0xFFFFFFFF
_LE_U32 = struct.Struct("<I")  # Java reads the key four bytes at a time, little-endian


def _key_value(value: Any) -> str | None:
    """A payload value usable as a key: a non-empty string or an integer; anything else is skipped.

    Floats, booleans, objects and arrays are skipped rather than stringified, because their text
    form is not a stable entity identity (``1.0`` vs ``1``, ``True`` vs ``1``).
    """
    if isinstance(value, str):
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def derive_partition_key(
    envelope: CanonicalEnvelope, precedence: Sequence[str] = DEFAULT_KEY_PRECEDENCE
) -> str:
    """The partition key of an event: ``"<field>:<value>"`` of the first usable payload field.

    Falls back to ``"event_id:<event_id>"`` when no listed field holds a usable value, which
    spreads such events evenly and keeps a re-sent event on the same partition.

    Raises:
        ContractError: ``precedence`` is a bare string or holds an empty or non-string name.
    """
    return partition_key_of(envelope.payload, envelope.event_id, precedence)


def partition_key_of(payload: Any, event_id: str, precedence: Sequence[str]) -> str:
    """:func:`derive_partition_key` over a raw payload mapping (for not yet validated input)."""
    if isinstance(precedence, str) or not all(isinstance(f, str) and f for f in precedence):
        raise ContractError("partition key: precedence must be a sequence of field names")
    if isinstance(payload, dict):
        for field in precedence:
            value = _key_value(payload.get(field))
            if value is not None:
                return f"{field}:{value}"
    return f"event_id:{event_id}"


def partition_key_bytes(key: str) -> bytes:
    """The Kafka record key for a partition key: its UTF-8 bytes."""
    return key.encode("utf-8")


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 (``org.apache.kafka.common.utils.Utils.murmur2``) as an unsigned 32-bit int.

    Java returns the same 32 bits as a signed int; only the sign convention differs.
    """
    length = len(data)
    h = (_SEED ^ length) & _MASK32
    tail = length & ~3
    for (k,) in _LE_U32.iter_unpack(memoryview(data)[:tail]):
        k = (k * _M) & _MASK32
        k ^= k >> 24
        k = (k * _M) & _MASK32
        h = ((h * _M) & _MASK32) ^ k
    extra = length & 3
    if extra >= 3:
        h ^= data[tail + 2] << 16
    if extra >= 2:
        h ^= data[tail + 1] << 8
    if extra >= 1:
        h ^= data[tail]
        h = (h * _M) & _MASK32
    h ^= h >> 13
    h = (h * _M) & _MASK32
    h ^= h >> 15
    return h


def kafka_partition(key: bytes, num_partitions: int) -> int:
    """The partition Kafka's default partitioner picks for a non-null key.

    ``toPositive(murmur2(key)) % num_partitions``, where toPositive masks the sign bit (it is not
    ``abs``), as in Java's ``BuiltInPartitioner.partitionForKey`` and aiokafka's
    ``DefaultPartitioner``.

    Raises:
        ContractError: ``key`` is not bytes or ``num_partitions`` is not a positive int.
    """
    if not isinstance(key, bytes | bytearray | memoryview):
        raise ContractError(f"kafka partition: key must be bytes, got {type(key).__name__}")
    if (
        isinstance(num_partitions, bool)
        or not isinstance(num_partitions, int)
        or num_partitions < 1
    ):
        raise ContractError(f"kafka partition: num_partitions must be >= 1, got {num_partitions!r}")
    return (murmur2(bytes(key)) & 0x7FFFFFFF) % num_partitions
