"""Case management's pure domain: transitions, refusals, idempotency and dual control."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.cases.model import (
    Approve,
    Case,
    CasePolicy,
    Claim,
    Close,
    Command,
    Note,
    Refusal,
    Reject,
    Reopen,
    Resolve,
    fold,
    handle,
    needs_second_approval,
)
from app.rails.case import CaseEvent, CaseEventType, CaseState

AT = "2024-03-02T09:00:00.000000Z"
POLICY = CasePolicy(dual_control_amount_minor=100_000)
CASE = "c" * 32


def opened(amount_minor: int | None = None) -> CaseEvent:
    return CaseEvent(case_id=CASE, seq=1, event_type=CaseEventType.OPENED, command_id="open",
                     actor="platform", at_utc="2024-03-01T12:00:00.000000Z",
                     amount_minor=amount_minor, flow_id="flow_000000000001")


def run(commands: list[Command], *, amount_minor: int | None = None
        ) -> tuple[Case, list[Refusal]]:
    events = [opened(amount_minor)]
    refusals = []
    for command in commands:
        result = handle(fold(events), command, at_utc=AT, policy=POLICY)
        if isinstance(result, Refusal):
            refusals.append(result)
        else:
            events += [e for e in result if e.seq > len(events)]
    return fold(events), refusals


def test_the_happy_path_claim_resolve_close_and_reopen() -> None:
    case, refusals = run([Claim(CASE, "c1", "ann", 1), Note(CASE, "c2", "ann", 2, "seen it"),
                          Resolve(CASE, "c3", "ann", 3, "fraud", "card testing"),
                          Close(CASE, "c4", "ann", 4), Reopen(CASE, "c5", "bob", 5, "new dispute")])
    assert refusals == []
    assert [e.event_type for e in case.events] == [
        CaseEventType.OPENED, CaseEventType.CLAIMED, CaseEventType.NOTE_ADDED,
        CaseEventType.RESOLVED, CaseEventType.CLOSED, CaseEventType.REOPENED]
    assert (case.state, case.version, case.assignee, case.verdict) == (
        CaseState.IN_REVIEW, 6, "ann", None)


def test_refusals_name_why_with_the_status_an_api_answers() -> None:
    _, refusals = run([Resolve(CASE, "r1", "ann", 1, "fraud", "x"),        # not claimed: 409
                       Claim(CASE, "c1", "ann", 7),                         # stale version: 409
                       Claim(CASE, "c2", "ann", 1),
                       Resolve(CASE, "r2", "bob", 2, "fraud", "x"),         # not the assignee
                       Note(CASE, "n1", "ann", 2, "x" * 4001)])             # too long: 413
    assert [(r.status, r.reason_code) for r in refusals] == [
        (409, "CASE_TRANSITION_ILLEGAL"), (409, "CASE_VERSION_STALE"),
        (403, "CASE_NOT_ASSIGNEE"), (413, "CASE_NOTE_TOO_LARGE")]
    assert "OPEN" in refusals[0].message
    assert handle(None, Claim(CASE, "c", "ann", 1), at_utc=AT, policy=POLICY) == Refusal(
        404, "CASE_NOT_FOUND", f"no case {CASE}")


def test_a_repeated_command_appends_nothing_and_answers_the_same() -> None:
    case, _ = run([Claim(CASE, "c1", "ann", 1)])
    again = handle(case, Claim(CASE, "c1", "ann", 1), at_utc=AT, policy=POLICY)
    assert again == [case.events[1]]


def test_dual_control_a_second_investigator_decides_a_big_verdict() -> None:
    case, refusals = run([Claim(CASE, "c1", "ann", 1),
                          Resolve(CASE, "r1", "ann", 2, "fraud", "big"),
                          Approve(CASE, "a1", "ann", 3)],  # the proposer cannot approve
                         amount_minor=250_000)
    assert case.state is CaseState.PENDING_APPROVAL and case.verdict is None
    assert [r.reason_code for r in refusals] == ["CASE_DUAL_CONTROL"]
    case, refusals = run([Claim(CASE, "c1", "ann", 1),
                          Resolve(CASE, "r1", "ann", 2, "fraud", "big"),
                          Approve(CASE, "a1", "bob", 3)], amount_minor=250_000)
    assert refusals == [] and (case.state, case.verdict) == (CaseState.RESOLVED, "fraud")
    assert case.events[-1].actor == "bob"
    case, _ = run([Claim(CASE, "c1", "ann", 1), Resolve(CASE, "r1", "ann", 2, "fraud", "big"),
                   Reject(CASE, "j1", "bob", 3, "not convinced")], amount_minor=250_000)
    assert (case.state, case.proposed) == (CaseState.IN_REVIEW, None)


def test_overturning_the_flows_label_needs_dual_control_confirming_it_does_not() -> None:
    assert needs_second_approval("legit", amount_minor=10, current_label="fraud", policy=POLICY)
    assert needs_second_approval("fraud", amount_minor=None, current_label="legit",
                                 policy=POLICY)
    assert not needs_second_approval("abuse", amount_minor=10, current_label="fraud",
                                     policy=POLICY)
    assert not needs_second_approval("fraud", amount_minor=None, current_label=None,
                                     policy=POLICY)
    assert not needs_second_approval("inconclusive", amount_minor=None, current_label="fraud",
                                     policy=POLICY)


_actors = st.sampled_from(["ann", "bob"])
_command = st.one_of(
    st.builds(lambda a, v, i: Claim(CASE, f"k{i}", a, v), _actors, st.integers(1, 8),
              st.integers(0, 9)),
    st.builds(lambda a, v, i: Note(CASE, f"n{i}", a, v, "<b>x</b>"), _actors,
              st.integers(1, 8), st.integers(0, 9)),
    st.builds(lambda a, v, i, verdict: Resolve(CASE, f"r{i}", a, v, verdict, "why"), _actors,
              st.integers(1, 8), st.integers(0, 9),
              st.sampled_from(["fraud", "abuse", "legit", "inconclusive"])),
    st.builds(lambda a, v, i: Approve(CASE, f"a{i}", a, v), _actors, st.integers(1, 8),
              st.integers(0, 9)),
    st.builds(lambda a, v, i: Reject(CASE, f"j{i}", a, v, "no"), _actors, st.integers(1, 8),
              st.integers(0, 9)),
    st.builds(lambda a, v, i: Close(CASE, f"c{i}", a, v), _actors, st.integers(1, 8),
              st.integers(0, 9)),
    st.builds(lambda a, v, i: Reopen(CASE, f"o{i}", a, v, "again"), _actors,
              st.integers(1, 8), st.integers(0, 9)))


@settings(max_examples=300, deadline=None)
@given(commands=st.lists(_command, max_size=25), amount=st.none() | st.integers(0, 300_000))
def test_any_command_sequence_keeps_the_case_consistent(commands: list[Command],
                                                        amount: int | None) -> None:
    case, _ = run(commands, amount_minor=amount)
    assert case.version == len(case.events) and [e.seq for e in case.events] == list(
        range(1, case.version + 1))
    assert len({e.command_id for e in case.events}) == len(case.events)  # once per command
    assert (case.state is CaseState.RESOLVED) == (case.verdict is not None) or \
        case.state is CaseState.CLOSED
    assert (case.state is CaseState.PENDING_APPROVAL) == (case.proposed is not None)
    for event in case.events:
        if event.event_type is CaseEventType.RESOLVED and event.command_id.startswith("a"):
            proposal = max((e for e in case.events if e.seq < event.seq and
                            e.event_type is CaseEventType.VERDICT_PROPOSED), key=lambda e: e.seq)
            assert proposal.actor != event.actor  # dual control held


def test_command_of_builds_every_action_and_refuses_the_rest() -> None:
    from app.cases.model import ACTIONS, command_of

    made = {a: command_of(a, CASE, f"id-{a}", "ann", 3, text="why", verdict="abuse",
                          current_label="fraud") for a in ACTIONS}
    assert {a: type(c).__name__.lower() for a, c in made.items()} == {a: a for a in ACTIONS}
    resolve = made["resolve"]
    assert isinstance(resolve, Resolve) and (resolve.verdict, resolve.note,
                                             resolve.current_label) == ("abuse", "why", "fraud")
    assert isinstance(made["reopen"], Reopen) and made["reopen"].reason == "why"
    import pytest

    with pytest.raises(ValueError, match="no case action"):
        command_of("explode", CASE, "x", "ann", 1)
    with pytest.raises(ValueError, match="a verdict is one of"):
        command_of("resolve", CASE, "x", "ann", 1, verdict="maybe")
