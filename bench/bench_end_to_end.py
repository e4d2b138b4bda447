"""The whole decision loop on the embedded broker: admitted authorisation -> decision -> action
outcome -> audit record. Decisions/s with one and two workers, latency at a fixed offered load,
worker memory, and the ratio to a raw aiokafka pass-through measured in the same run (DESIGN
section 9). Prints numbers, never asserts.

Method (one broker, one run; ``bench_hot_path`` holds the shared phases and explains them):

1. Admit once: a *medium* world (1 day: ~138 k authorisations) is generated and the first
   ``--rows-per-output`` rows of each traffic output (by event time; the smoke cap of the testing
   posture) go through an ingest-only worker (``[wsp, ig]``). Admission is measured but is not
   part of the loop below: its traffic is copied into each phase's fresh topics, byte for byte.
2. Throughput, k = 1 then 2 workers running the loop (``[hotpath, al, dla]``, posture pinned
   NORMAL), each k on a fresh topic prefix. Workers start on the empty topics; once every worker
   owns partitions the admitted traffic is copied in at full speed. The phase ends when DLA has
   audited every decision (polled from the workers' ``fp_dla_chains_total``, then verified from
   the audit segments in the object store). End-to-end decisions/s = audited chains / (the last
   audit segment's ``applied_at_utc`` - the start of the copy). A raw pass-through runs right
   before each k; the ratio divides by its median.
3. Latency at ``--rate`` events/s offered (default 100, below one worker's capacity) for
   ``--latency-seconds``: one worker, the admitted events produced paced by the wall clock in
   event-time order, with the watermark records IG would write at that pace in place of the
   ones admission wrote at full speed (those sit one per few hundred rows, so a paced copy of
   them would measure admission's batching, not the loop): after each event, its partition's
   watermark at the event's own time (IG's watermark after a one-row batch), and every
   ``MARKER_EVERY_S`` of wall time, one per partition at the next event's time (WSP's timed
   progress markers, ``app.wsp.progress``). Per decision: admission (the traffic record's
   timestamp) -> decision emitted (the rtdl record's timestamp) -> outcome emitted (the outcome
   record's timestamp) -> audited (its segment's ``applied_at_utc``; DLA cuts a segment every
   ``wiring.audit.flush_s``, set to 0.2 s here, which bounds that step's resolution).
4. Memory: VmRSS / VmHWM of each worker at the end of each phase.

Run: ``python -m bench.bench_end_to_end`` (~12 min; ``--quick`` = fewer rows, ~6 min). Writes a
JSON summary to ``.cache/bench/end_to_end.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from app.dla.segments import SEGMENTS_PREFIX, decode_segment
from app.eb.read_back import read_topic
from app.eb.topics import Topic
from app.ig.watermarks import watermark_record
from app.objectstore.local import LocalObjectStore
from app.rails.timefmt import parse_ts, ts_to_epoch_micros
from app.rails.watermark import END_MICROS, is_watermark_record, watermark_at
from app.wsp.progress import MARKER_EVERY_S
from bench.bench_bus_passthrough import _create_topics
from bench.bench_hot_path import (
    PARTITIONS,
    PINNED,
    CpuProbe,
    Env,
    Record,
    _admit,
    _event_type,
    _feed,
    _fmt_cpu,
    _fmt_mem,
    _log_facts,
    _memory,
    _pct,
    _raw_passthrough,
    _wait_spread,
    _worker_cpu_s,
)
from bench.common import broker_dir, metric_sum, run_facts

__all__ = ["main"]

LOOP = ["hotpath", "al", "dla"]
OUT = Path(__file__).resolve().parents[1] / ".cache" / "bench" / "end_to_end.json"
AUDIT_WIRING = {"audit": {"flush_s": 0.2}}


def _wait_audited(workers: list[Any], target: int, timeout_s: float, stall_s: float) -> float:
    """Poll the workers' DLA counters until ``target`` chains are closed; returns seconds."""
    started = last_move = time.monotonic()
    seen = -1.0
    while True:
        audited = sum(metric_sum(w.base_url, "fp_dla_chains_total", state="closed")
                      for w in workers)
        now = time.monotonic()
        if audited != seen:
            seen, last_move = audited, now
        if audited >= target or now - started > timeout_s or now - last_move > stall_s:
            return now - started
        time.sleep(1.0)


