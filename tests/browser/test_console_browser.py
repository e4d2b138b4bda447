"""The investigator console in real headless Chromium (Debian's ``chromium`` and
``chromium-driver``, driven by selenium; ``make test`` installs them when missing).

``fp console`` runs as a subprocess on a profile whose object store holds one case (an
OPEN_CASE intent on a 2,500.00 EUR authorisation, above the dual-control amount). Investigator A
opens the queue, takes the next case, adds a note containing ``<script>``, resolves it as fraud;
the verdict waits for a second investigator; B approves. The Label Store then shows the case's
assertion as of after the approval and not before, and the note shows as text (no script ran).
Screenshots of the queue and the case page go to the test's folder, or to ``docs/`` with
``FP_CONSOLE_SCREENSHOTS=docs`` (how the README's were made).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
from selenium import webdriver
from selenium.common.exceptions import (
    NoAlertPresentException,
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from app.cases.log import case_id_for_action, read_case
from app.cases.model import Case
from app.cases.opener import CaseOpener
from app.ig.archive import write_archive
from app.labels.reader import read_label_store
from app.objectstore.local import LocalObjectStore
from app.rails.archive import ArchivedRecord
from app.rails.case import CaseState
from app.rails.decision import ActionType, DecisionOutcome, DecisionRecord
from app.rails.envelope import dump_envelope
from app.rails.label import LabelAssertion
from app.rails.timefmt import ts_to_epoch_micros
from app.registry.resolver import bootstrap_pair
from app.registry.scorecard import score
from tests.factories import make_envelope, make_payload, make_pins, tmp_profile
from tests.unit.al.conftest import decision
from tests.unit.cases.test_case_log import ACTION, request

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(300)]

ANN, BOB = "ann-browser-token-0123", "bob-browser-token-0123"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
NOTE = "<script>window.__pwned = 1; alert('x')</script> card testing ring"


PINS = make_pins() | {"run_id": request().run_id}
VALUES = {"txn.amount_minor": 250_000, "txn.is_night_utc": True, "txn.mcc": 5732,
          "card.count_7d": 9, "card.amount_sum_7d": 61_200, "card.amount_max_7d": 12_500,
          "card.count_1h": 2, "card.amount_to_mean_7d": 36.8, "card.amount_zscore_7d": 7.9,
          "device.distinct_cards_5m": 3, "device.distinct_cards_1h": 5, "device.count_1h": 6,
          "ip.distinct_cards_5m": 3, "ip.distinct_cards_1h": 4, "account.count_24h": 3,
          "graph.device_new_for_card": True, "graph.ip_new_for_card": True,
          "graph.device_distinct_cards_24h": 5, "graph.device_distinct_customers_total": 4}
"""A card-testing cash-out as the decision saw it: the case's evidence on the screenshot."""


def _decision() -> DecisionRecord:
    """The OPEN_CASE intent's decision, scored by the bootstrap scorecard on :data:`VALUES`."""
    ref, bundle = bootstrap_pair()
    scored = score(bundle, VALUES)
    record = decision(1, ActionType.OPEN_CASE)
    return record.model_copy(update={
        "bundle": ref, "reason_codes": tuple(f.reason_code for f in scored.fired),
        "score": float(scored.score), "outcome": DecisionOutcome.REVIEW,
        "snapshot": record.snapshot.model_copy(update={
            "values": VALUES, "as_of": request().trigger_ts_utc})})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def console(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    profile = tmp_profile(tmp_path)

    async def seed() -> None:
        async with LocalObjectStore(tmp_path / "objects") as store:
            big = replace(request(), subject={**request().subject, "amount_minor": "250000",
                                              "currency": "EUR"}, decision=_decision(),
                          score=_decision().score)
            await (await CaseOpener(store).execute([big]))[0]
            await write_archive(store, "gen1", [  # the flow's events, as IG admitted them
                ArchivedRecord(stream="traffic", partition=0, offset=n, partition_key="k",
                               ingress_partition=0, record=orjson.loads(dump_envelope(
                                   make_envelope(1, event_type=t, pins=PINS, payload=make_payload(
                                       t, 1, amount_minor=250_000)))))
                for n, t in enumerate(("auth_request", "clearing"))])

    asyncio.run(seed())
    port = _free_port()
    log = tmp_path / "console.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "app.cli.main", "--profile", str(profile), "console",
             "--port", str(port)],
            env={**os.environ, "FP_CONSOLE_TOKENS": f"ann={ANN},bob={BOB}"},
            stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the console did not start in 30 s"
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", tmp_path
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail("Debian's chromium and chromium-driver are missing: `make test` installs "
                    "them (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1280,1000",
                 f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: webdriver.Chrome, what: str, check: Callable[[webdriver.Chrome], bool]) -> None:
    """Until ``check`` holds (a click returns before the next page has loaded)."""
    try:
        WebDriverWait(driver, 15, ignored_exceptions=(StaleElementReferenceException,
                                                      NoSuchElementException)).until(check)
    except TimeoutException as exc:
        raise AssertionError(f"{what}: still not so after 15 s at {driver.current_url}") from exc


