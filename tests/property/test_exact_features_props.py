"""Issue #12 done-when: online features equal the brute force over ALL events before the trigger.

Random multi-card, multi-device, multi-merchant event sets are spread over several traffic
partitions as the bus would (each record in one partition, each watermark written after the
data it covers, WSP's progress being the time of the row it stamps), read in a random
interleaving by the real pure hot path (``HotPath.offer``: the run fold, the sequencer, the
feature state), and every windowed feature of every decision is compared with the generic
brute force (``app.ofp.brute_force``) over every event of the run, whatever its partition.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.hotpath.engine import DecisionContext, HotPath
from app.ofp import REGISTRY, Txn, brute_force_features
from app.ofp.txn import txn_of
from app.profiles.loader import load_profile
from app.rails.envelope import dump_envelope
from app.rails.payloads import PAYLOAD_MODELS
from app.rails.posture import Posture
from app.rails.receipts import EbRef
from app.rails.timefmt import epoch_micros_to_ts, ts_to_epoch_micros
from app.rails.watermark import END_MICROS, watermark_at, watermark_value
from app.registry.resolver import Resolution, bootstrap_pair
from tests.factories import make_envelope, make_payload, make_pins

pytestmark = pytest.mark.timeout(600)

PROFILE = load_profile("local")
PINS = make_pins()
T0 = ts_to_epoch_micros(make_envelope(0).ts_utc)
SEC, MIN, HOUR = 1_000_000, 60_000_000, 3_600_000_000
GAPS = [0, 0, 1, SEC, 30 * SEC, MIN, 10 * MIN, HOUR, 6 * HOUR, 30 * HOUR]

events = st.lists(st.fixed_dictionaries({
    "gap": st.sampled_from(GAPS),
    "type": st.sampled_from(["auth_request", "auth_request", "auth_request", "clearing",
                             "refund"]),
    "card": st.integers(0, 4), "device": st.none() | st.integers(0, 3),
    "ip": st.integers(0, 2), "merchant": st.integers(0, 3),
    "amount": st.integers(1, 500_000),
    "partition": st.integers(0, 7),
    "progress_to": st.integers(0, 7),
}), min_size=1, max_size=40)


def _envelope(i: int, e: dict[str, Any], ts: int) -> Any:
    card = f"card_{e['card']:08d}"
    overrides: dict[str, Any] = {"card_id": card, "account_id": f"acct_{e['card'] % 3:08d}",
                                 "merchant_id": f"merch_{e['merchant']:08d}",
                                 "amount_minor": e["amount"]}
    if e["type"] == "auth_request":
        overrides |= {"customer_id": f"cust_{e['card'] % 2:08d}", "ip_id": f"ip_{e['ip']:08d}",
                      "device_id": None if e["device"] is None else f"dev_{e['device']:08d}"}
    payload = make_payload(e["type"], i, **overrides)
    return make_envelope(i, event_type=e["type"], pins=PINS, payload=payload,
                         ts_utc=epoch_micros_to_ts(ts))


def _logs(raw: list[dict[str, Any]], partitions: int) -> tuple[list[list[tuple[bytes, bool]]],
                                                              list[Any]]:
    """Per partition, what IG writes (value, is watermark), and every envelope."""
    logs: list[list[tuple[bytes, bool]]] = [[] for _ in range(partitions)]
    envelopes = []
    ts = T0
    for i, e in enumerate(raw):
        ts += e["gap"]
        env = _envelope(i, e, ts)
        envelopes.append(env)
        logs[e["partition"] % partitions].append((dump_envelope(env), False))
        # WSP stamped this row with its own time; IG writes it into the row's ingress partition
        # (after the row) or, from a marker, into another one: valid either way (sorted stream).
        q = e["progress_to"] % partitions
        logs[q].append((watermark_value(watermark_at(PINS["run_id"], q, partitions, ts)), True))
    for p in range(partitions):
        logs[p].append((watermark_value(watermark_at(PINS["run_id"], p, partitions,
                                                     END_MICROS)), True))
    return logs, envelopes


def _context() -> DecisionContext:
    ref, bundle = bootstrap_pair()
    return DecisionContext(posture=Posture.NORMAL, posture_reasons=(),
                           resolution=Resolution(bundle=bundle, ref=ref, reason_codes=()))


def decide_interleaved(logs: list[list[tuple[bytes, bool]]], seed: int) -> list[Any]:
    hot = HotPath(PROFILE.policy.decision, PROFILE.policy_rev)
    ctx, rng = _context(), random.Random(seed)
    cursors = [0] * len(logs)
    decisions = []
    while any(c < len(log) for c, log in zip(cursors, logs, strict=True)):
        p = rng.choice([i for i, log in enumerate(logs) if cursors[i] < len(log)])
        value, watermark = logs[p][cursors[p]]
        ref = EbRef(topic="fp.bus.traffic.v1", partition=p, offset=cursors[p])
        cursors[p] += 1
        for result in hot.offer(value, ref, ctx, run_known=lambda r: True, watermark=watermark):
            assert result.anomaly is None, result.anomaly
            if result.decision is not None:
                decisions.append(result.decision)
    return decisions


def _txn(env: Any) -> Txn:
    payload = PAYLOAD_MODELS[(env.event_type, env.schema_version)].model_validate(env.payload)
    return txn_of(env.event_type, payload, ts_to_epoch_micros(env.ts_utc))


def online_equals_brute_force_over_all_partitions(raw: list[dict[str, Any]],
                                                  partitions: int, seed: int) -> bool:
    logs, envelopes = _logs(raw, partitions)
    decisions = decide_interleaved(logs, seed)
    history = [_txn(env) for env in envelopes]
    by_id = {env.event_id: env for env in envelopes}
    windowed = {d.name for d in REGISTRY.defs}
    assert len(decisions) == sum(e.event_type == "auth_request" for e in envelopes)
    for decision in decisions:
        trigger = _txn(by_id[decision.trigger.event_id])
        expected = brute_force_features(history, trigger)
        online = {k: v for k, v in decision.snapshot.values.items() if k in windowed}
        if online != expected or not decision.snapshot.complete:
            return False
    return True


@settings(max_examples=150, deadline=None)
@given(events, st.sampled_from([1, 2, 3, 4, 8]), st.integers(0, 2**16))
def test_every_online_feature_is_the_brute_force_over_every_partition(
        raw: list[dict[str, Any]], partitions: int, seed: int) -> None:
    assert online_equals_brute_force_over_all_partitions(raw, partitions, seed)
