"""Issue #11 item 1, defence in depth: one implausible event past IG changes no later decision.

A real tiny world is framed as WSP frames it and split into traffic partitions as the bus splits
it; one partition is decided by the real pure engine (``HotPath.step``) with and without an
``auth_request`` stamped 9999-12-31 (or 0001-01-01) injected. Before the fix the shard's clock
jumped to year 9999, every card's history was evicted and every later authorisation became
STEP_UP ``SNAPSHOT_INCOMPLETE``; now every later decision is the same as without the event.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from app.hotpath.engine import DecisionContext, HotPath
from app.oracle.locator import parse_locator
from app.oracle.pack_reader import open_pack
from app.profiles.loader import load_profile
from app.rails.envelope import CanonicalEnvelope, dump_envelope
from app.rails.ids import make_id
from app.rails.partition_key import derive_partition_key, kafka_partition, partition_key_bytes
from app.rails.posture import Posture
from app.rails.receipts import EbRef
from app.rails.timefmt import ts_to_epoch_micros
from app.registry.resolver import Resolution, bootstrap_pair
from app.runtime import hotpath_metrics  # noqa: F401 - registers the metrics read below
from app.wsp.framing import frame
from app.wsp.merge import plan_rows
from app.wsp.stream_plan import plan_for
from tests.unit.wsp.conftest import build_view, collect

PROFILE = load_profile("local")
PARTITIONS = 4
TOPIC = "fp.bus.traffic.v1"
FAR_FUTURE = "9999-12-31T23:59:59.999999Z"
FAR_PAST = "0001-01-01T00:00:00.000000Z"

Decided = dict[str, tuple[str, tuple[str, ...], bool, str]]
"""trigger event_id -> (outcome, reason codes, snapshot complete, canonical snapshot values)."""


@pytest.fixture(scope="module")
def traffic(tiny_world: Path) -> dict[int, list[CanonicalEnvelope]]:
    """The tiny world's traffic (no labels) per partition, in WSP's event-time order."""
    view = build_view(tiny_world)
    plan = plan_for(view)
    rows = asyncio.run(collect(plan_rows(open_pack(parse_locator(str(tiny_world))), plan)))
    precedence = PROFILE.policy.ingest.partition_key_precedence
    out: dict[int, list[CanonicalEnvelope]] = {p: [] for p in range(PARTITIONS)}
    for row in rows:
        env = frame(row, plan.output(row.output_id), plan, now_micros=lambda: 0)
        if env.event_type == "label_event":
            continue
        key = partition_key_bytes(derive_partition_key(env, precedence))
        out[kafka_partition(key, PARTITIONS)].append(env)
    return out


def _context() -> DecisionContext:
    ref, bundle = bootstrap_pair()
    return DecisionContext(posture=Posture.NORMAL, posture_reasons=(),
                           resolution=Resolution(bundle=bundle, ref=ref, reason_codes=()))


def _decide(envelopes: list[CanonicalEnvelope], partition: int) -> tuple[HotPath, Decided]:
    engine = HotPath(PROFILE.policy.decision, PROFILE.policy_rev)
    ctx = _context()
    decided: Decided = {}
    for offset, env in enumerate(envelopes):
        result = engine.step(dump_envelope(env), EbRef(topic=TOPIC, partition=partition,
                                                       offset=offset), ctx,
                             run_known=lambda _run: True)
        assert result.anomaly is None, result.anomaly
        if result.decision is not None:
            d = result.decision
            decided[env.event_id] = (d.outcome.value, tuple(d.reason_codes), d.snapshot.complete,
                                     json.dumps(d.snapshot.values, sort_keys=True))
    return engine, decided


def _bad_auth(template: CanonicalEnvelope, ts_utc: str) -> CanonicalEnvelope:
    """An auth_request of the template's card at ``ts_utc``, with an event id of its own."""
    return template.model_copy(update={"ts_utc": ts_utc,
                                       "event_id": make_id("bad_event", template.event_id, ts_utc)})


