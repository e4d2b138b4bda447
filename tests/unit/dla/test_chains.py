"""The chain fold: every path a record can take, with real rails records and no broker."""

from __future__ import annotations

from app.dla.anomaly import AuditAnomaly
from app.dla.chains import ChainFold, Closed
from app.rails.canonical_json import canonical_dumps
from app.rails.decision import ActionType
from app.rails.reason_codes import ReasonCode
from tests.unit.dla.conftest import TOPIC, make_decision, make_outcome, wire

TWO = (ActionType.DECLINE_AUTH, ActionType.OPEN_CASE)


class Feed:
    """A fold fed at increasing offsets, collecting everything it produced."""

    def __init__(self) -> None:
        self.fold = ChainFold(TOPIC, 3)
        self.offset = 0
        self.out: list[Closed | AuditAnomaly] = []

    def __call__(self, *items: object) -> list[Closed | AuditAnomaly]:
        produced: list[Closed | AuditAnomaly] = []
        for item in items:
            produced += self.fold.apply(self.offset, wire(item), 100.0 + self.offset).entries
            self.offset += 1
        self.out += produced
        return produced


def test_chain_closes_when_every_intent_has_its_outcome() -> None:
    feed = Feed()
    decision = make_decision(1, TWO)
    assert feed(decision, make_outcome(decision, 0)) == []
    [closed] = feed(make_outcome(decision, 1, "FAILED"))
    assert isinstance(closed, Closed) and not closed.superseding
    record = closed.record
    assert record.decision_id == decision.decision_id and record.supersedes is None
    assert record.decision.decision_ref.model_dump() == {"topic": TOPIC, "partition": 3,
                                                         "offset": 0}
    assert record.decision.trigger_event_id == decision.trigger.event_id
    assert record.decision.snapshot_hash == decision.snapshot.snapshot_hash
    assert [(i.action_type, i.status, i.outcome_ref.offset) for i in record.intents] == [
        (ActionType.DECLINE_AUTH, "EXECUTED", 1), (ActionType.OPEN_CASE, "FAILED", 2)]
    assert closed.decision_published_s == 100.0
    assert not feed.fold.open


def test_decision_without_intents_closes_at_once() -> None:
    [closed] = Feed()(make_decision(2, ()))
    assert isinstance(closed, Closed) and closed.record.intents == ()


def test_reordered_outcomes_give_the_same_record_in_intent_order() -> None:
    decision = make_decision(3, TWO)
    first, second = Feed(), Feed()
    [a] = first(decision, make_outcome(decision, 0), make_outcome(decision, 1))
    [b] = second(decision, make_outcome(decision, 1), make_outcome(decision, 0))
    assert isinstance(a, Closed) and isinstance(b, Closed)
    assert [i.action_type for i in b.record.intents] == list(TWO)
    # same outcomes, other positions: a different record (by reference), same shape
    assert [i.outcome_ref.offset for i in b.record.intents] == [2, 1]
    assert a.record.audit_id != b.record.audit_id


def test_audit_id_is_a_function_of_the_content() -> None:
    decision = make_decision(4)
    [a] = Feed()(decision, make_outcome(decision))
    [b] = Feed()(decision, make_outcome(decision))
    assert isinstance(a, Closed) and isinstance(b, Closed)
    assert a.record == b.record


def test_same_outcome_again_is_ignored_open_or_closed() -> None:
    feed = Feed()
    decision = make_decision(5, TWO)
    outcome = make_outcome(decision, 0)
    assert feed(decision, outcome, outcome) == []
    assert feed.fold.open[decision.decision_id].applied == [1]
    assert len(feed(make_outcome(decision, 1))) == 1
    assert feed(outcome, make_outcome(decision, 1)) == []


def test_same_decision_again_is_ignored() -> None:
    feed = Feed()
    decision = make_decision(6)
    feed(decision, decision)
    assert len(feed(make_outcome(decision))) == 1
    assert feed(decision) == []


def test_different_decision_under_the_same_id_is_an_anomaly() -> None:
    feed = Feed()
    decision = make_decision(7)
    feed(decision, make_outcome(decision))
    other = decision.model_copy(update={"score": 0.9})
    [anomaly] = feed(other)
    assert isinstance(anomaly, AuditAnomaly)
    assert anomaly.reason_code == ReasonCode.DECISION_CONFLICT
    assert anomaly.decision_id == decision.decision_id


def test_conflicting_outcome_after_close_supersedes_the_record() -> None:
    feed = Feed()
    decision = make_decision(8)
    [first] = feed(decision, make_outcome(decision))
    [correction] = feed(make_outcome(decision, status="FAILED"))
    assert isinstance(first, Closed) and isinstance(correction, Closed)
    assert correction.superseding
    assert correction.record.supersedes == first.record.audit_id
    assert correction.record.correction_reasons == (ReasonCode.OUTCOME_CONFLICT.value,)
    assert correction.record.intents[0].status == "FAILED"
    assert correction.record.decision == first.record.decision
    # neither version again makes a third record (no flip-flop on redelivery)
    assert feed(make_outcome(decision), make_outcome(decision, status="FAILED")) == []


def test_conflicting_outcome_while_open_follows_the_first_record() -> None:
    feed = Feed()
    decision = make_decision(9, TWO)
    feed(decision, make_outcome(decision, 0), make_outcome(decision, 0, "FAILED"))
    first, correction = feed(make_outcome(decision, 1))
    assert isinstance(first, Closed) and isinstance(correction, Closed)
    assert first.record.intents[0].status == "EXECUTED"
    assert correction.record.supersedes == first.record.audit_id
    assert correction.record.intents[0].status == "FAILED"


def test_outcome_for_an_unknown_decision_is_an_anomaly() -> None:
    decision = make_decision(10)
    [anomaly] = Feed()(make_outcome(decision))
    assert isinstance(anomaly, AuditAnomaly)
    assert anomaly.reason_code == ReasonCode.OUTCOME_WITHOUT_DECISION
    assert anomaly.eb_ref.offset == 0 and anomaly.action_id == decision.intents[0].action_id


def test_outcome_naming_no_intent_of_its_decision_is_an_anomaly() -> None:
    feed = Feed()
    decision = make_decision(11)
    stranger = make_outcome(make_decision(11, (ActionType.OPEN_CASE,)))
    [anomaly] = feed(decision, stranger)
    assert isinstance(anomaly, AuditAnomaly)
    assert anomaly.reason_code == ReasonCode.OUTCOME_WITHOUT_INTENT
    assert feed.fold.open[decision.decision_id].filled == {}


def test_unreadable_records_are_anomalies_never_exceptions() -> None:
    decision = make_decision(12)
    bad_outcome = make_outcome(decision).model_dump(mode="json") | {"outcome_id": "0" * 64}
    produced = Feed()(b"\xff not json", b"[1, 2]", b'{"record_type": "decision"}',
                      b'{"record_type": "mystery"}', canonical_dumps(bad_outcome))
    assert [a.reason_code for a in produced if isinstance(a, AuditAnomaly)] == [
        ReasonCode.RECORD_UNREADABLE] * 5
    assert len({a.anomaly_id for a in produced if isinstance(a, AuditAnomaly)}) == 5


def test_anomaly_id_is_stable_for_the_same_position() -> None:
    [a] = Feed()(b"garbage")
    [b] = Feed()(b"other garbage")
    assert isinstance(a, AuditAnomaly) and isinstance(b, AuditAnomaly)
    assert a.anomaly_id == b.anomaly_id  # same place, same reason: one anomaly to readers
