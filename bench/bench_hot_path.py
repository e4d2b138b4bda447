"""Hot path on the embedded broker: decisions/s with one and two workers, admission-to-decision
latency at fixed offered loads, worker memory, and the ratio to a raw aiokafka pass-through
measured on the same broker in the same run (DESIGN section 9). Prints numbers, never asserts.

Method (one broker, one run; every phase on its own topic prefix):

1. Admit once. An ingest-only worker (agents ``[wsp, ig]``, prefix ``adm.``) streams a generated
   world's traffic outputs (auth_request, clearing, refund, reversal; labels are not streamed:
   the hot path does not read them) at full speed until the traffic topic holds one record per
   pack row. The worker is then stopped; its admitted traffic is read into memory once and is the
   input of every later phase (merged across partitions by record timestamp, i.e. admission
   order; each partition keeps its offset order).
2. Throughput, k = 1 then 2 hot-path-only workers (agents ``[hotpath]``, posture pinned NORMAL,
   the same object store as SR so the run ledger says READY). The hot path skips triggers that
   its partition's rtdl twin already decided, so each k gets a fresh prefix ``tp<k>.`` (fresh
   traffic and rtdl topics) and a fresh consumer group. The workers are started on the *empty*
   traffic topic and we wait until the group is stable and every worker owns traffic partitions
   (4 partitions, read from ``/v1/health``); only then is the admitted traffic copied in, byte
   for byte (key, value, headers, same partition; fresh timestamps) from memory in hand-built
   batches (~40 k records/s even on a busy box). Starting the workers after the copy would let
   the first worker take all partitions and decide for seconds before the second one joins and
   the rebalance makes both rebuild state: that measures the rebalance, not the hot path.
   Decisions/s is reported two ways: decisions / (last - first decision record timestamp) and
   decisions / (last decision record timestamp - start of the copy). Right before each k the
   raw pass-through below runs on the same admitted traffic, so each ratio compares numbers
   taken moments apart on this noisy box.
3. Raw pass-through: ``bench_bus_passthrough._passthrough`` (consume, JSON decode, encode,
   produce, no logic) over the admitted traffic topic into a scratch topic, 3 rounds; the ratio
   divides by their median.
4. Latency, for each offered rate R (default 200 and 500 events/s): one idle hot-path worker on a
   fresh prefix ``lat<R>.``; the admitted traffic is produced into it paced by the wall clock at R
   records/s (every traffic record counts as an event; only auth_requests get a decision) for
   ``--latency-seconds``. Latency per decision = decision record timestamp - its trigger's traffic
   record timestamp (found by the decision's ``trigger.eb_ref``). The traffic record's (producer)
   timestamp stands in for IG's admission time, and the decision record's timestamp is taken when
   DF hands it to the producer (before the broker's ack); both include the producers' 5 ms linger.
5. Memory: VmRSS and VmHWM (peak) of each worker from ``/proc/<pid>/status`` at the end of each
   phase.

The degrade posture is pinned to NORMAL in every hot-path worker: the deliberate backlog of a
throughput phase would otherwise push the ladder to DEGRADED mid-measurement.

CPU: each phase also prints the CPU each worker, the broker, this script and every *other*
process on the box used meanwhile (from ``/proc``), and the load average: on a shared 2-core box
the other processes explain most of the spread between runs.

Run: ``python -m bench.bench_hot_path`` (small world, 2 days: ~28 k traffic rows, ~14 k
authorisations; ~10 min while the hot path decides ~150/s); ``--days N`` for more;
``--quick`` = tiny world (~10 k rows) and 15 s latency windows (~5 min). Writes a JSON summary to
``.cache/bench/hot_path.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import os
import shutil
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from app.cli.sr_cmd import sr_run
from app.eb.read_back import read_topic
from app.eb.tansu_compat import fetch_high_watermarks
from app.eb.topics import Topic
from app.profiles.loader import load_profile
from app.runtime.supervisor import WorkerProcess
from app.sr.run_request import RunRequest
from bench.bench_bus_passthrough import _create_topics, _passthrough
from bench.common import (
    box_busy_cpu_s,
    broker_dir,
    free_port,
    metric_sum,
    proc_cpu_s,
    proc_memory_mb,
    run_facts,
    summarize,
    write_profile,
)
from world_engine import WorldParams, generate_world

__all__ = ["main"]

SEED = 20250303
PARTITIONS = 4
TRAFFIC_OUTPUTS = ("auth_request", "clearing", "refund", "reversal")
PINNED = {"degrade": {"pinned": "NORMAL"}}
OUT = Path(__file__).resolve().parents[1] / ".cache" / "bench" / "hot_path.json"

Record = ConsumerRecord[bytes, bytes]


@dataclass
class Env:
    root: Path
    state_dir: Path
    bootstrap: str
    broker_pid: int
    wiring_patch: dict[str, Any] | None = None  # merged into every worker's wiring

    def spawn(self, name: str, app_id: str, agents: list[str],
              policy_patch: dict[str, Any] | None = None) -> WorkerProcess:
        """Start one worker in its own folder; all share the object store and oracle root."""
        port = free_port()
        path = write_profile(
            self.root / name, self.state_dir, app_id=app_id, web_port=port,
            partitions=PARTITIONS, policy_patch=policy_patch,
            wiring_patch={"object_store": {"type": "local", "root": str(self.root / "objects")},
                          "oracle_root": str(self.root / "oracle"),
                          "worker": {"agents": agents}, **(self.wiring_patch or {})})
        return WorkerProcess(str(path), port, self.root / f"{name}.log").start()


class CpuProbe:
    """CPU used between start and ``stop()``, in % of one core: each worker, the broker, this
    script, and every other process on the box (the box has ``os.cpu_count() * 100`` %)."""

    def __init__(self, workers: list[WorkerProcess], broker_pid: int) -> None:
        self.pids = {f"w{i}": w.proc.pid for i, w in enumerate(workers) if w.proc is not None}
        self.pids |= {"broker": broker_pid, "bench": os.getpid()}
        self.t0, self.box0 = time.monotonic(), box_busy_cpu_s()
        self.cpu0 = {k: proc_cpu_s(pid) for k, pid in self.pids.items()}

    def stop(self) -> dict[str, float]:
        dt = time.monotonic() - self.t0
        used = {k: (proc_cpu_s(pid) - self.cpu0[k]) / dt * 100 for k, pid in self.pids.items()}
        box = (box_busy_cpu_s() - self.box0) / dt * 100
        return {**{k: round(v, 1) for k, v in used.items()},
                "others": round(box - sum(used.values()), 1), "box": round(box, 1),
                "seconds": round(dt, 1)}


def _worker_cpu_s(cpu: dict[str, float]) -> float:
    """CPU seconds all workers used during a probe."""
    return sum(v for k, v in cpu.items() if k.startswith("w")) / 100 * cpu["seconds"]


def _fmt_cpu(cpu: dict[str, float]) -> str:
    ours = ", ".join(f"{k} {v:.0f}" for k, v in cpu.items() if k not in ("box", "seconds"))
    return (f"cpu over {cpu['seconds']:.0f}s, % of one core: {ours} (box {cpu['box']:.0f} of "
            f"{(os.cpu_count() or 1) * 100}; load avg {os.getloadavg()[0]:.1f})")


# ---------------------------------------------------------------- broker helpers


async def _log_end_wait(bootstrap: str, topic: str, target: int, timeout_s: float,
                        stall_s: float) -> tuple[int, float]:
    """Poll the true log end (sum over partitions) until it reaches ``target``.

    Gives up after ``timeout_s``, or after ``stall_s`` without progress. Returns (count, seconds).
    """
    tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    started = last_move = time.monotonic()
    count = -1
    try:
        consumer.assign(tps)
        while True:
            ends = await fetch_high_watermarks([bootstrap], await consumer.end_offsets(tps))
            now_count = sum(ends.values())
            now = time.monotonic()
            if now_count != count:
                count, last_move = now_count, now
            if count >= target or now - started > timeout_s or now - last_move > stall_s:
                return count, now - started
            await asyncio.sleep(1.0)
    finally:
        await consumer.stop()


@dataclass
class Feed:
    records: int
    wall_start: float  # epoch seconds at the first send
    send_s: float      # first to last send
    acked_s: float     # first send to every ack

    @property
    def rate(self) -> float:
        return self.records / self.send_s if self.send_s > 0 else float("inf")


async def _feed(bootstrap: str, topic: str, records: list[Record],
                rate: float | None = None) -> Feed:
    """Produce ``records`` (key, value, headers, partition kept) into ``topic``.

    ``rate`` None = as fast as possible: whole batches built by hand (``send_batch``), so the
    copy outruns the hot path by far; else record i is sent at t0 + i/rate (``send``, 5 ms linger).
    """
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=262_144)
    await producer.start()
    futures = []
    try:
        n, i = len(records), 0
        wall_start, t0 = time.time(), time.perf_counter()
        if rate is None:
            futures = await _send_batches(producer, topic, records)
        while rate is not None and i < n:
            elapsed = time.perf_counter() - t0
            due = min(n, int(elapsed * rate) + 1)
            if due <= i:
                await asyncio.sleep(max(0.0005, i / rate - elapsed))
                continue
            for r in records[i:due]:
                futures.append(await producer.send(topic, r.value, key=r.key,
                                                   partition=r.partition,
                                                   headers=list(r.headers or ())))
            i = due
        sent = time.perf_counter()
        await asyncio.gather(*futures)
        acked = time.perf_counter()
    finally:
        await producer.stop()
    return Feed(len(records), wall_start, sent - t0, acked - t0)


async def _send_batches(producer: AIOKafkaProducer, topic: str,
                        records: list[Record]) -> list[Any]:
    """Every record into its partition, in order, as hand-built batches of <= 256 kB."""
    futures: list[Any] = []
    open_batches: dict[int, Any] = {}
    for r in records:
        batch = open_batches.get(r.partition)
        if batch is None:
            batch = open_batches[r.partition] = producer.create_batch()
        if batch.append(key=r.key, value=r.value, timestamp=None,
                        headers=list(r.headers or ())) is None:  # full: ship it, start anew
            batch.close()
            futures.append(await producer.send_batch(batch, topic, partition=r.partition))
            batch = open_batches[r.partition] = producer.create_batch()
            batch.append(key=r.key, value=r.value, timestamp=None, headers=list(r.headers or ()))
    for partition, batch in open_batches.items():
        batch.close()
        futures.append(await producer.send_batch(batch, topic, partition=partition))
    return futures


def _admission_order(records: list[Record]) -> list[Record]:
    """Merge partitions by record timestamp; each partition keeps its offset order."""
    parts: dict[int, list[Record]] = {}
    for r in records:
        parts.setdefault(r.partition, []).append(r)
    return list(heapq.merge(*(sorted(p, key=lambda r: r.offset) for p in parts.values()),
                            key=lambda r: r.timestamp))


def _event_type(record: Record) -> str:
    return str(orjson.loads(record.value or b"").get("event_type", "?"))


def _decisions(records: list[Record]) -> list[tuple[Record, dict[str, Any]]]:
    out = []
    for r in records:
        body = orjson.loads(r.value or b"")
        if body.get("record_type") == "decision":
            out.append((r, body))
    return out


# ---------------------------------------------------------------- worker helpers


def _traffic_owned(worker: WorkerProcess, traffic: str) -> tuple[bool, set[int]]:
    """(stable, traffic partitions) from the worker's /v1/health."""
    _, body = worker.get("/v1/health")
    if not body:
        return False, set()
    owned = {int(a.rsplit(":", 1)[1]) for a in body.get("assigned", [])
             if a.rsplit(":", 1)[0] == traffic}
    return bool(body.get("ready")) and not body.get("rebalancing"), owned


