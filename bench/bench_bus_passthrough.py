"""Raw aiokafka on the embedded broker: produce rate and a pass-through (consume, decode, encode,
produce).

The pass-through (no logic) is the yardstick every platform benchmark divides by, so results
compare across machines. Prints msgs/s per round, then median and spread.
"""

from __future__ import annotations

import asyncio
import time

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.common import embedded_broker, run_facts, summarize
from tests.factories import make_envelope_bytes

N = 50_000
ROUNDS = 3
PARTITIONS = 4


async def _create_topics(bootstrap: str, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(n, PARTITIONS, 1) for n in names])
    finally:
        await admin.close()


async def _produce(bootstrap: str, topic: str, values: list[bytes]) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=262_144)
    await producer.start()
    t0 = time.perf_counter()
    futures = [await producer.send(topic, v, key=b"%d" % (i % 997)) for i, v in enumerate(values)]
    await asyncio.gather(*futures)
    elapsed = time.perf_counter() - t0
    await producer.stop()
    return len(values) / elapsed


async def _passthrough(bootstrap: str, source: str, sink: str, n: int, group: str) -> float:
    consumer = AIOKafkaConsumer(source, bootstrap_servers=bootstrap, group_id=group,
                                auto_offset_reset="earliest", enable_auto_commit=False,
                                session_timeout_ms=10_000, max_poll_records=5_000)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=262_144)
    await consumer.start()
    await producer.start()
    seen = 0
    t0 = None
    while seen < n:
        batches = await consumer.getmany(timeout_ms=1000, max_records=5_000)
        t0 = t0 or time.perf_counter()
        for tp, records in batches.items():
            for r in records:
                value = orjson.dumps(orjson.loads(r.value))
                await producer.send(sink, value, key=r.key, partition=tp.partition)
            seen += len(records)
        await consumer.commit()
    await producer.flush()
    elapsed = time.perf_counter() - (t0 or time.perf_counter())
    await producer.stop()
    await consumer.stop()
    return n / elapsed


def main() -> None:
    print(f"# bench_bus_passthrough n={N} value_bytes≈{len(make_envelope_bytes(0))} "
          f"partitions={PARTITIONS} {run_facts()}")
    values = [make_envelope_bytes(i) for i in range(N)]
    produce_rates, pass_rates = [], []
    with embedded_broker() as broker:
        for r in range(ROUNDS):
            src, dst = f"bench.src.{r}", f"bench.dst.{r}"
            asyncio.run(_create_topics(broker.bootstrap, [src, dst]))
            produce_rates.append(asyncio.run(_produce(broker.bootstrap, src, values)))
            pass_rates.append(asyncio.run(_passthrough(broker.bootstrap, src, dst, N, f"g{r}")))
            print(f"round {r}: produce {produce_rates[-1]:,.0f} msg/s, "
                  f"pass-through {pass_rates[-1]:,.0f} msg/s")
    print(f"raw produce msg/s: {summarize(produce_rates)}")
    print(f"raw pass-through msg/s: {summarize(pass_rates)}")


if __name__ == "__main__":
    main()
