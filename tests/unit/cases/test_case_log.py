"""The case log on a real local object store: a case opens exactly once per OPEN_CASE intent
(concurrently, repeatedly), commands race safely, and AL routes OPEN_CASE to case management."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from app.al.executor import ExecutionRequest
from app.cases.log import case_id_for_action, list_case_ids, read_case, run_command
from app.cases.model import CasePolicy, Claim, Note, Refusal
from app.cases.opener import CaseOpener
from app.objectstore.base import ObjectStore
from app.objectstore.local import LocalObjectStore
from app.rails.action import AttemptResult
from app.rails.case import CaseState
from app.rails.decision import ActionType

AT = "2024-03-02T09:00:00.000000Z"
ACTION = "a" * 64


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[ObjectStore]:
    async with LocalObjectStore(tmp_path / "objects") as s:
        yield s


def request(action_id: str = ACTION, attempt: int = 1,
            action_type: ActionType = ActionType.OPEN_CASE) -> ExecutionRequest:
    return ExecutionRequest(
        idempotency_key=action_id, action_type=action_type,
        subject={"card_id": "card_00000001", "account_id": "acct_00000001",
                 "merchant_id": "merch_00000001", "flow_id": "flow_000000000001"},
        decision_id="d" * 64, run_id="e" * 32, attempt=attempt,
        trigger_ts_utc="2024-03-01T12:00:00.000000Z", score=0.72)


async def test_an_open_case_intent_opens_one_case_however_often_it_runs(
        store: ObjectStore) -> None:
    opener, other = CaseOpener(store), CaseOpener(store)  # two workers
    batches = await asyncio.gather(opener.execute([request(attempt=1)]),
                                   other.execute([request(attempt=2)]),
                                   opener.execute([request(attempt=3)]))
    answers = [await answer for batch in batches for answer in batch]
    assert [a.result for a in answers] == [AttemptResult.OK] * 3
    later = await (await opener.execute([request(attempt=4)]))[0]
    assert later.already_done  # once it is open, a repeat says so
    case_id = case_id_for_action(ACTION)
    assert {a.side_effect_ref for a in answers} == {f"case:{case_id}"}
    assert await list_case_ids(store) == [case_id]
    case = await read_case(store, case_id)
    assert case is not None and case.state is CaseState.OPEN and case.version == 1
    assert (case.opened.score, case.opened.at_utc) == (0.72, "2024-03-01T12:00:00.000000Z")
    assert await opener.lookup([ACTION, "b" * 64]) == {ACTION: f"case:{case_id}"}


async def test_a_request_that_is_no_open_case_is_rejected(store: ObjectStore) -> None:
    [answer] = await CaseOpener(store).execute([request(action_type=ActionType.DECLINE_AUTH)])
    assert (await answer).result is AttemptResult.REJECTED
    assert await list_case_ids(store) == []


async def test_two_commands_racing_for_one_version_one_wins_one_is_stale(
        store: ObjectStore) -> None:
    await (await CaseOpener(store).execute([request()]))[0]
    case_id = case_id_for_action(ACTION)
    results = await asyncio.gather(
        run_command(store, Claim(case_id, "c-ann", "ann", 1), at_utc=AT, policy=CasePolicy()),
        run_command(store, Claim(case_id, "c-bob", "bob", 1), at_utc=AT, policy=CasePolicy()))
    refused = [r for r in results if isinstance(r, Refusal)]
    assert len(refused) == 1 and (refused[0].status, refused[0].reason_code) == (
        409, "CASE_VERSION_STALE")
    case = await read_case(store, case_id)
    assert case is not None and case.version == 2 and case.state is CaseState.IN_REVIEW
    # the winner's command again: the same event back, nothing appended
    winner = case.events[1].command_id
    again = await run_command(store, Claim(case_id, winner, case.events[1].actor, 1), at_utc=AT,
                              policy=CasePolicy())
    assert again == [case.events[1]]
    note = await run_command(store, Note(case_id, "n", "ann", 2, "<script>x</script>"),
                             at_utc=AT, policy=CasePolicy())
    assert not isinstance(note, Refusal) and note[0].note == "<script>x</script>"


async def test_an_intent_executed_again_with_another_score_keeps_the_first_case(
        store: ObjectStore) -> None:
    """A trigger decided again (a restored bus, a live posture) may carry another score: the
    case its key opened stays as it was, and the answer is the earlier side effect."""
    first = await (await CaseOpener(store).execute([request()]))[0]
    again = await (await CaseOpener(store).execute([replace(request(attempt=2),
                                                             score=0.11)]))[0]
    assert (again.result, again.already_done) == (AttemptResult.OK, True)
    assert again.side_effect_ref == first.side_effect_ref
    case = await read_case(store, case_id_for_action(ACTION))
    assert case is not None and case.opened.score == 0.72
