"""IG admission decision (pure): order of checks, reason codes, dedupe with collision detection."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from pydantic import BaseModel, ConfigDict

from app.ig.admission import Admit, DedupeEntry, Duplicate, Quarantine, RunState, assess
from app.ig.event_time import EventTimeWindow
from app.ig.payload_registry import PayloadRegistry, PayloadSpec
from app.ig.payloads import default_payload_registry
from app.rails.dedupe_key import dedupe_key
from app.rails.digests import digest_bytes
from app.rails.pins import ContextPins
from app.rails.reason_codes import ReasonCode
from app.rails.receipts import EbRef
from app.rails.timefmt import ts_to_epoch_micros
from tests.factories import make_envelope, make_envelope_bytes, make_payload, make_pins


class _Auth(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    flow_id: int
    card_id: str
    amount_minor: int
    currency: str


PAYLOADS = PayloadRegistry({("auth_request", "v1"): PayloadSpec(_Auth, "traffic"),
                            ("label_event", "v1"): PayloadSpec(_Auth, "labels")})
PINS = make_pins()
RUN = RunState(pins=ContextPins(**PINS), seed=7, status="READY")
REF = EbRef(topic="fp.bus.traffic.v1", partition=1, offset=9)


def _assess(raw: bytes, *, runs: dict[str, RunState] | None = None,
            seen: dict[bytes, DedupeEntry] | None = None) -> Any:
    runs = {PINS["run_id"]: RUN} if runs is None else runs
    return assess(raw, digest_bytes(raw), max_record_bytes=4096,
                  precedence=("card_id", "account_id"), payloads=PAYLOADS,
                  run_of=runs.get, seen=(seen or {}).get)


def _raw(**overrides: Any) -> bytes:
    return make_envelope(1, **overrides).model_dump_json().encode()


def _code(decision: Any) -> ReasonCode:
    assert isinstance(decision, Quarantine), decision
    return decision.reason_code


def test_valid_event_of_a_ready_run_is_an_admit_candidate() -> None:
    decision = _assess(_raw())
    assert isinstance(decision, Admit)
    assert decision.partition_key == "card_id:card_1" and decision.stream == "traffic"
    assert decision.key == dedupe_key(PINS["run_id"], "auth_request", decision.envelope.event_id)


def test_label_events_go_to_the_labels_stream() -> None:
    assert _assess(_raw(event_type="label_event")).stream == "labels"


@pytest.mark.parametrize(("raw", "code"), [
    (b"not json", ReasonCode.ENVELOPE_NOT_JSON),
    (b"[]", ReasonCode.ENVELOPE_INVALID),
    (b"x" * 5000, ReasonCode.RECORD_TOO_LARGE),
])
def test_bytes_that_are_not_an_envelope_are_quarantined(raw: bytes, code: ReasonCode) -> None:
    decision = _assess(raw)
    assert _code(decision) == code and decision.raw_digest == digest_bytes(raw)


def test_unknown_event_type_and_version_have_distinct_codes() -> None:
    assert _code(_assess(_raw(event_type="wire_transfer"))) == ReasonCode.EVENT_TYPE_UNKNOWN
    assert _code(_assess(_raw(schema_version="v9"))) == ReasonCode.SCHEMA_VERSION_UNKNOWN


def test_payload_violating_its_schema_names_the_field() -> None:
    env = orjson.loads(_raw())
    env["payload"]["amount_minor"] = "12.50"
    decision = _assess(orjson.dumps(env))
    assert _code(decision) == ReasonCode.PAYLOAD_SCHEMA_INVALID
    assert decision.field_paths == ("payload.amount_minor",)


def test_pins_of_no_ready_run_are_quarantined() -> None:
    assert _code(_assess(_raw(), runs={})) == ReasonCode.PINS_UNKNOWN_RUN


def test_pins_disagreeing_with_the_run_are_quarantined() -> None:
    assert _code(_assess(_raw(seed=8))) == ReasonCode.PINS_UNKNOWN_RUN


def test_events_of_a_failed_run_are_quarantined() -> None:
    failed = {PINS["run_id"]: RUN.model_copy(update={"status": "FAILED"})}
    assert _code(_assess(_raw(), runs=failed)) == ReasonCode.RUN_FAILED


def test_same_key_same_payload_is_a_duplicate_pointing_at_the_original() -> None:
    first = _assess(_raw())
    seen = {first.key: DedupeEntry(payload_hash=first.payload_hash, eb_ref=REF)}
    again = _assess(_raw(), seen=seen)
    assert isinstance(again, Duplicate) and again.original == REF


def test_same_key_different_payload_is_quarantined_never_overwritten() -> None:
    first = _assess(_raw())
    seen = {first.key: DedupeEntry(payload_hash=first.payload_hash, eb_ref=REF)}
    env = orjson.loads(_raw())
    env["payload"]["amount_minor"] += 1
    assert _code(_assess(orjson.dumps(env), seen=seen)) == ReasonCode.PAYLOAD_HASH_MISMATCH


# -- issue #11 item 1: implausible event time; item 10: RUN_NOT_READY --------------------------

WINDOW = EventTimeWindow(first_utc_day="2024-03-01", last_utc_day="2024-03-02", skew_s=3600,
                         start_us=ts_to_epoch_micros("2024-02-29T23:00:00.000000Z"),
                         end_us=ts_to_epoch_micros("2024-03-03T01:00:00.000000Z"))
TIMED = {PINS["run_id"]: RUN.model_copy(update={"event_time_window": WINDOW})}


@pytest.mark.parametrize("ts_utc", ["9999-12-31T23:59:59.999999Z", "0001-01-01T00:00:00.000000Z",
                                    "2024-02-29T22:59:59.999999Z", "2024-03-03T01:00:00.000000Z"])
def test_an_event_time_outside_the_run_window_is_quarantined(ts_utc: str) -> None:
    """Regression #11 item 1: IG checked only the format, so 9999-12-31 was ADMITTED."""
    decision = _assess(_raw(ts_utc=ts_utc), runs=TIMED)
    assert _code(decision) == ReasonCode.EVENT_TIME_IMPLAUSIBLE
    assert decision.field_paths == ("ts_utc",)
    assert WINDOW.describe() in decision.detail and decision.envelope is not None


