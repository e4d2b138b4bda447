"""ACTIVE vs SHADOW on the same decisions (``app.evaluation.shadow_compare``): pure, no I/O."""

from __future__ import annotations

import pytest

from app.evaluation.shadow_compare import (
    CompareRow,
    ShadowComparison,
    bundle_name,
    compare_shadow,
    rows_of_audit,
)
from app.evaluation.truth import TruthRow
from app.rails.audit import AuditDecision, AuditRecord
from app.rails.canonical_json import canonical_dumps
from app.rails.decision import BundleRef, DecisionOutcome, ShadowScore
from app.rails.digests import Digest
from app.rails.ids import make_id
from app.rails.pins import ContextPins
from app.rails.policy_rev import policy_rev_of
from app.rails.posture import Posture
from app.rails.receipts import EbRef
from app.rails.timefmt import epoch_micros_to_ts
from tests.factories import make_pins

A, S, R, D = (DecisionOutcome.APPROVE, DecisionOutcome.STEP_UP, DecisionOutcome.REVIEW,
              DecisionOutcome.DECLINE)
DAY = 86_400_000_000
T0 = 1_742_169_600_000_000  # 2025-03-17T00:00:00Z


def bundle(bundle_id: str, version: int = 1) -> BundleRef:
    return BundleRef(bundle_id=bundle_id, version=version, scope="auth",
                     digest=Digest(algo="sha256", hex=make_id("test.bundle", bundle_id, version)))


TRAINED, CARD = bundle("trained-auth"), bundle("bootstrap-scorecard")
TRUTH = {
    "f1": TruthRow("f1", "fraud", "card_testing", "c1", True),
    "f2": TruthRow("f2", "fraud", "card_testing", "c1", True),
    "f3": TruthRow("f3", "fraud", "account_takeover", "c2", True),
    "a1": TruthRow("a1", "abuse", "refund_abuse", "c3", True),
    **{f"l{i}": TruthRow(f"l{i}", "legit", "legit", None, False) for i in range(1, 6)},
}


def row(flow_id: str, active: DecisionOutcome, shadow: DecisionOutcome | None, *,
        ts_us: int = T0, active_bundle: BundleRef | None = TRAINED,
        shadow_bundle: BundleRef = CARD) -> CompareRow:
    score = None if shadow is None else ShadowScore(bundle=shadow_bundle, score=0.5,
                                                    outcome=shadow, reason_codes=())
    return CompareRow(trigger_ts_us=ts_us, flow_id=flow_id, active_outcome=active,
                      active_bundle=active_bundle, shadow=score)


def week() -> list[CompareRow]:
    """ACTIVE catches 3 of 4 fraud/abuse with 1 of 5 legit stepped up; SHADOW 2 of 4 with 2
    legit flows in friction (one declined)."""
    return [row("f1", D, D), row("f2", S, A), row("f3", R, A), row("a1", A, S),
            row("l1", S, A), row("l2", A, D), row("l3", A, R), row("l4", A, A), row("l5", A, A)]


def test_both_sides_are_scored_on_the_same_decisions() -> None:
    c = compare_shadow(week(), TRUTH, run_id="r" * 32)
    assert (c.decisions, c.in_window, c.without_shadow, c.compared, c.unmatched) == (9, 9, 0, 9, 0)
    assert c.agreed == 3  # f1 DECLINE, l4 and l5 APPROVE
    a, s = c.active, c.shadow
    assert (a.bundles, s.bundles) == (("trained-auth@1",), ("bootstrap-scorecard@1",))
    assert (a.decided, a.fraud_decided, a.caught, a.recall) == (9, 4, 3, 0.75)
    assert (s.decided, s.fraud_decided, s.caught, s.recall) == (9, 4, 2, 0.5)
    assert (a.legit_decided, a.legit_friction, a.legit_friction_share, a.legit_declined) == (
        5, 1, 0.2, 0)
    assert (s.legit_decided, s.legit_friction, s.legit_friction_share, s.legit_declined) == (
        5, 2, 0.4, 1)
    assert [(x.label, x.subtype, x.decided, x.caught) for x in a.campaigns] == [
        ("fraud", "card_testing", 2, 2), ("fraud", "account_takeover", 1, 1),
        ("abuse", "refund_abuse", 1, 0)]
    assert [(x.subtype, x.caught) for x in s.campaigns] == [
        ("card_testing", 1), ("account_takeover", 0), ("refund_abuse", 1)]
    assert c.active_better and not c.shadow_better and c.verdict == "active_better"


