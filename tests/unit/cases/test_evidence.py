"""A case's evidence: kept once, and read back as the console shows it (rules that fired with
the values that fired them, the card's usual behaviour, the entity context)."""

from __future__ import annotations

from pathlib import Path

from app.cases.evidence import (
    card_usual,
    entity_context,
    read_evidence,
    top_features,
    write_evidence,
)
from app.objectstore.local import LocalObjectStore
from app.rails.case import CaseEvidence
from app.rails.decision import FeatureSnapshot
from app.rails.ids import make_id
from app.registry.resolver import load_bootstrap

VALUES = {"txn.amount_minor": 90_000, "card.count_7d": 14, "card.amount_sum_7d": 70_000,
          "card.amount_max_7d": 9_000, "card.count_1h": 3, "card.amount_to_mean_7d": 18.0,
          "card.amount_zscore_7d": 6.5, "device.distinct_cards_5m": 4, "ip.count_1h": None,
          "graph.device_new_for_card": True, "merchant.count_24h": 120, "zeta.x": 1}


def snapshot(values: dict[str, object]) -> FeatureSnapshot:
    body = {"feature_sets": (), "as_of": "2024-03-01T12:00:00.000000Z", "values": values,
            "input_basis": {}, "graph_version": None, "complete": True}
    return FeatureSnapshot(**body, snapshot_hash=make_id("feature_snapshot", body))


async def test_evidence_is_written_once_and_the_first_stays(tmp_path: Path) -> None:
    first = CaseEvidence(case_id="c" * 32, decision_id="d" * 64, outcome="REVIEW", score=70.0,
                         reason_codes=("CARD_TESTING",), bundle=None, snapshot=snapshot(VALUES))
    other = first.model_copy(update={"decision_id": "e" * 64, "snapshot": snapshot({})})
    async with LocalObjectStore(tmp_path) as store:
        assert await read_evidence(store, "c" * 32) is None
        assert await write_evidence(store, first) is True
        assert await write_evidence(store, first) is False
        assert await write_evidence(store, other) is False  # another decision of the trigger
        assert await read_evidence(store, "c" * 32) == first


def test_top_features_are_the_fired_rules_of_the_decision_with_their_values() -> None:
    bundle = load_bootstrap()
    codes = {rule.reason_code for rule in bundle.rules}
    values = {rule.feature: None for rule in bundle.rules}
    big = next(r for r in bundle.rules if r.op in (">", ">=") and not isinstance(r.value, bool)
               and isinstance(r.value, int | float))
    values[big.feature] = big.value + 1 if isinstance(big.value, int) else big.value * 2
    top = top_features(bundle, codes, values)
    assert {t.feature for t in top} == {big.feature}  # every other feature is missing
    assert any(t.reason_code == big.reason_code and t.value == values[big.feature]
               and t.condition == f"{big.op} {big.value}" for t in top)
    assert [t.points for t in top] == sorted((t.points for t in top), reverse=True)
    assert top_features(bundle, set(), values) == []  # a code the decision did not record
    assert top_features(None, codes, values) == []


def test_card_usual_compares_the_payment_with_the_last_seven_days() -> None:
    rows = {what: (now, usual) for what, now, usual in card_usual(VALUES)}
    assert rows["amount (minor units)"] == (90_000, "mean 5,000, max 9000 over 14 payments "
                                                    "in 7 days")
    assert rows["payments in the hour before"][0] == 3
    assert rows["amount / 7-day mean"] == (18.0, "z-score 6.5")
    assert card_usual({})[0] == ("amount (minor units)", None, "-")


def test_entity_context_groups_every_value_by_entity_payment_first() -> None:
    groups = entity_context(VALUES)
    assert [g for g, _ in groups] == ["txn", "card", "device", "ip", "merchant", "graph", "zeta"]
    assert sum(len(rows) for _, rows in groups) == len(VALUES)
    assert dict(groups)["card"][0] == ("card.amount_max_7d", 9_000)
