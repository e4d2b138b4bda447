"""Each campaign leaves the velocity or graph signal its module documents, unlike legit traffic.

Computed from ``auth_request`` (and ``refund``) joined to ``flow_truth`` on the small world: the
features a fraud platform would build, checked against the truth that it never sees.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pyarrow as pa

from tests.unit.world_engine.conftest import Pack

_MINUTE_US = 60_000_000
_DAY_US = 86_400_000_000


def _frame(pack: Pack) -> dict[str, np.ndarray]:
    auth, truth = pack.table("auth_request"), pack.table("flow_truth")
    columns = {
        name: np.asarray(auth.column(name).to_numpy(zero_copy_only=False), dtype=object)
        for name in ("flow_id", "card_id", "customer_id", "device_id", "ip_id", "entry_mode")
    }
    columns["ts"] = auth.column("ts_utc").cast(pa.int64()).to_numpy()
    columns["amount"] = auth.column("amount_minor").to_numpy()
    columns["subtype"] = np.asarray(truth.column("subtype").to_numpy(zero_copy_only=False))
    columns["online"] = np.array([d is not None for d in columns["device_id"]])
    return columns


def test_card_testing_shows_many_cards_per_ip_within_minutes(small_pack: Pack) -> None:
    f = _frame(small_pack)
    bucket = f["ts"] // (10 * _MINUTE_US)
    cards: dict[tuple[str, int], set[str]] = defaultdict(set)
    for i in np.flatnonzero(f["online"]):
        cards[(f["ip_id"][i], bucket[i])].add(f["card_id"][i])

    def median_cards(subtype: str) -> float:
        rows = np.flatnonzero((f["subtype"] == subtype) & f["online"])
        return float(np.median([len(cards[(f["ip_id"][i], bucket[i])]) for i in rows]))

    assert median_cards("card_testing") >= 8
    assert median_cards("none") <= 2
    assert np.median(f["amount"][f["subtype"] == "card_testing"]) <= 300
    assert np.median(f["amount"][f["subtype"] == "none"]) >= 1_000


def test_account_takeover_uses_a_device_the_card_never_used(small_pack: Pack) -> None:
    f = _frame(small_pack)
    seen: set[tuple[str, str]] = set()
    known = np.zeros(f["ts"].size, dtype=bool)
    for i in np.argsort(f["ts"], kind="stable"):
        if not f["online"][i]:
            continue
        key = (f["card_id"][i], f["device_id"][i])
        known[i] = key in seen
        if f["subtype"][i] == "none":
            seen.add(key)
    warm = f["ts"] >= f["ts"].min() + 2 * _DAY_US
    takeover = (f["subtype"] == "account_takeover") & warm
    legit = (f["subtype"] == "none") & f["online"] & warm
    assert known[takeover].mean() <= 0.05
    assert known[legit].mean() >= 0.4
    assert np.median(f["amount"][takeover]) > 3 * np.median(f["amount"][legit])


def test_mule_rings_share_devices_across_customers(small_pack: Pack) -> None:
    f = _frame(small_pack)
    customers: dict[str, set[str]] = defaultdict(set)
    for i in np.flatnonzero(f["online"]):
        customers[f["device_id"][i]].add(f["customer_id"][i])

    def median_degree(subtype: str) -> float:
        rows = np.flatnonzero((f["subtype"] == subtype) & f["online"])
        return float(np.median([len(customers[f["device_id"][i]]) for i in rows]))

    assert median_degree("mule_activity") >= 3
    assert median_degree("none") <= 2


def test_merchant_collusion_is_keyed_and_round(small_pack: Pack) -> None:
    f = _frame(small_pack)
    collusion, legit = f["subtype"] == "merchant_collusion", f["subtype"] == "none"
    assert (f["entry_mode"][collusion] == "keyed").mean() >= 0.5
    assert (f["entry_mode"][legit] == "keyed").mean() <= 0.05
    assert (f["amount"][collusion] % 5_000 == 0).mean() >= 0.95
    assert not f["online"][collusion].any()


def test_refund_abuse_gets_most_purchases_refunded(small_pack: Pack) -> None:
    f = _frame(small_pack)
    refunded = set(small_pack.table("refund").column("flow_id").to_pylist())
    was_refunded = np.array([flow in refunded for flow in f["flow_id"]])
    assert was_refunded[f["subtype"] == "refund_abuse"].mean() >= 0.6
    assert was_refunded[f["subtype"] == "none"].mean() <= 0.05
