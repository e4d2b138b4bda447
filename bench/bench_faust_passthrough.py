"""faust's own ceiling on the embedded broker: a pass-through agent with no logic.

The platform's agents run on faust-streaming (fixed by the design card). This measures what one
faust worker process can pass through when the agent does nothing but what every platform stage
does around its logic: take a batch of events (``take_events(500, within=5 ms)``, as the hot
path, AL and DLA do), publish each record raw through the app's producer, await the acks before
the next batch, and let faust commit. It prints msg/s and the worker's CPU per record next to the
raw aiokafka pass-through (consume, decode, encode, produce) measured in the same run, so the
ratio tells how much of a chain's budget faust's per-record machinery takes before any platform
code runs. Prints numbers, never asserts.

A second round per run consumes the same records without producing: faust's consume side
alone, which is what every record a stage reads costs before the stage's own work.

Run: ``python -m bench.bench_faust_passthrough`` (~1 min). Writes
``.cache/bench/faust_passthrough.json``. ``FP_BENCH_N`` sets the record count;
``FP_BENCH_DRIVER=confluent`` tries faust's librdkafka driver instead (with Tansu's fetch wait
shortened to 10 ms): measured on 2026-12-04 it never got a partition assignment from the
embedded broker (the worker waited at "Waiting for tables to be registered" for 80 s), so the
round times out after 10 minutes.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_bus_passthrough import _create_topics, _passthrough, _produce
from bench.common import embedded_broker, run_facts, summarize
from tests.factories import make_envelope_bytes

N = int(os.environ.get("FP_BENCH_N", "30000"))
ROUNDS = 2
BATCH_MAX = 500
BATCH_WITHIN_S = 0.005
CONSUME_ONLY = "-"
"""The sink name that makes the agent consume without producing (faust's consume side alone)."""


def _worker(bootstrap: str, source: str, sink: str, n: int, out: Path, datadir: str) -> None:
    """The faust worker (a subprocess): pass ``n`` records from ``source`` to ``sink``."""
    import faust
    from faust.worker import Worker

    # A consume-only round reads the pass-through's source again: a group of its own.
    group = f"bench-faust-{source}" + ("-consume" if sink == CONSUME_ONLY else "")
    driver = os.environ.get("FP_BENCH_DRIVER", "tansu")
    if driver == "confluent":  # faust's librdkafka driver, with Tansu's fetch wait shortened
        from faust.transport.drivers import confluent

        init = confluent.AsyncConsumer.__init__

        def _init(self: Any, config: dict[str, Any], *args: Any, **kwargs: Any) -> None:
            init(self, {**config, "fetch.wait.max.ms": 10}, *args, **kwargs)

        confluent.AsyncConsumer.__init__ = _init  # type: ignore[method-assign,assignment]
    app = faust.App(group, broker=f"{driver}://{bootstrap}",
                    store="memory://", datadir=datadir, web_enabled=False,
                    processing_guarantee="at_least_once", consumer_auto_offset_reset="earliest",
                    producer_linger_ms=5, topic_partitions=4, autodiscover=False)
    raw: dict[str, Any] = {"key_serializer": "raw", "value_serializer": "raw"}
    seen = 0
    started: float | None = None
    cpu0 = 0.0

    @app.agent(app.topic(source, **raw))
    async def passthrough(stream: Any) -> None:
        nonlocal seen, started, cpu0
        async for events in stream.take_events(BATCH_MAX, within=BATCH_WITHIN_S):
            if started is None:
                started, cpu0 = time.perf_counter(), time.process_time()
            if sink != CONSUME_ONLY:
                sends = [await app.producer.send(sink, ev.message.key, ev.message.value,
                                                 ev.message.partition, None, None)
                         for ev in events]
                await asyncio.gather(*sends)
            seen += len(events)
            if seen >= n:
                elapsed = time.perf_counter() - started
                cpu_us = 1e6 * (time.process_time() - cpu0) / n
                result = json.dumps({"msgs_per_s": n / elapsed, "cpu_us_per_msg": cpu_us})
                out.write_text(result)  # noqa: ASYNC240 - once, then the process exits
                os._exit(0)  # measured: skip faust's shutdown

    level = os.environ.get("FP_BENCH_LOGLEVEL", "warning")
    Worker(app, quiet=True, loglevel=level).execute_from_commandline()


def _faust_round(bootstrap: str, source: str, sink: str, n: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="fp-bench-faust-") as tmp:
        out = Path(tmp) / "result.json"
        proc = subprocess.Popen([sys.executable, "-m", "bench.bench_faust_passthrough", "--worker",
                                 bootstrap, source, sink, str(n), str(out), tmp])
        try:
            proc.wait(timeout=600)
        finally:
            if proc.poll() is None:
                proc.kill()
        if not out.exists():
            raise RuntimeError(f"faust pass-through worker exited {proc.returncode} unmeasured")
        result: dict[str, float] = json.loads(out.read_text())
        return result


def main() -> None:
    print(f"# bench_faust_passthrough n={N} batch={BATCH_MAX} {run_facts()}")
    values = [make_envelope_bytes(i) for i in range(N)]
    raw_rates, faust_rates, faust_cpu, consume_rates, consume_cpu = [], [], [], [], []
    with embedded_broker() as broker:
        for r in range(ROUNDS):
            names = [f"bench.fsrc.{r}", f"bench.fdst.{r}", f"bench.rsrc.{r}", f"bench.rdst.{r}"]
            asyncio.run(_create_topics(broker.bootstrap, names))
            asyncio.run(_produce(broker.bootstrap, names[2], values))
            raw_rates.append(asyncio.run(_passthrough(broker.bootstrap, names[2], names[3], N,
                                                      f"raw{r}")))
            asyncio.run(_produce(broker.bootstrap, names[0], values))
            result = _faust_round(broker.bootstrap, names[0], names[1], N)
            faust_rates.append(result["msgs_per_s"])
            faust_cpu.append(result["cpu_us_per_msg"])
            consumed = _faust_round(broker.bootstrap, names[0], CONSUME_ONLY, N)
            consume_rates.append(consumed["msgs_per_s"])
            consume_cpu.append(consumed["cpu_us_per_msg"])
            print(f"round {r}: raw aiokafka pass-through {raw_rates[-1]:,.0f} msg/s; faust "
                  f"pass-through {faust_rates[-1]:,.0f} msg/s, {faust_cpu[-1]:.0f} us CPU/msg "
                  f"(ratio {faust_rates[-1] / raw_rates[-1]:.1%}); faust consume only "
                  f"{consume_rates[-1]:,.0f} msg/s, {consume_cpu[-1]:.0f} us CPU/msg")
    print(f"raw pass-through msg/s: {summarize(raw_rates)}")
    print(f"faust pass-through msg/s: {summarize(faust_rates)}")
    print(f"faust worker CPU us/msg: {summarize(faust_cpu)}")
    print(f"faust consume-only msg/s: {summarize(consume_rates)}; "
          f"CPU us/msg: {summarize(consume_cpu)}")
    path = Path(".cache/bench/faust_passthrough.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"facts": run_facts(), "n": N, "raw_msgs_per_s": raw_rates,
                                "faust_msgs_per_s": faust_rates,
                                "faust_cpu_us_per_msg": faust_cpu,
                                "faust_consume_only_msgs_per_s": consume_rates,
                                "faust_consume_only_cpu_us_per_msg": consume_cpu}, indent=1))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        bootstrap, source, sink, n, out, datadir = sys.argv[2:8]
        sys.argv = [*sys.argv[:1], "worker"]
        _worker(bootstrap, source, sink, int(n), Path(out), datadir)
    else:
        main()
