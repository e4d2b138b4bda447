"""The hot path as plain Python: one decision per trigger, anomalies for bad input, determinism."""

from __future__ import annotations

from typing import Any

import pytest

from app.hotpath.engine import DecisionContext, HotPath
from app.profiles.loader import load_profile
from app.rails.canonical_json import canonical_dumps
from app.rails.decision import DecisionOutcome
from app.rails.envelope import dump_envelope
from app.rails.posture import Posture
from app.rails.reason_codes import ReasonCode
from app.rails.timefmt import ts_to_epoch_micros
from app.registry.resolver import Resolution, bootstrap_pair
from tests.factories import make_envelope, make_payload, make_pins
from tests.unit.hotpath.feed import TrafficFeed

PROFILE = load_profile("local")
RUN = make_pins()["run_id"]
TOPIC = "fp.bus.traffic.v1"


def raw(index: int, event_type: str = "auth_request", ts_index: int | None = None,
        **payload: Any) -> bytes:
    envelope = make_envelope(ts_index if ts_index is not None else index, event_type=event_type,
                             payload=make_payload(event_type, index, **payload))
    if ts_index is not None:  # a distinct event id even when the timestamp repeats
        envelope = envelope.model_copy(update={"event_id": make_envelope(
            index + 10_000, event_type=event_type).event_id})
    return dump_envelope(envelope)


def context(posture: Posture = Posture.NORMAL, reasons: tuple[str, ...] = ()) -> DecisionContext:
    ref, bundle = bootstrap_pair()
    return DecisionContext(posture=posture, posture_reasons=reasons,
                           resolution=Resolution(bundle=bundle, ref=ref, reason_codes=()))


def engine() -> HotPath:
    return HotPath(PROFILE.policy.decision, PROFILE.policy_rev)


_FEEDS: dict[int, TrafficFeed] = {}


def step(hot: HotPath, value: bytes, offset: int, ctx: DecisionContext | None = None,
         **kwargs: Any) -> Any:
    """Offer one record on partition 0 and the watermark just past it (``offset`` is only the
    caller's count: the feed numbers the log, watermark records included)."""
    feed = _FEEDS.setdefault(id(hot), TrafficFeed(hot, RUN))
    return feed.step(value, ctx or context(), **kwargs)


def test_one_decision_per_authorisation_and_none_for_follow_ups() -> None:
    hot = engine()
    first = step(hot, raw(1), 0)
    follow = step(hot, raw(1, "clearing"), 1)
    again = step(hot, raw(2), 2)
    assert first.decision is not None and again.decision is not None
    assert follow.decision is None and follow.anomaly is None
    record = again.decision
    assert record.trigger.eb_ref.offset == 4  # events and watermarks share the log
    assert record.snapshot.as_of == record.trigger.ts_utc
    assert record.pins.run_id == RUN and record.bundle is not None and record.intents
    assert all(i.decision_id == record.decision_id for i in record.intents)


def test_an_already_decided_trigger_is_folded_in_without_a_second_decision() -> None:
    hot, twin = engine(), engine()
    decided = step(hot, raw(1), 0).decision
    assert decided is not None
    result = step(twin, raw(1), 0, decided={(0, 0): decided.outcome})
    assert result.decision is None and result.already_decided
    # the state afterwards is the same: the next decision is byte-identical
    nxt = [step(h, raw(98), 1).decision for h in (hot, twin)]  # card 1 again (97 cards)
    assert nxt[0] is not None and nxt[1] is not None
    assert nxt[0].snapshot.values["card.count_24h"] == 1
    assert canonical_dumps(nxt[0].model_dump(mode="json")) == canonical_dumps(
        nxt[1].model_dump(mode="json"))


def test_bad_input_gets_an_anomaly_never_a_crash_or_a_decision() -> None:
    hot = engine()
    garbage = step(hot, b"\xff not json", 0)
    assert garbage.anomaly is not None and garbage.decision is None
    assert garbage.anomaly.reason_code is ReasonCode.TRIGGER_UNREADABLE
    foreign = dump_envelope(make_envelope(3, payload=make_payload("auth_request", 3),
                                          pins=make_pins(request="other-run")))
    unknown = step(hot, foreign, 1)
    assert unknown.anomaly is not None
    assert unknown.anomaly.reason_code is ReasonCode.TRIGGER_RUN_UNKNOWN
    bad_payload = dump_envelope(make_envelope(4, payload={"flow_id": "x"}))
    assert step(hot, bad_payload, 2).anomaly.reason_code is ReasonCode.TRIGGER_UNREADABLE
    assert step(hot, raw(5), 3).decision is not None  # and the stream goes on


def test_events_at_the_triggers_own_time_are_not_features() -> None:
    feed, ctx = TrafficFeed(engine(), RUN), context()
    for value in (raw(1, ts_index=50), raw(98, ts_index=50), raw(195, ts_index=51)):
        feed.event(value, ctx)  # card 1 twice at t50, then at t51
    ts51 = ts_to_epoch_micros(make_envelope(51).ts_utc)
    decisions = [r.decision for r in feed.watermark(ts51 + 1, ctx)]
    assert len(decisions) == 3 and all(d is not None for d in decisions)
    by_ts = sorted(decisions, key=lambda d: (d.trigger.ts_utc, d.trigger.event_id))  # type: ignore[union-attr]
    same_time, later = by_ts[1], by_ts[2]
    assert same_time is not None and later is not None
    assert same_time.snapshot.values["card.count_5m"] == 0
    assert later.snapshot.values["card.count_5m"] == 2


def _stream(hot: HotPath) -> list[bytes]:
    out = []
    for i in range(300):
        kind = "auth_request" if i % 3 else "clearing"
        result = step(hot, raw(i, kind), i)
        if result.decision is not None:
            out.append(canonical_dumps(result.decision.model_dump(mode="json")))
    return out


def test_the_same_input_gives_byte_identical_decisions() -> None:
    assert _stream(engine()) == _stream(engine())


@pytest.mark.parametrize("posture", list(Posture))
def test_df_obeys_each_posture(posture: Posture) -> None:
    hot = engine()
    for i in range(40):
        step(hot, raw(i), i, context(posture))
    record = step(hot, raw(97 * 3 + 5), 40, context(posture)).decision
    assert record is not None and record.posture is posture
    graph_keys = [k for k in record.snapshot.values if k.startswith("graph.")]
    assert bool(graph_keys) == posture.uses_graph
    assert (record.snapshot.graph_version is not None) == posture.uses_graph
    assert (record.score is not None) == posture.uses_model
    assert (record.bundle is not None) == posture.uses_model
    if posture is Posture.FAIL_CLOSED:
        assert record.outcome is DecisionOutcome(PROFILE.policy.decision.fail_closed_outcome)
        assert ReasonCode.POSTURE_FAIL_CLOSED in record.reason_codes


def test_a_missing_bundle_never_yields_a_silent_model_score() -> None:
    hot = engine()
    ctx = DecisionContext(posture=Posture.NORMAL, posture_reasons=(),
                          resolution=Resolution(bundle=None, ref=None,
                                                reason_codes=(ReasonCode.BUNDLE_UNRESOLVED,)))
    record = step(hot, raw(1), 0, ctx).decision
    assert record is not None and record.score is None and record.bundle is None
    assert ReasonCode.BUNDLE_UNRESOLVED in record.reason_codes
