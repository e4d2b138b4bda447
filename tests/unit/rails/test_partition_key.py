"""Partition keys from payload precedence, and Kafka's default partitioner reproduced exactly."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as aiokafka_murmur2

from app.rails.envelope import CanonicalEnvelope
from app.rails.errors import ContractError
from app.rails.partition_key import (
    DEFAULT_KEY_PRECEDENCE,
    derive_partition_key,
    kafka_partition,
    murmur2,
    partition_key_bytes,
)

MakeEnvelope = Callable[..., CanonicalEnvelope]


def test_the_first_listed_field_present_wins(make_envelope: MakeEnvelope) -> None:
    envelope = make_envelope(payload={"merchant_id": "m1", "account_id": "a1", "card_id": "c1"})
    assert derive_partition_key(envelope) == "card_id:c1"


@pytest.mark.parametrize("unusable", ["", None, True, 1.5, {"id": 1}, ["c1"]])
def test_unusable_values_fall_through_to_the_next_field(
    make_envelope: MakeEnvelope, unusable: Any
) -> None:
    envelope = make_envelope(payload={"card_id": unusable, "account_id": "a1"})
    assert derive_partition_key(envelope) == "account_id:a1"


def test_integer_ids_are_usable(make_envelope: MakeEnvelope) -> None:
    assert derive_partition_key(make_envelope(payload={"customer_id": 7})) == "customer_id:7"


def test_no_usable_field_falls_back_to_event_id(make_envelope: MakeEnvelope) -> None:
    envelope = make_envelope(payload={"amount_minor": 5})
    assert derive_partition_key(envelope) == f"event_id:{envelope.event_id}"


def test_a_custom_precedence_is_honoured(make_envelope: MakeEnvelope) -> None:
    envelope = make_envelope(payload={"card_id": "c1", "merchant_id": "m1"})
    assert derive_partition_key(envelope, ["merchant_id", "card_id"]) == "merchant_id:m1"


@pytest.mark.parametrize("precedence", ["card_id", ["card_id", ""], [None]])
def test_malformed_precedence_is_refused(make_envelope: MakeEnvelope, precedence: Any) -> None:
    with pytest.raises(ContractError):
        derive_partition_key(make_envelope(), precedence)


def test_default_precedence_prefers_card_then_account_then_customer_then_merchant() -> None:
    assert DEFAULT_KEY_PRECEDENCE == ("card_id", "account_id", "customer_id", "merchant_id")


def test_partition_key_bytes_are_utf8() -> None:
    assert partition_key_bytes("card_id:é") == "card_id:é".encode()


# org.apache.kafka.common.utils.UtilsTest#testMurmur2: the Java client's own vectors (signed).
JAVA_VECTORS = [
    (b"21", -973932308),
    (b"foobar", -790332482),
    (b"a-little-bit-long-string", -985981536),
    (b"a-little-bit-longer-string", -1486304829),
    (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
    (b"abc", 479470107),
]


@pytest.mark.parametrize(("key", "java_signed"), JAVA_VECTORS)
def test_murmur2_matches_the_java_client(key: bytes, java_signed: int) -> None:
    assert murmur2(key) == java_signed & 0xFFFFFFFF


def test_murmur2_and_partition_match_aiokafka_for_many_keys() -> None:
    rng = random.Random(20240301)
    partitioner = DefaultPartitioner()
    keys = [rng.randbytes(rng.randrange(0, 64)) for _ in range(5000)]
    keys += [partition_key_bytes(f"card_id:card_{i}") for i in range(2000)]
    for key in keys:
        assert murmur2(key) == aiokafka_murmur2(key), key
        for n in (1, 3, 12, 64, 1000):
            assert kafka_partition(key, n) == partitioner(key, list(range(n)), []), (key, n)


@pytest.mark.parametrize("num_partitions", [0, -1, True, 2.0])
def test_kafka_partition_refuses_a_non_positive_or_non_int_count(num_partitions: Any) -> None:
    with pytest.raises(ContractError):
        kafka_partition(b"k", num_partitions)


def test_kafka_partition_refuses_a_str_key() -> None:
    with pytest.raises(ContractError):
        kafka_partition("card_id:c1", 12)  # type: ignore[arg-type]  # wrong type on purpose
