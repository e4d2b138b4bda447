"""Where an authorisation's latency goes, hop by hop, read from a live bus (issue #13).

Every hop of the decision loop leaves a record with a broker timestamp, so the time between
two hops is a difference of bus timestamps, for every trigger of every run on the bus:

- ``wsp -> ig``: the ingress record (WSP's produce) to its admitted traffic record (IG);
- ``ig -> seq``: the traffic record to the stage-1 bundle that carries it on the seq topic;
- ``seq -> decision``: that bundle to the decision on rtdl (the watermark wait, the fold, DF);
- ``admission -> decision``: traffic record to decision, the main job's latency line.

Run it against a bus that still holds a run: ``fp broker up`` first (so ``fp demo`` leaves the
broker running when it ends), then ``fp demo``, then ``python -m bench.bench_hop_latency``.
Prints numbers, never asserts. Reads every record of four topics: a small world only.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence

import orjson

from app.eb.read_back import read_topic
from app.eb.topics import Topic, topic_name
from app.hotpath.seq_bundle import SeqBundleError, unpack
from app.profiles.loader import load_profile
from app.runtime.bus_address import bootstrap_servers
from bench.common import run_facts

__all__ = ["main"]

_TRIGGER = b'"event_type":"auth_request"'


def _pct(values: list[int], q: float) -> int:
    return values[min(len(values) - 1, int(len(values) * q))]


async def hops(servers: Sequence[str], prefix: str, partitions: int) -> dict[str, list[int]]:
    """Milliseconds per hop, one value per decided trigger found on every hop's topic."""
    bootstrap = ",".join(servers)
    ingress, traffic, seq, rtdl = [
        await read_topic(bootstrap, topic_name(topic, prefix), partitions)
        for topic in (Topic.INGRESS, Topic.TRAFFIC, Topic.HOTPATH_SEQ, Topic.RTDL)]
    produced: dict[str, int] = {}
    for r in ingress:
        if r.value:
            try:
                produced[orjson.loads(r.value)["event_id"]] = r.timestamp
            except (orjson.JSONDecodeError, KeyError, TypeError):
                continue  # not a row this script can name: it measures the rows it can
    admitted: dict[tuple[int, int], tuple[int, str]] = {}
    for r in traffic:
        if r.value and _TRIGGER in r.value:
            admitted[(r.partition, r.offset)] = (r.timestamp, orjson.loads(r.value)["event_id"])
    forwarded: dict[tuple[int, int], int] = {}
    for r in seq:
        try:
            items = unpack(r.value or b"")
        except SeqBundleError:
            continue
        for item in items:
            forwarded.setdefault((item.partition, item.offset), r.timestamp)
    out: dict[str, list[int]] = {"wsp -> ig": [], "ig -> seq": [], "seq -> decision": [],
                                 "admission -> decision": []}
    for r in rtdl:
        body = orjson.loads(r.value or b"{}")
        if not isinstance(body, dict) or body.get("record_type") != "decision":
            continue
        ref = body["trigger"]["eb_ref"]
        key = (ref["partition"], ref["offset"])
        if key not in admitted or key not in forwarded:
            continue
        admitted_ms, event_id = admitted[key]
        if event_id in produced:
            out["wsp -> ig"].append(admitted_ms - produced[event_id])
        out["ig -> seq"].append(forwarded[key] - admitted_ms)
        out["seq -> decision"].append(r.timestamp - forwarded[key])
        out["admission -> decision"].append(r.timestamp - admitted_ms)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="local", help="profile naming the bus")
    args = parser.parse_args(argv)
    profile = load_profile(args.profile)
    servers = bootstrap_servers(profile)
    print(f"# bench_hop_latency bus={','.join(servers)} {run_facts()}")
    measured = asyncio.run(hops(servers, profile.wiring.worker.topic_prefix,
                                profile.wiring.worker.partitions))
    print(f"  {'hop':<22} {'n':>7} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'max ms':>7}")
    for hop, values in measured.items():
        values.sort()
        if values:
            print(f"  {hop:<22} {len(values):>7,} {_pct(values, .5):>7,} {_pct(values, .9):>7,}"
                  f" {_pct(values, .99):>7,} {values[-1]:>7,}")
        else:
            print(f"  {hop:<22} {0:>7} (no trigger found on every topic of this hop)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