def _wait_spread(workers: list[WorkerProcess], traffic: str,
                 timeout_s: float = 120.0) -> tuple[bool, list[list[int]]]:
    """Wait until every worker owns traffic partitions, disjointly covering all of them,
    twice in a row one second apart. Returns (spread, owners per worker)."""
    deadline = time.monotonic() + timeout_s
    previous: list[list[int]] | None = None
    owners: list[list[int]] = []
    while time.monotonic() < deadline:
        states = [_traffic_owned(w, traffic) for w in workers]
        owners = [sorted(o) for _, o in states]
        union = [p for o in owners for p in o]
        good = (all(s for s, _ in states) and all(owners)
                and sorted(union) == list(range(PARTITIONS)))
        if good and owners == previous:
            return True, owners
        previous = owners if good else None
        time.sleep(1.0)
    return False, owners


def _log_facts(log: Path) -> dict[str, int]:
    """Counts of notable lines in a worker log."""
    text = log.read_text(errors="replace") if log.exists() else ""
    lines = text.splitlines()
    return {
        "prepared": sum("hotpath.prepared" in ln for ln in lines),
        "errors": sum(("Traceback" in ln or " ERROR " in ln or '"level": "error"' in ln
                       or "[ERROR]" in ln) for ln in lines),
        "warnings": sum((" WARNING " in ln or "[WARNING]" in ln) for ln in lines),
        "rebalances": sum("Rebalance" in ln or "rebalance" in ln for ln in lines),
    }