def _text(element_id: str, expected: str) -> Callable[[webdriver.Chrome], bool]:
    return lambda d: expected in d.find_element(By.ID, element_id).text


def _login(driver: webdriver.Chrome, base: str, token: str) -> None:
    driver.get(base + "/login")
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.ID, "login").click()
    _wait(driver, "the queue after login", lambda d: d.current_url == base + "/")


def _case(root: Path, case_id: str) -> Case:
    async def read() -> Case | None:
        async with LocalObjectStore(root / "objects") as store:
            return await read_case(store, case_id)
    case = asyncio.run(read())
    assert case is not None
    return case


def test_two_investigators_resolve_a_case_under_dual_control(
        console: tuple[str, Path], browser: webdriver.Chrome) -> None:
    base, root = console
    shots = Path(os.environ.get("FP_CONSOLE_SCREENSHOTS") or root)
    case_id = case_id_for_action(ACTION)

    _login(browser, base, ANN)
    rows = browser.find_elements(By.CSS_SELECTOR, "#queue .case-row")
    assert len(rows) == 1 and "OPEN" in rows[0].text
    browser.save_screenshot(str(shots / "console_queue.png"))
    browser.find_element(By.ID, "next-case").click()
    _wait(browser, "the claimed case", lambda d: d.current_url == f"{base}/cases/{case_id}")
    _wait(browser, "IN_REVIEW", _text("state", "IN_REVIEW"))
    top = browser.find_element(By.ID, "top-features").text
    assert all(f.reason_code in top for f in score(bootstrap_pair()[1], VALUES).fired)
    assert "clearing" in browser.find_element(By.ID, "flow-events").text

    browser.find_element(By.ID, "note-text").send_keys(NOTE)
    browser.find_element(By.ID, "add-note").click()
    _wait(browser, "the note, as text", lambda d: NOTE in [
        n.text for n in d.find_elements(By.CSS_SELECTOR, "#events .note")])
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 - no script ran
    assert browser.execute_script("return window.__pwned === undefined")

    Select(browser.find_element(By.ID, "verdict-choice")).select_by_value("fraud")
    browser.find_element(By.ID, "resolve-note").send_keys("confirmed with the cardholder")
    browser.find_element(By.ID, "resolve").click()
    _wait(browser, "PENDING_APPROVAL (above the amount)", _text("state", "PENDING_APPROVAL"))
    browser.find_element(By.ID, "approve").click()  # A cannot approve A's own verdict
    _wait(browser, "the dual-control refusal", _text("message", "CASE_DUAL_CONTROL"))
    browser.set_window_size(1280, 2000)  # the decision's evidence and the history
    browser.save_screenshot(str(shots / "console_case.png"))
    browser.set_window_size(1280, 1000)
    proposed_at = _case(root, case_id).events[-1].at_utc

    browser.delete_all_cookies()
    _login(browser, base, BOB)
    browser.get(f"{base}/cases/{case_id}")
    _wait(browser, "B's case page", _text("state", "PENDING_APPROVAL"))
    browser.find_element(By.ID, "approve").click()
    _wait(browser, "RESOLVED", _text("state", "RESOLVED"))
    assert browser.find_element(By.ID, "verdict").text == "fraud"

    case = _case(root, case_id)
    approved = case.events[-1]
    assert (case.state, approved.actor, approved.verdict) == (CaseState.RESOLVED, "bob", "fraud")

    async def labels() -> tuple[object, object]:
        async with LocalObjectStore(root / "objects") as store:
            view = await read_label_store(store)
        subject = (case.opened.run_id or "", case.opened.flow_id or "")
        return (view.timelines.verdict(subject, known_at_us=ts_to_epoch_micros(proposed_at)),
                view.timelines.verdict(subject,
                                       known_at_us=ts_to_epoch_micros(approved.at_utc)))

    before, after = asyncio.run(labels())
    assert before is None
    assert isinstance(after, LabelAssertion)
    assert (after.source, after.label_value) == ("case", "fraud")
