"""AL on the real broker: a tiny world through SR -> WSP -> IG -> hot path -> AL, with a faulty
switch, a ``kill -9`` mid-stream and a kill switch turned on by editing the profile.

Issue #6. One module-scoped run: the simulated switch answers ERROR, loses answers (some after
performing them) and rejects a share of keys, so retries and FAILED outcomes happen on the real
bus. The stream is paced (about a minute of wall time) so that the worker can be killed once a
quarter of the intents have outcomes, restarted, and the kill switch turned on by rewriting the
worker's profile file while decisions still flow. The tests judge the run from the rtdl topic,
the audit topic and the switch's own side-effect log — never from the platform's counters.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from app.al.payment_switch import read_side_effects
from app.eb.embedded_broker import BrokerState
from app.eb.read_back import read_topic
from app.eb.topics import Topic, topic_name
from app.profiles.loader import Profile, load_profile
from app.rails.action import outcome_id_of
from app.rails.canonical_json import canonical_dumps
from app.rails.ids import make_id
from tests.fixtures.broker import Cluster
from tests.fixtures.worlds import start_world_run
from tests.integration.bus_io import produce
from tests.integration.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

SWITCH_FAULTS = {"transient_error_rate": 0.05, "timeout_rate": 0.03, "reject_rate": 0.02}
POLICY = {"degrade": {"pinned": "NORMAL"},
          "streaming": {"speedup": 3000},  # the tiny world's 2 days in about a minute
          "action": {"reload_s": 0.5,
                     "retry": {"max_attempts": 3, "backoff_initial_ms": 5,
                               "backoff_max_ms": 50, "attempt_timeout_ms": 300}}}
KILL_REVISION = "2026.11.9-kill"


@dataclass
class AlRun:
    profile: Profile
    bootstrap: str
    run_id: str
    crashed_with: int  # outcomes on rtdl when the worker was killed
    switched_with: int  # outcomes on rtdl when the kill switch was turned on
    switch_dir: Path

    def read(self, topic: Topic) -> list[Any]:
        name = topic_name(topic, self.profile.wiring.worker.topic_prefix)
        return asyncio.run(read_topic(self.bootstrap, name, self.profile.wiring.worker.partitions))

    def rtdl(self) -> list[tuple[int, int, dict[str, Any]]]:
        """Parsed rtdl records (the bad-input test's garbage record is left out)."""
        out = []
        for r in self.read(Topic.RTDL):
            try:
                out.append((r.partition, r.offset, orjson.loads(r.value or b"")))
            except orjson.JSONDecodeError:
                continue
        return out


def _of(records: list[tuple[int, int, dict[str, Any]]], record_type: str) -> list[dict[str, Any]]:
    return [body for _, _, body in records if body.get("record_type") == record_type]


def _progress(run: AlRun, auths: int) -> tuple[bool, str]:
    records = run.rtdl()
    decisions, outcomes = _of(records, "decision"), _of(records, "action_outcome")
    intents = {i["action_id"] for d in decisions for i in d["intents"]}
    done = {o["action_id"] for o in outcomes}
    return (len(decisions) >= auths and intents <= done,
            f"{len(decisions)}/{auths} decided, {len(done & intents)}/{len(intents)} intents done")


def _turn_kill_switch_on(path: Path) -> None:
    """What an operator does: a new revision with the switch on, written atomically."""
    body = yaml.safe_load(path.read_text())
    body["policy"]["revision"] = KILL_REVISION
    body["policy"]["action"]["kill_switch"] = {"enabled": True, "action_types": [],
                                               "reason": "integration test: switch fault"}
    staged = path.with_suffix(".staged")
    staged.write_text(yaml.safe_dump(body, sort_keys=False))
    os.replace(staged, path)


def _cost(run: AlRun, worker: Any) -> str:
    """What AL cost in the restarted worker: its own execute time and the whole worker's CPU
    per outcome (every agent included), for the report; nothing is asserted on it."""
    import urllib.request

    with urllib.request.urlopen(f"{worker.base_url}/metrics", timeout=5) as page:
        text = page.read().decode()
    samples = {line.split(" ")[0]: float(line.split(" ")[1]) for line in text.splitlines()
               if line.startswith("fp_al_") and " " in line}
    outcomes = sum(v for k, v in samples.items() if k.startswith("fp_al_outcomes_total"))
    execute_s = samples.get("fp_al_execute_seconds_sum", 0.0)
    fields = Path(f"/proc/{worker.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu_s = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    stamps = sorted(r.timestamp for r in run.read(Topic.RTDL)
                    if b'"record_type":"action_outcome"' in (r.value or b""))
    span_s = max((stamps[-1] - stamps[0]) / 1000, 1e-3)
    return (f"restarted worker: {outcomes:.0f} outcomes, AL execute {execute_s:.2f}s "
            f"({1000 * execute_s / max(outcomes, 1):.2f} ms/outcome), worker CPU {cpu_s:.1f}s "
            f"({1000 * cpu_s / max(outcomes, 1):.1f} ms/outcome, all agents); "
            f"{len(stamps)} outcomes over {span_s:.1f}s of broker time; "
            f"by status/reason {dict(_summary(run))}")


def _summary(run: AlRun) -> Counter[str]:
    return Counter(f"{o['status']}:{'+'.join(o['reason_codes']) or '-'}"
                   for o in _of(run.rtdl(), "action_outcome"))


@pytest.fixture(scope="module")
def al_run(tiny_world: Path, tmp_path_factory: pytest.TempPathFactory,
           embedded_broker: BrokerState, broker_state_dir: Path) -> Iterator[AlRun]:
    root = tmp_path_factory.mktemp("action-layer")
    cluster = Cluster(root, broker_state_dir, policy_patch=POLICY,
                      wiring_patch={"executor": SWITCH_FAULTS})
    try:
        worker = cluster.spawn("w1")
        worker.wait_ready()
        profile = load_profile(worker.profile)
        run_id, auths = start_world_run(tiny_world, root / "oracle", profile)
        run = AlRun(profile, embedded_broker.bootstrap, run_id, 0, 0,
                    profile.resolve(profile.wiring.executor.log_dir))

        def outcomes() -> int:
            return len(_of(run.rtdl(), "action_outcome"))

        wait_for(lambda: ((n := outcomes()) >= auths // 4, n), 300,
                 "a quarter of the intents to have outcomes")
        worker.kill9()
        run.crashed_with = outcomes()
        worker.start().wait_ready()
        wait_for(lambda: ((n := outcomes()) >= auths // 2, n), 300,
                 "half of the intents to have outcomes after the restart")
        _turn_kill_switch_on(Path(worker.profile))
        run.switched_with = outcomes()
        started = time.monotonic()
        wait_for(lambda: _progress(run, auths), 400, "every intent to have an outcome",
                 interval_s=2.0)
        print(f"\nAL run: {auths} auths, crashed with {run.crashed_with} outcomes, switched "
              f"with {run.switched_with}, drained {time.monotonic() - started:.1f}s later; "
              f"{_cost(run, worker)}")
        yield run
    finally:
        cluster.stop_all()


def test_every_intent_has_exactly_one_outcome_across_kill_9(al_run: AlRun) -> None:
    records = al_run.rtdl()
    decisions, outcomes = _of(records, "decision"), _of(records, "action_outcome")
    intents = {i["action_id"] for d in decisions for i in d["intents"]}
    per_action = Counter(o["action_id"] for o in outcomes)
    per_id = Counter(o["outcome_id"] for o in outcomes)
    assert al_run.crashed_with > 0
    assert set(per_action) == intents
    assert max(per_action.values()) == 1, per_action.most_common(3)
    assert max(per_id.values()) == 1, per_id.most_common(3)
    assert all(o["outcome_id"] == outcome_id_of(o["action_id"]) for o in outcomes)
    assert {o["pins"]["run_id"] for o in outcomes} == {al_run.run_id}


def test_each_outcome_follows_its_decision_on_the_same_partition(al_run: AlRun) -> None:
    records = al_run.rtdl()
    where = {i["action_id"]: (p, o) for p, o, body in records
             if body.get("record_type") == "decision" for i in body["intents"]}
    for partition, offset, body in records:
        if body.get("record_type") == "action_outcome":
            decided_at = where[body["action_id"]]
            assert decided_at[0] == partition and decided_at[1] < offset, body["action_id"]


def test_the_switch_log_holds_one_side_effect_per_executed_outcome_and_no_other(
        al_run: AlRun) -> None:
    """Payment actions: OPEN_CASE goes to case management (tests/integration/
    test_case_opening.py), every other action type to the switch."""
    effects = [e for e in read_side_effects(al_run.switch_dir) if e["run_id"] == al_run.run_id]
    per_key = Counter(e["idempotency_key"] for e in effects)
    assert effects and max(per_key.values()) == 1, per_key.most_common(3)
    outcomes = _of(al_run.rtdl(), "action_outcome")
    executed = {o["action_id"]: o["side_effect_ref"] for o in outcomes
                if o["status"] == "EXECUTED" and o["action_type"] != "OPEN_CASE"}
    assert executed == {e["idempotency_key"]: e["side_effect_ref"] for e in effects}
    assert {o["executor"] for o in outcomes if o["action_type"] == "OPEN_CASE"} <= {
        "case_management"}


def test_the_faulty_switch_produced_retries_and_failures_on_the_bus(al_run: AlRun) -> None:
    outcomes = _of(al_run.rtdl(), "action_outcome")
    reasons = Counter(code for o in outcomes for code in o["reason_codes"])
    attempts = Counter(a["result"] for o in outcomes for a in o["attempts"])
    assert reasons["EXECUTOR_REJECTED"] > 0
    assert attempts["ERROR"] > 0 and attempts["TIMEOUT"] > 0
    assert any(len(o["attempts"]) > 1 and o["status"] == "EXECUTED" for o in outcomes)
    assert all(o["attempts"] == [] for o in outcomes if o["status"] == "DENIED")


def test_turning_the_kill_switch_on_denies_new_executions_and_is_a_governance_fact(
        al_run: AlRun) -> None:
    records = al_run.rtdl()
    by_partition: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for partition, _offset, body in records:  # read back in offset order per partition
        if body.get("record_type") == "action_outcome":
            by_partition[partition].append(body)
    denied = [o for o in _of(records, "action_outcome") if "KILL_SWITCH_ON" in o["reason_codes"]]
    assert denied, "the stream drained before the switch was turned on"
    assert all(o["status"] == "DENIED" and o["reason_codes"] == ["KILL_SWITCH_ON"]
               and o["policy_rev"]["revision"] == KILL_REVISION for o in denied)
    for outcomes in by_partition.values():  # once a partition saw the switch, it stays on
        first = next((n for n, o in enumerate(outcomes) if "KILL_SWITCH_ON" in o["reason_codes"]),
                     len(outcomes))
        assert all("KILL_SWITCH_ON" in o["reason_codes"] for o in outcomes[first:])
    facts = [body for r in al_run.read(Topic.AUDIT)
             if (body := orjson.loads(r.value or b"")).get("fact_type") == "KILL_SWITCH_CHANGED"]
    assert facts, "no KILL_SWITCH_CHANGED fact on the audit topic"
    fact = facts[-1]
    assert (fact["scope"], fact["from_value"], fact["to_value"]) == ("action:*", "off", "on:*")
    assert fact["details"]["reason"] == "integration test: switch fault"
    assert fact["policy_rev"]["revision"] == KILL_REVISION


def test_bad_input_on_rtdl_gets_a_reason_coded_outcome_or_is_a_no_op(al_run: AlRun) -> None:
    """Last in the module: it writes to rtdl. A garbage record, an exact copy of a decision and
    a decision carrying a forged intent, in that order on one partition: the forged intent ends
    DENIED with a reason, the copy's intents get no second outcome, the agent survives both."""
    partition, _offset, original = next(
        (p, o, body) for p, o, body in al_run.rtdl() if body.get("record_type") == "decision")
    forged_id = make_id("test.forged_intent", original["decision_id"])
    forged = {**original, "intents": [{**original["intents"][0], "action_id": forged_id}]}
    topic = topic_name(Topic.RTDL, al_run.profile.wiring.worker.topic_prefix)
    key = original["trigger"]["event_id"].encode()
    asyncio.run(produce(al_run.bootstrap, topic, [
        (key, b"\x00not json"), (key, canonical_dumps(original)), (key, canonical_dumps(forged))],
        partition=partition))

    def forged_outcome() -> tuple[bool, list[dict[str, Any]]]:
        found = [o for o in _of(al_run.rtdl(), "action_outcome") if o["action_id"] == forged_id]
        return bool(found), found

    (outcome,) = wait_for(forged_outcome, 60, "the forged intent's outcome")
    assert (outcome["status"], outcome["reason_codes"]) == ("DENIED", ["INTENT_KEY_MISMATCH"])
    assert outcome["attempts"] == [] and outcome["side_effect_ref"] is None
    per_action = Counter(o["action_id"] for o in _of(al_run.rtdl(), "action_outcome"))
    assert all(per_action[i["action_id"]] == 1 for i in original["intents"])
    assert forged_id not in {e["idempotency_key"] for e in read_side_effects(al_run.switch_dir)}