def test_window_is_half_open_on_trigger_time_and_ends_may_be_open() -> None:
    rows = [row("f1", D, A, ts_us=T0 - 1), row("f2", D, A, ts_us=T0),
            row("f3", D, A, ts_us=T0 + 7 * DAY - 1), row("a1", D, A, ts_us=T0 + 7 * DAY)]
    week3 = compare_shadow(rows, TRUTH, from_us=T0, to_us=T0 + 7 * DAY)
    assert (week3.decisions, week3.in_window, week3.active.caught) == (4, 2, 2)
    assert week3.window_text() == "2025-03-17T00:00:00.000000Z..2025-03-24T00:00:00.000000Z"
    since = compare_shadow(rows, TRUTH, from_us=T0)
    assert since.in_window == 3 and since.window_text().endswith("..end")
    until = compare_shadow(rows, TRUTH, to_us=T0)
    assert until.in_window == 1 and until.window_text().startswith("start..")
    assert compare_shadow(rows, TRUTH).in_window == 4


@pytest.mark.parametrize(("start", "end"), [(T0, T0), (T0 + 1, T0)])
def test_an_empty_or_reversed_window_is_refused(start: int, end: int) -> None:
    with pytest.raises(ValueError, match="before its end"):
        compare_shadow(week(), TRUTH, from_us=start, to_us=end)


def test_decisions_without_a_shadow_are_counted_and_left_out_of_both_sides() -> None:
    rows = [*week(), row("l1", D, None), row("f1", A, None, active_bundle=None)]
    c = compare_shadow(rows, TRUTH)
    assert (c.in_window, c.without_shadow, c.compared) == (11, 2, 9)
    assert c.active.legit_friction == 1 and c.active.caught == 3  # as without the two
    assert c.to_dict()["active"] == compare_shadow(week(), TRUTH).to_dict()["active"]


def test_nothing_carries_a_shadow_compares_nothing() -> None:
    c = compare_shadow([row("f1", D, None), row("l1", A, None)], TRUTH)
    assert (c.compared, c.without_shadow, c.active.decided, c.shadow.decided) == (0, 2, 0, 0)
    assert c.active.recall is None and c.shadow.legit_friction_share is None
    assert c.active.bundles == () and c.verdict == "no_winner"


def test_unmatched_flows_are_counted_sampled_and_left_out() -> None:
    rows = [*week(), row("ghost", D, D), row("", A, A)]
    c = compare_shadow(rows, TRUTH)
    assert (c.compared, c.unmatched, c.active.decided) == (11, 2, 9)
    assert c.unmatched_sample == ("<no flow_id>", "ghost")
    assert c.to_dict()["decisions"]["unmatched_sample"] == ["<no flow_id>", "ghost"]


def test_shadow_better_is_symmetric() -> None:
    swapped = [row(r.flow_id, r.shadow.outcome, r.active_outcome) for r in week()
               if r.shadow is not None]
    c = compare_shadow(swapped, TRUTH)
    assert c.shadow_better and not c.active_better and c.verdict == "shadow_better"


