"""IG admission on the embedded broker: admissions/s, p50/p99 admission latency, and the ratio
to a raw aiokafka pass-through measured in the same run.

Phase A (throughput): a READY run of a generated world streamed by WSP at full speed (speedup 0);
admissions/s = receipts / (last receipt time - READY time). Phase B (latency at a fixed offered
load): the same world re-run under a new label with WSP paced so the *average* offered rate is
``PACED_RATE`` events/s (the world's diurnal shape makes the peaks higher). Admission latency =
receipt time (IG's ingestion clock) - the ingress record's broker timestamp.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

import orjson

from app.cli.sr_cmd import sr_run
from app.eb.read_back import read_topic
from app.eb.topics import Topic
from app.profiles.loader import load_profile
from app.rails.timefmt import ts_to_epoch_micros
from app.runtime.supervisor import WorkerProcess
from app.sr.run_request import RunRequest
from bench.bench_bus_passthrough import _create_topics, _passthrough, _produce
from bench.common import broker_dir, free_port, run_facts, write_profile
from world_engine import WorldParams, generate_world

SEED = 20250303
SCALE, DAYS = "tiny", 7
PACED_RATE = 100.0


async def _admission_latencies(bootstrap: str, prefix: str, partitions: int,
                               run_id: str) -> list[float]:
    """Receipt time minus ingress queueing time (seconds), for one run's receipts."""
    queued = {f"{r.partition}:{r.offset}": r.timestamp / 1000.0 for r in
              await read_topic(bootstrap, prefix + Topic.INGRESS.value, partitions)}
    latencies = []
    for r in await read_topic(bootstrap, prefix + Topic.AUDIT.value, partitions):
        body = orjson.loads(r.value)
        marker = dict(r.headers).get("fp-ingress", b"").decode()
        if body.get("run_id") == run_id and marker in queued:
            decided = ts_to_epoch_micros(body["admitted_at_utc"]) / 1e6
            latencies.append(decided - queued[marker])
    return latencies


def _wait_receipts(worker: WorkerProcess, target: float, timeout_s: float = 900) -> float:
    """Poll the worker's receipt counter until it reaches ``target``; returns the time."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{worker.base_url}/metrics", timeout=5) as resp:
            text = resp.read().decode()
        done = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith("fp_ig_receipts_total{"))
        if done >= target:
            return time.monotonic()
        time.sleep(0.2)
    raise TimeoutError(f"receipts did not reach {target}")


def _event_time_span_s(pack: Path) -> float:
    """Seconds between the first and last authorization request.

    Follow-ups and labels trail the authorizations by hours to months and are sparse; pacing by
    the authorizations' span keeps the offered rate near ``PACED_RATE`` while the bulk flows.
    """
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    manifest = orjson.loads((pack / "manifest.json").read_bytes())
    lows, highs = [], []
    for output in manifest["outputs"]:
        if output["output_id"] != "auth_request":  # follow-ups trail it by days to months
            continue
        column = "ts_utc"
        for f in output["files"]:
            values = pq.read_table(pack / f, columns=[column])[column]
            if len(values):
                lows.append(pc.min(values).value)
                highs.append(pc.max(values).value)
    return (max(highs) - min(lows)) / 1e6


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    print(f"# bench_ig_admission world={SCALE}/{DAYS}d seed={SEED} {run_facts()}")
    with tempfile.TemporaryDirectory(prefix="fp-bench-ig-") as tmp, broker_dir() as (broker,
                                                                                     state_dir):
        root = Path(tmp)
        locator = generate_world(WorldParams(scale=SCALE, days=DAYS), SEED, root / "oracle")
        world = locator.path
        traffic_rows = sum(n for k, n in locator.row_counts.items()
                           if k in ("auth_request", "clearing", "refund", "reversal"))
        rows = traffic_rows + locator.row_counts["label_event"]
        span_s = _event_time_span_s(Path(world))
        results = {}
        # Phase B waits for 90 % of the traffic: the last follow-ups and labels trail the
        # authorizations by weeks of world time (minutes of paced wall time).
        for phase, speedup, wanted in (("A", 0.0, rows),
                                       ("B", span_s / (traffic_rows / PACED_RATE),
                                        int(traffic_rows * 0.9))):
            path = write_profile(root / phase, state_dir, app_id=f"bench{phase.lower()}",
                                 web_port=free_port(), speedup=speedup)
            profile = load_profile(str(path))
            worker = WorkerProcess(str(path), profile.wiring.worker.web_port,
                                   root / f"{phase}.log").start()
            try:
                worker.wait_ready()
                t0 = time.monotonic()
                outcome = asyncio.run(sr_run(profile, RunRequest(
                    world_locator=world, scenario_id="baseline", run_label=f"bench{phase}")))
                t1 = _wait_receipts(worker, wanted)
                prefix = profile.wiring.worker.topic_prefix
                lat = asyncio.run(_admission_latencies(broker.bootstrap, prefix, 4,
                                                        outcome.run_id))
                results[phase] = (wanted / (t1 - t0), lat)
                print(f"phase {phase} (speedup {speedup:,.0f}): {wanted:,} rows in "
                      f"{t1 - t0:.1f}s = {wanted / (t1 - t0):,.0f} admissions/s; latency "
                      f"p50={_pct(lat, .5):.1f} ms p99={_pct(lat, .99):.1f} ms "
                      f"(n={len(lat):,}, mean {statistics.fmean(lat) * 1000:.1f} ms)")
            finally:
                worker.stop()
        values = [orjson.dumps({"pad": "x" * 480, "i": i}) for i in range(50_000)]
        src, dst = "bench.raw.src", "bench.raw.dst"
        asyncio.run(_create_topics(broker.bootstrap, [src, dst]))
        asyncio.run(_produce(broker.bootstrap, src, values))
        raw = asyncio.run(_passthrough(broker.bootstrap, src, dst, len(values), "raw"))
        print(f"raw aiokafka pass-through: {raw:,.0f} msg/s")
        print(f"ratio IG admissions/s : raw pass-through = 1 : {raw / results['A'][0]:.0f} "
              f"({results['A'][0] / raw * 100:.2f} %)")


if __name__ == "__main__":
    main()