@pytest.mark.parametrize("ts_utc", ["2024-02-29T23:00:00.000000Z", "2024-03-03T00:59:59.999999Z",
                                    "2024-03-01T12:00:00.000000Z"])
def test_an_event_time_inside_the_run_window_is_admitted(ts_utc: str) -> None:
    assert isinstance(_assess(_raw(ts_utc=ts_utc), runs=TIMED), Admit)


def test_a_label_whose_effective_time_is_implausible_is_quarantined_with_its_path() -> None:
    raw = make_envelope_bytes(3, event_type="label_event", payload=make_payload(
        "label_event", 3, effective_ts_utc="9999-12-31T23:59:59.999999Z"))
    decision = assess(raw, digest_bytes(raw), max_record_bytes=4096, precedence=("card_id",),
                      payloads=default_payload_registry(), run_of=TIMED.get, seen={}.get)
    assert _code(decision) == ReasonCode.EVENT_TIME_IMPLAUSIBLE
    assert decision.field_paths == ("payload.effective_ts_utc",)


def test_the_time_check_follows_the_run_checks_and_precedes_dedupe() -> None:
    bad_time = _raw(ts_utc="9999-12-31T23:59:59.999999Z")
    assert _code(_assess(bad_time, runs={})) == ReasonCode.PINS_UNKNOWN_RUN
    planned = {PINS["run_id"]: TIMED[PINS["run_id"]].model_copy(update={"status": "PLANNED"})}
    assert _code(_assess(bad_time, runs=planned)) == ReasonCode.RUN_NOT_READY
    first = _assess(_raw(), runs=TIMED)
    seen = {first.key: DedupeEntry(payload_hash=first.payload_hash, eb_ref=REF)}
    assert _code(_assess(bad_time, runs=TIMED, seen=seen)) == ReasonCode.EVENT_TIME_IMPLAUSIBLE


def test_a_run_without_a_declared_span_is_not_time_checked() -> None:
    assert isinstance(_assess(_raw(ts_utc="9999-12-31T23:59:59.999999Z")), Admit)


def test_events_of_a_run_in_the_ledger_but_not_ready_are_run_not_ready() -> None:
    """Regression #11 item 10: such a run answered PINS_UNKNOWN_RUN; RUN_NOT_READY was dead."""
    planned = {PINS["run_id"]: RUN.model_copy(update={"status": "PLANNED"})}
    assert _code(_assess(_raw(), runs=planned)) == ReasonCode.RUN_NOT_READY
    assert _code(_assess(_raw(seed=8), runs=planned)) == ReasonCode.RUN_NOT_READY
    assert _code(_assess(_raw(), runs={})) == ReasonCode.PINS_UNKNOWN_RUN