def _memory(worker: WorkerProcess) -> dict[str, float]:
    return proc_memory_mb(worker.proc.pid) if worker.proc is not None else {}


def _fmt_mem(mems: list[dict[str, float]]) -> str:
    return ", ".join(f"w{i}: rss {m.get('VmRSS', 0):,.0f} MB (peak {m.get('VmHWM', 0):,.0f} MB)"
                     for i, m in enumerate(mems))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# ---------------------------------------------------------------- phases


def _admit(env: Env, scale: str, days: int,
           cap: int | None = None) -> tuple[list[Record], dict[str, Any]]:
    """Stream the world's traffic through an ingest-only worker; ``cap`` = rows per output
    (the testing posture's smoke cap: the first rows of each output by event time)."""
    t0 = time.perf_counter()
    locator = generate_world(WorldParams(scale=scale, days=days),  # type: ignore[arg-type]
                             SEED, env.root / "oracle")
    gen_s = time.perf_counter() - t0
    rows = sum(min(locator.row_counts[o], cap or locator.row_counts[o]) for o in TRAFFIC_OUTPUTS)
    testing = {"mode": "smoke", "max_rows_per_output": cap} if cap else \
        {"mode": "completion", "max_rows_per_output": None}
    policy = {**PINNED, "testing": testing}
    worker = env.spawn("ingest", "adm", ["wsp", "ig"], policy)
    traffic = "adm." + Topic.TRAFFIC.value
    try:
        worker.wait_ready(120)
        profile = load_profile(worker.profile)
        probe = CpuProbe([worker], env.broker_pid)
        t1 = time.monotonic()
        outcome = asyncio.run(sr_run(profile, RunRequest(
            world_locator=str(locator.path), scenario_id="baseline",
            streamed_outputs=TRAFFIC_OUTPUTS)))
        if outcome.status != "READY":
            raise SystemExit(f"SR did not declare the run READY: {outcome}")
        count, _ = asyncio.run(_log_end_wait(env.bootstrap, traffic, rows, 900, 60))
        admit_s = time.monotonic() - t1
        cpu = probe.stop()
        mem = _memory(worker)
    finally:
        worker.stop()
    records = _admission_order(asyncio.run(read_topic(env.bootstrap, traffic, PARTITIONS)))
    types = Counter(_event_type(r) for r in records)
    facts = {"world": f"{scale}/{days}d", "rows_per_output_cap": cap, "seed": SEED,
             "generate_s": round(gen_s, 1),
             "pack_traffic_rows": rows, "admitted": len(records), "by_type": dict(types),
             "admit_s": round(admit_s, 1), "admissions_per_s": round(count / admit_s, 1),
             "ingest_worker_mem_mb": mem, "cpu_pct": cpu, "ingest_log": _log_facts(worker.log_path),
             "run_id": outcome.run_id}
    print(f"admission: world {scale}/{days}d generated in {gen_s:.1f}s; {len(records):,} of "
          f"{rows:,} traffic rows admitted in {admit_s:.1f}s (~{count / admit_s:,.0f}/s incl. "
          f"SR verification) - auth_request {types['auth_request']:,}, "
          f"others {len(records) - types['auth_request']:,}", flush=True)
    print(f"  {_fmt_cpu(cpu)}", flush=True)
    if len(records) < rows:
        print(f"  WARNING: only {len(records):,}/{rows:,} traffic rows admitted", flush=True)
    return records, facts


