"""The small world keeps its documented rates, mix, delays and referential integrity.

Everything here is computed from the pack (truth joined to traffic and labels), the way an
evaluator would, on the demo's ``small`` scale.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa

from tests.unit.world_engine.conftest import Pack
from world_engine.labels import DELAY_RANGES_US, LABEL_KINDS
from world_engine.params import CAMPAIGN_KINDS
from world_engine.traffic import CLEARING_DELAY_RANGE_US, REFUND_DELAY_RANGE_US

_HOUR_US = 3_600_000_000


def _col(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False))


def _micros(table: pa.Table, name: str) -> np.ndarray:
    return table.column(name).cast(pa.int64()).to_numpy()


def _auth_ts(pack: Pack) -> dict[str, int]:
    auth = pack.table("auth_request")
    return dict(zip(_col(auth, "flow_id"), _micros(auth, "ts_utc"), strict=True))


def test_fraud_and_abuse_rate_is_within_documented_bounds(small_pack: Pack) -> None:
    truth = small_pack.table("flow_truth")
    rate = float(np.mean(_col(truth, "is_fraud_or_abuse")))
    assert 0.005 <= rate <= 0.03
    assert abs(rate - small_pack.params.fraud_rate_target) < 0.002
    labels = _col(truth, "label")
    assert set(labels) == {"legit", "fraud", "abuse"}
    assert np.array_equal(labels != "legit", _col(truth, "is_fraud_or_abuse"))


def test_campaign_mix_matches_the_documented_shares(small_pack: Pack) -> None:
    truth = small_pack.table("flow_truth")
    subtype = _col(truth, "subtype")
    bad = subtype[subtype != "none"]
    kind = np.where(bad == "card_testing_cashout", "card_testing", bad)
    counts = Counter(kind.tolist())
    for name in CAMPAIGN_KINDS:
        share = counts[name] / bad.size
        assert abs(share - small_pack.params.campaign_mix.share(name)) <= 0.01, name
    abuse = _col(truth, "label")[subtype == "refund_abuse"]
    assert set(abuse) == {"abuse"}


def test_truth_rows_pair_one_to_one_with_authorisations(small_pack: Pack) -> None:
    auth, truth = small_pack.table("auth_request"), small_pack.table("flow_truth")
    assert truth.column("flow_id").equals(auth.column("flow_id"))
    campaign = _col(truth, "campaign_id")
    legit = _col(truth, "label") == "legit"
    assert all(c is None for c in campaign[legit])
    assert all(isinstance(c, str) and c.startswith("camp_") for c in campaign[~legit])


def test_label_delays_stay_in_their_documented_ranges(small_pack: Pack) -> None:
    labels, truth = small_pack.table("label_event"), small_pack.table("flow_truth")
    auth_ts = dict(zip(_col(truth, "flow_id"), _micros(truth, "ts_utc"), strict=True))
    effective, observed = _micros(labels, "effective_ts_utc"), _micros(labels, "observed_ts_utc")
    flows = _col(labels, "flow_id")
    assert np.array_equal(effective, np.array([auth_ts[f] for f in flows]))
    kinds = [LABEL_KINDS[int(i.rsplit("_", 1)[1])] for i in _col(labels, "label_event_id")]
    delay = observed - effective
    by_type = {
        "post_auth_detection": (60_000_000, 30 * 24 * _HOUR_US),
        "customer_dispute": (12 * _HOUR_US, 60 * 24 * _HOUR_US),
        "chargeback": (7 * 24 * _HOUR_US, 90 * 24 * _HOUR_US),
    }
    for kind, label_type, d in zip(kinds, _col(labels, "label_type"), delay, strict=True):
        low, high = DELAY_RANGES_US[kind]
        assert low <= d <= high, (kind, d)
        assert by_type[label_type][0] <= d <= by_type[label_type][1]
    dispute_at = {f: o for f, o, k in zip(flows, observed, kinds, strict=True) if k == "dispute"}
    for f, o, k in zip(flows, observed, kinds, strict=True):
        if k == "chargeback":
            assert o > dispute_at[f]


def test_labels_are_late_incomplete_and_noisy(small_pack: Pack) -> None:
    truth, labels = small_pack.table("flow_truth"), small_pack.table("label_event")
    bad_flows = set(_col(truth, "flow_id")[_col(truth, "is_fraud_or_abuse")])
    flagged = _col(labels, "label_value") != "legit"
    labelled_bad = set(_col(labels, "flow_id")[flagged])
    coverage = len(bad_flows & labelled_bad) / len(bad_flows)
    assert 0.3 <= coverage <= 0.95  # many fraud flows are never labelled
    false_positives = labelled_bad - bad_flows
    assert 0 < len(false_positives) < 0.01 * truth.num_rows
    assert set(_col(labels, "label_value")) == {"fraud", "abuse", "legit"}


def test_follow_ups_respect_the_issuer_outcome_and_their_delays(small_pack: Pack) -> None:
    truth = small_pack.table("flow_truth")
    approved = dict(zip(_col(truth, "flow_id"), _col(truth, "issuer_approved"), strict=True))
    auth_ts = _auth_ts(small_pack)
    clearing, refund = small_pack.table("clearing"), small_pack.table("refund")
    reversal = small_pack.table("reversal")
    cleared = dict(zip(_col(clearing, "flow_id"), _micros(clearing, "ts_utc"), strict=True))
    assert len(cleared) == clearing.num_rows
    assert all(approved[f] for f in cleared)
    assert all(approved[f] for f in _col(reversal, "flow_id"))
    assert not set(_col(reversal, "flow_id")) & set(cleared)
    assert sum(1 for v in approved.values() if not v) > 0
    low, high = CLEARING_DELAY_RANGE_US
    assert all(low <= ts - auth_ts[f] <= high for f, ts in cleared.items())
    amounts = dict(zip(_col(clearing, "flow_id"), _col(clearing, "amount_minor"), strict=True))
    low, high = REFUND_DELAY_RANGE_US
    for f, ts, amount in zip(
        _col(refund, "flow_id"),
        _micros(refund, "ts_utc"),
        _col(refund, "amount_minor"),
        strict=True,
    ):
        assert low <= ts - cleared[f] <= high
        assert 0 < amount <= amounts[f]
    rev_delay = _micros(reversal, "ts_utc") - np.array(
        [auth_ts[f] for f in _col(reversal, "flow_id")]
    )
    assert (rev_delay > 0).all() and (rev_delay <= 24 * _HOUR_US).all()


def test_traffic_refers_only_to_catalogued_entities(small_pack: Pack) -> None:
    auth = small_pack.table("auth_request")
    cards = small_pack.table("cards")
    card_owner = dict(
        zip(
            _col(cards, "card_id"),
            zip(_col(cards, "account_id"), _col(cards, "customer_id"), strict=True),
            strict=True,
        )
    )
    for card, account, customer in zip(
        _col(auth, "card_id"), _col(auth, "account_id"), _col(auth, "customer_id"), strict=True
    ):
        assert card_owner[card] == (account, customer)
    for column, ref, key in (
        ("device_id", "devices", "device_id"),
        ("ip_id", "ips", "ip_id"),
        ("merchant_id", "merchants", "merchant_id"),
    ):
        used = {v for v in _col(auth, column) if v is not None}
        assert used <= set(_col(small_pack.table(ref), key)), column
    online = _col(auth, "channel") == "online"
    device, ip = _col(auth, "device_id"), _col(auth, "ip_id")
    assert all(v is None for v in device[~online]) and all(v is None for v in ip[~online])
    assert all(v is not None for v in device[online]) and all(v is not None for v in ip[online])


def test_arrivals_follow_a_diurnal_cycle(small_pack: Pack) -> None:
    auth = small_pack.table("auth_request")
    hours = np.bincount((_micros(auth, "ts_utc") // _HOUR_US) % 24, minlength=24)
    assert hours[2:5].mean() * 5 < hours[11:14].mean()
    assert 45_000 <= auth.num_rows <= 56_000  # "small" is about 50 000 authorisations
