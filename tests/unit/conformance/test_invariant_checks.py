"""Each DESIGN section 10 check passes on clean evidence and names a planted violation.

Decisions come from the real hot-path engine; outcomes and audit records are built from the
rails models the way AL and DLA write them, then one field is broken per test.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from app.conformance.evidence import BusRecord, RunEvidence
from app.conformance.suite import run_checks
from app.rails.action import outcome_id_of
from app.rails.canonical_json import canonical_dumps
from app.rails.timefmt import ts_to_epoch_micros
from app.rails.watermark import END_MICROS, watermark_at, watermark_value
from tests.unit.hotpath.feed import TrafficFeed
from tests.unit.hotpath.test_engine import RUN, TOPIC, context, engine, raw

RTDL = "fp.bus.rtdl.v1"


def _outcome(decision: dict[str, Any], intent: dict[str, Any], status: str = "EXECUTED"
             ) -> dict[str, Any]:
    return {"record_type": "action_outcome", "schema_version": "v1",
            "outcome_id": outcome_id_of(intent["action_id"]), "action_id": intent["action_id"],
            "decision_id": decision["decision_id"], "action_type": intent["action_type"],
            "pins": decision["pins"], "trigger_event_id": decision["trigger"]["event_id"],
            "ts_utc": decision["trigger"]["ts_utc"], "status": status, "reason_codes": [],
            "attempts": [{"attempt": 1, "result": "OK", "reason_code": None}],
            "side_effect_ref": f"sw-{intent['action_id'][:12]}", "executor": "simulated_switch",
            "policy_rev": decision["policy_rev"]}


def _audit(decision: dict[str, Any], at: int, outcomes: list[tuple[int, dict[str, Any]]]
           ) -> dict[str, Any]:
    return {"record_type": "audit_record", "audit_id": "a" * 63 + str(at % 10),
            "decision_id": decision["decision_id"], "pins": decision["pins"], "supersedes": None,
            "decision": {"decision_ref": {"topic": RTDL, "partition": 0, "offset": at}},
            "intents": [{"action_id": o["action_id"], "outcome_id": o["outcome_id"],
                         "status": o["status"],
                         "outcome_ref": {"topic": RTDL, "partition": 0, "offset": off}}
                        for off, o in outcomes]}


def build(n: int = 4) -> RunEvidence:
    hot = engine()
    traffic: list[BusRecord] = []
    rtdl_bodies: list[dict[str, Any]] = []
    feed = TrafficFeed(hot, RUN)
    for i in range(n):
        value = raw(i + 1)
        traffic.append(BusRecord(TOPIC, 0, feed.offset, 1_000 + i, value))
        result = feed.step(value, context())
        assert result.decision is not None  # the step's watermark record follows the event
        traffic.append(BusRecord(TOPIC, 0, feed.offset - 1, 1_000 + i, watermark_value(
            watermark_at(RUN, 0, 1, ts_to_epoch_micros(result.decision.trigger.ts_utc) + 1))))
        rtdl_bodies.append(result.decision.model_dump(mode="json"))
    rtdl: list[BusRecord] = []
    audits: list[dict[str, Any]] = []
    effects: list[dict[str, Any]] = []
    for decision in rtdl_bodies:
        at = len(rtdl)
        rtdl.append(BusRecord(RTDL, 0, at, None, canonical_dumps(decision)))
        placed = []
        for intent in decision["intents"]:
            outcome = _outcome(decision, intent)
            placed.append((len(rtdl), outcome))
            rtdl.append(BusRecord(RTDL, 0, len(rtdl), None, canonical_dumps(outcome)))
            effects.append({"idempotency_key": intent["action_id"], "run_id": RUN,
                            "side_effect_ref": outcome["side_effect_ref"]})
        audits.append(_audit(decision, at, placed))
    return RunEvidence(run_id=RUN, traffic=traffic, rtdl=rtdl, side_effects=effects,
                       audit_records=audits)


def verdicts(evidence: RunEvidence) -> dict[str, Any]:
    return {r.name: r for r in run_checks(evidence)}


def test_clean_evidence_passes_every_check() -> None:
    results = verdicts(build())
    assert all(r.ok and r.skipped is None for r in results.values()), \
        [r.line() for r in results.values()]
    assert results["exactly_one_decision"].examined == 4
    assert results["action_outcomes"].examined == 4


def _rewrite(evidence: RunEvidence, index: int, change: Any) -> RunEvidence:
    rtdl = list(evidence.rtdl)
    body = orjson.loads(rtdl[index].value)
    change(body)
    rtdl[index] = BusRecord(RTDL, 0, rtdl[index].offset, None, canonical_dumps(body))
    return RunEvidence(run_id=evidence.run_id, traffic=evidence.traffic, rtdl=rtdl,
                       side_effects=evidence.side_effects, audit_records=evidence.audit_records)


@pytest.mark.parametrize(("index", "change", "check"), [
    (0, lambda d: d["pins"].update(scenario_id="other"), "run_isolation"),
    (0, lambda d: d.update(decision_id="0" * 64), "deterministic_ids"),
    (1, lambda o: o.update(outcome_id="0" * 64), "deterministic_ids"),
    (0, lambda d: d["snapshot"].update(as_of="2030-01-01T00:00:00.000000Z"), "as_of_safety"),
    (0, lambda d: d["snapshot"]["input_basis"].update(events_applied=1), "as_of_safety"),
    (0, lambda d: d.update(label="fraud"), "as_of_safety"),
    (0, lambda d: d["snapshot"]["values"].update({"card.count_5m": 99}), "provenance"),
    (0, lambda d: d.update(bundle=None), "provenance"),
    (0, lambda d: d.update(posture="FAIL_CLOSED", score=None, outcome="APPROVE"),
     "degrade_obedience"),
    (1, lambda o: o.update(action_id="1" * 64, outcome_id=outcome_id_of("1" * 64)),
     "action_outcomes"),
    (1, lambda o: o.update(status="DENIED"), "audit_lineage"),
])
def test_a_planted_violation_is_named_by_its_check(index: int, change: Any, check: str) -> None:
    results = verdicts(_rewrite(build(), index, change))
    assert not results[check].ok, results[check].line()
    assert "FAIL" in results[check].line()


def test_a_second_outcome_and_a_doubled_side_effect_are_both_caught() -> None:
    evidence = build()
    copy = evidence.rtdl[1]
    rtdl = [*evidence.rtdl, BusRecord(RTDL, 0, len(evidence.rtdl), None, copy.value)]
    effects = [*(evidence.side_effects or ()), dict((evidence.side_effects or [{}])[0])]
    result = verdicts(RunEvidence(run_id=RUN, traffic=evidence.traffic, rtdl=rtdl,
                                  side_effects=effects,
                                  audit_records=evidence.audit_records))["action_outcomes"]
    assert any("more than one outcome" in v for v in result.violations)
    assert any("executed twice" in v for v in result.violations)


def test_a_missing_audit_record_fails_lineage_and_no_dla_is_a_skip() -> None:
    evidence = build()
    evidence.audit_records = list(evidence.audit_records or ())[1:]
    assert not verdicts(evidence)["audit_lineage"].ok
    evidence = build()
    evidence.audit_records = None
    assert verdicts(evidence)["audit_lineage"].skipped is not None


def test_other_runs_records_are_not_judged_against_this_run() -> None:
    evidence = build()
    evidence.run_id = "f" * 32
    results = verdicts(evidence)
    assert results["exactly_one_decision"].examined == 0
    assert all(r.ok for r in results.values())


def test_the_truth_columns_the_check_hunts_are_the_interface_packs() -> None:
    """Held to the engine's published catalogue (the platform never imports the engine)."""
    from pathlib import Path

    import yaml

    from app.conformance.as_of_safety import TRUTH_COLUMNS

    interface = yaml.safe_load(Path("world_engine/interface/interface_pack.v1.yaml").read_text())
    truth = {c["name"] for o in interface["outputs"] if o["role"] == "truth"
             for c in o["columns"]} - {"flow_id", "ts_utc"}
    assert truth == TRUTH_COLUMNS


