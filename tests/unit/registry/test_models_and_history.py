"""Model texts by digest, SHADOW bundles, rollback and each scope's history (``RegistryStore``
on a real local object store, and ``fp registry put --model | shadow | rollback | history``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.objectstore.local import OBJECT_FILE_SUFFIX, LocalObjectStore
from app.rails.bundle import bundle_ref
from app.rails.digests import digest_bytes
from app.rails.errors import DigestMismatchError, ObjectExistsError
from app.rails.governance import FactType
from app.rails.policy_rev import policy_rev_of
from app.registry.resolver import bootstrap_pair
from app.registry.store import (
    MODELS_PREFIX,
    Activation,
    BundleScopeMismatchError,
    ModelNotFoundError,
    RegistryError,
    RegistryStore,
    ShadowChange,
    activation_fact,
    shadow_fact,
)
from app.scoring import LightGBMScorer, scorer_for
from tests.unit.registry.test_bundle import make_bundle
from tests.unit.registry.test_cli import fp, profile  # noqa: F401  # the profile fixture
from tests.unit.scoring.models import model_bundle, train

AT = "2026-12-04T10:00:00.000000Z"
REV = policy_rev_of("fraud_platform", "r1", {"a": 1})


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[LocalObjectStore]:
    async with LocalObjectStore(tmp_path / "objects") as s:
        yield s


@pytest.fixture
def registry(store: LocalObjectStore) -> RegistryStore:
    return RegistryStore(store)


async def test_model_text_is_stored_by_its_digest_and_read_back_verified(
        registry: RegistryStore, store: LocalObjectStore) -> None:
    text = train()
    digest = await registry.put_model(text)
    assert digest == digest_bytes(text)
    assert await store.list(MODELS_PREFIX) == [f"{MODELS_PREFIX}/{digest.hex}.txt"]
    assert await registry.get_model(digest) == text
    assert await registry.get_model(digest.hex) == text
    assert await registry.put_model(text) == digest  # idempotent
    scorer = scorer_for(model_bundle(text), await registry.get_model(digest))
    assert isinstance(scorer, LightGBMScorer)


async def test_model_storage_is_create_only_and_tampering_is_caught(
        registry: RegistryStore, store: LocalObjectStore, tmp_path: Path) -> None:
    text = train()
    digest = await registry.put_model(text)
    with pytest.raises(ObjectExistsError):  # nobody can put other bytes under that key
        await store.put(f"{MODELS_PREFIX}/{digest.hex}.txt", text + b"\n")
    (path,) = (tmp_path / "objects").rglob(f"{digest.hex}.txt{OBJECT_FILE_SUFFIX}")
    path.write_bytes(text.replace(b"objective=binary", b"objective=binarz"))
    with pytest.raises(DigestMismatchError):
        await registry.get_model(digest)
    with pytest.raises(ModelNotFoundError):
        await registry.get_model("0" * 64)


async def test_a_model_bundle_needs_its_model_stored_first(registry: RegistryStore) -> None:
    bundle = model_bundle()
    with pytest.raises(ModelNotFoundError, match="store the model text first"):
        await registry.put_bundle(bundle)
    await registry.put_model(train())
    ref = await registry.put_bundle(bundle)
    assert ref == bundle_ref(bundle)
    assert await registry.get_bundle(ref) == bundle
    assert ref in await registry.list_bundles()


async def test_shadow_set_clear_and_history_with_who_and_why(registry: RegistryStore) -> None:
    await registry.put_model(train())
    model_ref = await registry.put_bundle(model_bundle())
    card_ref = await registry.put_bundle(make_bundle())
    boot_ref = bootstrap_pair()[0]
    assert await registry.shadow_bundle("auth") is None

    first = await registry.activate("auth", card_ref.digest.hex, at_utc=AT, reason="pilot",
                                    actor="alice")
    shadow = await registry.set_shadow("auth", model_ref.digest.hex, at_utc=AT,
                                       reason="compare on live traffic", actor="bob")
    got = await registry.shadow_bundle("auth")
    assert got is not None and got[0] == model_ref and got[2] == shadow
    # the shadow never changes what is ACTIVE
    assert (await registry.active("auth"))[0] == card_ref
    assert await registry.latest_activation("auth") == first

    back = await registry.rollback("auth", at_utc=AT, reason="pilot too strict", actor="carol")
    assert (back.action, back.digest, back.previous) == ("rollback", boot_ref.digest,
                                                         card_ref.digest)
    assert (await registry.active("auth"))[0] == boot_ref
    cleared = await registry.clear_shadow("auth", at_utc=AT, reason="done", actor="bob")
    assert (cleared.digest, cleared.previous) == (None, model_ref.digest)
    assert await registry.shadow_bundle("auth") is None

    history = await registry.history("auth")
    assert [(type(e).__name__, e.seq, e.actor, e.reason) for e in history] == [
        ("Activation", 1, "alice", "pilot"),
        ("ShadowChange", 2, "bob", "compare on live traffic"),
        ("Activation", 3, "carol", "pilot too strict"),
        ("ShadowChange", 4, "bob", "done"),
    ]
    assert await registry.activations("auth") == [first, back]
    assert (await registry.active("auth"))[1] == back


async def test_shadow_refusals(registry: RegistryStore) -> None:
    with pytest.raises(RegistryError) as err:
        await registry.clear_shadow("auth", at_utc=AT, reason="x", actor="a")
    assert err.value.reason_code == "SHADOW_NOT_SET"
    other = await registry.put_bundle(make_bundle(scope="card-not-present"))
    with pytest.raises(BundleScopeMismatchError):
        await registry.set_shadow("auth", other.digest.hex, at_utc=AT, reason="x", actor="a")
    with pytest.raises(RegistryError) as err:
        await registry.rollback("auth", at_utc=AT, reason="x", actor="a")
    assert err.value.reason_code == "NOTHING_TO_ROLL_BACK"
    assert await registry.history("auth") == []


async def test_shadow_changes_are_governance_facts_like_activations(
        registry: RegistryStore) -> None:
    await registry.put_model(train())
    model_ref = await registry.put_bundle(model_bundle())
    set_ = await registry.set_shadow("auth", model_ref.digest.hex, at_utc=AT, reason="try",
                                     actor="bob")
    cleared = await registry.clear_shadow("auth", at_utc=AT, reason="stop", actor="bob")
    fact = shadow_fact(set_, REV)
    assert fact.fact_type is FactType.SHADOW_CHANGED
    assert (fact.scope, fact.from_value, fact.to_value) == ("auth", None, model_ref.digest.hex)
    assert fact.details == {"bundle_id": "tiny-gbm", "version": 1, "seq": 1, "reason": "try",
                            "actor": "bob"}
    off = shadow_fact(cleared, REV)
    assert (off.from_value, off.to_value) == (model_ref.digest.hex, "none")
    assert shadow_fact(set_, REV).fact_id == fact.fact_id != off.fact_id
    rolled = await registry.activate("auth", model_ref.digest.hex, at_utc=AT, reason="go",
                                     actor="alice")
    assert activation_fact(rolled, REV).details["actor"] == "alice"


async def test_entries_written_before_actors_were_recorded_still_read(
        registry: RegistryStore, store: LocalObjectStore) -> None:
    boot = bootstrap_pair()[0]
    old = {"record_type": "bundle_activation", "schema_version": "v1", "scope": "auth",
           "seq": 1, "digest": boot.digest.model_dump(), "bundle_id": boot.bundle_id,
           "version": boot.version, "previous": None, "activated_at_utc": AT, "reason": "old"}
    await store.put("registry/activations/auth/0000000001.json", json.dumps(old).encode())
    (entry,) = await registry.history("auth")
    assert isinstance(entry, Activation) and (entry.actor, entry.action) == (None, "activate")
    assert "actor" not in activation_fact(entry, REV).details


def test_cli_put_model_shadow_history(profile: str, tmp_path: Path,  # noqa: F811
                                      capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER", "dana")
    text = train()
    model = tmp_path / "model.txt"
    model.write_bytes(text)
    bundle_file = tmp_path / "bundle.json"
    bundle_file.write_text(model_bundle(text).model_dump_json())
    assert fp(profile, "put", str(bundle_file)) == 2  # its model is not stored yet
    assert "MODEL_NOT_FOUND" in capsys.readouterr().err
    assert fp(profile, "put", str(bundle_file), "--model", str(model)) == 0
    assert "lightgbm over 3 features" in capsys.readouterr().out
    wrong = tmp_path / "other.txt"
    wrong.write_bytes(train(rows=500, seed=99))
    assert fp(profile, "put", str(bundle_file), "--model", str(wrong)) == 2
    assert "model_digest" in capsys.readouterr().err

    assert fp(profile, "shadow", "tiny-gbm@1", "--scope", "auth", "--reason", "compare") == 0
    assert "SHADOW of scope auth is tiny-gbm@1" in capsys.readouterr().out
    assert fp(profile, "list") == 0
    marks = {line.split()[2]: line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]}
    assert marks == {"tiny-gbm@1": "SHADOW", "bootstrap-scorecard@2": "ACTIVE"}
    assert fp(profile, "shadow", "--clear", "--scope", "auth", "--actor", "erin") == 0
    assert fp(profile, "shadow", "--scope", "auth") == 2  # neither a REF nor --clear
    capsys.readouterr()

    assert fp(profile, "history", "--scope", "auth", "--json") == 0
    entries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(e["record_type"], e["actor"], e["reason"]) for e in entries] == [
        ("shadow_change", "dana", "compare"),
        ("shadow_change", "erin", "shadow cleared with fp registry shadow --clear"),
    ]
    assert entries[1]["digest"] is None
    assert [ShadowChange.model_validate(e).seq for e in entries] == [1, 2]
    assert fp(profile, "history", "--scope", "auth") == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "SHADOW" in lines[0] and "by dana: compare" in lines[0]
    assert "UNSHADOW" in lines[1]
