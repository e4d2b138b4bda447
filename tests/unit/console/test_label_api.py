"""``GET /v1/labels/{subject}`` on the console (aiohttp's test client, a real local object store):
who may read, the JSON of ``fp labels show --json``, as-of reads and the error answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer

from app.cases.model import CasePolicy
from app.console.auth import Investigators
from app.console.server import Console, build_console
from app.ig.archive import write_archive
from app.labels.partition import LabelPartition
from app.labels.query import document, flows_json
from app.labels.reader import read_label_store
from app.objectstore.base import ObjectStore
from app.objectstore.local import LocalObjectStore
from app.rails.archive import ArchivedRecord
from app.rails.envelope import dump_envelope
from tests.factories import make_envelope, make_payload
from tests.unit.labels.test_label_stage import LOG, TOPIC, label_event

ANN = "ann-token-0123456789"
BEARER = {"Authorization": f"Bearer {ANN}"}
FLOW1, FLOW7 = "flow_000000000001", "flow_000000000007"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[ObjectStore]:
    """Flow 1: fraud (observed T0 + 1 s + 1 h), then legit (+2 h), and admitted as traffic;
    flow 7: abuse (+1 h), never admitted."""
    async with LocalObjectStore(tmp_path / "objects") as s:
        part = LabelPartition(LOG, TOPIC, 0)
        part.apply(0, label_event(1, kind=0, value="fraud", observed_s=3600))
        part.apply(1, label_event(1, kind=1, value="legit", observed_s=7200))
        part.apply(2, label_event(7, kind=0, value="abuse", observed_s=3600))
        await part.flush(s)
        env = make_envelope(1, payload=make_payload("auth_request", 1))
        await write_archive(s, "g1", [ArchivedRecord(
            stream="traffic", partition=0, offset=0, partition_key="k", ingress_partition=0,
            record=orjson.loads(dump_envelope(env)))])
        yield s


@pytest.fixture
async def client(store: ObjectStore) -> AsyncIterator[TestClient]:
    console = Console(store=store, investigators=Investigators({"ann": ANN}),
                      policy=CasePolicy(), now_utc=lambda: "2024-03-02T09:00:00.000000Z")
    async with TestClient(TestServer(build_console(console))) as c:
        yield c


async def test_no_investigator_no_labels(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token-at-all"},
                    {"Cookie": "fp_console_session=ann.forged"}):
        response = await client.get(f"/v1/labels/{FLOW1}", headers=headers)
        assert response.status == 401
        assert response.content_type == "application/json"
        assert (await response.json())["error"] == "UNAUTHORIZED"


async def test_bearer_token_gets_the_show_json(client: TestClient, store: ObjectStore) -> None:
    response = await client.get(f"/v1/labels/{FLOW1}", headers=BEARER)
    assert response.status == 200 and response.content_type == "application/json"
    body = await response.json()
    [flow] = body["flows"]
    assert [a["label_value"] for a in flow["timeline"]] == ["fraud", "legit"]
    assert (flow["verdict"], flow["flow_known"]) == ("legit", True)
    # the same document the CLI prints, built by the same query
    view = await read_label_store(store)
    run_id = flow["run_id"]
    assert body == orjson.loads(orjson.dumps(document(
        FLOW1, None, None, flows_json(view, FLOW1, None, None, {run_id: frozenset({FLOW1})}))))
    # a label for a flow the run never admitted: kept and flagged
    [flow7] = (await (await client.get(f"/v1/labels/{FLOW7}", headers=BEARER)).json())["flows"]
    assert (flow7["verdict"], flow7["flow_known"]) == ("abuse", False)


async def test_as_of_and_effective_at_are_honoured(client: TestClient) -> None:
    # +1 h 30 min: the clearance (observed +2 h) is not known yet
    response = await client.get(f"/v1/labels/{FLOW1}", headers=BEARER,
                                params={"as_of": "2024-03-01T13:30:00.000000Z"})
    assert response.status == 200
    body = await response.json()
    assert body["as_of"] == "2024-03-01T13:30:00.000000Z"
    [flow] = body["flows"]
    assert (flow["verdict"], len(flow["timeline"])) == ("fraud", 1)
    # card 1 names flow 1 too; before flow 1's authorisation time nothing was true yet
    response = await client.get("/v1/labels/card_00000001", headers=BEARER,
                                params={"effective_at": "2024-03-01T11:00:00.000000Z"})
    [flow] = (await response.json())["flows"]
    assert (flow["flow_id"], flow["verdict"], len(flow["timeline"])) == (FLOW1, None, 2)


async def test_the_session_cookie_works_too(client: TestClient) -> None:
    response = await client.post("/login", data={"token": ANN}, allow_redirects=False)
    assert response.status == 302
    assert (await client.get(f"/v1/labels/{FLOW1}")).status == 200


async def test_bad_input_is_400_and_nothing_known_is_404(client: TestClient) -> None:
    for path, params in ((f"/v1/labels/{FLOW1}", {"as_of": "yesterday"}),
                         (f"/v1/labels/{FLOW1}", {"effective_at": "2024-03-01"}),
                         (f"/v1/labels/{FLOW1}", {"asof": "2024-03-01T13:30:00.000000Z"}),
                         ("/v1/labels/merch_00000001", {}),
                         ("/v1/labels/%3Cscript%3E", {})):
        response = await client.get(path, headers=BEARER, params=params)
        assert response.status == 400, (path, params)
        assert (await response.json())["error"] == "QUERY_INVALID"
    twice = await client.get(f"/v1/labels/{FLOW1}?as_of=2024-03-01T13:30:00.000000Z"
                             f"&as_of=2024-03-01T13:30:00.000000Z", headers=BEARER)
    assert twice.status == 400
    for path, params in (("/v1/labels/flow_000000000002", {}),
                         (f"/v1/labels/{FLOW1}", {"as_of": "2024-03-01T12:30:00.000000Z"})):
        response = await client.get(path, headers=BEARER, params=params)
        assert response.status == 404
        assert (await response.json())["error"] == "NOT_FOUND"
