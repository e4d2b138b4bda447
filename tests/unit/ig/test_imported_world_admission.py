"""IG admits an imported world's traffic against the contract generated from its declared schema
(issue #15 item 1): WSP-framed rows of a real import are ADMIT; unknown, missing and mistyped
fields are QUARANTINE with their own reason codes; no READY run, no generated contract."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.ig.admission import Admit, Quarantine, RunState, assess
from app.ig.payloads import default_payload_registry
from app.ig.run_directory import RunDirectory
from app.objectstore.local import LocalObjectStore
from app.rails.digests import digest_bytes
from app.rails.envelope import CanonicalEnvelope, dump_envelope
from app.rails.reason_codes import ReasonCode
from app.rails.run_facts import RunFactsView
from tests.fixtures.imports import framed_rows, import_tiny_world, ready_run

PAYLOADS = default_payload_registry()


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[RunFactsView, list[CanonicalEnvelope]]:
    world = import_tiny_world(tmp_path_factory.mktemp("import"), rows=60)
    return framed_rows(world)


@pytest.fixture(scope="module")
def run_state(imported: tuple[RunFactsView, list[CanonicalEnvelope]],
              tmp_path_factory: pytest.TempPathFactory) -> RunState:
    """The READY run as IG's run directory reads it from SR's ledger."""
    view, _ = imported

    async def read() -> RunState | None:
        store = LocalObjectStore(tmp_path_factory.mktemp("objects"))
        await ready_run(store, view)
        directory = RunDirectory(store, now=lambda: 0.0)
        await directory.refresh([view.run_id])
        return directory.get(view.run_id)

    state = asyncio.run(read())
    assert state is not None and state.status == "READY"
    return state


def _assess(envelope: CanonicalEnvelope | dict[str, Any], state: RunState | None) -> Any:
    raw = dump_envelope(envelope) if isinstance(envelope, CanonicalEnvelope) else \
        CanonicalEnvelope.model_construct(**envelope).model_dump_json().encode()
    return assess(raw, digest_bytes(raw), max_record_bytes=65536,
                  precedence=("card_id", "account_id"), payloads=PAYLOADS,
                  run_of=({} if state is None else {state.pins.run_id: state}).get,
                  seen={}.get)


def _with_payload(envelope: CanonicalEnvelope, payload: dict[str, Any]) -> dict[str, Any]:
    return envelope.model_dump() | {"payload": payload}


def _traffic(imported: tuple[RunFactsView, list[CanonicalEnvelope]]) -> CanonicalEnvelope:
    return next(e for e in imported[1] if e.event_type == "card_transaction")


def test_the_run_directory_generates_a_contract_per_imported_event_type(
        run_state: RunState) -> None:
    assert sorted(run_state.declared) == [("card_transaction", "v1"),
                                          ("card_transaction_label", "v1")]
    contract = run_state.declared[("card_transaction", "v1")]
    assert contract.features == (("risk_score", "float"), ("items", "int"))


def test_every_framed_row_of_an_import_is_admitted_to_its_stream(
        imported: tuple[RunFactsView, list[CanonicalEnvelope]], run_state: RunState) -> None:
    decisions = [_assess(e, run_state) for e in imported[1]]
    assert all(isinstance(d, Admit) for d in decisions), [d for d in decisions
                                                           if not isinstance(d, Admit)][:2]
    streams = {(d.envelope.event_type, d.stream) for d in decisions}
    assert streams == {("card_transaction", "traffic"), ("card_transaction_label", "labels")}
    first = decisions[0]
    assert first.partition_key == f"card_id:{first.envelope.payload['card_id']}"


@pytest.mark.parametrize(("change", "code", "path"), [
    ({"is_fraud": 1}, ReasonCode.PAYLOAD_FIELD_UNKNOWN, "payload.is_fraud"),
    ({"risk_score": "0.5"}, ReasonCode.PAYLOAD_FIELD_TYPE, "payload.risk_score"),
    ({"amount_minor": 1.5}, ReasonCode.PAYLOAD_FIELD_TYPE, "payload.amount_minor"),
    ({"card_id": None}, ReasonCode.PAYLOAD_FIELD_TYPE, "payload.card_id"),
    ({"items": None}, ReasonCode.PAYLOAD_FIELD_TYPE, "payload.items"),
])
def test_a_bad_field_is_quarantined_with_its_reason_code(
        imported: tuple[RunFactsView, list[CanonicalEnvelope]], run_state: RunState,
        change: dict[str, Any], code: ReasonCode, path: str) -> None:
    envelope = _traffic(imported)
    decision = _assess(_with_payload(envelope, envelope.payload | change), run_state)
    assert isinstance(decision, Quarantine), decision
    assert decision.reason_code is code and decision.field_paths == (path,)


def test_a_missing_field_is_quarantined_as_missing(
        imported: tuple[RunFactsView, list[CanonicalEnvelope]], run_state: RunState) -> None:
    envelope = _traffic(imported)
    payload = {k: v for k, v in envelope.payload.items() if k != "risk_score"}
    decision = _assess(_with_payload(envelope, payload), run_state)
    assert isinstance(decision, Quarantine)
    assert decision.reason_code is ReasonCode.PAYLOAD_FIELD_MISSING
    assert decision.field_paths == ("payload.risk_score",)


def test_without_a_ready_run_an_imported_event_type_stays_unknown(
        imported: tuple[RunFactsView, list[CanonicalEnvelope]], run_state: RunState) -> None:
    envelope = _traffic(imported)
    assert _assess(envelope, None).reason_code is ReasonCode.EVENT_TYPE_UNKNOWN
    planned = run_state.model_copy(update={"status": "PLANNED"})
    assert _assess(envelope, planned).reason_code is ReasonCode.EVENT_TYPE_UNKNOWN


def test_another_runs_contract_is_never_used(
        imported: tuple[RunFactsView, list[CanonicalEnvelope]], run_state: RunState) -> None:
    """Contracts are per run: a run without the import's event types knows none of them."""
    other = run_state.model_copy(update={"declared": {}})
    assert _assess(_traffic(imported), other).reason_code is ReasonCode.EVENT_TYPE_UNKNOWN
