"""DLA's fast path (issue #13) writes what the full decoder and encoder wrote, byte for byte,
and keeps every anomaly: real decisions of the engine, outcomes as AL builds them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson

from app.al.execute import attempt_of, outcome_of
from app.al.executor import ExecutionReply
from app.dla.anomaly import AuditAnomaly
from app.dla.chains import ChainFold, Closed, _keys, audit_line_of
from app.dla.index import encode_index, index_bytes, index_of, index_of_keys
from app.dla.partition_log import AuditPartition, LogRecord
from app.dla.segments import decode_segment, encode_segment, index_key_of
from app.objectstore.local import LocalObjectStore
from app.rails.action import AttemptResult, OutcomeStatus
from app.rails.audit import AuditRecord
from app.rails.canonical_json import canonical_dumps
from app.rails.decision import DecisionRecord
from app.rails.ids import make_id
from app.rails.reason_codes import ReasonCode
from tests.unit.dla.conftest import POLICY_REV, TOPIC, make_decision, wire
from tests.unit.ofs.world import small_world

CLOCK = "2025-01-01T00:00:00.000000Z"


def _outcomes(raw: bytes) -> list[bytes]:
    record = DecisionRecord.model_validate_json(raw)
    out = []
    for n, intent in enumerate(record.intents):
        ok = n % 3 != 2
        reply = ExecutionReply(intent.action_id, AttemptResult.OK if ok else
                               AttemptResult.REJECTED, side_effect_ref="sw_1" if ok else None)
        outcome = outcome_of(record, intent,
                             status=OutcomeStatus.EXECUTED if ok else OutcomeStatus.FAILED,
                             reason_codes=() if ok else ("EXECUTOR_REJECTED",),
                             attempts=(attempt_of(1, reply),),
                             side_effect_ref=reply.side_effect_ref,
                             executor="simulated_switch", policy_rev=POLICY_REV)
        out.append(canonical_dumps(outcome.model_dump(mode="json")))
    return out


def _log() -> list[bytes]:
    """Real decisions, each one's outcomes two decisions later, plus repeats and strangers."""
    values: list[bytes] = []
    waiting: list[list[bytes]] = []
    for i, raw in enumerate(small_world()[1].rtdl):
        values.append(raw)
        if i % 7 == 3:
            values.append(raw)
        waiting.append(_outcomes(raw))
        if len(waiting) > 2:
            values += waiting.pop(0)
    values += [o for outs in waiting for o in outs]
    values += [b"not json", wire(make_decision(5)), _outcomes(values[0])[0]]
    return values


async def test_segments_and_index_are_the_bytes_of_the_full_encoder(tmp_path: Path) -> None:
    part = AuditPartition("log", TOPIC, 0)
    async with LocalObjectStore(tmp_path / "objects") as store:
        for offset, value in enumerate(_log()):
            part.apply(LogRecord(offset, value))
            if offset % 97 == 0:
                await part.flush(store, CLOCK)
        await part.flush(store, CLOCK)
        keys = await store.list("dla/segments")
        assert len(keys) > 3
        kinds = set()
        for key in keys:
            data = await store.get(key)
            segment = decode_segment(key, data)
            kinds |= {type(e) for e in segment.entries}
            assert encode_segment(segment.header, list(segment.entries)) == data
            assert await store.get(index_key_of(key)) == encode_index(index_of(segment))
            rows = [_keys(e) if isinstance(e, AuditRecord) else None for e in segment.entries]
            assert index_bytes(key, rows) == encode_index(index_of_keys(key, rows))
            for entry in segment.entries:
                if isinstance(entry, AuditRecord):  # the id as make_id always made it
                    content = entry.model_dump(mode="json", exclude={"audit_id"})
                    assert entry.audit_id == make_id("audit_record", entry.decision_id, content)
        assert kinds == {AuditRecord, AuditAnomaly}


def test_a_closed_chain_carries_its_canonical_line() -> None:
    fold = ChainFold(TOPIC, 0)
    closed = [e for o, v in enumerate(_log()) for e in fold.apply(o, v).entries
              if isinstance(e, Closed)]
    assert closed
    for c in closed:  # the hand-built JSON is the models' JSON
        r = c.record
        record, line = audit_line_of(r.decision_id, r.pins, r.decision, r.intents,
                                     supersedes=r.supersedes,
                                     correction_reasons=r.correction_reasons)
        assert (line, record) == (c.line, r)
        assert line == canonical_dumps(r.model_dump(mode="json"))
        assert c.keys == (r.decision_id, r.decision.trigger_event_id,
                          tuple(i.action_id for i in r.intents))


def _feed(*values: bytes) -> list[Closed | AuditAnomaly]:
    fold = ChainFold(TOPIC, 0)
    return [e for o, v in enumerate(values) for e in fold.apply(o, v).entries]


def _body() -> dict[str, Any]:
    body: dict[str, Any] = next(b for b in map(orjson.loads, small_world()[1].rtdl)
                                if b["intents"])
    return body


def test_a_decision_in_other_bytes_is_read_by_the_full_decoder_and_is_the_same() -> None:
    body = _body()
    raw = canonical_dumps(body)
    spaced = json.dumps(body, indent=1).encode()  # no canonical record_type tag
    [closed] = _feed(spaced, *_outcomes(raw))
    [again] = _feed(raw, *_outcomes(raw))
    assert isinstance(closed, Closed) and isinstance(again, Closed)
    assert closed.line == again.line
    [redelivered] = _feed(raw, spaced, *_outcomes(raw))  # a redelivery, not a conflict
    assert isinstance(redelivered, Closed)
    assert redelivered.record.decision == again.record.decision


def test_an_open_chain_still_compares_the_whole_decision() -> None:
    body = _body()
    raw = canonical_dumps(body)
    other = json.loads(raw)
    name = sorted(other["snapshot"]["values"])[0]
    other["snapshot"]["values"][name] = 12345.5  # same hash: only the full record differs
    [conflict, closed] = _feed(raw, canonical_dumps(other), *_outcomes(raw))
    assert isinstance(conflict, AuditAnomaly) and isinstance(closed, Closed)
    assert conflict.reason_code == ReasonCode.DECISION_CONFLICT
    broken = json.loads(raw)
    broken["snapshot"]["values"]["Not A Feature"] = "x"
    [unreadable, _] = _feed(raw, canonical_dumps(broken), *_outcomes(raw))
    assert isinstance(unreadable, AuditAnomaly)
    assert unreadable.reason_code == ReasonCode.RECORD_UNREADABLE
    assert "snapshot" in unreadable.detail


def test_a_record_the_view_refuses_gets_the_full_decoders_anomaly() -> None:
    body = _body()
    body["trigger"]["event_id"] = "nope"
    [anomaly] = _feed(canonical_dumps(body))
    assert isinstance(anomaly, AuditAnomaly)
    assert anomaly.reason_code == ReasonCode.RECORD_UNREADABLE
    assert anomaly.detail == "invalid decision record (fields: trigger.event_id)"
