"""Cases opened by labels that need a look: a dispute or chargeback on a flow the platform
approved opens exactly one case, once the flow's decision is audited; a declined flow, a
post-auth detection or a legit label opens none; an unknown flow waits, and a restart opens
nothing twice. On a real local object store, with IG's archive and DLA's segments."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from app.cases.label_cases import (
    FlowDecisions,
    LabelTriage,
    case_id_for_label,
    needs_a_look,
)
from app.cases.log import list_case_ids, read_case
from app.ig.archive import write_archive
from app.objectstore.base import ObjectStore
from app.objectstore.local import LocalObjectStore
from app.rails.archive import ArchivedRecord
from app.rails.decision import DecisionOutcome, DecisionRecord
from app.rails.envelope import dump_envelope
from app.rails.label import LabelAssertion
from tests.factories import make_envelope, make_label_assertion, make_payload
from tests.unit.dla.conftest import Rtdl, make_decision, make_outcome, write_log


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[ObjectStore]:
    async with LocalObjectStore(tmp_path / "objects") as s:
        yield s


def _auth(flow: int) -> dict[str, object]:
    return orjson.loads(dump_envelope(make_envelope(
        flow, event_type="auth_request", payload=make_payload("auth_request", flow))))


async def _archive(store: ObjectStore, flows: list[int], first_offset: int) -> None:
    await write_archive(store, "gen1", [
        ArchivedRecord(stream="traffic", partition=0, offset=first_offset + n, partition_key="k",
                       ingress_partition=0, record=_auth(flow))
        for n, flow in enumerate(flows)])


def _decided(flow: int, outcome: DecisionOutcome) -> DecisionRecord:
    record = make_decision(flow)
    trigger = record.trigger.model_copy(update={"event_id": _auth(flow)["event_id"]})
    return record.model_copy(update={"trigger": trigger, "outcome": outcome, "score": 12.0})


def dispute(flow: int) -> LabelAssertion:
    return make_label_assertion(flow, kind=1, label_type="customer_dispute")


async def test_a_dispute_on_an_approved_flow_opens_one_case_once_its_decision_is_known(
        store: ObjectStore) -> None:
    await _archive(store, [1, 2, 3], 0)
    rtdl = Rtdl()
    for decided in (_decided(1, DecisionOutcome.APPROVE), _decided(2, DecisionOutcome.DECLINE)):
        rtdl.append(decided, make_outcome(decided))  # DLA audits a closed chain
    await write_log(store, rtdl, log_id="fp.bus.rtdl.v1.e0")
    labels = [dispute(1), dispute(2), dispute(3), dispute(4),  # 3: not audited, 4: unknown
              make_label_assertion(1, kind=0),  # a post-auth detection: the bank's own finding
              make_label_assertion(1, kind=2, label_type="chargeback", label_value="legit")]
    assert [needs_a_look(a) for a in labels] == [True] * 4 + [False, False]
    triage, decisions = LabelTriage(), FlowDecisions()
    triage.offer(labels)
    first = await triage.run(store, decisions)
    assert (first.opened, first.dismissed, first.waiting) == (1, 1, 2)
    run_id = labels[0].run_id
    one = case_id_for_label(run_id, "lbl_000000000001_1")
    assert await list_case_ids(store) == [one]
    case = await read_case(store, one)
    assert case is not None and case.state.value == "OPEN"
    assert (case.opened.label_id, case.opened.flow_id, case.opened.score,
            case.opened.amount_minor, case.opened.at_utc) == (
        "lbl_000000000001_1", "flow_000000000001", 12.0, 1001,
        labels[0].observed_ts_utc)
    assert case.opened.decision_id == _decided(1, DecisionOutcome.APPROVE).decision_id
    assert case.opened.action_id is None  # no intent: not an AL side effect

    await _archive(store, [5], 3)  # more traffic; flow 3's decision is audited at last
    more = Rtdl()
    more.append(_decided(3, DecisionOutcome.APPROVE), make_outcome(_decided(3,
                                                                   DecisionOutcome.APPROVE)))
    await write_log(store, more, partition=1, log_id="fp.bus.rtdl.v1.e0")
    second = await triage.run(store, decisions)
    assert (second.opened, second.dismissed, second.waiting) == (1, 0, 1)  # 4 waits for ever
    assert len(await list_case_ids(store)) == 2

    restarted = LabelTriage()  # a restart offers every restored label again
    restarted.offer(labels)
    again = await restarted.run(store, FlowDecisions())
    assert (again.opened, again.waiting) == (0, 1)
    assert len(await list_case_ids(store)) == 2


async def test_a_chargeback_on_an_approved_imported_transaction_opens_a_case(
        store: ObjectStore) -> None:
    """Issue #15: an imported world's transaction is its own flow (``txn_id``), so the chargeback
    its label feed brings opens a case like a dispute on an approved authorisation."""
    txn = orjson.loads(dump_envelope(make_envelope(
        28, event_type="card_transaction",
        payload={"txn_id": "txn_000000000028", "card_id": None, "amount_minor": 4200,
                 "currency": "EUR"})))
    await write_archive(store, "gen1", [ArchivedRecord(
        stream="traffic", partition=0, offset=0, partition_key="k", ingress_partition=0,
        record=txn)])
    decided = make_decision(28)
    decided = decided.model_copy(update={
        "trigger": decided.trigger.model_copy(update={"event_id": txn["event_id"]}),
        "outcome": DecisionOutcome.APPROVE})
    rtdl = Rtdl()
    rtdl.append(decided, make_outcome(decided))
    await write_log(store, rtdl, log_id="fp.bus.rtdl.v1.e0")
    base = make_label_assertion(28, kind=3, label_type="chargeback")
    chargeback = LabelAssertion.model_validate(base.model_dump() | {
        "label_id": "lbl_000000000028", "flow_id": "txn_000000000028", "card_id": None,
        "account_id": None})
    triage = LabelTriage()
    triage.offer([chargeback])
    assert (await triage.run(store, FlowDecisions())).opened == 1
    case = await read_case(store, case_id_for_label(chargeback.run_id, "lbl_000000000028"))
    assert case is not None
    assert (case.opened.flow_id, case.opened.card_id, case.opened.amount_minor) == (
        "txn_000000000028", None, 4200)
