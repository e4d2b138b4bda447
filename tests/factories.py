"""Factories shared by test suites: valid by default, override one field per test."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.rails.envelope import CanonicalEnvelope, dump_envelope
from app.rails.ids import engine_event_id, make_id, run_id
from app.rails.label import LabelAssertion
from app.rails.timefmt import epoch_micros_to_ts

__all__ = ["StageEvent", "StageMessage", "StageTp", "make_envelope", "make_envelope_bytes",
           "make_label_assertion", "make_payload", "make_pins", "tmp_profile",
           "write_case_events"]

_T0_MICROS = 1_709_294_400_000_000  # 2024-03-01T12:00:00Z


def make_pins(scenario_id: str = "baseline", request: str = "run-1") -> dict[str, Any]:
    """Four pins of a run, derived from content like the real ones."""
    return {
        "manifest_fingerprint": make_id("test.world", scenario_id),
        "parameter_hash": make_id("test.params", scenario_id),
        "scenario_id": scenario_id,
        "run_id": run_id(f"{scenario_id}:{request}"),
    }


def make_envelope(
    index: int = 0, *, event_type: str = "auth_request", pins: dict[str, Any] | None = None,
    seed: int = 7, **overrides: Any,
) -> CanonicalEnvelope:
    """The ``index``-th synthetic traffic event of a run (distinct card per 97 events)."""
    pins = pins or make_pins()
    fields: dict[str, Any] = {
        "event_id": engine_event_id(
            output_id=event_type, pk_values={"flow_id": index},
            manifest_fingerprint=pins["manifest_fingerprint"],
            parameter_hash=pins["parameter_hash"], seed=seed, scenario_id=pins["scenario_id"],
        ),
        "event_type": event_type,
        "schema_version": "v1",
        "ts_utc": epoch_micros_to_ts(_T0_MICROS + index * 1_000_000),
        **pins,
        "seed": seed,
        "payload": {"flow_id": index, "card_id": f"card_{index % 97}", "amount_minor": 1000 + index,
                    "currency": "EUR"},
    }
    return CanonicalEnvelope.model_validate(fields | overrides)


def make_envelope_bytes(index: int = 0, **kwargs: Any) -> bytes:
    """Canonical wire bytes of :func:`make_envelope`."""
    return dump_envelope(make_envelope(index, **kwargs))


def make_payload(event_type: str, index: int = 0, **overrides: Any) -> dict[str, Any]:
    """A valid v1 payload of a streamed ``event_type`` for flow ``index`` (wire form, JSON values).

    Entities repeat every 97 flows like :func:`make_envelope`; label events take the flow's
    authorisation time (as :func:`make_envelope` stamps it) as ``effective_ts_utc``.
    """
    entity = index % 97
    flow = f"{index:012d}"
    money = {"flow_id": f"flow_{flow}", "card_id": f"card_{entity:08d}",
             "account_id": f"acct_{entity:08d}", "merchant_id": f"merch_{index % 13:08d}",
             "amount_minor": 1000 + index, "currency": "EUR"}
    payloads: dict[str, dict[str, Any]] = {
        "auth_request": money | {"customer_id": f"cust_{entity:08d}",
                                 "device_id": f"dev_{entity:08d}", "ip_id": f"ip_{entity:08d}",
                                 "mcc": "5411", "merchant_country": "GB", "channel": "online",
                                 "entry_mode": "ecommerce"},
        "clearing": {"clearing_id": f"clr_{flow}", **money},
        "refund": {"refund_id": f"rfd_{flow}", **money},
        "reversal": {"reversal_id": f"rev_{flow}", **money, "reason": "merchant_cancel"},
        "label_event": {"label_event_id": f"lbl_{flow}_0", "flow_id": f"flow_{flow}",
                        "card_id": f"card_{entity:08d}", "account_id": f"acct_{entity:08d}",
                        "label_type": "post_auth_detection", "label_value": "fraud",
                        "effective_ts_utc": epoch_micros_to_ts(_T0_MICROS + index * 1_000_000)},
    }
    return payloads[event_type] | overrides


def make_label_assertion(flow: int = 0, *, kind: int = 0, label_type: str = "post_auth_detection",
                         label_value: str = "fraud", effective_s: int = 0, observed_s: int = 3600,
                         pins: dict[str, Any] | None = None, label_id: str | None = None
                         ) -> LabelAssertion:
    """A bank label assertion on flow ``flow`` (times in seconds after the factories' T0)."""
    from app.labels.from_event import asserted_hash

    pins = pins or make_pins()
    entity = flow % 97
    fields = {"flow_id": f"flow_{flow:012d}", "card_id": f"card_{entity:08d}",
              "account_id": f"acct_{entity:08d}", "label_type": label_type,
              "label_value": label_value,
              "effective_ts_utc": epoch_micros_to_ts(_T0_MICROS + effective_s * 1_000_000),
              "observed_ts_utc": epoch_micros_to_ts(_T0_MICROS + observed_s * 1_000_000)}
    return LabelAssertion.model_validate(fields | {
        "label_id": label_id or f"lbl_{flow:012d}_{kind}", "run_id": pins["run_id"],
        "source": "label_feed", "payload_hash": asserted_hash(**fields)})


@dataclass(frozen=True)
class StageMessage:
    """The parts of a faust message a partition stage reads (``app.runtime.partition_stage``)."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: float | None


@dataclass(frozen=True)
class StageEvent:
    """A delivered record, as a partition stage sees faust's event."""

    message: StageMessage


@dataclass(frozen=True)
class StageTp:
    topic: str
    partition: int


def tmp_profile(tmp_path: Path) -> Path:
    """A copy of the local profile whose object store lives in ``tmp_path`` and whose broker
    is not running: for commands that read the object store only."""
    import yaml

    from app.profiles.loader import profile_path

    body = yaml.safe_load(profile_path("local").read_text())
    body["wiring"]["object_store"] = {"type": "local", "root": str(tmp_path / "objects")}
    body["wiring"]["broker"] = {"type": "tansu", "state_dir": str(tmp_path / "no-broker")}
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


async def write_case_events(store: Any, index: int, version: int) -> str:
    """Case ``index`` (opened by an OPEN_CASE intent whose action id is ``index`` in hex) grown
    to ``version`` events in the store: OPENED, CLAIMED by ann, then notes. Idempotent; the
    case's id."""
    from app.cases.log import case_id_for_action, open_case, read_case, run_command
    from app.cases.model import CasePolicy, Claim, Note
    from app.rails.case import CaseEvent, CaseEventType

    action_id = f"{index:064x}"
    case_id = case_id_for_action(action_id)
    at = epoch_micros_to_ts(_T0_MICROS + index * 1_000_000)
    await open_case(store, CaseEvent(
        case_id=case_id, seq=1, event_type=CaseEventType.OPENED, command_id=action_id,
        actor="platform", at_utc=at, run_id="e" * 32, decision_id="d" * 64,
        action_id=action_id, flow_id=f"flow_{index:012d}", score=0.5))
    case = await read_case(store, case_id)
    while case is not None and case.version < version:
        command = (Claim(case_id, f"claim-{index}", "ann", 1) if case.version == 1 else
                   Note(case_id, f"note-{index}-{case.version}", "ann", case.version,
                        text=f"note {case.version}"))
        await run_command(store, command, at_utc=at, policy=CasePolicy())
        case = await read_case(store, case_id)
    return case_id
