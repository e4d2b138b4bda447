"""A SHADOW bundle is scored and recorded on the decision and never acted on (conformance-style:
for many snapshots, the decision with a shadow is the decision without one, plus the shadow)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import orjson
import pytest

from app.df.decide import DecideInputs, decide
from app.df.guardrails import evaluate_guardrails
from app.hotpath.bundle_resolution import PROVIDED_FEATURES, resolve_scope
from app.objectstore.local import LocalObjectStore
from app.profiles.loader import load_profile
from app.rails.bundle import bundle_ref
from app.rails.decision import DecisionOutcome, DecisionRecord, FeatureSnapshot, FeatureValue
from app.rails.posture import Posture
from app.rails.reason_codes import ReasonCode
from app.registry.resolver import Resolution, ShadowBinding, bootstrap_pair, resolve_shadow
from app.registry.store import RegistryStore
from app.scoring import Scorer, scorer_for
from tests.unit.ofs.world import small_world
from tests.unit.scoring.models import FEATURES, model_bundle, train

PROFILE = load_profile("local")
AT = "2026-12-04T10:00:00.000000Z"


def _real_decisions() -> list[DecisionRecord]:
    return [DecisionRecord.model_validate(orjson.loads(raw)) for raw in small_world()[1].rtdl]


def _inputs(record: DecisionRecord, values: dict[str, FeatureValue], posture: Posture,
            complete: bool, resolution: Resolution) -> DecideInputs:
    snapshot = FeatureSnapshot(feature_sets=record.snapshot.feature_sets,
                               as_of=record.snapshot.as_of, values=values,
                               input_basis=record.snapshot.input_basis,
                               graph_version=record.snapshot.graph_version,
                               complete=complete, snapshot_hash=record.snapshot.snapshot_hash)
    subject = record.intents[0].subject if record.intents else {"card_id": "c"}
    return DecideInputs(pins=record.pins, trigger=record.trigger, subject=subject,
                        snapshot=snapshot, posture=posture, posture_reasons=(),
                        resolution=resolution, policy=PROFILE.policy.decision,
                        policy_rev=PROFILE.policy_rev)


def _random_values(rng: np.random.Generator, names: list[str]) -> dict[str, FeatureValue]:
    values: dict[str, FeatureValue] = {}
    for name in names:
        draw = rng.random()
        if draw < 0.1:
            continue  # absent
        if draw < 0.15:
            values[name] = None
        elif draw < 0.18:
            values[name] = math.nan
        elif draw < 0.3:
            values[name] = bool(rng.integers(0, 2))
        elif name == "txn.amount_minor":
            values[name] = int(rng.gamma(2.0, 20_000.0))
        else:
            values[name] = int(rng.poisson(rng.choice([1.0, 4.0, 12.0])))
    return values


def _pairs() -> list[tuple[str, Resolution, ShadowBinding]]:
    """(case, ACTIVE resolution without shadow, shadow): a scorecard ACTIVE with the model as
    shadow, and the model ACTIVE with the scorecard as shadow (issue #15's comparison)."""
    text = train()
    model = model_bundle(text)
    boot_ref, boot = bootstrap_pair()
    model_scorer = scorer_for(model, text)
    return [
        ("scorecard_active", Resolution(bundle=boot, ref=boot_ref, reason_codes=()),
         ShadowBinding(ref=bundle_ref(model), scorer=model_scorer)),
        ("model_active", Resolution(bundle=model, ref=bundle_ref(model), reason_codes=(),
                                    scorer=model_scorer),
         ShadowBinding(ref=boot_ref, scorer=scorer_for(boot))),
    ]


def _with_shadow(resolution: Resolution, shadow: ShadowBinding | None,
                 codes: tuple[str, ...] = ()) -> Resolution:
    return Resolution(bundle=resolution.bundle, ref=resolution.ref,
                      reason_codes=resolution.reason_codes, scorer=resolution.scorer,
                      shadow=shadow, shadow_reason_codes=codes)


@pytest.mark.parametrize("case", ["scorecard_active", "model_active"])
def test_a_shadow_never_changes_a_decision_and_is_recorded_on_it(case: str) -> None:
    _, plain, shadow = next(p for p in _pairs() if p[0] == case)
    shadowed = _with_shadow(plain, shadow)
    records = _real_decisions()
    rng = np.random.default_rng(15)
    guard_features = [g.feature for g in PROFILE.policy.decision.guardrails]
    names = sorted({*bootstrap_pair()[1].features, *FEATURES, *guard_features})
    postures = list(Posture)
    seen_bands, scored, differ = set(), 0, 0
    for i in range(600):
        record = records[i % len(records)]
        values = (dict(record.snapshot.values) if i % 3 == 0
                  else _random_values(rng, names))
        posture = postures[int(rng.integers(0, len(postures)))] if i % 2 else Posture.NORMAL
        complete = bool(rng.random() > 0.1)
        without = decide(_inputs(record, values, posture, complete, plain))
        with_ = decide(_inputs(record, values, posture, complete, shadowed))
        # identical outcome, reason codes, intents, score and bundle: only `shadow` differs
        assert with_.model_copy(update={"shadow": None}) == without
        assert without.shadow is None
        if not posture.uses_model or posture is Posture.FAIL_CLOSED:
            assert with_.shadow is None  # no model runs under RULES_ONLY or FAIL_CLOSED
            continue
        expected = shadow.scorer.score(values)
        assert with_.shadow is not None
        assert with_.shadow.bundle == shadow.ref
        assert with_.shadow.score == expected.score
        # the would-be outcome: the shadow's band, then the same guardrails and floor
        floor = evaluate_guardrails(PROFILE.policy.decision.guardrails, values)[0]
        if not complete:
            floor = max(floor, DecisionOutcome(PROFILE.policy.decision.incomplete_snapshot_outcome),
                        key=lambda o: o.friction)
        assert with_.shadow.outcome == max(DecisionOutcome(expected.outcome_band), floor,
                                           key=lambda o: o.friction)
        assert with_.shadow.reason_codes == expected.reason_codes
        seen_bands.add(expected.outcome_band)
        scored += 1
        differ += with_.shadow.outcome != with_.outcome
    assert scored > 300
    assert len(seen_bands) >= 3  # the check covered shadows that would have decided differently
    assert differ > 0


def test_the_shadow_is_on_the_wire_and_round_trips() -> None:
    _, plain, shadow = _pairs()[0]
    record = _real_decisions()[0]
    values = dict(record.snapshot.values)
    made = decide(_inputs(record, values, Posture.NORMAL, True, _with_shadow(plain, shadow)))
    assert made.shadow is not None
    assert DecisionRecord.model_validate_json(made.model_dump_json()) == made


def test_an_unusable_shadow_only_adds_shadow_unavailable() -> None:
    _, plain, _ = _pairs()[0]
    binding, codes = resolve_shadow((bundle_ref(model_bundle(train(rows=480, seed=21))),
                                     model_bundle(train(rows=480, seed=21),
                                                  features=["card.count_5m", "nope.missing",
                                                            "card.count_1h"])),
                                    PROVIDED_FEATURES)
    assert (binding, codes) == (None, (ReasonCode.SHADOW_UNAVAILABLE.value,))
    record = _real_decisions()[0]
    values = dict(record.snapshot.values)
    without = decide(_inputs(record, values, Posture.NORMAL, True, plain))
    with_ = decide(_inputs(record, values, Posture.NORMAL, True,
                           _with_shadow(plain, None, codes)))
    assert with_.shadow is None and with_.outcome == without.outcome
    assert with_.intents == without.intents
    assert [c for c in with_.reason_codes if c != "SHADOW_UNAVAILABLE"] \
        == list(without.reason_codes)
    assert "SHADOW_UNAVAILABLE" in with_.reason_codes


async def test_the_hot_path_resolves_active_and_shadow_from_the_registry(tmp_path: Path) -> None:
    text = train()
    model = model_bundle(text)
    policy = PROFILE.policy.decision
    async with LocalObjectStore(tmp_path / "objects") as store:
        registry = RegistryStore(store)
        plain = await resolve_scope(registry, policy)
        assert plain.resolution.shadow is None and plain.resolution.shadow_reason_codes == ()
        await registry.put_model(text)
        model_ref = await registry.put_bundle(model)
        change = await registry.set_shadow(policy.scope, model_ref.digest.hex, at_utc=AT,
                                           reason="compare", actor="t")
        scope = await resolve_scope(registry, policy)
        assert scope.shadow_change == change
        shadow = scope.resolution.shadow
        assert shadow is not None and shadow.ref == model_ref
        assert scope.resolution.ref == bootstrap_pair()[0]  # ACTIVE unchanged
        values: dict[str, FeatureValue] = {"card.count_5m": 3, "txn.amount_minor": 50_000}
        assert shadow.scorer.score(values) == scorer_for(model, text).score(values)

        await registry.activate(policy.scope, model_ref.digest.hex, at_utc=AT, reason="go",
                                actor="t")
        active = (await resolve_scope(registry, policy)).resolution
        assert active.ref == model_ref and active.reason_codes == ()
        scorer: Scorer | None = active.scorer
        assert scorer is not None and scorer.score(values).score == shadow.scorer.score(
            values).score


async def test_a_shadow_whose_model_is_gone_is_unavailable_not_fatal(tmp_path: Path) -> None:
    text = train(rows=520, seed=23)  # never loaded before in this process
    model = model_bundle(text)
    policy = PROFILE.policy.decision
    async with LocalObjectStore(tmp_path / "objects") as store:
        registry = RegistryStore(store)
        await registry.put_model(text)
        model_ref = await registry.put_bundle(model)
        await registry.set_shadow(policy.scope, model_ref.digest.hex, at_utc=AT,
                                  reason="compare", actor="t")
        (path,) = (tmp_path / "objects").rglob(f"{model.model_digest.hex}.txt*")
        path.unlink()
        resolution = (await resolve_scope(registry, policy)).resolution
    assert resolution.shadow is None
    assert resolution.shadow_reason_codes == (ReasonCode.SHADOW_UNAVAILABLE.value,)
    assert resolution.ref == bootstrap_pair()[0] and resolution.reason_codes == ()
