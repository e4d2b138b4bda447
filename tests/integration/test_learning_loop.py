"""The learning loop on the real broker, scaled down (issue #15's synthetic done-when).

A tiny world of three 1-day parts: the first run decides it with the scorecard ACTIVE; the loop
learns on the first two parts with labels as known at the start of the third (the dataset holds
nothing later); the candidate goes through ``fp registry promote``; the scorecard is set as
SHADOW; a second run of the same world decides it with the candidate ACTIVE; and
``fp eval shadow`` compares both bundles on the third part, on the same decisions, against the
world's truth. At this size the labels are too few for a verdict to mean anything: the gate
refuses the candidate (one held-out positive label; AP 0.02 against the scorecard's 0.07), so the
test then activates it by hand (``fp registry activate``, the operator's ungated command) to run the
second half. The full-size check (a small-scale 3-week world, where the gate passes and the model
wins on week 3) is ``python -m bench.bench_learning_loop``, with its numbers in the README. This
pins the loop's wiring and the comparison's fairness: the scorecard as SHADOW in the second run
gives, trigger by trigger, exactly the score and outcome it gave as ACTIVE in the first.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from app.cli.main import main as fp_main
from app.dla.lookup import read_audit_records
from app.eb.embedded_broker import BrokerState
from app.learning.loop import Learned, LearnRequest, learn_from_runs
from app.objectstore.local import LocalObjectStore
from app.ofs.dataset import read_data
from app.profiles.loader import Profile, load_profile
from app.rails.audit import AuditDecision
from app.rails.timefmt import ts_to_epoch_micros
from app.runtime.run_driver import MainJobResult, start_run
from tests.fixtures.broker import Cluster
from world_engine import WorldParams, generate_world

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

SEED = 7
DAYS = 3
START = dt.date(2025, 3, 3)
PART_3 = f"{START + dt.timedelta(days=2)}T00:00:00.000000Z"
SCORECARD = "bootstrap-scorecard@2"


@dataclass
class Loop:
    profile_path: Path
    objects: Path
    before: MainJobResult
    learned: Learned
    promote_rc: int
    after: MainJobResult


def _decisions(objects: Path, run_id: str) -> dict[str, AuditDecision]:
    """trigger event id -> the run's audited decision (one per trigger)."""
    async def read() -> dict[str, AuditDecision]:
        async with LocalObjectStore(objects) as store:
            found: dict[str, AuditDecision] = {}
            for record in await read_audit_records(store):
                if record.pins.run_id == run_id:
                    found.setdefault(record.decision.trigger_event_id, record.decision)
            return found
    return asyncio.run(read())


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory, embedded_broker: BrokerState,
         broker_state_dir: Path) -> Iterator[Loop]:
    root = tmp_path_factory.mktemp("learning-loop")
    cluster = Cluster(root, broker_state_dir, policy_patch={"degrade": {"pinned": "NORMAL"}})
    path = cluster.profile("w1")
    profile: Profile = load_profile(str(path))
    objects = root / "objects"
    world = str(generate_world(WorldParams(scale="tiny", days=DAYS, fraud_rate_target=0.03),
                               SEED, root / "oracle").path)
    before = start_run(profile, str(path), world, "baseline", log_dir=root / "logs",
                       run_label="scorecard-active", stall_s=60, reports_dir=root / "reports")
    assert before.ok, before.failure

    async def learn() -> Learned:
        async with LocalObjectStore(objects) as store:
            return await learn_from_runs(
                store, LearnRequest(run_ids=(before.run_id,), label_as_of_utc=PART_3),
                policy=profile.policy.decision, policy_rev=profile.policy_rev,
                reports_root=root / "learn",
                band_targets=profile.policy.learning.band_targets.targets())

    learned = asyncio.run(learn())
    ref = f"{learned.candidate.bundle_id}@{learned.candidate.version}"
    promote_rc = fp_main(["--profile", str(path), "registry", "promote", ref, "--scope", "auth",
                          "--reason", "test: the loop's candidate", "--actor", "tests"])
    if promote_rc == 1:  # refused on too few labels at this size: the operator's override
        assert fp_main(["--profile", str(path), "registry", "activate", ref, "--scope", "auth",
                        "--reason", "test: exercise the comparison", "--actor", "tests"]) == 0
    assert fp_main(["--profile", str(path), "registry", "shadow", SCORECARD, "--scope", "auth",
                    "--reason", "test: the scorecard beside it", "--actor", "tests"]) == 0
    after = start_run(profile, str(path), world, "baseline", log_dir=root / "logs2",
                      run_label="model-active", stall_s=60, reports_dir=root / "reports")
    assert after.ok, after.failure
    yield Loop(path, objects, before, learned, promote_rc, after)


def test_the_dataset_holds_only_what_was_known_before_the_third_part(loop: Loop) -> None:
    manifest = loop.learned.manifest
    assert manifest.label_as_of_utc == PART_3
    assert manifest.runs[0].run_id == loop.before.run_id

    async def rows() -> list[int]:
        async with LocalObjectStore(loop.objects) as store:
            table = pq.read_table(io.BytesIO(await read_data(store, manifest)))
            return [int(t) for t in table.column("ts_us").to_pylist()]

    times = asyncio.run(rows())
    assert times and max(times) < ts_to_epoch_micros(PART_3)
    evidence = loop.learned.evidence
    assert evidence.parity.equal == evidence.parity.decisions > 0  # parity 100 %
    assert loop.learned.incumbent is not None
    assert f"{loop.learned.incumbent.bundle_id}@{loop.learned.incumbent.version}" == SCORECARD


def test_the_gate_decides_on_the_evidence(loop: Loop) -> None:
    e = loop.learned.evidence
    c, i = e.candidate_metrics, e.incumbent_metrics
    passes = (c["average_precision"] >= i["average_precision"]
              and c["recall_at_incumbent_friction"] >= i["recall_at_incumbent_friction"])
    assert loop.promote_rc == (0 if passes else 1)


def test_the_scorecard_as_shadow_gives_what_it_gave_as_active(loop: Loop) -> None:
    first = _decisions(loop.objects, loop.before.run_id)
    second = _decisions(loop.objects, loop.after.run_id)
    assert first.keys() == second.keys() and first
    for trigger, active in first.items():
        shadow = second[trigger].shadow
        assert shadow is not None, trigger
        assert f"{shadow.bundle.bundle_id}@{shadow.bundle.version}" == SCORECARD
        assert active.bundle is not None and shadow.bundle == active.bundle
        assert (shadow.score, shadow.outcome) == (active.score, active.outcome), trigger


def test_eval_shadow_compares_both_on_the_third_part(loop: Loop,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    rc = fp_main(["--profile", str(loop.profile_path), "eval", "shadow", "--run-id",
                  loop.after.run_id, "--from", PART_3, "--json"])
    assert rc == 0
    found = json.loads(capsys.readouterr().out)
    second = _decisions(loop.objects, loop.after.run_id)
    in_part_3 = [d for d in second.values()
                 if ts_to_epoch_micros(d.trigger_ts_utc) >= ts_to_epoch_micros(PART_3)]
    assert found["decisions"]["compared"] == len(in_part_3) > 0
    assert found["shadow"]["bundles"] == [SCORECARD]
    candidate = loop.learned.candidate
    assert found["active"]["bundles"] == [f"{candidate.bundle_id}@{candidate.version}"]
    for side in ("active", "shadow"):  # both sides over the same flows
        assert found[side]["decided"] == found["decisions"]["compared"]
    assert found["active"]["fraud_abuse"]["decided"] == found["shadow"]["fraud_abuse"]["decided"]
