"""The hot-path shard clock (issue #11 item 1), each invariant a named predicate.

- follows in-order traffic: with any gaps (seconds to weeks) nothing is held, and after each event
  the clock sits between the previous event's time and this one's (it trails by at most one);
- bounded by one outlier: with one event anywhere far ahead (up to 9999-12-31) or far behind
  (down to 0001-01-01), the clock never passes the newest real event time by more than the bound,
  and a far-ahead one followed by two real events is counted held exactly once (no real event
  ever is);
- exact under an outlier: OFP driven by this clock (as the shard drives it) answers every real
  trigger within ``lateness - bound`` of the traffic exactly like the brute force over the same
  txns, and never judges it late.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.hotpath.event_clock import EventClock
from app.ofp import FeatureState, Txn, brute_force_features
from tests.property.test_ofp_props import DAY, HOUR, MIN, SEC, T0, build, typed

BOUND = 15 * MIN
LATENESS = HOUR
YEAR_1_US = -62_135_596_800_000_000  # 0001-01-01T00:00:00Z
YEAR_9999_END_US = 253_402_300_799_999_999  # 9999-12-31T23:59:59.999999Z

SETTINGS = settings(max_examples=150, deadline=None)

gaps = st.lists(st.sampled_from([0, 1, SEC, MIN, 14 * MIN, BOUND, BOUND + 1, HOUR, DAY, 9 * DAY,
                                 40 * DAY]), min_size=1, max_size=80)
far_ahead = st.integers(T0 + 400 * DAY, YEAR_9999_END_US)
far_behind = st.integers(YEAR_1_US, T0 - 400 * DAY)
steps = st.lists(st.fixed_dictionaries({
    "gap": st.sampled_from([0, 1, SEC, MIN, 5 * MIN, HOUR, 5 * HOUR, DAY, 3 * DAY]),
    # disorder within what a held outlier leaves of the lateness
    "late": st.sampled_from([0, 0, 0, 1, MIN, LATENESS - BOUND]),
    "card": st.integers(0, 2), "account": st.integers(0, 1), "customer": st.integers(0, 1),
    "device": st.none() | st.integers(0, 2), "ip": st.none() | st.integers(0, 1),
    "merchant": st.integers(0, 2), "amount": st.sampled_from([0, 1, 100, 5_000]),
    "event_type": st.sampled_from(["auth_request", "auth_request", "refund"]),
    "trigger": st.sampled_from(["self", "self", "none"]), "probe_back": st.just(0),
}), min_size=1, max_size=50)


def times_of(deltas: list[int]) -> list[int]:
    out, t = [], T0
    for gap in deltas:
        t += gap
        out.append(t)
    return out


def follows_in_order_traffic(times: list[int]) -> bool:
    clock = EventClock(BOUND)
    for i, ts in enumerate(times):
        if clock.observe(ts):
            return False
        wm = clock.watermark_us
        if i >= 1 and (wm is None or not times[i - 1] <= wm <= ts):
            return False
    return clock.held == 0


def bounded_by_one_outlier(times: list[int], at: int, outlier: int) -> bool:
    clock = EventClock(BOUND)
    newest = None
    sequence = [*times[:at], outlier, *times[at:]]
    for i, ts in enumerate(sequence):
        clock.observe(ts)
        if i != at:
            newest = ts if newest is None else max(newest, ts)
        wm = clock.watermark_us
        if wm is not None and newest is not None and wm > newest + BOUND:
            return False
    # far ahead and followed by two real events: judged held, exactly once; else never
    return clock.held == int(outlier > T0 and at + 2 <= len(times))


def exact_under_an_outlier(stream: list[tuple[Txn, Txn | None]], at: int, outlier_ts: int
                           ) -> bool:
    template = stream[min(at, len(stream) - 1)][0]
    outlier = Txn(outlier_ts, 1, template.card_id, template.account_id, template.customer_id,
                  template.device_id, template.ip_id, template.merchant_id)
    sequence: list[tuple[Txn, Txn | None]] = [*stream[:at], (outlier, None), *stream[at:]]
    state = FeatureState(allowed_lateness_us=LATENESS, scan_max_events=1, external_clock=True)
    clock = EventClock(BOUND)
    applied: list[Txn] = []
    for txn, trigger in sequence:
        if trigger is not None:
            values, complete = state.features(trigger)
            if not complete or typed(values) != typed(brute_force_features(applied, trigger)):
                return False
        state.apply(txn)
        applied.append(txn)
        clock.observe(txn.ts_us)
        if clock.watermark_us is not None:
            state.advance_to(clock.watermark_us)
    return True


@SETTINGS
@given(gaps)
def test_follows_in_order_traffic(deltas: list[int]) -> None:
    assert follows_in_order_traffic(times_of(deltas))


@SETTINGS
@given(gaps, st.data(), far_ahead | far_behind)
def test_bounded_by_one_outlier(deltas: list[int], data: Any, outlier: int) -> None:
    times = times_of(deltas)
    at = data.draw(st.integers(0, len(times)))
    assert bounded_by_one_outlier(times, at, outlier)


@SETTINGS
@given(steps, st.data(), far_ahead | far_behind)
def test_exact_under_an_outlier(raw: list[dict[str, Any]], data: Any, outlier: int) -> None:
    stream = build(raw)
    at = data.draw(st.integers(0, len(stream)))
    assert exact_under_an_outlier(stream, at, outlier)
