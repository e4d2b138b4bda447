"""DecisionView: accepts every decision the real engine makes, refuses what DecisionRecord
refuses in the fields it keeps, and skips only the snapshot's contents."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from app.rails.canonical_json import canonical_dumps
from app.rails.decision import DecisionRecord
from app.rails.decision_view import DecisionView, parse_decision_view
from tests.unit.ofs.world import small_world

Body = dict[str, Any]


def real_decisions() -> list[bytes]:
    """Decisions of the real HotPath over a small two-run log (NORMAL, then DEGRADED)."""
    return small_world()[1].rtdl


def a_decision() -> Body:
    """A real decision with an intent and a bundle, as a JSON body to break."""
    body: Body = next(b for b in map(orjson.loads, real_decisions())
                      if b["intents"] and b["bundle"])
    return body


def test_the_view_declares_every_top_level_field_of_the_full_record() -> None:
    assert list(DecisionView.model_fields) == list(DecisionRecord.model_fields)
    for name, field in DecisionView.model_fields.items():
        if name != "snapshot":
            assert field.annotation == DecisionRecord.model_fields[name].annotation, name


def test_every_real_decision_reads_the_same_through_the_view() -> None:
    decisions = real_decisions()
    assert len(decisions) > 50
    postures = set()
    for raw in decisions:
        full = DecisionRecord.model_validate_json(raw)
        view = parse_decision_view(raw)
        assert view.model_dump(exclude={"snapshot"}) == full.model_dump(exclude={"snapshot"})
        assert view.snapshot.snapshot_hash == full.snapshot.snapshot_hash
        assert view.snapshot.graph_version == full.snapshot.graph_version
        postures.add(view.posture)
    assert len(postures) == 2  # graph_version both set and None


def _set(path: str, value: Any) -> Callable[[Body], None]:
    *parents, last = path.split(".")

    def apply(body: Body) -> None:
        node: Any = body
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is _DROP:
            del node[last]
        else:
            node[int(last) if isinstance(node, list) else last] = value

    return apply


_DROP = object()

BROKEN = {
    "missing decision_id": _set("decision_id", _DROP),
    "decision_id not hex": _set("decision_id", "Z" * 64),
    "decision_id a number": _set("decision_id", 7),
    "record_type": _set("record_type", "action_outcome"),
    "schema_version": _set("schema_version", "v2"),
    "unknown top-level field": _set("extra", 1),
    "pins run_id short": _set("pins.run_id", "abc"),
    "pins missing": _set("pins", _DROP),
    "trigger event_id": _set("trigger.event_id", None),
    "trigger ts form": _set("trigger.ts_utc", "2025-01-01 00:00:00"),
    "trigger eb_ref offset": _set("trigger.eb_ref.offset", -1),
    "trigger extra": _set("trigger.more", 1),
    "outcome": _set("outcome", "MAYBE"),
    "reason code form": _set("reason_codes", ["lower_case"]),
    "score text": _set("score", [0.5]),
    "posture": _set("posture", "RELAXED"),
    "bundle version": _set("bundle.version", 0),
    "snapshot_hash missing": _set("snapshot.snapshot_hash", _DROP),
    "snapshot_hash not hex": _set("snapshot.snapshot_hash", "x"),
    "graph_version": _set("snapshot.graph_version", 5),
    "policy_rev digest": _set("policy_rev.digest", "sha256:0"),
    "intent action_id": _set("intents.0.action_id", "0" * 63),
    "intent type": _set("intents.0.action_type", "LAUNCH"),
    "intent subject": _set("intents.0.subject", {"card_id": 1}),
    "intents not a list": _set("intents", {"a": 1}),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_the_view_refuses_what_the_full_model_refuses_in_the_fields_it_keeps(name: str) -> None:
    body = a_decision()
    BROKEN[name](body)
    raw = canonical_dumps(body)
    with pytest.raises(ValidationError):
        DecisionRecord.model_validate_json(raw)
    with pytest.raises(ValidationError):
        parse_decision_view(raw)


@pytest.mark.parametrize("raw", [b"", b"not json", b"[]", b'{"record_type":"decision"}',
                                 b'{"record_type":"decision","decision_id":"a"'])
def test_bytes_that_are_no_decision_are_refused(raw: bytes) -> None:
    with pytest.raises(ValidationError):
        parse_decision_view(raw)


@pytest.mark.parametrize("score", [b"NaN", b"Infinity", b"-Infinity"])
def test_a_non_finite_score_is_refused(score: bytes) -> None:
    """Canonical JSON has no such number (the full model's JSON mode would take one)."""
    raw = canonical_dumps(a_decision() | {"score": 0.25}).replace(b'"score":0.25',
                                                                    b'"score":' + score)
    with pytest.raises(ValidationError):
        parse_decision_view(raw)


def test_only_the_snapshot_contents_are_skipped() -> None:
    """What the view trades: a bad feature value is the full model's to refuse."""
    body = a_decision()
    body["snapshot"]["values"]["Not A Feature"] = "text"
    raw = canonical_dumps(body)
    with pytest.raises(ValidationError):
        DecisionRecord.model_validate_json(raw)
    assert parse_decision_view(raw).decision_id == body["decision_id"]