async def _audit_times(root: Path, log_prefix: str) -> dict[str, float]:
    """decision_id -> epoch seconds its audit segment was cut, for the segments of one log."""
    store = LocalObjectStore(root)
    out: dict[str, float] = {}
    try:
        for key in await store.list(SEGMENTS_PREFIX):
            if not key.startswith(f"{SEGMENTS_PREFIX}/{log_prefix}") or not key.endswith(".jsonl"):
                continue
            segment = decode_segment(key, await store.get(key))
            at = parse_ts(segment.header.applied_at_utc).timestamp()
            for entry in segment.entries:
                decision_id = getattr(entry, "decision_id", None)
                if decision_id is not None and getattr(entry, "supersedes", None) is None:
                    out.setdefault(decision_id, at)
    finally:
        await store.close()
    return out


def _rtdl(env: Env, app_id: str) -> tuple[list[tuple[Record, dict[str, Any]]],
                                          list[tuple[Record, dict[str, Any]]]]:
    """(decisions, outcomes) on the phase's rtdl topic, with their records."""
    decisions, outcomes = [], []
    for r in asyncio.run(read_topic(env.bootstrap, f"{app_id}.{Topic.RTDL.value}", PARTITIONS)):
        body = orjson.loads(r.value or b"{}")
        kind = body.get("record_type")
        if kind == "decision":
            decisions.append((r, body))
        elif kind == "action_outcome":
            outcomes.append((r, body))
    return decisions, outcomes


def _throughput(env: Env, k: int, records: list[Record], auths: int) -> dict[str, Any]:
    app_id = f"e2e{k}"
    traffic = f"{app_id}.{Topic.TRAFFIC.value}"
    asyncio.run(_create_topics(env.bootstrap, [traffic]))
    workers = [env.spawn(f"{app_id}-w{i}", app_id, LOOP, PINNED) for i in range(k)]
    try:
        for w in workers:
            w.wait_ready(120)
        spread, owners = _wait_spread(workers, traffic)
        probe = CpuProbe(workers, env.broker_pid)
        feed = asyncio.run(_feed(env.bootstrap, traffic, records))
        waited_s = _wait_audited(workers, auths, 1800, 90)
        cpu = probe.stop()
        mems = [_memory(w) for w in workers]
    finally:
        for w in workers:
            w.stop()
    decisions, outcomes = _rtdl(env, app_id)
    audited = asyncio.run(_audit_times(env.root / "objects", f"{app_id}.{Topic.RTDL.value}"))
    n = len(audited)
    end_s = max(audited.values(), default=feed.wall_start) - feed.wall_start
    statuses: dict[str, int] = {}
    for _, o in outcomes:
        statuses[o["status"]] = statuses.get(o["status"], 0) + 1
    result = {
        "workers": k, "auth_requests": auths, "decisions": len(decisions),
        "outcomes": len(outcomes), "outcomes_by_status": statuses, "audited": n,
        "e2e_decisions_per_s": round(n / end_s, 1) if end_s > 0 else None,
        "e2e_s": round(end_s, 2), "waited_s": round(waited_s, 1),
        "feed_produce_per_s": round(feed.rate, 1), "partitions_spread": spread,
        "owners": owners, "worker_mem_mb": mems, "cpu_pct": cpu,
        "worker_cpu_ms_per_chain": round(_worker_cpu_s(cpu) * 1000 / max(n, 1), 3),
        "logs": [_log_facts(w.log_path) for w in workers],
    }
    print(f"end to end, {k} worker(s): {n:,} chains audited of {auths:,} auth_requests "
          f"({len(decisions):,} decisions, {len(outcomes):,} outcomes {statuses}) in "
          f"{end_s:.1f}s from copy start = {result['e2e_decisions_per_s']} decisions/s "
          f"(admitted -> decided -> executed -> audited)", flush=True)
    print(f"  partitions owned {owners} (spread={spread}); memory at end: {_fmt_mem(mems)}",
          flush=True)
    print(f"  {_fmt_cpu(cpu)}; worker CPU per chain {result['worker_cpu_ms_per_chain']:.2f} ms",
          flush=True)
    return result


