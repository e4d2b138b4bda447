"""Evaluation finds a world's truth by its role in ``run_facts_view``, never by the output's name
(issue #15 item 1): an imported world's ``<event_type>_truth`` is its truth, keyed by txn_id."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.evaluation.truth import TruthGateError, load_truth, truth_output_of
from app.rails.run_facts import RunFactsView
from tests.fixtures.imports import import_tiny_world
from tests.unit.wsp.conftest import build_view


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> str:
    return import_tiny_world(tmp_path_factory.mktemp("import"), rows=58)


def _without_truth(view: RunFactsView) -> RunFactsView:
    return view.model_copy(update={"outputs": tuple(o for o in view.outputs
                                                    if o.role != "truth")})


def test_the_truth_output_is_found_by_its_role(world: str) -> None:
    view = build_view(Path(world))
    assert truth_output_of(view) == "card_transaction_truth"


def test_a_view_without_truth_is_refused_as_output_missing(world: str) -> None:
    with pytest.raises(TruthGateError) as caught:
        truth_output_of(_without_truth(build_view(Path(world))))
    assert caught.value.reason_code == "OUTPUT_MISSING"


def test_two_truth_outputs_are_ambiguous(world: str) -> None:
    view = build_view(Path(world))
    truth = next(o for o in view.outputs if o.role == "truth")
    twice = view.model_copy(update={"outputs": (*view.outputs, truth.model_copy(
        update={"output_id": "second_truth"}))})
    with pytest.raises(TruthGateError) as caught:
        truth_output_of(twice)
    assert caught.value.reason_code == "TRUTH_AMBIGUOUS"


def test_an_imported_worlds_truth_is_keyed_by_its_txn_ids(world: str) -> None:
    truth = asyncio.run(load_truth(world))
    assert len(truth) == 58
    assert sorted(truth)[:2] == ["txn_000000000000", "txn_000000000001"]
    frauds = {k for k, row in truth.items() if row.is_fraud_or_abuse}
    assert frauds == {"txn_000000000028", "txn_000000000057"}  # every 29th row is fraud
    row = truth["txn_000000000028"]
    assert (row.label, row.subtype, row.campaign_id) == ("fraud", "fraud", None)
    assert truth["txn_000000000000"].label == "legit"