def test_watermark_records_on_the_traffic_log_are_not_events() -> None:
    """#12: IG writes watermark records into the traffic log; no check counts them as events."""
    evidence = build()
    marks = [watermark_value(watermark_at(RUN, 0, 1, 1_741_000_000_000_000 + i))
             for i in range(2)] + [watermark_value(watermark_at(RUN, 0, 1, END_MICROS))]
    end = len(evidence.traffic)
    traffic = [*evidence.traffic, *(BusRecord(TOPIC, 0, end + i, None, v)
                                    for i, v in enumerate(marks))]
    with_marks = RunEvidence(run_id=RUN, traffic=traffic, rtdl=evidence.rtdl,
                             side_effects=evidence.side_effects,
                             audit_records=evidence.audit_records)
    assert sorted(with_marks.traffic_events()) == sorted(evidence.traffic_events())
    same = {name: (r.ok, r.examined) for name, r in verdicts(evidence).items()}
    assert {name: (r.ok, r.examined) for name, r in verdicts(with_marks).items()} == same


def _shadowed(evidence: RunEvidence, *, skip: int | None = None) -> RunEvidence:
    """Every decision (but ``skip``) with a SHADOW score that would have said DECLINE."""
    rtdl = list(evidence.rtdl)
    seen = 0
    for n, record in enumerate(rtdl):
        body = orjson.loads(record.value)
        if body.get("record_type") != "decision":
            continue
        if seen != skip:
            body["shadow"] = {"bundle": {**body["bundle"], "bundle_id": "trained-auth",
                                         "digest": {"algo": "sha256", "hex": "c" * 64}},
                              "score": 0.97, "outcome": "DECLINE",
                              "reason_codes": ["MODEL_SCORE_DECLINE"]}
        seen += 1
        rtdl[n] = BusRecord(RTDL, 0, record.offset, None, canonical_dumps(body))
    return RunEvidence(run_id=evidence.run_id, traffic=evidence.traffic, rtdl=rtdl,
                       audit_topic=evidence.audit_topic, side_effects=evidence.side_effects,
                       audit_records=evidence.audit_records)


