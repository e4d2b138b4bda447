"""Issue #11 item 1, defence in depth: one implausible event past IG changes no later decision.

A real tiny world is framed as WSP frames it and split into traffic partitions as the bus splits
it; one partition is decided by the real pure engine (``HotPath.offer``, each event followed by
the watermark WSP's progress gives it) with and without an ``auth_request`` stamped 9999-12-31
(or 0001-01-01) injected. Before issue #11 the shard's clock jumped to year 9999, every card's
history was evicted and every later authorisation became STEP_UP ``SNAPSHOT_INCOMPLETE``. Since
issue #12 the fold applies events in event-time order under the watermark: a far-future event
waits until the source ends, a far-past one is late (applied at the watermark, flagged); either
way every later decision is the same as without the event.
"""

from __future__ import annotations

import asyncio
import json
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
from app.rails.timefmt import ts_to_epoch_micros
from app.registry.resolver import Resolution, bootstrap_pair
from app.runtime import hotpath_metrics  # noqa: F401 - registers the metrics read below
from app.wsp.framing import frame
from app.wsp.merge import plan_rows
from app.wsp.stream_plan import plan_for
from tests.unit.hotpath.feed import TrafficFeed
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


def _decide(envelopes: list[CanonicalEnvelope], partition: int,
            bad: CanonicalEnvelope | None = None) -> tuple[HotPath, Decided]:
    """Decide one partition alone; after each event the watermark of the world's own progress
    (``bad``, the injected event, promises nothing: WSP's merge would not have sent it there)."""
    engine = HotPath(PROFILE.policy.decision, PROFILE.policy_rev)
    ctx = _context()
    feed = TrafficFeed(engine, envelopes[0].run_id,  # one partition alone: numbered 0 here
                       run_known=lambda _run: True)
    decided: Decided = {}
    results = []
    progress = 0
    for env in envelopes:
        results += feed.event(dump_envelope(env), ctx)
        if env is not bad:
            progress = max(progress, ts_to_epoch_micros(env.ts_utc))
            results += feed.watermark(progress, ctx)
    results += feed.final(ctx)
    for result in results:
        assert result.anomaly is None, result.anomaly
        if result.decision is not None:
            d = result.decision
            decided[d.trigger.event_id] = (d.outcome.value, tuple(d.reason_codes),
                                           d.snapshot.complete,
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
    engine, attacked = _decide([*clean[:cut], bad, *clean[cut:]], partition, bad)

    bad_decision = attacked.pop(bad.event_id)  # admitted past IG: decided like any trigger
    later = [e.event_id for e in clean[cut:] if e.event_id in baseline]
    assert len(later) > 100
    assert {i: attacked[i] for i in later} == {i: baseline[i] for i in later}
    assert not any("SNAPSHOT_INCOMPLETE" in attacked[i][1] for i in later)
    counts = engine.event_time_counts()
    assert counts["pending"] == 0
    if bad_ts == FAR_PAST and at > 0:  # behind the watermark: late, applied there, not retained
        assert counts["late"] == 1 and counts["not_retained"] == 1
        assert "LATE_TRIGGER" in bad_decision[1] and bad_decision[2] is False
        sample = REGISTRY.get_sample_value("fp_hotpath_event_time_events", {"kind": "late"})
        assert sample is not None and sample >= 1
    else:  # released in event-time order: first (far past, at the start) or last (far future)
        assert counts["late"] == 0


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

