"""Hot-path takeover (issue #12 done-when): how long a worker takes to take over a seq partition
of a generated run, from offset 0 and from a fold snapshot. Prints numbers, never asserts.

Method (one embedded broker; in-process with the real functions, no faust):

1. Input, built once and cached under ``.cache/bench/takeover/`` (git-ignored): a world
   (``world_engine.generate_world``, ``--scale`` / ``--days``), framed exactly as WSP frames it
   (SR's verified view, ``plan_rows`` in event-time order, ``frame``, ``dump_envelope``; labels
   are not traffic), each record given the traffic position IG would give it (the partition of
   its partition key over 4 traffic partitions and a running offset per partition), and after
   every ``WATERMARK_EVERY`` rows the watermark record IG writes into each traffic partition
   (``watermark_at`` at the current row's event time: every later row is at or after it), then a
   final watermark per partition. The file is produced (raw aiokafka, hand-built batches) to ONE
   partition of a seq topic as stage 1 forwards it: every ``BUNDLE_WINDOW`` records (a delivered
   batch) become one bundle per traffic partition (``app.hotpath.seq_bundle``), and one
   minimal decision record per trigger to the same
   partition of an rtdl topic (what ``scan_decided`` reads): the run was decided before the
   takeover, so a takeover folds every trigger in without deciding it.
2. Each takeover runs in a fresh process (a new worker: cold, and its peak RSS is its own) and
   does what stage 2's ``_Stage.load`` plus the gap fill do: ``newest_snapshot`` (snapshot paths)
   and ``load_lane``, ``scan_decided`` over the rtdl partition, then the seq log read in chunks of
   ``CHUNK`` records (``BrokerPartitionLog.read``) and every record folded through
   ``HotPath.offer(..., decided=...)``. A "cut" process first folds the whole log once and writes
   snapshots (``dump_lane`` + ``write_snapshot``, local object store) at 95 % and at 50 % of the
   log, each into its own store, reporting their size and write time.
3. Printed per path: records folded, seconds (with the load / rtdl scan / read / fold split),
   records/s, peak RSS; the ratio offset-0 / snapshot; and a check that every path ends with the
   same fold (per run: offsets seen per traffic partition, watermarks, retained transactions,
   events pending) and decided nothing again.

Run: ``python -m bench.bench_takeover [--scale medium] [--days 7] [--rounds 1]`` (medium, 7
days: ~1 M authorisations, ~2 M traffic records; the first run also generates and frames the
world, later runs reuse the cache).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from app.eb.topics import Topic, log_id_of
from app.hotpath.decided_log import scan_decided
from app.hotpath.engine import DecisionContext, HotPath
from app.hotpath.fold_snapshot import dump_lane, load_lane
from app.hotpath.seq_bundle import pack_all, unpack
from app.ieg.graph import EntityGraph
from app.objectstore.base import DEFAULT_MAX_OBJECT_BYTES
from app.objectstore.local import LocalObjectStore
from app.ofp.feature_state import FeatureState
from app.profiles.loader import load_profile
from app.rails.partition_key import derive_partition_key, kafka_partition, partition_key_bytes
from app.rails.posture import Posture
from app.rails.receipts import EbRef
from app.rails.run_facts import RunFactsView
from app.rails.watermark import END_MICROS, watermark_at, watermark_value
from app.registry.resolver import Resolution, bootstrap_pair
from app.runtime.partition_stage import BrokerPartitionLog
from app.runtime.stage_snapshots import newest_snapshot, write_snapshot
from bench.common import embedded_broker, proc_memory_mb, run_facts

__all__ = ["main"]

SEED = 20_250_303
TRAFFIC_PARTITIONS = 4
WATERMARK_EVERY = 200
"""Rows between two rounds of watermark records (one per traffic partition), like WSP's markers."""
BUNDLE_WINDOW = 500
"""Traffic records per forwarded batch (stage 1's ``BATCH_MAX``): one bundle per partition each."""
CHUNK = 400
"""Seq records (bundles) read per ``BrokerPartitionLog.read`` call: bounded memory on a long
log."""
CUTS = (0.95, 0.50)
PREFIX = "bench."
TRAFFIC = PREFIX + Topic.TRAFFIC.value
SEQ = PREFIX + Topic.HOTPATH_SEQ.value
RTDL = PREFIX + Topic.RTDL.value
STAGE = "hotpath"
SNAPSHOT_MAX_BYTES = 4 * 1024**3
"""The bench's store takes big snapshots (the default object limit is 64 MB; reported)."""
CACHE = Path(__file__).resolve().parents[1] / ".cache" / "bench" / "takeover"
FORMAT = 1  # of the cached seq file