def test_a_shadow_scored_on_every_decision_and_acted_on_by_none_passes() -> None:
    result = verdicts(_shadowed(build()))["shadow_obedience"]
    assert result.ok and result.examined == 4, result.line()
    assert verdicts(build())["shadow_obedience"].examined == 0  # no shadow: nothing to judge


def test_a_shadow_acted_on_or_missing_is_caught() -> None:
    acted = _rewrite(_shadowed(build()), 0, lambda d: d["intents"][0].update(
        action_type="DECLINE_AUTH"))  # the shadow's band, not the decision's outcome
    assert not verdicts(acted)["shadow_obedience"].ok
    scoreless = _rewrite(_shadowed(build()), 0, lambda d: d["shadow"].update(score=None))
    assert not verdicts(scoreless)["shadow_obedience"].ok
    missing = verdicts(_shadowed(build(), skip=2))["shadow_obedience"]
    assert not missing.ok and "the SHADOW was not scored" in missing.line()
    fact = BusRecord("fp.bus.audit.v1", 0, 0, None, canonical_dumps(
        {"record_type": "governance_fact", "fact_type": "SHADOW_CHANGED"}))
    changed = _shadowed(build(), skip=2)
    changed = RunEvidence(run_id=changed.run_id, traffic=changed.traffic, rtdl=changed.rtdl,
                          audit_topic=[fact], side_effects=changed.side_effects,
                          audit_records=changed.audit_records)
    assert verdicts(changed)["shadow_obedience"].ok  # set mid-run: presence is not judged
