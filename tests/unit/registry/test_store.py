"""Bundles by digest and the append-only activation log on a real local object store."""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from app.objectstore.local import OBJECT_FILE_SUFFIX, LocalObjectStore
from app.rails.bundle import BundleInvalidError, bundle_bytes, bundle_ref
from app.rails.canonical_json import canonical_loads, pretty_dumps, sha256_hex
from app.rails.errors import DigestMismatchError
from app.rails.governance import FactType
from app.rails.policy_rev import policy_rev_of
from app.registry.resolver import bootstrap_pair
from app.registry.store import (
    ACTIVATIONS_PREFIX,
    ActivationConflictError,
    BundleNotFoundError,
    BundleRefInvalidError,
    BundleScopeMismatchError,
    NoActiveBundleError,
    RegistryError,
    RegistryStore,
    activation_fact,
)
from tests.unit.registry.test_bundle import make_bundle

AT = "2025-03-03T10:00:00.000000Z"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[LocalObjectStore]:
    async with LocalObjectStore(tmp_path / "objects") as s:
        yield s


@pytest.fixture
def registry(store: LocalObjectStore) -> RegistryStore:
    return RegistryStore(store)


async def test_put_then_get_round_trips_by_ref_digest_or_hex(registry: RegistryStore) -> None:
    bundle = make_bundle()
    ref = await registry.put_bundle(bundle)
    assert ref == bundle_ref(bundle)
    assert await registry.get_bundle(ref) == bundle
    assert await registry.get_bundle(ref.digest) == bundle
    assert await registry.get_bundle(ref.digest.hex) == bundle
    assert await registry.get_bundle(f"sha256:{ref.digest.hex}") == bundle


async def test_put_is_idempotent_and_keyed_by_digest(registry: RegistryStore,
                                                     store: LocalObjectStore) -> None:
    ref = await registry.put_bundle(make_bundle())
    assert await registry.put_bundle(make_bundle()) == ref
    assert await store.list("registry/bundles") == [f"registry/bundles/{ref.digest.hex}.json"]


async def test_tampered_bundle_fails_to_read(registry: RegistryStore, tmp_path: Path) -> None:
    ref = await registry.put_bundle(make_bundle())
    path = tmp_path / "objects" / "registry" / "bundles" / f"{ref.digest.hex}.json"
    path = path.with_name(path.name + OBJECT_FILE_SUFFIX)
    path.write_bytes(path.read_bytes().replace(b'"points":30', b'"points":99'))
    with pytest.raises(DigestMismatchError):
        await registry.get_bundle(ref)


async def test_unknown_and_malformed_digests(registry: RegistryStore) -> None:
    with pytest.raises(BundleNotFoundError):
        await registry.get_bundle("0" * 64)
    with pytest.raises(BundleRefInvalidError):
        await registry.get_bundle("not-a-digest")


async def test_ref_that_disagrees_with_the_stored_bundle_is_refused(
        registry: RegistryStore) -> None:
    ref = await registry.put_bundle(make_bundle())
    with pytest.raises(BundleNotFoundError, match="not what the ref"):
        await registry.get_bundle(ref.model_copy(update={"version": 7}))


async def test_list_holds_stored_bundles_and_the_bootstrap(registry: RegistryStore) -> None:
    boot_ref = bootstrap_pair()[0]
    assert await registry.list_bundles() == [boot_ref]
    ref1 = await registry.put_bundle(make_bundle())
    ref2 = await registry.put_bundle(make_bundle(version=2))
    ref_other = await registry.put_bundle(make_bundle(scope="card-not-present"))
    assert await registry.list_bundles() == [boot_ref, ref1, ref2, ref_other]


async def test_unactivated_scope_serves_the_bootstrap_and_stores_it(
        registry: RegistryStore, store: LocalObjectStore) -> None:
    boot_ref, boot = bootstrap_pair()
    assert await registry.active("auth") == (boot_ref, None)
    assert await store.exists(f"registry/bundles/{boot_ref.digest.hex}.json")
    assert await registry.active_bundle("auth") == (boot_ref, boot, None)


async def test_scope_without_activation_or_bootstrap_has_no_active_bundle(
        registry: RegistryStore) -> None:
    with pytest.raises(NoActiveBundleError) as info:
        await registry.active("card-not-present")
    assert info.value.reason_code == "BUNDLE_UNRESOLVED"


