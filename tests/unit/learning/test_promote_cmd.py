"""``fp registry promote`` on a real local store: refused without evidence, on a failing
evaluation, on a stale one (another ACTIVE bundle since), on a missing feature and on parity
below 100 %; a passing one activates (action ``promote``, who and why in the history); and
``--shadow`` sets the SHADOW with no gate."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from app.objectstore.local import LocalObjectStore
from app.rails.bundle import bundle_ref
from app.rails.decision import BundleRef
from app.rails.promotion import ParityEvidence, PromotionEvidence
from app.registry.evaluations import evidence_of, put_evidence
from app.registry.resolver import bootstrap_pair
from app.registry.store import RegistryStore
from tests.unit.registry.test_cli import fp, profile  # noqa: F401  # the profile fixture
from tests.unit.scoring.models import model_bundle, train

RUN = "a" * 32
GOOD = {"average_precision": 0.8, "roc_auc": 0.97, "recall_at_incumbent_friction": 0.9}
BASE = {"average_precision": 0.5, "roc_auc": 0.95, "recall_at_incumbent_friction": 0.8}


def evidence(candidate: BundleRef, incumbent: BundleRef | None, *, dataset: str = "d" * 64,
             candidate_metrics: dict[str, float] = GOOD, equal: int = 100) -> PromotionEvidence:
    return PromotionEvidence(
        candidate=candidate, incumbent=incumbent, dataset_id=dataset,
        split_ts_utc="2024-03-15T00:00:00.000000Z", test_to_ts_utc="2024-03-21T00:00:00.000000Z",
        train_rows=800, test_rows=200, test_positives=12, candidate_metrics=candidate_metrics,
        incumbent_metrics=BASE,
        parity=ParityEvidence(run_ids=(RUN,), decisions=100, equal=equal, source="archive"))


def store_of(profile: str) -> Path:  # noqa: F811
    return Path(profile).parent / "objects"


def setup(profile: str, bundle_overrides: dict[str, object] | None = None,  # noqa: F811
          *records: PromotionEvidence) -> BundleRef:
    async def go() -> BundleRef:
        async with LocalObjectStore(store_of(profile)) as store:
            registry = RegistryStore(store)
            await registry.put_model(train())
            ref = await registry.put_bundle(model_bundle(train(), **(bundle_overrides or {})))
            for record in records:
                await put_evidence(store, record.model_copy(update={"candidate": ref}))
            return ref
    return asyncio.run(go())


def candidate_ref(profile: str, **overrides: object) -> BundleRef:  # noqa: F811
    return bundle_ref(model_bundle(train(), **overrides))


def test_no_evidence_is_refused(profile: str, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    setup(profile)
    assert fp(profile, "promote", "tiny-gbm@1", "--scope", "auth", "--reason", "r") == 1
    err = capsys.readouterr().err
    assert "EVALUATION_MISSING" in err and "PARITY_BELOW_100" in err


def test_failing_evidence_is_refused(
        profile: str, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    boot = bootstrap_pair()[0]
    me = candidate_ref(profile)
    worse = evidence(me, boot, candidate_metrics={**GOOD, "average_precision": 0.4})
    setup(profile, None, worse)
    assert fp(profile, "promote", "tiny-gbm@1", "--scope", "auth", "--reason", "r") == 1
    assert "EVALUATION_FAILED" in capsys.readouterr().err


def test_stale_and_low_parity_evidence_is_refused(
        profile: str, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    boot = bootstrap_pair()[0]
    me = candidate_ref(profile)
    stale = evidence(me, candidate_ref(profile, version=9), dataset="e" * 64)
    low = evidence(me, boot, dataset="f" * 64, equal=99)
    setup(profile, None, stale, low)
    assert fp(profile, "promote", "tiny-gbm@1", "--scope", "auth", "--reason", "r") == 1
    err = capsys.readouterr().err
    assert "on dataset eeeeeeeeeeee: EVALUATION_STALE" in err  # each record's refusals
    assert "on dataset ffffffffffff: PARITY_BELOW_100" in err and "99.00%" in err


def test_a_missing_feature_is_refused(profile: str,  # noqa: F811
                                      capsys: pytest.CaptureFixture[str]) -> None:
    features = ("card.count_5m", "txn.not_a_feature", "card.count_1h")
    me = candidate_ref(profile, features=features)
    setup(profile, {"features": features}, evidence(me, bootstrap_pair()[0]))
    assert fp(profile, "promote", "tiny-gbm@1", "--scope", "auth", "--reason", "r") == 1
    err = capsys.readouterr().err
    assert "FEATURE_MISSING" in err and "txn.not_a_feature" in err


def test_passing_evidence_promotes_and_shadow_needs_no_gate(
        profile: str, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    assert fp(profile, "promote", "bootstrap-scorecard@2", "--scope", "auth", "--shadow",
              "--reason", "keep the scorecard beside") == 0
    me = candidate_ref(profile)
    setup(profile, None, evidence(me, bootstrap_pair()[0]))
    assert fp(profile, "promote", "tiny-gbm@1", "--scope", "auth", "--reason", "beats it",
              "--actor", "dana") == 0
    assert "ACTIVE in scope auth" in capsys.readouterr().out
    assert fp(profile, "history", "--scope", "auth", "--json") == 0
    entries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(e["record_type"], e.get("action"), e["actor"]) for e in entries][-1] == (
        "bundle_activation", "promote", "dana")

    async def held() -> list[PromotionEvidence]:
        async with LocalObjectStore(store_of(profile)) as store:
            return await evidence_of(store, me.digest.hex)
    assert len(asyncio.run(held())) == 1
