"""``fp eval shadow`` over a READY SR run of the tiny world, from the object store only.

The audit log and the archive are written with the platform's own writers (DLA's segment
encoding, IG's ``write_archive``), so the reader path (audit records of the run, trigger -> flow
from the archive, truth behind its gate) runs for real, with no broker at all.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from app.cli.main import main
from app.dla.segments import SegmentHeader, encode_segment, segment_key
from app.evaluation import TruthRow, load_truth
from app.ig.archive import write_archive
from app.objectstore.config import open_object_store
from app.profiles.loader import Profile
from app.rails.archive import ArchivedRecord
from app.rails.audit import AuditDecision, AuditRecord
from app.rails.decision import BundleRef, DecisionOutcome, ShadowScore
from app.rails.digests import Digest
from app.rails.ids import decision_id, make_id
from app.rails.pins import ContextPins
from app.rails.policy_rev import policy_rev_of
from app.rails.posture import Posture
from app.rails.receipts import EbRef
from app.rails.timefmt import epoch_micros_to_ts
from tests.factories import make_pins

T0 = 1_742_169_600_000_000  # 2025-03-17T00:00:00Z
HOUR = 3_600_000_000
_REV = policy_rev_of("eval.test", "r1", {})


def _bundle(bundle_id: str) -> BundleRef:
    return BundleRef(bundle_id=bundle_id, version=1, scope="auth",
                     digest=Digest(algo="sha256", hex=make_id("test.bundle", bundle_id)))


@pytest.fixture
def truth(tiny_world: Path) -> dict[str, TruthRow]:
    return asyncio.run(load_truth(str(tiny_world)))


def _stored(profile: Profile, run_id: str, truth: dict[str, TruthRow]) -> tuple[int, int]:
    """Archive + audit log of ``run_id``: one decision an hour, fraud/abuse flows first, then 10
    legit ones. ACTIVE DECLINEs all fraud/abuse and steps up 1 legit flow; SHADOW approves the
    first fraud/abuse flow and steps up 2 legit flows. The last decision has no shadow.
    Returns (fraud/abuse flows, legit flows) decided with a shadow."""
    fraud = sorted(f for f, r in truth.items() if r.is_fraud_or_abuse)
    legit = sorted(f for f, r in truth.items() if not r.is_fraud_or_abuse)[:10]
    pins = ContextPins.model_validate(make_pins() | {"run_id": run_id})
    trained, card = _bundle("trained-auth"), _bundle("bootstrap-scorecard")
    archived, records = [], []
    for n, flow in enumerate([*fraud, *legit]):
        event_id = make_id("test.trigger", run_id, flow)
        ts = epoch_micros_to_ts(T0 + n * HOUR)
        archived.append(ArchivedRecord(
            stream="traffic", partition=0, offset=n, partition_key=flow, ingress_partition=0,
            record={"event_id": event_id, "run_id": run_id, "ts_utc": ts,
                    "event_type": "auth_request", "payload": {"flow_id": flow}}))
        is_fraud = truth[flow].is_fraud_or_abuse
        active = DecisionOutcome.DECLINE if is_fraud or flow == legit[0] else \
            DecisionOutcome.APPROVE
        would = DecisionOutcome.APPROVE if flow == fraud[0] else (
            DecisionOutcome.DECLINE if is_fraud or flow in legit[1:3] else DecisionOutcome.APPROVE)
        shadow = None if flow == legit[-1] else ShadowScore(bundle=card, score=0.5,
                                                             outcome=would, reason_codes=())
        did = decision_id(run_id, event_id)
        records.append(AuditRecord(
            audit_id=make_id("test.audit", did), decision_id=did, pins=pins, intents=(),
            decision=AuditDecision(
                decision_ref=EbRef(topic="fp.bus.rtdl.v1", partition=0, offset=n),
                trigger_event_id=event_id,
                trigger_ref=EbRef(topic="fp.bus.traffic.v1", partition=0, offset=n),
                trigger_ts_utc=ts, outcome=active, reason_codes=(), score=0.5,
                posture=Posture.NORMAL, bundle=trained,
                snapshot_hash=make_id("test.snapshot", flow), graph_version=None,
                policy_rev=_REV, shadow=shadow)))
    header = SegmentHeader(log_id="fp.bus.rtdl.v1", topic="fp.bus.rtdl.v1", partition=0,
                           first_offset=0, next_offset=len(records), open_chains=(),
                           audit_records=len(records), anomalies=0,
                           applied_at_utc=epoch_micros_to_ts(T0))

    async def write() -> None:
        async with open_object_store(profile.wiring.object_store,
                                     base_dir=profile.base_dir) as store:
            await write_archive(store, "g1", archived)
            await store.put(segment_key("fp.bus.rtdl.v1", 0, 0, len(records)),
                            encode_segment(header, list(records)))

    asyncio.run(write())
    return len(fraud), len(legit) - 1


def _cli(path: Path, run_id: str, *flags: str) -> int:
    return main(["eval", "shadow", "--run-id", run_id, "--profile", str(path), *flags])


def test_cli_compares_active_and_shadow_on_the_same_decisions(
    eval_profile: Profile, eval_profile_path: Path, ready_run: str,
    truth: dict[str, TruthRow], capsys: pytest.CaptureFixture[str],
) -> None:
    frauds, legits = _stored(eval_profile, ready_run, truth)
    assert _cli(eval_profile_path, ready_run) == 0
    out = capsys.readouterr().out
    assert f"ACTIVE vs SHADOW on run {ready_run}" in out
    assert "without a shadow 1 (left out)" in out
    last = out.rstrip("\n").splitlines()[-1]
    assert last.startswith(f"on start..end: ACTIVE trained-auth@1 catches {frauds} of {frauds} "
                           f"fraud/abuse (100.0%) at {100 / legits:.1f}% legitimate friction; "
                           f"SHADOW bootstrap-scorecard@1 catches {frauds - 1} ")
    assert last.endswith("ACTIVE catches more at equal or lower friction")
    for subtype in {truth[f].subtype for f in truth if truth[f].is_fraud_or_abuse}:
        assert f" {subtype} " in out


def test_cli_json_is_the_comparison(
    eval_profile: Profile, eval_profile_path: Path, ready_run: str,
    truth: dict[str, TruthRow], capsys: pytest.CaptureFixture[str],
) -> None:
    frauds, legits = _stored(eval_profile, ready_run, truth)
    assert _cli(eval_profile_path, ready_run, "--json") == 0
    body = orjson.loads(capsys.readouterr().out)
    assert body["run_id"] == ready_run and body["verdict"] == "active_better"
    assert body["decisions"]["compared"] == frauds + legits
    assert body["decisions"]["without_shadow"] == 1 and body["decisions"]["unmatched"] == 0
    assert body["shadow"]["legit"]["friction"] == 2 and body["active"]["legit"]["friction"] == 1


def test_cli_window_on_trigger_time(
    eval_profile: Profile, eval_profile_path: Path, ready_run: str,
    truth: dict[str, TruthRow], capsys: pytest.CaptureFixture[str],
) -> None:
    frauds, _ = _stored(eval_profile, ready_run, truth)
    start = epoch_micros_to_ts(T0 + frauds * HOUR)  # the legit flows only
    assert _cli(eval_profile_path, ready_run, "--from", start, "--json") == 0
    body = orjson.loads(capsys.readouterr().out)
    assert body["window"]["from"] == start and body["active"]["fraud_abuse"]["decided"] == 0


def test_cli_says_no_shadow_when_the_window_has_none(
    eval_profile: Profile, eval_profile_path: Path, ready_run: str,
    truth: dict[str, TruthRow], capsys: pytest.CaptureFixture[str],
) -> None:
    frauds, legits = _stored(eval_profile, ready_run, truth)
    last = epoch_micros_to_ts(T0 + (frauds + legits) * HOUR)  # only the shadow-less decision
    assert _cli(eval_profile_path, ready_run, "--from", last) == 1
    assert capsys.readouterr().err.startswith("fp: error [NO_SHADOW]: none of the 1 audited")


def test_cli_says_no_shadow_for_a_run_without_audited_decisions(
    eval_profile_path: Path, ready_run: str, capsys: pytest.CaptureFixture[str],
) -> None:
    assert _cli(eval_profile_path, ready_run) == 1
    assert "[NO_SHADOW]: none of the 0 audited" in capsys.readouterr().err


@pytest.mark.parametrize(("flags", "message"), [
    (("--from", "2025-03-17"), "--from: not a UTC timestamp"),
    (("--to", "soon"), "--to: not a UTC timestamp"),
    (("--from", "2025-03-18T00:00:00.000000Z", "--to", "2025-03-17T00:00:00.000000Z"),
     "--from must be before --to"),
])
def test_cli_refuses_bad_times(eval_profile_path: Path, flags: tuple[str, ...], message: str,
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(eval_profile_path, "a" * 32, *flags) == 2
    err = capsys.readouterr().err
    assert err.startswith("fp: error [USAGE]:") and message in err and err.count("\n") == 1


@pytest.mark.parametrize(("run_id", "code"), [("nope", "RUN_ID_INVALID"),
                                              ("0" * 32, "RUN_UNKNOWN")])
def test_cli_refuses_bad_runs_in_one_line(eval_profile_path: Path, run_id: str, code: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(eval_profile_path, run_id) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"fp: error [{code}]:") and err.count("\n") == 1
