"""OFP's incremental windows against the brute-force reference (issue #5's property checks).

Random streams with few entities (so cards share devices, IPs and merchants), timestamps spread
over minutes to days (so every window matters), bounded disorder within the allowed lateness, and
triggers interleaved with applies:
- every feature equals ``brute_force_features`` over the transactions applied so far;
- nothing at or after a trigger's ``as_of`` changes its features (as-of safety);
- after eviction the state holds no more than the transactions inside the retention horizon.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.ofp import FeatureState, Txn, brute_force_features

MIN_US = 60_000_000
LATENESS_US = 60 * MIN_US
DAY_US = 24 * 60 * MIN_US
WEEK_US = 7 * DAY_US

_offsets = st.sampled_from([0, 1, MIN_US, 4 * MIN_US, 30 * MIN_US, 2 * 60 * MIN_US, DAY_US // 2,
                            DAY_US, 3 * DAY_US])


@st.composite
def txns(draw: st.DrawFn, n_max: int = 40) -> list[Txn]:
    """Non-decreasing base times plus a backwards jitter below the allowed lateness."""
    n = draw(st.integers(1, n_max))
    t = 1_700_000_000_000_000
    out = []
    for _ in range(n):
        t += draw(_offsets)
        jitter = draw(st.sampled_from([0, 0, 0, MIN_US, 20 * MIN_US]))
        device = draw(st.sampled_from(["d1", "d2", None]))
        out.append(Txn(
            ts_us=t - jitter,
            amount_minor=draw(st.integers(0, 50_000)),
            card_id=draw(st.sampled_from(["c1", "c2", "c3"])),
            account_id=draw(st.sampled_from(["a1", "a2"])),
            customer_id=draw(st.sampled_from(["u1", "u2"])),
            device_id=device,
            ip_id=draw(st.sampled_from(["i1", "i2", None])) if device else None,
            merchant_id=draw(st.sampled_from(["m1", "m2", "m3"])),
            declined=draw(st.booleans()),
            stepped_up=draw(st.booleans()),
        ))
    return out


@settings(max_examples=60, deadline=None)
@given(txns())
def test_every_aggregate_equals_the_brute_force_recomputation(stream: list[Txn]) -> None:
    state = FeatureState(allowed_lateness_us=LATENESS_US)
    applied: list[Txn] = []
    for txn in stream:
        values, complete = state.features(txn)
        assert complete
        assert values == brute_force_features(applied, txn)
        state.apply(txn)
        applied.append(txn)


@settings(max_examples=50, deadline=None)
@given(txns(), txns(n_max=8), st.integers(0, 39))
def test_events_at_or_after_as_of_never_change_a_snapshot(stream: list[Txn], later: list[Txn],
                                                          pick: int) -> None:
    trigger = stream[pick % len(stream)]
    before = [t for t in stream if t.ts_us < trigger.ts_us]
    clean = FeatureState(allowed_lateness_us=LATENESS_US)
    for txn in before:
        clean.apply(txn)
    noisy = FeatureState(allowed_lateness_us=LATENESS_US)
    for txn in before:
        noisy.apply(txn)
    for i, txn in enumerate(later):  # the same shapes, at or after the trigger's time (within
        # the allowed lateness: a trigger later than that is flagged incomplete instead)
        at = trigger.ts_us + (i * LATENESS_US) // (2 * len(later))
        noisy.apply(Txn(**{**{f: getattr(txn, f) for f in txn.__dataclass_fields__},
                           "ts_us": at}))
    noisy_values, complete = noisy.features(trigger)
    assert complete
    assert noisy_values == clean.features(trigger)[0]


@settings(max_examples=30, deadline=None)
@given(txns(n_max=60))
def test_window_state_is_bounded_by_the_retention_horizon(stream: list[Txn]) -> None:
    state = FeatureState(allowed_lateness_us=LATENESS_US)
    for txn in stream:
        state.apply(txn)
        state.evict()
    watermark = max(t.ts_us for t in stream)
    inside = sum(1 for t in stream if t.ts_us >= watermark - WEEK_US - LATENESS_US)
    assert state.retained_txns() <= inside