def _percentiles(name: str, values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    return {f"{name}_p50_ms": round(_pct(values, 0.5), 1),
            f"{name}_p99_ms": round(_pct(values, 0.99), 1),
            f"{name}_max_ms": round(max(values), 1)}


async def _paced_with_progress(bootstrap: str, topic: str, records: list[Record],
                               rate: float) -> Any:
    """Produce the events of ``records`` at ``rate`` per second in event-time order, each
    followed by its partition's watermark, plus timed markers on every partition (see the
    module doc); returns a ``Feed`` of the events. Admission's own watermarks are left out."""
    import heapq

    from aiokafka import AIOKafkaProducer

    from bench.bench_hot_path import Feed

    def ts_us(r: Record) -> int:
        return ts_to_epoch_micros(orjson.loads(r.value or b"{}")["ts_utc"])

    per_part: dict[int, list[tuple[int, Record]]] = {}
    for r in records:
        if not is_watermark_record(r.headers):
            per_part.setdefault(r.partition, []).append((ts_us(r), r))
    events = list(heapq.merge(*(sorted(v, key=lambda tr: tr[1].offset)
                                for v in per_part.values()), key=lambda tr: tr[0]))
    run_id = orjson.loads(events[0][1].value or b"{}")["run_id"]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0, max_batch_size=262_144)
    await producer.start()
    futures: list[Any] = []

    async def mark(partition: int, micros: int) -> None:
        key, value, headers = watermark_record(watermark_at(run_id, partition, PARTITIONS,
                                                            micros))
        futures.append(await producer.send(topic, value, key=key, partition=partition,
                                           headers=list(headers.items())))

    try:
        wall_start, t0 = time.time(), time.perf_counter()
        last_round = t0
        for i, (micros, r) in enumerate(events):
            wait = t0 + i / rate - time.perf_counter()
            if wait > 0:
                if time.perf_counter() - last_round >= MARKER_EVERY_S:
                    for p in range(PARTITIONS):
                        await mark(p, micros)  # every later event is at or after this one
                    last_round = time.perf_counter()
                await asyncio.sleep(wait)
            futures.append(await producer.send(topic, r.value, key=r.key, partition=r.partition,
                                               headers=list(r.headers or ())))
            await mark(r.partition, micros)
        sent = time.perf_counter()
        for p in range(PARTITIONS):
            await mark(p, END_MICROS)
        await asyncio.gather(*futures)
        acked = time.perf_counter()
    finally:
        await producer.stop()
    return Feed(len(events), wall_start, sent - t0, acked - t0)