def _raw_passthrough(env: Env, n: int, tag: str, rounds: int = 3) -> list[float]:
    """``rounds`` pass-throughs of the admitted traffic topic, each into a fresh sink/group."""
    rates = []
    for i in range(rounds):
        sink = f"raw.{tag}.{i}.sink"
        asyncio.run(_create_topics(env.bootstrap, [sink]))
        rates.append(asyncio.run(_passthrough(env.bootstrap, "adm." + Topic.TRAFFIC.value, sink,
                                              n, f"raw-{tag}-{i}")))
    print(f"  raw aiokafka pass-through (consume, decode, encode, produce) of the {n:,} admitted "
          f"traffic records: {summarize(rates)} msg/s", flush=True)
    return rates


def _throughput(env: Env, k: int, records: list[Record], auths: int) -> dict[str, Any]:
    app_id = f"tp{k}"
    traffic, rtdl = f"{app_id}.{Topic.TRAFFIC.value}", f"{app_id}.{Topic.RTDL.value}"
    asyncio.run(_create_topics(env.bootstrap, [traffic]))
    workers = [env.spawn(f"{app_id}-w{i}", app_id, ["hotpath"], PINNED) for i in range(k)]
    try:
        for w in workers:
            w.wait_ready(120)
        spread, owners = _wait_spread(workers, traffic)
        probe = CpuProbe(workers, env.broker_pid)
        feed = asyncio.run(_feed(env.bootstrap, traffic, records))
        count, _ = asyncio.run(_log_end_wait(env.bootstrap, rtdl, auths, 900, 60))
        cpu = probe.stop()
        mems = [_memory(w) for w in workers]
        per_worker = [metric_sum(w.base_url, "fp_df_decisions_total") for w in workers]
        postures = {p: sum(metric_sum(w.base_url, "fp_df_decisions_total", posture=p)
                           for w in workers) for p in ("NORMAL", "DEGRADED", "RULES_ONLY",
                                                       "FAIL_CLOSED")}
        anomalies = sum(metric_sum(w.base_url, "fp_hotpath_anomalies_total") for w in workers)
    finally:
        for w in workers:
            w.stop()
    decisions = _decisions(asyncio.run(read_topic(env.bootstrap, rtdl, PARTITIONS)))
    triggers = Counter(body["trigger"]["event_id"] for _, body in decisions)
    stamps = [r.timestamp for r, _ in decisions]
    n = len(decisions)
    span_s = (max(stamps) - min(stamps)) / 1000 if n > 1 else float("nan")
    wall_s = max(stamps) / 1000 - feed.wall_start if n else float("nan")
    logs = [_log_facts(w.log_path) for w in workers]
    result = {
        "workers": k, "decisions": n, "distinct_triggers": len(triggers),
        "duplicates": n - len(triggers), "auth_requests": auths,
        "decisions_per_s_span": round(n / span_s, 1), "span_s": round(span_s, 2),
        "decisions_per_s_wall": round(n / wall_s, 1), "wall_s": round(wall_s, 2),
        "feed_records": feed.records, "feed_produce_per_s": round(feed.rate, 1),
        "feed_acked_s": round(feed.acked_s, 2), "partitions_spread": spread,
        "owners": owners, "per_worker_decisions": per_worker, "by_posture": postures,
        "anomalies": anomalies, "worker_mem_mb": mems, "logs": logs,
        "rtdl_log_end": count, "cpu_pct": cpu,
        "worker_cpu_ms_per_decision": round(_worker_cpu_s(cpu) * 1000 / max(n, 1), 3),
    }
    print(f"throughput, {k} worker(s): {n:,} decisions ({len(triggers):,} distinct of {auths:,} "
          f"auth_requests) - {n / span_s:,.0f} decisions/s over the decision span "
          f"({span_s:.1f}s), {n / wall_s:,.0f}/s from copy start ({wall_s:.1f}s)", flush=True)
    print(f"  copy of {feed.records:,} admitted records into {traffic}: produce "
          f"{feed.rate:,.0f} msg/s, all acked after {feed.acked_s:.2f}s", flush=True)
    used = {p: int(v) for p, v in postures.items() if v}
    print(f"  partitions owned {owners} (spread={spread}); decisions per worker "
          f"{[int(x) for x in per_worker]}; posture {used}; anomalies {int(anomalies)}",
          flush=True)
    print(f"  memory at end: {_fmt_mem(mems)}", flush=True)
    print(f"  {_fmt_cpu(cpu)}; worker CPU per decision "
          f"{result['worker_cpu_ms_per_decision']:.2f} ms (per traffic record "
          f"{_worker_cpu_s(cpu) * 1000 / feed.records:.2f} ms)", flush=True)
    if feed.acked_s > 0.25 * wall_s:
        print(f"  NOTE: the copy took {feed.acked_s:.1f}s of {wall_s:.1f}s: decisions/s may be "
              "limited by the feed, not the hot path", flush=True)
    _warn_logs(logs, expected_prepared=PARTITIONS)
    return result