@pytest.mark.parametrize("rows", [
    # ACTIVE catches more but puts more friction on legit flows: a trade-off, no winner.
    [row("f1", D, A), row("l1", S, A)],
    # A tie: same catch, same friction.
    [row("f1", D, S), row("l1", A, A)],
    # Less friction alone is not "catches more".
    [row("f1", D, D), row("l1", A, S)],
], ids=["trade-off", "tie", "friction-only"])
def test_no_winner_unless_one_side_catches_more_at_no_more_friction(
    rows: list[CompareRow],
) -> None:
    c = compare_shadow(rows, TRUTH)
    assert not c.active_better and not c.shadow_better and c.verdict == "no_winner"


def test_equal_friction_with_more_caught_wins() -> None:
    c = compare_shadow([row("f1", D, A), row("l1", S, R)], TRUTH)
    assert c.active.legit_friction == c.shadow.legit_friction == 1
    assert c.active_better


def test_a_promotion_inside_the_window_shows_both_bundles() -> None:
    rows = [row("f1", D, D), row("f2", D, D, active_bundle=bundle("trained-auth", 2)),
            row("f3", D, D, active_bundle=None)]
    assert compare_shadow(rows, TRUTH).active.bundles == (
        "none", "trained-auth@1", "trained-auth@2")
    assert bundle_name(None) == "none" and bundle_name(CARD) == "bootstrap-scorecard@1"


def test_to_dict_is_deterministic_and_rounded() -> None:
    rows = [*week(), row("l1", S, S), row("ghost", A, A), row("f1", A, None)]
    first = compare_shadow(rows, TRUTH, from_us=T0, run_id="r" * 32)
    again = compare_shadow(list(reversed(rows)), TRUTH, from_us=T0, run_id="r" * 32)
    assert canonical_dumps(first.to_dict()) == canonical_dumps(again.to_dict())
    body = first.to_dict()
    assert list(body) == ["run_id", "window", "decisions", "compared_over", "active", "shadow",
                          "active_better", "shadow_better", "verdict"]
    assert body["window"]["from"] == "2025-03-17T00:00:00.000000Z" and body["window"]["to"] is None
    assert body["active"]["legit"]["friction_share"] == round(2 / 6, 6)
    assert body["active"]["fraud_abuse"] == {"decided": 4, "caught": 3, "recall": 0.75}


def _record(event_id: str, outcome: DecisionOutcome, shadow: ShadowScore | None,
            ts_us: int) -> AuditRecord:
    pins = ContextPins.model_validate(make_pins())
    ref = EbRef(topic="fp.bus.rtdl.v1", partition=0, offset=0)
    hex_id = make_id("test.trigger", event_id)
    return AuditRecord(
        audit_id=make_id("test.audit", event_id), decision_id=make_id("test.decision", event_id),
        pins=pins, intents=(),
        decision=AuditDecision(
            decision_ref=ref, trigger_event_id=hex_id,
            trigger_ref=EbRef(topic="fp.bus.traffic.v1", partition=0, offset=0),
            trigger_ts_utc=epoch_micros_to_ts(ts_us), outcome=outcome, reason_codes=(),
            score=0.5, posture=Posture.NORMAL, bundle=TRAINED,
            snapshot_hash=make_id("snap", event_id),
            graph_version=None, policy_rev=policy_rev_of("eval.test", "r1", {}), shadow=shadow))


def test_rows_of_audit_take_time_outcomes_and_flow_from_the_archive_map() -> None:
    shadow = ShadowScore(bundle=CARD, score=0.2, outcome=A, reason_codes=())
    records = [_record("e1", D, shadow, T0 + 5), _record("e2", A, None, T0)]
    rows = rows_of_audit(records, {make_id("test.trigger", "e1"): "f1"})
    assert rows == [CompareRow(T0 + 5, "f1", D, TRAINED, shadow), CompareRow(T0, "", A, TRAINED,
                                                                             None)]


def test_comparison_is_frozen() -> None:
    c = compare_shadow(week(), TRUTH)
    assert isinstance(c, ShadowComparison)
    with pytest.raises(AttributeError):
        c.compared = 0  # type: ignore[misc]