def _busiest(traffic: dict[int, list[CanonicalEnvelope]]) -> int:
    return max(traffic, key=lambda p: sum(e.event_type == "auth_request" for e in traffic[p]))


@pytest.mark.parametrize("bad_ts", [FAR_FUTURE, FAR_PAST])
@pytest.mark.parametrize("at", [0.0, 0.33])
def test_one_implausible_event_changes_no_later_decision_on_its_partition(
        traffic: dict[int, list[CanonicalEnvelope]], bad_ts: str, at: float) -> None:
    """Issue #11 item 1: injected first (the clock's start) or a third of the way in."""
    partition = _busiest(traffic)
    clean = traffic[partition]
    cut = int(len(clean) * at)
    template = next(e for e in clean[cut:] if e.event_type == "auth_request")
    bad = _bad_auth(template, bad_ts)
    _, baseline = _decide(clean, partition)
    engine, attacked = _decide([*clean[:cut], bad, *clean[cut:]], partition)

    assert attacked.pop(bad.event_id)  # admitted past IG, so it is decided like any trigger
    later = [e.event_id for e in clean[cut:] if e.event_id in baseline]
    assert len(later) > 100
    assert {i: attacked[i] for i in later} == {i: baseline[i] for i in later}
    assert not any("SNAPSHOT_INCOMPLETE" in attacked[i][1] for i in later)
    (shard,) = engine.shards()
    last_ts = max(ts_to_epoch_micros(e.ts_utc) for e in clean)
    assert shard.clock.watermark_us is not None and shard.clock.watermark_us <= last_ts
    if bad_ts == FAR_FUTURE:  # the clock did not follow it: counted, and visible in metrics
        assert shard.clock.held == 1 and engine.event_time_counts()["clock_held"] == 1
        assert shard.clock.held_max_us > 7_000 * 365 * 86_400 * 1_000_000
        sample = REGISTRY.get_sample_value("fp_hotpath_event_time_events", {"kind": "clock_held"})
        assert sample is not None and sample >= 1
    elif at > 0:  # far behind the eviction horizon: decided, applied to the graph, not retained
        assert shard.not_retained == 1 and engine.event_time_counts()["not_retained"] == 1


def test_without_the_event_the_clock_follows_the_data(
        traffic: dict[int, list[CanonicalEnvelope]]) -> None:
    """On the world's own traffic (gaps of weeks in the follow-ups' tail) nothing is held and the
    clock reaches every event but an unconfirmed last jump: eviction keeps working."""
    for partition, envelopes in traffic.items():
        engine, _ = _decide(envelopes, partition)
        (shard,) = engine.shards()
        times = sorted(ts_to_epoch_micros(e.ts_utc) for e in envelopes)
        assert shard.clock.held == 0 and shard.not_retained == 0
        assert shard.clock.watermark_us is not None
        assert times[-2] <= shard.clock.watermark_us <= times[-1]


def test_a_held_event_is_logged_once_as_one_structured_line(
        traffic: dict[int, list[CanonicalEnvelope]], caplog: pytest.LogCaptureFixture) -> None:
    partition = _busiest(traffic)
    clean = traffic[partition]
    bad = _bad_auth(clean[10], FAR_FUTURE)
    with caplog.at_level(logging.INFO, logger="app.hotpath.engine"):
        _decide([*clean[:50], bad, *clean[50:]], partition)  # judged held two events later
    lines = [json.loads(r.getMessage()) for r in caplog.records
             if r.name == "app.hotpath.engine"]
    held = [line for line in lines if line["event"] == "hotpath.event_time_held"]
    assert len(held) == 1
    assert held[0]["kind"] == "clock_held" and held[0]["event_id"] == bad.event_id
    assert held[0]["offset"] == 50
    assert held[0]["clock_held"] == 1 and held[0]["ts_utc"] == FAR_FUTURE