def _warn_logs(logs: list[dict[str, int]], expected_prepared: int) -> None:
    prepared = sum(lg["prepared"] for lg in logs)
    errors = sum(lg["errors"] for lg in logs)
    if prepared != expected_prepared:
        print(f"  NOTE: partitions prepared {prepared} times (expected {expected_prepared}): "
              "a rebalance happened mid-phase", flush=True)
    if errors:
        print(f"  NOTE: {errors} error/traceback lines in the worker log(s)", flush=True)


def _latency(env: Env, rate: float, records: list[Record], seconds: float) -> dict[str, Any]:
    app_id = f"lat{rate:g}"
    traffic, rtdl = f"{app_id}.{Topic.TRAFFIC.value}", f"{app_id}.{Topic.RTDL.value}"
    chosen = records[:int(rate * seconds)]
    auths = sum(_event_type(r) == "auth_request" for r in chosen)
    asyncio.run(_create_topics(env.bootstrap, [traffic]))
    worker = env.spawn(app_id, app_id, ["hotpath"], PINNED)
    try:
        worker.wait_ready(120)
        _, owners = _wait_spread([worker], traffic)
        probe = CpuProbe([worker], env.broker_pid)
        feed = asyncio.run(_feed(env.bootstrap, traffic, chosen, rate))
        asyncio.run(_log_end_wait(env.bootstrap, rtdl, auths, 300, 30))
        cpu = probe.stop()
        mem = _memory(worker)
        hist_sum = metric_sum(worker.base_url, "fp_df_decision_seconds_sum")
        hist_n = metric_sum(worker.base_url, "fp_df_decision_seconds_count")
    finally:
        worker.stop()
    queued = {(r.partition, r.offset): r.timestamp
              for r in asyncio.run(read_topic(env.bootstrap, traffic, PARTITIONS))}
    lat_ms = []
    decided = _decisions(asyncio.run(read_topic(env.bootstrap, rtdl, PARTITIONS)))
    drain_s = (max((r.timestamp for r, _ in decided), default=0)
               - max(queued.values(), default=0)) / 1000
    for r, body in decided:
        ref = body["trigger"]["eb_ref"]
        if ref["topic"] == traffic and (ref["partition"], ref["offset"]) in queued:
            lat_ms.append(float(r.timestamp - queued[(ref["partition"], ref["offset"])]))
    logs = [_log_facts(worker.log_path)]
    result: dict[str, Any] = {
        "offered_rate": rate, "achieved_rate": round(feed.rate, 1), "records": feed.records,
        "seconds": round(feed.send_s, 1), "auth_requests": auths, "decisions": len(lat_ms),
        "owners": owners, "worker_mem_mb": mem, "logs": logs, "cpu_pct": cpu,
        "last_decision_after_last_send_s": round(drain_s, 2),
        "worker_histogram_mean_ms": round(hist_sum / hist_n * 1000, 2) if hist_n else None,
    }
    if lat_ms:
        result.update({f"p{int(q * 100)}_ms": _pct(lat_ms, q) for q in (0.5, 0.9, 0.99)})
        result.update(max_ms=max(lat_ms), mean_ms=round(statistics.fmean(lat_ms), 2))
        print(f"latency at {rate:g} events/s offered ({feed.rate:,.1f}/s achieved, "
              f"{feed.records:,} records over {feed.send_s:.1f}s, {len(lat_ms):,} decisions of "
              f"{auths:,} auth_requests): p50 {result['p50_ms']:.0f} ms, p90 "
              f"{result['p90_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, max "
              f"{result['max_ms']:.0f} ms, mean {result['mean_ms']:.1f} ms", flush=True)
        if drain_s > 1.0:
            print(f"  NOTE: the worker fell behind: its last decision came {drain_s:.1f}s after "
                  "the last record was offered (offered load above what it decides here and "
                  "now; the percentiles measure the backlog)", flush=True)
    else:
        print(f"latency at {rate:g} events/s: NO decisions", flush=True)
    hist = result["worker_histogram_mean_ms"]
    odd = " (implausible: more than a day)" if hist is not None and hist > 86_400_000 else ""
    print(f"  worker's own fp_df_decision_seconds mean (to broker ack): {hist} ms{odd}; "
          f"memory at end: {_fmt_mem([mem])}", flush=True)
    print(f"  {_fmt_cpu(cpu)}", flush=True)
    _warn_logs(logs, expected_prepared=PARTITIONS)
    return result


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["tiny", "small"], default=None)
    parser.add_argument("--days", type=int, default=None,
                        help="days of authorisations (default: small 2, tiny 7)")
    parser.add_argument("--rates", type=float, nargs="+", default=[200.0, 500.0],
                        help="offered loads for the latency phases, events/s")
    parser.add_argument("--latency-seconds", type=float, default=None,
                        help="length of each latency phase (default 40, --quick 15)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: tiny world, 15 s latency phases")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    args = parser.parse_args(argv)
    scale = args.scale or ("tiny" if args.quick else "small")
    days = args.days or (7 if scale == "tiny" else 2)
    lat_s = args.latency_seconds or (15.0 if args.quick else 40.0)
    print(f"# bench_hot_path world={scale}/{days}d seed={SEED} partitions={PARTITIONS} "
          f"rates={args.rates} latency_window={lat_s:g}s {run_facts()}", flush=True)
    print("# posture pinned NORMAL in every hot-path worker (policy.degrade.pinned) so the "
          "backlog cannot move the degrade ladder mid-measurement", flush=True)
    started = time.monotonic()
    summary: dict[str, Any] = {"facts": run_facts(), "world": f"{scale}/{days}d",
                               "posture_pinned": "NORMAL", "partitions": PARTITIONS}
    tmp = tempfile.mkdtemp(prefix="fp-bench-hot-")
    keep = args.keep
    try:
        with broker_dir() as (broker, state_dir):
            env = Env(Path(tmp), state_dir, broker.bootstrap, broker.pid)
            records, summary["admission"] = _admit(env, scale, days)
            auths = summary["admission"]["by_type"].get("auth_request", 0)
            summary["throughput"] = {}
            for k in (1, 2):
                raws = _raw_passthrough(env, len(records), f"k{k}")
                raw = statistics.median(raws)
                result = _throughput(env, k, records, auths)
                result["raw_passthrough_per_s"] = [round(r, 1) for r in raws]
                result["ratio"] = round(result["decisions_per_s_span"] / raw, 4)
                print(f"  ratio decisions/s : median raw pass-through msg/s = "
                      f"{result['decisions_per_s_span']:,.0f} : {raw:,.0f} = "
                      f"{result['ratio'] * 100:.1f} % (1 : {1 / result['ratio']:.1f})",
                      flush=True)
                summary["throughput"][str(k)] = result
            summary["latency"] = {f"{r:g}": _latency(env, r, records, lat_s)
                                  for r in args.rates}
    except BaseException:
        keep = True  # the worker logs say why
        raise
    finally:
        if keep:
            print(f"kept {tmp} (worker logs, profiles)", flush=True)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    summary["total_s"] = round(time.monotonic() - started, 1)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(summary, indent=2, default=str))
    one, two = summary["throughput"]["1"], summary["throughput"]["2"]
    print(f"summary: decisions/s 1 worker {one['decisions_per_s_span']:,.0f} "
          f"({one['ratio'] * 100:.1f} % of pass-through), 2 workers "
          f"{two['decisions_per_s_span']:,.0f} ({two['ratio'] * 100:.1f} %), scaling "
          f"x{two['decisions_per_s_span'] / one['decisions_per_s_span']:.2f}; total "
          f"{summary['total_s']:.0f}s; JSON: {OUT}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