async def test_activation_log_is_append_only_and_newest_wins(
        registry: RegistryStore, store: LocalObjectStore) -> None:
    boot_ref = bootstrap_pair()[0]
    ref1 = await registry.put_bundle(make_bundle())
    ref2 = await registry.put_bundle(make_bundle(version=2))
    first = await registry.activate("auth", ref1.digest.hex, at_utc=AT, reason="first model")
    second = await registry.activate("auth", ref2.digest.hex, at_utc=AT, reason="retrain")
    assert (first.seq, first.previous, first.digest) == (1, boot_ref.digest, ref1.digest)
    assert (second.seq, second.previous, second.digest) == (2, ref1.digest, ref2.digest)
    assert await registry.active("auth") == (ref2, second)
    rollback = await registry.activate("auth", ref1.digest.hex, at_utc=AT, reason="rollback")
    assert (rollback.seq, rollback.previous) == (3, ref2.digest)
    assert await registry.active("auth") == (ref1, rollback)
    assert [a.seq for a in await registry.activations("auth")] == [1, 2, 3]
    assert await store.list(f"{ACTIVATIONS_PREFIX}/auth") == [
        f"{ACTIVATIONS_PREFIX}/auth/{n:010d}.json" for n in (1, 2, 3)]


async def test_activating_the_bootstrap_stores_it_first(registry: RegistryStore,
                                                        store: LocalObjectStore) -> None:
    boot_ref = bootstrap_pair()[0]
    activation = await registry.activate("auth", boot_ref.digest.hex, at_utc=AT, reason="pin")
    assert activation.digest == boot_ref.digest
    assert await store.exists(f"registry/bundles/{boot_ref.digest.hex}.json")


async def test_activation_in_another_scope_is_refused(registry: RegistryStore) -> None:
    ref = await registry.put_bundle(make_bundle())
    with pytest.raises(BundleScopeMismatchError):
        await registry.activate("card-not-present", ref.digest.hex, at_utc=AT, reason="x")


async def test_activation_of_an_unknown_bundle_is_refused(registry: RegistryStore) -> None:
    with pytest.raises(BundleNotFoundError):
        await registry.activate("auth", "1" * 64, at_utc=AT, reason="x")


@pytest.mark.parametrize(("at_utc", "reason"), [("2025-03-03T10:00:00Z", "x"), (AT, "")])
async def test_malformed_activation_is_refused(registry: RegistryStore, at_utc: str,
                                               reason: str) -> None:
    ref = await registry.put_bundle(make_bundle())
    with pytest.raises(RegistryError) as info:
        await registry.activate("auth", ref.digest.hex, at_utc=at_utc, reason=reason)
    assert info.value.reason_code == "ACTIVATION_INVALID"


async def test_malformed_scope_is_refused(registry: RegistryStore) -> None:
    with pytest.raises(RegistryError) as info:
        await registry.latest_activation("../etc")
    assert info.value.reason_code == "SCOPE_INVALID"


class _RacingStore(LocalObjectStore):
    """Runs a rival writer right after our first read of the activation log (a stale read)."""

    def __init__(self, root: Path, rival: Callable[[], Awaitable[object]]) -> None:
        super().__init__(root)
        self._rival: Callable[[], Awaitable[object]] | None = rival

    async def list(self, prefix: str = "") -> builtins.list[str]:
        keys = await super().list(prefix)
        if prefix.startswith(ACTIVATIONS_PREFIX) and self._rival is not None:
            rival, self._rival = self._rival, None
            await rival()
        return keys


async def test_losing_the_seq_race_retries_with_the_next_seq(tmp_path: Path) -> None:
    root = tmp_path / "objects"
    async with LocalObjectStore(root) as plain:
        rival_registry = RegistryStore(plain)
        ref_rival = await rival_registry.put_bundle(make_bundle(version=2))

        async def rival() -> object:
            return await rival_registry.activate("auth", ref_rival.digest.hex, at_utc=AT,
                                                 reason="the other writer")

        async with _RacingStore(root, rival) as racing:
            registry = RegistryStore(racing)
            ours = await registry.put_bundle(make_bundle())
            activation = await registry.activate("auth", ours.digest.hex, at_utc=AT,
                                                 reason="ours")
            assert (activation.seq, activation.previous) == (2, ref_rival.digest)
            log = await registry.activations("auth")
            assert [(a.seq, a.reason) for a in log] == [(1, "the other writer"), (2, "ours")]
            assert (await registry.active("auth"))[0] == ours