# --- 1. input: the world, framed as WSP frames it, with IG's positions and watermarks --------

def world_pack(scale: str, days: int, seed: int) -> Path:
    """The sealed pack (generated on first use, then reused from the cache)."""
    root = CACHE / f"world-{scale}-s{seed}-d{days}"
    found = sorted(root.glob("**/_SEALED.json"))
    if not found:
        from world_engine import WorldParams, generate_world

        print(f"  generating world {root.name} ...", flush=True)
        generate_world(WorldParams(scale=scale, days=days), seed, root)  # type: ignore[arg-type]
        found = sorted(root.glob("**/_SEALED.json"))
    return found[0].parent


def seq_file(scale: str, days: int, seed: int) -> Path:
    """The framed seq partition as a file (built on first use): a JSON head line, then one line
    per record, ``<kind> <traffic partition>:<offset> <value>`` (kind T trigger, E other event,
    W watermark; canonical JSON has no newline)."""
    path = CACHE / f"seq-{scale}-s{seed}-d{days}-w{WATERMARK_EVERY}-f{FORMAT}.lines"
    if not path.exists():
        started = time.perf_counter()
        from tests.unit.wsp.conftest import build_view  # SR's view (as calibrate_scorecard)

        pack = world_pack(scale, days, seed)
        head = asyncio.run(_frame_world(pack, build_view(pack), path))
        print(f"  framed {head['records']:,} seq records in "
              f"{time.perf_counter() - started:.1f} s -> {path.name}", flush=True)
    return path


async def _frame_world(pack: Path, view: RunFactsView, path: Path) -> dict[str, Any]:
    from app.oracle.locator import parse_locator
    from app.oracle.pack_reader import open_pack
    from app.rails.envelope import dump_envelope
    from app.rails.timefmt import ts_to_epoch_micros
    from app.wsp.framing import frame
    from app.wsp.merge import plan_rows
    from app.wsp.stream_plan import plan_for
    plan = plan_for(view)
    run_id = view.run_id
    precedence = load_profile("local").policy.ingest.partition_key_precedence
    offsets = [0] * TRAFFIC_PARTITIONS
    counts = {"records": 0, "triggers": 0, "events": 0, "watermarks": 0}
    body = path.with_suffix(".body.tmp")

    def watermarks(out: Any, micros: int) -> None:
        for q in range(TRAFFIC_PARTITIONS):
            mark = watermark_value(watermark_at(run_id, q, TRAFFIC_PARTITIONS, micros))
            out.write(b"W %d:%d " % (q, offsets[q]) + mark + b"\n")
            offsets[q] += 1
            counts["watermarks"] += 1

    with body.open("wb") as out:
        async for row in plan_rows(open_pack(parse_locator(str(pack))), plan):
            envelope = frame(row, plan.output(row.output_id), plan, now_micros=lambda: 0)
            if envelope.event_type == "label_event":
                continue  # labels go to their own topic, not to traffic
            p = kafka_partition(partition_key_bytes(derive_partition_key(envelope, precedence)),
                                TRAFFIC_PARTITIONS)
            trigger = envelope.event_type == "auth_request"
            out.write((b"T" if trigger else b"E") + b" %d:%d " % (p, offsets[p])
                      + dump_envelope(envelope) + b"\n")
            offsets[p] += 1
            counts["triggers" if trigger else "events"] += 1
            if (counts["triggers"] + counts["events"]) % WATERMARK_EVERY == 0:
                watermarks(out, ts_to_epoch_micros(envelope.ts_utc))
        watermarks(out, END_MICROS)
    counts["records"] = counts["triggers"] + counts["events"] + counts["watermarks"]
    head = {"format": FORMAT, "run_id": run_id, **counts}
    with path.with_suffix(".tmp").open("wb") as out, body.open("rb") as src:
        out.write(orjson.dumps(head) + b"\n")
        while chunk := src.read(1 << 24):
            out.write(chunk)
    path.with_suffix(".tmp").rename(path)
    body.unlink()
    return head


def read_seq(path: Path) -> tuple[dict[str, Any], Iterator[tuple[bytes, bytes, bytes]]]:
    """The head and an iterator of (kind, src, value)."""
    fh = path.open("rb")
    head = orjson.loads(fh.readline())

    def lines() -> Iterator[tuple[bytes, bytes, bytes]]:
        with fh:
            for line in fh:
                kind, src, value = line.rstrip(b"\n").split(b" ", 2)
                yield kind, src, value

    return head, lines()


