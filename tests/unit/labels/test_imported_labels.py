"""An imported world's label feed reaches the Label Store: a label on ``txn_<12 digits>`` is a
label of that flow (issue #15 item 2), read strictly; a generated flow's label keeps its ids."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from app.labels.from_event import LabelAnomaly, assertion_of
from app.labels.timeline import LabelTimelines
from app.rails.envelope import dump_envelope
from app.rails.label import LabelAssertion
from app.rails.receipts import EbRef
from tests.factories import make_envelope, make_label_assertion

REF = EbRef(topic="fp.bus.labels.v1", partition=0, offset=3)


def _imported(**payload: Any) -> bytes:
    body = {"label_event_id": "lbl_000000000028", "txn_id": "txn_000000000028",
            "card_id": "C0005", "account_id": None, "label_type": "chargeback",
            "label_value": "fraud", "effective_ts_utc": "2024-03-01T00:09:20.000000Z"}
    return dump_envelope(make_envelope(1, event_type="card_transaction_label",
                                       payload=body | payload))


def test_an_imported_chargeback_is_a_label_of_its_txn_flow() -> None:
    assertion = assertion_of(_imported(), REF)
    assert isinstance(assertion, LabelAssertion), assertion
    assert (assertion.flow_id, assertion.card_id, assertion.account_id) == (
        "txn_000000000028", "C0005", None)
    assert (assertion.label_type, assertion.label_value, assertion.source) == (
        "chargeback", "fraud", "label_feed")
    timelines = LabelTimelines()
    assert timelines.append(assertion).status == "new"
    assert timelines.subjects_of_card("C0005") == [(assertion.run_id, "txn_000000000028")]


@pytest.mark.parametrize("change", [
    {"txn_id": "flow_000000000028"},          # an import labels transactions
    {"txn_id": "txn_28"},                     # not 12 digits
    {"label_value": "maybe"},
    {"is_fraud": True},                       # closed: no truth rides along
])
def test_an_imported_label_that_breaks_the_feed_is_an_anomaly(change: dict[str, Any]) -> None:
    assert isinstance(assertion_of(_imported(**change), REF), LabelAnomaly)


def test_a_generated_flows_label_still_needs_catalogue_ids() -> None:
    good = make_label_assertion()
    assert good.flow_id.startswith("flow_")
    body = good.model_dump()
    with pytest.raises(ValidationError):
        LabelAssertion.model_validate(body | {"card_id": None})
    with pytest.raises(ValidationError):
        LabelAssertion.model_validate(body | {"card_id": "C0005"})
    assert LabelAssertion.model_validate(
        body | {"flow_id": "txn_000000000001", "card_id": None, "account_id": None})