class _BlindStore(LocalObjectStore):
    """Never sees the activation log, so every attempt collides with seq 1."""

    async def list(self, prefix: str = "") -> builtins.list[str]:
        keys = await super().list(prefix)
        return [] if prefix.startswith(ACTIVATIONS_PREFIX) else keys


async def test_endless_conflicts_end_in_a_clear_error(tmp_path: Path) -> None:
    root = tmp_path / "objects"
    async with LocalObjectStore(root) as plain:
        registry = RegistryStore(plain)
        ref = await registry.put_bundle(make_bundle())
        await registry.activate("auth", ref.digest.hex, at_utc=AT, reason="first")
    async with _BlindStore(root) as blind:
        with pytest.raises(ActivationConflictError):
            await RegistryStore(blind).activate("auth", ref.digest.hex, at_utc=AT,
                                                reason="second")


async def test_concurrent_activations_each_get_their_own_seq(registry: RegistryStore) -> None:
    refs = [await registry.put_bundle(make_bundle(version=v)) for v in (1, 2, 3)]
    done = await asyncio.gather(*(
        registry.activate("auth", r.digest.hex, at_utc=AT, reason=f"v{r.version}")
        for r in refs))
    assert sorted(a.seq for a in done) == [1, 2, 3]
    log = await registry.activations("auth")
    assert [a.seq for a in log] == [1, 2, 3]
    assert log[1].previous == log[0].digest and log[2].previous == log[1].digest


async def test_resolve_ref_accepts_digest_prefix_and_id_at_version(
        registry: RegistryStore) -> None:
    ref = await registry.put_bundle(make_bundle())
    assert await registry.resolve_ref(ref.digest.hex) == ref
    assert await registry.resolve_ref(f"sha256:{ref.digest.hex[:10]}") == ref
    assert await registry.resolve_ref("test-scorecard@1") == ref
    assert await registry.resolve_ref("bootstrap-scorecard@2") == bootstrap_pair()[0]
    with pytest.raises(BundleNotFoundError):
        await registry.resolve_ref("test-scorecard@9")
    for bad in ("abc", "test-scorecard", "test-scorecard@0", "ZZZZZZZZ"):
        with pytest.raises(BundleRefInvalidError):
            await registry.resolve_ref(bad)


async def test_same_id_and_version_with_different_content_is_ambiguous(
        registry: RegistryStore) -> None:
    await registry.put_bundle(make_bundle())
    await registry.put_bundle(make_bundle(description="edited without a version bump"))
    with pytest.raises(BundleNotFoundError, match="ambiguous"):
        await registry.resolve_ref("test-scorecard@1")


async def test_activation_fact_names_previous_and_new_bundle(registry: RegistryStore) -> None:
    ref = await registry.put_bundle(make_bundle())
    activation = await registry.activate("auth", ref.digest.hex, at_utc=AT, reason="first",
                                         actor="alice")
    rev = policy_rev_of("fraud_platform", "r1", {"a": 1})
    fact = activation_fact(activation, rev)
    assert fact.fact_type is FactType.BUNDLE_ACTIVATED
    assert (fact.scope, fact.to_value, fact.at_utc) == ("auth", ref.digest.hex, AT)
    assert fact.from_value == bootstrap_pair()[0].digest.hex
    assert fact.details == {"bundle_id": "test-scorecard", "version": 1, "seq": 1,
                            "reason": "first", "actor": "alice"}
    assert activation_fact(activation, rev).fact_id == fact.fact_id


async def test_foreign_non_canonical_object_under_a_bundle_key_is_refused(
        registry: RegistryStore, store: LocalObjectStore) -> None:
    body = pretty_dumps(canonical_loads(bundle_bytes(make_bundle())))
    digest_hex = sha256_hex(body)
    await store.put(f"registry/bundles/{digest_hex}.json", body)
    with pytest.raises(BundleInvalidError, match="canonical"):
        await registry.get_bundle(digest_hex)