async def produce(bootstrap: str, path: Path) -> tuple[int, dict[str, Any], float]:
    """Create the topics; the seq file into the run's seq partition, one decision per trigger
    into the rtdl partition numbered like it. Returns (partition, head, seconds)."""
    head, lines = read_seq(path)
    run_id = head["run_id"].encode()
    partition = kafka_partition(run_id, TRAFFIC_PARTITIONS)  # stage 1 keys the seq topic by run
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(t, TRAFFIC_PARTITIONS, 1) for t in (SEQ, RTDL)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5,
                                max_batch_size=1_048_576, max_request_size=4_194_304)
    await producer.start()
    started = time.perf_counter()
    futures: list[Any] = []
    batches: dict[str, Any] = {}

    async def append(topic: str, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        batch = batches.get(topic)
        if batch is None:
            batch = batches[topic] = producer.create_batch()
        if batch.append(key=run_id, value=value, timestamp=None, headers=headers) is None:
            batch.close()
            futures.append(await producer.send_batch(batch, topic, partition=partition))
            batch = batches[topic] = producer.create_batch()
            batch.append(key=run_id, value=value, timestamp=None, headers=headers)

    window: dict[int, list[tuple[int, bool, bytes]]] = {}

    async def forward() -> None:  # what stage 1 sends for one delivered batch
        for p, items in sorted(window.items()):
            for bundle in pack_all(p, items):
                await append(SEQ, bundle, [])
        window.clear()

    try:
        for n, (kind, src, value) in enumerate(lines, 1):
            p, o = src.split(b":")
            window.setdefault(int(p), []).append((int(o), kind == b"W", value))
            if n % BUNDLE_WINDOW == 0:
                await forward()
            if kind == b"T":
                await append(RTDL, b'{"record_type":"decision","trigger":{"eb_ref":{"topic":"'
                             + TRAFFIC.encode() + b'","partition":' + p + b',"offset":' + o
                             + b'}},"outcome":"APPROVE"}', [])
        await forward()
        for topic, batch in batches.items():
            batch.close()
            futures.append(await producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return partition, head, time.perf_counter() - started


# --- 2. one takeover, in its own process ---------------------------------------------------

@dataclass
class Spec:
    mode: str  # "cut" (fold from 0, write the snapshots), "zero", "snapshot"
    bootstrap: str
    epoch: str
    partition: int
    stores: list[str]  # cut: one store per CUTS entry; snapshot: the store to load from


def _context() -> DecisionContext:
    ref, bundle = bootstrap_pair()
    return DecisionContext(posture=Posture.NORMAL, posture_reasons=(),
                           resolution=Resolution(bundle=bundle, ref=ref, reason_codes=()))


async def takeover(spec: Spec) -> dict[str, Any]:
    """Take the partition over as stage 2 does; timings, counts and the final fold's summary."""
    profile = load_profile("local")
    hot = HotPath(profile.policy.decision, profile.policy_rev)
    ctx = _context()
    bootstrap = [spec.bootstrap]
    part = spec.partition
    log = BrokerPartitionLog(bootstrap, SEQ)
    log_id = log_id_of(SEQ, spec.epoch)
    out: dict[str, Any] = {"mode": spec.mode}
    evict_s = _time_calls(EntityGraph, "evict"), _time_calls(FeatureState, "evict")
    started = time.perf_counter()
    end = await log.end(part)
    start = 0
    t_end = time.perf_counter()
    if spec.mode == "snapshot":  # _take: newest_snapshot; _Stage.load: scan, load_lane
        store = LocalObjectStore(spec.stores[0], max_object_bytes=SNAPSHOT_MAX_BYTES)
        snap = await newest_snapshot(store, owner=STAGE, log_id=log_id, stage=STAGE,
                                     partition=part, at_or_below=end)
        if snap is None:
            raise SystemExit("no snapshot found")
        t_snap = time.perf_counter()
        decided = await scan_decided(bootstrap, RTDL, TRAFFIC, [part])
        t_scan = time.perf_counter()
        folds = load_lane(snap.state)
        if folds is None:
            raise SystemExit("snapshot refused by load_lane")
        hot.load_lane(part, folds)
        start = snap.next_offset
        out["snapshot_bytes"] = len(snap.state)
        out["load_s"] = (t_snap - t_end) + (time.perf_counter() - t_scan)  # read + unpickle
        out["scan_s"] = t_scan - t_snap
    else:
        decided = await scan_decided(bootstrap, RTDL, TRAFFIC, [part])
        out["scan_s"] = time.perf_counter() - t_end
        out["load_s"] = 0.0
    out["decided_on_rtdl"] = len(decided)
    cuts = sorted({int(end * c): i for i, c in enumerate(CUTS)}.items()) \
        if spec.mode == "cut" else []
    read_s = fold_s = paused = 0.0
    counts = {"records": 0, "already_decided": 0, "decisions": 0, "anomalies": 0, "late": 0}
    snapshots: list[dict[str, Any]] = []
    at = start
    while at < end:
        stop = min(end, at + CHUNK, *(c for c, _ in cuts if c > at))
        t0 = time.perf_counter()
        records = await log.read(part, at, stop)
        t1 = time.perf_counter()
        for record in records:
            items = unpack(record.value)
            for item in items:
                ref = EbRef(topic=TRAFFIC, partition=item.partition, offset=item.offset)
                for result in hot.offer(item.value, ref, ctx, run_known=_any_run,
                                        watermark=item.watermark, decided=decided, lane=part):
                    counts["already_decided"] += result.already_decided
                    counts["decisions"] += result.decision is not None
                    counts["anomalies"] += result.anomaly is not None
                    counts["late"] += result.late
            counts["records"] += len(items)
        t2 = time.perf_counter()
        read_s += t1 - t0
        fold_s += t2 - t1
        at = records[-1].offset + 1 if records else stop
        for cut, i in cuts:
            if cut == at:  # paused: the cut is not part of the offset-0 timing
                state = dump_lane(hot.lane(part))
                t3 = time.perf_counter()
                store = LocalObjectStore(spec.stores[i], max_object_bytes=SNAPSHOT_MAX_BYTES)
                await write_snapshot(store, owner=STAGE, log_id=log_id, stage=STAGE,
                                     partition=part, next_offset=at, state=state)
                t4 = time.perf_counter()
                snapshots.append({"cut": CUTS[i], "next_offset": at, "bytes": len(state),
                                  "dump_s": t3 - t2, "write_s": t4 - t3})
                paused += t4 - t2
    out["seconds"] = time.perf_counter() - started - paused
    out.update(counts, read_s=read_s, fold_s=fold_s, graph_evict_s=evict_s[0][0],
               graph_evicts=evict_s[0][1], feature_evict_s=evict_s[1][0],
               feature_evicts=evict_s[1][1], start=start, end=end, snapshots=snapshots,
               peak_rss_mb=proc_memory_mb(os.getpid()).get("VmHWM", float("nan")),
               fold_summary=_summary(hot, part))
    return out


def _time_calls(cls: type, name: str) -> list[float]:
    """Wrap ``cls.name`` (in this measuring process only) to add up its seconds and calls: the
    fold's periodic evictions are whole-state passes, worth seeing apart from the per-record
    work. Returns the live ``[seconds, calls]`` totals."""
    totals = [0.0, 0.0]
    inner = getattr(cls, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            totals[0] += time.perf_counter() - t0
            totals[1] += 1

    setattr(cls, name, timed)
    return totals


def _any_run(run_id: str) -> bool:
    """Every run is READY (the stage asks SR's run directory; not part of a takeover)."""
    return True


def _summary(hot: HotPath, part: int) -> str:
    """What the folds hold at the end, by run (equal on every path if the takeover is exact)."""
    return json.dumps({run: [sorted(fold.next_offset.items()), fold.watermarks,
                             fold.shard.features.retained_txns(), fold.sequencer.pending]
                       for run, fold in sorted(hot.lane(part).items())})


def _measure(spec: Spec) -> dict[str, Any]:
    """One takeover in a fresh interpreter (``--measure``)."""
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_takeover", "--measure",
         json.dumps(spec.__dict__)],
        cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit(f"takeover {spec.mode} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


# --- 3. report ---------------------------------------------------------------------------

def _line(name: str, runs: list[dict[str, Any]]) -> str:
    med = {k: statistics.median(r.get(k, 0.0) for r in runs)
           for k in ("seconds", "load_s", "scan_s", "read_s", "fold_s", "peak_rss_mb",
                     "graph_evict_s", "graph_evicts")}
    records = runs[0]["records"]
    spread = ""
    if len(runs) > 1:
        spread = (f" (min {min(r['seconds'] for r in runs):.1f} max "
                  f"{max(r['seconds'] for r in runs):.1f}, rounds={len(runs)})")
    return (f"  {name:<22} {records:>10,} records  {med['seconds']:7.1f} s{spread}  "
            f"{records / med['seconds']:>9,.0f} records/s  [snapshot load {med['load_s']:.1f} s, "
            f"rtdl scan {med['scan_s']:.1f} s, seq read {med['read_s']:.1f} s, "
            f"fold {med['fold_s']:.1f} s, of which graph evict {med['graph_evict_s']:.1f} s "
            f"in {med['graph_evicts']:.0f} calls]  peak RSS {med['peak_rss_mb']:,.0f} MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--clean-zero", action="store_true",
                        help="time offset 0 in its own pass (not the snapshot-cutting one): "
                             "a clean peak RSS, one more full fold of the log")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(asyncio.run(takeover(Spec(**json.loads(args.measure))))))
        return 0
    print(f"hot-path takeover  scale={args.scale} days={args.days} seed={args.seed}  "
          f"{run_facts()}")
    print("  in-process with the real functions (scan_decided, newest_snapshot, load_lane, "
          "BrokerPartitionLog.read, HotPath.offer), no faust; each takeover in a fresh process")
    path = seq_file(args.scale, args.days, args.seed)
    with embedded_broker() as state:
        partition, head, produce_s = asyncio.run(produce(state.bootstrap, path))
        print(f"  seq partition {partition}: {head['records']:,} records ({head['triggers']:,} "
              f"triggers, {head['events']:,} other events, {head['watermarks']:,} watermark "
              f"records, one round per {WATERMARK_EVERY} rows over {TRAFFIC_PARTITIONS} traffic "
              f"partitions); {head['triggers']:,} decisions on rtdl; produced in "
              f"{produce_s:.1f} s")
        import tempfile

        with tempfile.TemporaryDirectory(prefix="fp-bench-takeover-") as tmp:
            stores = [str(Path(tmp) / f"store{int(c * 100)}") for c in CUTS]

            def spec(mode: str, store: list[str]) -> Spec:
                return Spec(mode, state.bootstrap, state.epoch, partition, store)

            cut = _measure(spec("cut", stores))
            for snap in cut["snapshots"]:
                over = (" (over the object store's default max_object_bytes, "
                        f"{DEFAULT_MAX_OBJECT_BYTES / 2**20:.0f} MiB)"
                        if snap["bytes"] > DEFAULT_MAX_OBJECT_BYTES else "")
                print(f"  snapshot at {snap['cut']:.0%} (next_offset {snap['next_offset']:,}): "
                      f"{snap['bytes'] / 1e6:,.1f} MB{over}, dump_lane {snap['dump_s']:.1f} s, "
                      f"write_snapshot {snap['write_s']:.1f} s", flush=True)
            # The cut pass is itself a takeover from offset 0 (its snapshot pauses are not
            # timed); its peak RSS includes the two dump_lane copies, unless --clean-zero.
            runs: dict[str, list[dict[str, Any]]] = {
                "zero": [] if args.clean_zero else [cut], "s95": [], "s50": []}
            paths: list[tuple[str, str, str, list[str]]] = [
                ("zero", "from offset 0", "zero", []),
                ("s95", "from snapshot at 95 %", "snapshot", stores[:1]),
                ("s50", "from snapshot at 50 %", "snapshot", stores[1:])]
            for key, title, mode, store in paths:  # each line as soon as it is measured
                while len(runs[key]) < args.rounds:
                    runs[key].append(_measure(spec(mode, store)))
                print(_line(title, runs[key]), flush=True)
    zero = statistics.median(r["seconds"] for r in runs["zero"])
    s95 = statistics.median(r["seconds"] for r in runs["s95"])
    s50 = statistics.median(r["seconds"] for r in runs["s50"])
    print(f"  ratio offset 0 / snapshot at 95 %: {zero / s95:.1f}x   "
          f"(snapshot at 50 %: {zero / s50:.1f}x)")
    every = [cut, *runs["zero"], *runs["s95"], *runs["s50"]]
    same = len({r["fold_summary"] for r in every}) == 1
    print(f"  check: same final fold on every path: {'yes' if same else 'NO'}; decided again: "
          f"{sum(r['decisions'] for r in every)}; anomalies: "
          f"{sum(r['anomalies'] for r in every)}; late: {sum(r['late'] for r in every)}; "
          f"already-decided folded (offset 0): {runs['zero'][0]['already_decided']:,} of "
          f"{runs['zero'][0]['decided_on_rtdl']:,}")
    if args.clean_zero:
        print(f"  cut pass (offset 0, snapshots paused): {cut['seconds']:.1f} s, peak RSS "
              f"{cut['peak_rss_mb']:,.0f} MB")
    else:
        print("  (offset 0 = the pass that cut the snapshots, their time excluded; its peak RSS "
              "includes the dump_lane copies)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