def _latency(env: Env, rate: float, records: list[Record], seconds: float) -> dict[str, Any]:
    app_id = f"e2elat{rate:g}"
    traffic = f"{app_id}.{Topic.TRAFFIC.value}"
    chosen = records[:int(rate * seconds)]
    auths = sum(_event_type(r) == "auth_request" for r in chosen)
    asyncio.run(_create_topics(env.bootstrap, [traffic]))
    worker = env.spawn(app_id, app_id, LOOP, PINNED)
    try:
        worker.wait_ready(120)
        _wait_spread([worker], traffic)
        probe = CpuProbe([worker], env.broker_pid)
        feed = asyncio.run(_paced_with_progress(env.bootstrap, traffic, chosen, rate))
        _wait_audited([worker], auths, 600, 60)
        cpu = probe.stop()
        mem = _memory(worker)
    finally:
        worker.stop()
    admitted = {(r.partition, r.offset): r.timestamp / 1000
                for r in asyncio.run(read_topic(env.bootstrap, traffic, PARTITIONS))}
    decisions, outcomes = _rtdl(env, app_id)
    audited = asyncio.run(_audit_times(env.root / "objects", f"{app_id}.{Topic.RTDL.value}"))
    outcome_at: dict[str, float] = {}
    for r, o in outcomes:  # the chain's last outcome
        outcome_at[o["decision_id"]] = max(outcome_at.get(o["decision_id"], 0.0),
                                           r.timestamp / 1000)
    to_decision, to_outcome, to_audit = [], [], []
    for r, d in decisions:
        ref = d["trigger"]["eb_ref"]
        start = admitted.get((ref["partition"], ref["offset"]))
        if start is None:
            continue
        to_decision.append((r.timestamp / 1000 - start) * 1000)
        if d["decision_id"] in outcome_at:
            to_outcome.append((outcome_at[d["decision_id"]] - start) * 1000)
        if d["decision_id"] in audited:
            to_audit.append((audited[d["decision_id"]] - start) * 1000)
    result: dict[str, Any] = {
        "offered_rate": rate, "achieved_rate": round(feed.rate, 1), "records": feed.records,
        "auth_requests": auths, "decisions": len(decisions), "outcomes": len(outcomes),
        "audited": len(audited), "worker_mem_mb": mem, "cpu_pct": cpu,
        **_percentiles("decision", to_decision), **_percentiles("outcome", to_outcome),
        **_percentiles("audit", to_audit)}
    print(f"latency at {rate:g} events/s offered ({feed.rate:,.1f}/s achieved, {feed.records:,} "
          f"records, {len(decisions):,} decisions): admission -> decision p50 "
          f"{result.get('decision_p50_ms')} ms p99 {result.get('decision_p99_ms')} ms; -> outcome "
          f"p50 {result.get('outcome_p50_ms')} ms p99 {result.get('outcome_p99_ms')} ms; -> "
          f"audit p50 {result.get('audit_p50_ms')} ms p99 {result.get('audit_p99_ms')} ms",
          flush=True)
    print(f"  memory at end: {_fmt_mem([mem])}; {_fmt_cpu(cpu)}", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["tiny", "small", "medium"], default="medium")
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--rows-per-output", type=int, default=None,
                        help="cap per traffic output (default 12000, --quick 4000)")
    parser.add_argument("--rate", type=float, default=100.0,
                        help="offered load, events/s (the early rows of a world are mostly "
                             "authorisations, so about as many decisions/s)")
    parser.add_argument("--skip-throughput", action="store_true",
                        help="only admission and the latency phase")
    parser.add_argument("--latency-seconds", type=float, default=None,
                        help="length of the latency phase (default 40, --quick 15)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    args = parser.parse_args(argv)
    cap = args.rows_per_output or (4_000 if args.quick else 12_000)
    lat_s = args.latency_seconds or (15.0 if args.quick else 40.0)
    print(f"# bench_end_to_end world={args.scale}/{args.days}d cap={cap}/output "
          f"partitions={PARTITIONS} rate={args.rate:g}/s latency_window={lat_s:g}s "
          f"{run_facts()}", flush=True)
    started = time.monotonic()
    summary: dict[str, Any] = {"facts": run_facts(), "world": f"{args.scale}/{args.days}d",
                               "rows_per_output_cap": cap, "partitions": PARTITIONS}
    tmp = tempfile.mkdtemp(prefix="fp-bench-e2e-")
    keep = args.keep
    try:
        with broker_dir() as (broker, state_dir):
            env = Env(Path(tmp), state_dir, broker.bootstrap, broker.pid,
                      wiring_patch=AUDIT_WIRING)
            records, summary["admission"] = _admit(env, args.scale, args.days, cap)
            auths = summary["admission"]["by_type"].get("auth_request", 0)
            summary["throughput"] = {}
            for k in () if args.skip_throughput else (1, 2):
                raws = _raw_passthrough(env, len(records), f"e2e{k}")
                raw = statistics.median(raws)
                result = _throughput(env, k, records, auths)
                result["raw_passthrough_per_s"] = [round(r, 1) for r in raws]
                rate = result["e2e_decisions_per_s"] or 0.0
                result["ratio"] = round(rate / raw, 5)
                print(f"  ratio e2e decisions/s : raw pass-through msg/s = {rate:,.0f} : "
                      f"{raw:,.0f} = {result['ratio'] * 100:.2f} %", flush=True)
                summary["throughput"][str(k)] = result
            summary["latency"] = _latency(env, args.rate, records, lat_s)
    except BaseException:
        keep = True
        raise
    finally:
        if keep:
            print(f"kept {tmp} (worker logs, profiles)", flush=True)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    summary["total_s"] = round(time.monotonic() - started, 1)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(summary, indent=2, default=str))
    rates = {k: v["e2e_decisions_per_s"] for k, v in summary["throughput"].items()}
    print(f"summary: end-to-end decisions/s by workers {rates}; total "
          f"{summary['total_s']:.0f}s; JSON: {OUT}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
