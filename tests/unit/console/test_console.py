"""The investigator console over HTTP (aiohttp's test client, a real local object store): who may
do what, CSRF, escaping, the queue and "next case", dual control, and the refusals' statuses."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer

from app.cases.log import case_id_for_action, read_case
from app.cases.model import CasePolicy
from app.cases.opener import CaseOpener
from app.console.auth import Investigators
from app.console.server import Console, age_bracket, build_console
from app.labels.partition import LabelPartition
from app.labels.reader import read_label_store
from app.objectstore.base import ObjectStore
from app.objectstore.local import LocalObjectStore
from app.rails.case import CaseState
from tests.unit.cases.test_case_log import request
from tests.unit.labels.test_label_stage import LOG, TOPIC, label_event

ANN, BOB = "ann-token-0123456789", "bob-token-0123456789"
NOW = "2024-03-02T09:00:00.000000Z"
LOW, HIGH = "1" * 64, "2" * 64  # two OPEN_CASE intents: scores 0.3 and 0.9
HTML = {"Accept": "text/html"}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[ObjectStore]:
    async with LocalObjectStore(tmp_path / "objects") as s:
        part = LabelPartition(LOG, TOPIC, 0)  # flow 1's bank label: legit
        part.apply(0, label_event(1, kind=0, value="legit", observed_s=60))
        await part.flush(s)
        run_id = orjson.loads(label_event(1))["run_id"]
        opener = CaseOpener(s)
        for action, score in ((LOW, 0.3), (HIGH, 0.9)):
            await (await opener.execute([replace(request(action), run_id=run_id,
                                                 score=score)]))[0]
        yield s


@pytest.fixture
async def client(store: ObjectStore) -> AsyncIterator[TestClient]:
    clock = iter(f"2024-03-02T09:{m:02d}:00.000000Z" for m in range(60))
    console = Console(store=store, investigators=Investigators({"ann": ANN, "bob": BOB}),
                      policy=CasePolicy(), now_utc=lambda: next(clock))
    async with TestClient(TestServer(build_console(console))) as c:
        yield c


async def login(client: TestClient, token: str) -> str:
    """Log in (the session cookie stays in the client's jar); the CSRF token of the queue."""
    client.session.cookie_jar.clear()
    response = await client.post("/login", data={"token": token}, allow_redirects=False)
    assert response.status == 302
    page = await (await client.get("/", headers=HTML)).text()
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert match
    return match.group(1)


async def test_no_token_no_access(client: TestClient) -> None:
    assert (await client.get("/")).status == 401
    response = await client.get("/", headers=HTML, allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (302, "/login")
    assert (await client.post("/login", data={"token": "nope"})).status == 401
    assert (await client.get("/", headers={"Authorization": f"Bearer {ANN}"})).status == 200


async def test_queue_next_case_notes_and_dual_control(client: TestClient,
                                                      store: ObjectStore) -> None:
    csrf = await login(client, ANN)
    page = await (await client.get("/")).text()
    assert page.index(case_id_for_action(HIGH)[:12]) < page.index(case_id_for_action(LOW)[:12])
    assert (await client.post("/next", data={})).status == 403  # no CSRF token
    response = await client.post("/next", data={"csrf": csrf}, allow_redirects=False)
    high = case_id_for_action(HIGH)
    assert response.headers["Location"] == f"/cases/{high}"  # the highest score first
    response = await client.post(f"/cases/{high}/note",
                                 data={"csrf": csrf, "text": "<script>alert(1)</script>"})
    page = await response.text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    response = await client.post(f"/cases/{high}/resolve",
                                 data={"csrf": csrf, "verdict": "fraud", "note": "ring"})
    assert "PENDING_APPROVAL" in await response.text()  # overturns the bank's legit
    assert (await client.post(f"/cases/{high}/approve", data={"csrf": csrf})).status == 403
    bob = await login(client, BOB)
    assert (await client.post(f"/cases/{high}/approve", data={"csrf": csrf})).status == 403
    response = await client.post(f"/cases/{high}/approve", data={"csrf": bob})
    assert response.status == 200 and 'id="state">RESOLVED' in await response.text()
    case = await read_case(store, high)
    assert case is not None and case.state is CaseState.RESOLVED
    assert [e.actor for e in case.events[1:]] == ["ann", "ann", "ann", "bob"]
    view = await read_label_store(store)
    subject = (case.opened.run_id or "", case.opened.flow_id or "")
    approved_at = case.events[-1].at_utc
    assert view.timelines.verdict(subject) is not None
    assert view.timelines.verdict(subject).label_value == "fraud"  # type: ignore[union-attr]
    before = view.timelines.verdict(subject, known_at_us=_micros(case.events[-2].at_utc))
    assert before is not None and before.label_value == "legit"
    assert approved_at > case.events[-2].at_utc


async def test_refusals_answer_with_their_status(client: TestClient) -> None:
    csrf = await login(client, ANN)
    low = case_id_for_action(LOW)
    assert (await client.get("/cases/" + "0" * 32)).status == 404
    assert (await client.post(f"/cases/{low}/resolve",
                              data={"csrf": csrf, "verdict": "fraud", "note": "x"})).status == 409
    assert (await client.post(f"/cases/{low}/claim",
                              data={"csrf": csrf, "version": "7"})).status == 409
    assert (await client.post(f"/cases/{low}/note",
                              data={"csrf": csrf, "text": "x" * 4001})).status == 413
    assert (await client.post(f"/cases/{low}/explode", data={"csrf": csrf})).status == 404


def test_sla_age_brackets() -> None:
    assert [age_bracket("2024-03-01T00:00:00.000000Z", f"2024-03-{d:02d}T00:00:00.000000Z")
            for d in (1, 3, 4, 11, 12, 31)] == ["0-2", "0-2", "3-10", "3-10", "11-30", "11-30"]
    assert age_bracket("2024-01-01T00:00:00.000000Z", NOW) == ">30"


def test_tokens_come_from_the_environment_and_bad_entries_are_refused() -> None:
    found = Investigators.from_env(environ={"FP_CONSOLE_TOKENS": f"ann={ANN}, bob={BOB}"})
    assert found.by_token(ANN) == "ann" and found.by_token("x") is None
    with pytest.raises(ValueError, match="entry 'ann'") as info:
        Investigators.from_env(environ={"FP_CONSOLE_TOKENS": "ann=short"})
    assert "short" not in str(info.value)  # never echoes a token


def _micros(ts: str) -> int:
    from app.rails.timefmt import ts_to_epoch_micros
    return ts_to_epoch_micros(ts)


async def test_a_case_page_shows_why_the_flow_s_events_and_the_entity_context(
        client: TestClient, store: ObjectStore) -> None:
    """A case opened from a full decision keeps its evidence: the page shows the rules that
    fired with the values that fired them, the card's usual, every feature by entity, and the
    flow's events from the admitted-traffic archive."""
    from app.cases.evidence import read_evidence
    from app.ig.archive import write_archive
    from app.rails.archive import ArchivedRecord
    from app.rails.envelope import dump_envelope
    from app.registry.resolver import bootstrap_pair
    from tests.factories import make_envelope, make_payload
    from tests.unit.al.conftest import decision

    ref, bundle = bootstrap_pair()
    rule = next(r for r in bundle.rules if r.op == ">=" and type(r.value) is int)
    values = {rule.feature: rule.value, "card.count_7d": 7, "card.amount_sum_7d": 7_000,
              "ip.distinct_cards_1h": 2, "graph.ip_new_for_card": True}
    record = decision(5)
    snapshot = record.snapshot.model_copy(update={"values": values})
    record = record.model_copy(update={"bundle": ref, "reason_codes": (rule.reason_code,),
                                       "snapshot": snapshot, "score": 70.0})
    run_id = orjson.loads(label_event(1))["run_id"]
    action = "3" * 64
    await (await CaseOpener(store).execute([replace(
        request(action), run_id=run_id, score=70.0, decision=record)]))[0]
    case_id = case_id_for_action(action)
    evidence = await read_evidence(store, case_id)
    assert evidence is not None and evidence.snapshot.values == values
    events = [make_envelope(1, event_type=t, payload=make_payload(t, 1))
              for t in ("auth_request", "clearing", "refund")]
    await write_archive(store, "gen1", [
        ArchivedRecord(stream="traffic", partition=0, offset=n, partition_key="k",
                       ingress_partition=0, record=orjson.loads(dump_envelope(e)))
        for n, e in enumerate(events)])
    await login(client, ANN)
    page = await (await client.get(f"/cases/{case_id}")).text()
    top = page[page.index('id="top-features"'):page.index('id="card-usual"')]
    assert rule.reason_code in top and rule.feature in top and f"&gt;= {rule.value}" in top
    assert "mean 1,000, max - over 7 payments in 7 days" in page
    flow = page[page.index('id="flow-events"'):page.index('id="labels"')]
    assert [t for t in ("auth_request", "clearing", "refund") if t in flow] == [
        "auth_request", "clearing", "refund"] and "merchant_id merch_00000001" in flow
    context = page[page.index('id="entity-context"'):page.index('id="events"')]
    assert all(name in context for name in values) and context.index("card.") < \
        context.index("ip.") < context.index("graph.")
    other = await (await client.get(f"/cases/{case_id_for_action(LOW)}")).text()
    assert "no evidence kept for this case" in other  # opened without its decision
