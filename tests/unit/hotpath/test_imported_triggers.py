"""The hot path decides an imported world's transactions (issue #15 item 2): which event types
trigger is policy, the import's declared features reach the snapshot as ``txn.<name>``, its card
ids feed the windows like generated traffic, and the flow id is the ``txn_id``."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from app.df.policy import DecisionPolicy
from app.hotpath.engine import HotPath, StepResult
from app.ofp.registry import REGISTRY, TXN_FAMILY
from app.profiles.loader import load_profile
from app.rails.decision import DecisionRecord
from app.rails.envelope import CanonicalEnvelope, dump_envelope
from app.rails.payloads import PAYLOAD_MODELS
from app.rails.payloads.declared import DeclaredContract, declared_contracts
from app.rails.receipts import EbRef
from app.rails.run_facts import RunFactsView
from app.rails.watermark import END_MICROS, watermark_at, watermark_value
from tests.fixtures.imports import FEATURES, framed_rows, import_tiny_world
from tests.unit.hotpath.test_engine import context

PROFILE = load_profile("local")
TOPIC = "fp.bus.traffic.v1"


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[RunFactsView, list[CanonicalEnvelope]]:
    world = import_tiny_world(tmp_path_factory.mktemp("import"), rows=80)
    view, envelopes = framed_rows(world)
    return view, [e for e in envelopes if e.event_type == "card_transaction"]


def _run(view: RunFactsView, envelopes: list[CanonicalEnvelope], policy: DecisionPolicy
         ) -> list[StepResult]:
    """Every transaction on one partition, then the final watermark; all results."""
    declared: Mapping[tuple[str, str], DeclaredContract] = declared_contracts(
        view, frozenset(PAYLOAD_MODELS))
    hot, ctx = HotPath(policy, PROFILE.policy_rev), context()
    results: list[StepResult] = []
    offset = 0

    def offer(value: bytes, watermark: bool) -> None:
        nonlocal offset
        results.extend(hot.offer(value, EbRef(topic=TOPIC, partition=0, offset=offset), ctx,
                                 run_known=lambda run: run == view.run_id, watermark=watermark,
                                 declared_of=lambda run: declared if run == view.run_id else {}))
        offset += 1

    for envelope in envelopes:
        offer(dump_envelope(envelope), False)
    offer(watermark_value(watermark_at(view.run_id, 0, 1, END_MICROS)), True)
    return results


def _decisions(results: list[StepResult]) -> list[DecisionRecord]:
    assert not [r.anomaly for r in results if r.anomaly is not None]
    return [r.decision for r in results if r.decision is not None]


def test_every_imported_transaction_is_decided_when_its_type_triggers(
        imported: tuple[RunFactsView, list[CanonicalEnvelope]]) -> None:
    view, envelopes = imported
    decisions = _decisions(_run(view, envelopes, PROFILE.policy.decision))
    assert len(decisions) == len(envelopes) == 80
    by_event = {e.event_id: e for e in envelopes}
    for record in decisions:
        payload = by_event[record.trigger.event_id].payload
        subject = record.intents[0].subject
        assert subject["flow_id"] == payload["txn_id"]
        assert subject["card_id"] == payload["card_id"]
        values = record.snapshot.values
        for name in FEATURES:
            assert values[f"txn.{name}"] == payload[name]
        assert values["txn.amount_minor"] == payload["amount_minor"]
        assert values["txn.mcc"] is None  # an authorisation-only feature: no such data


def test_the_txn_feature_set_names_the_declared_features(
        imported: tuple[RunFactsView, list[CanonicalEnvelope]]) -> None:
    view, envelopes = imported
    record = _decisions(_run(view, envelopes[:3], PROFILE.policy.decision))[0]
    txn_set = next(ref for ref in record.snapshot.feature_sets if ref.name == TXN_FAMILY)
    assert txn_set.digest != REGISTRY.feature_set(TXN_FAMILY).digest


def test_card_ids_feed_the_windows_like_generated_traffic(
        imported: tuple[RunFactsView, list[CanonicalEnvelope]]) -> None:
    """The tiny import spreads 80 rows over 23 cards, 20 s apart: a card's later transactions
    see its earlier ones in its 24 h count (strictly earlier events only)."""
    view, envelopes = imported
    decisions = _decisions(_run(view, envelopes, PROFILE.policy.decision))
    counts = [d.snapshot.values["card.count_24h"] for d in decisions]
    assert counts[0] == 0 and max(c for c in counts if isinstance(c, int)) >= 3


def test_an_event_type_that_is_not_a_trigger_is_folded_but_not_decided(
        imported: tuple[RunFactsView, list[CanonicalEnvelope]]) -> None:
    view, envelopes = imported
    policy = PROFILE.policy.decision.model_copy(update={"triggers": ("auth_request",)})
    assert _decisions(_run(view, envelopes, policy)) == []


def test_a_fold_holding_imported_events_snapshots_and_restores(
        imported: tuple[RunFactsView, list[CanonicalEnvelope]]) -> None:
    """Fold snapshots pickle the pending events: an imported event's generated payload model
    must survive it (the full ULB run fail-stopped on a PicklingError here)."""
    from app.hotpath.fold_snapshot import dump_lane, load_lane

    view, envelopes = imported
    declared = declared_contracts(view, frozenset(PAYLOAD_MODELS))
    hot, ctx = HotPath(PROFILE.policy.decision, PROFILE.policy_rev), context()
    for offset, envelope in enumerate(envelopes):  # no watermark yet: every event is pending
        hot.offer(dump_envelope(envelope), EbRef(topic=TOPIC, partition=0, offset=offset), ctx,
                  run_known=lambda run: run == view.run_id,
                  declared_of=lambda run: declared if run == view.run_id else {})
    restored = load_lane(dump_lane(hot.lane(0)))
    assert restored is not None and set(restored) == {view.run_id}
