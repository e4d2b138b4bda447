"""The Registry's storage: content-addressed bundles and an append-only activation log.

The Registry is the sole owner of "which model is live" (DESIGN section 1). Everything it knows
sits in the platform object store, written create-only:

- ``registry/bundles/<digest hex>.json``: a bundle's canonical JSON; its key *is* its digest, so
  storing the same bundle twice is a no-op and a different bundle can never take its place;
- ``registry/activations/<scope>/<seq:010d>.json``: one object per activation, numbered from 1.
  The ACTIVE bundle of a scope is the one named by the highest ``seq``; nothing is rewritten, so
  the log is the scope's full history. Two writers racing for the same ``seq`` cannot both win
  (create-only); the loser re-reads the log and takes the next number.

A scope that was never activated serves the bootstrap scorecard shipped in this package (stored
on first use, so its ref is readable like any other). Errors::

    FraudPlatformError
    └── RegistryError                 registry failures; reason_code says which (SCOPE_INVALID,
        │                             ACTIVATION_INVALID for a malformed scope or log entry)
        ├── BundleRefInvalidError     a ref that is neither a digest, a digest prefix nor ID@VERSION
        ├── BundleNotFoundError       no stored bundle matches the ref
        ├── BundleScopeMismatchError  activating a bundle in a scope it was not built for
        ├── NoActiveBundleError       a scope with no activation and no bootstrap bundle
        └── ActivationConflictError   the log kept moving under concurrent writers
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from app.objectstore.base import ObjectStore
from app.rails.bundle import (
    BundleInvalidError,
    ScorecardBundle,
    bundle_bytes,
    bundle_ref,
    parse_bundle,
)
from app.rails.canonical_json import canonical_dumps, canonical_loads
from app.rails.decision import BundleRef
from app.rails.digests import Digest
from app.rails.errors import FraudPlatformError, ObjectExistsError, ObjectNotFoundError
from app.rails.governance import FactType, GovernanceFact, governance_fact
from app.rails.policy_rev import PolicyRev
from app.rails.timefmt import TsUtc
from app.registry.resolver import bootstrap_pair

__all__ = [
    "ACTIVATIONS_PREFIX",
    "BUNDLES_PREFIX",
    "Activation",
    "ActivationConflictError",
    "BundleNotFoundError",
    "BundleRefInvalidError",
    "BundleScopeMismatchError",
    "NoActiveBundleError",
    "RegistryError",
    "RegistryStore",
    "activation_fact",
]

BUNDLES_PREFIX = "registry/bundles"
ACTIVATIONS_PREFIX = "registry/activations"
MAX_ACTIVATION_ATTEMPTS = 32
"""How often :meth:`RegistryStore.activate` retries after losing a ``seq`` race."""

_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX_PREFIX = re.compile(r"[0-9a-f]{8,63}")
_ID_AT_VERSION = re.compile(r"([a-z][a-z0-9_.-]{0,63})@([1-9][0-9]{0,8})")
_SEQ_FILE = re.compile(r"([0-9]{10})\.json")
_Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{0,63}$")]


class RegistryError(FraudPlatformError):
    """Base of registry failures; the message says what to do."""

    reason_code = "REGISTRY_ERROR"


class BundleRefInvalidError(RegistryError):
    reason_code = "BUNDLE_REF_INVALID"


class BundleNotFoundError(RegistryError):
    reason_code = "BUNDLE_NOT_FOUND"


class BundleScopeMismatchError(RegistryError):
    reason_code = "BUNDLE_SCOPE_MISMATCH"


class NoActiveBundleError(RegistryError):
    reason_code = "BUNDLE_UNRESOLVED"


class ActivationConflictError(RegistryError):
    reason_code = "ACTIVATION_CONFLICT"


class Activation(BaseModel):
    """One entry of a scope's activation log: from ``seq`` on, ``digest`` is ACTIVE in ``scope``.

    ``previous`` is the bundle that was ACTIVE when this one was activated (the bootstrap for a
    scope's first activation), so the log reads as a chain of governance facts.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    record_type: Literal["bundle_activation"] = "bundle_activation"
    schema_version: Literal["v1"] = "v1"
    scope: _Slug
    seq: int = Field(ge=1, le=9_999_999_999)
    digest: Digest
    bundle_id: _Slug
    version: int = Field(ge=1)
    previous: Digest | None
    activated_at_utc: TsUtc = Field(description="Apply clock: when the activation was recorded.")
    reason: str = Field(min_length=1, max_length=1000)


def _bundle_key(digest_hex: str) -> str:
    return f"{BUNDLES_PREFIX}/{digest_hex}.json"


def _activation_key(scope: str, seq: int) -> str:
    return f"{ACTIVATIONS_PREFIX}/{scope}/{seq:010d}.json"


def _digest_hex(ref: BundleRef | Digest | str) -> str:
    if isinstance(ref, BundleRef):
        return ref.digest.hex
    if isinstance(ref, Digest):
        return ref.hex
    text = ref.removeprefix("sha256:")
    if not _HEX64.fullmatch(text):
        raise BundleRefInvalidError(
            f"bundle digest {ref!r} is not 64 lowercase hex characters (optionally 'sha256:')"
        )
    return text


class RegistryStore:
    """Bundles and activations in an object store; every read is digest-verified."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store

    async def put_bundle(self, bundle: ScorecardBundle) -> BundleRef:
        """Store ``bundle`` under its digest (idempotent) and return its ref."""
        ref = bundle_ref(bundle)
        await self._store.put(_bundle_key(ref.digest.hex), bundle_bytes(bundle))
        return ref

    async def get_bundle(self, ref: BundleRef | Digest | str) -> ScorecardBundle:
        """Read a bundle by ref, digest or digest hex; the bytes are checked against the digest.

        The bootstrap bundle is always readable, stored yet or not.

        Raises:
            BundleRefInvalidError: ``ref`` is not a digest.
            BundleNotFoundError: no bundle has that digest.
            DigestMismatchError: the stored bytes were changed.
            BundleInvalidError: the stored object is not a canonical, valid bundle.
        """
        digest_hex = _digest_hex(ref)
        key = _bundle_key(digest_hex)
        try:
            data = await self._store.get(key, Digest(algo="sha256", hex=digest_hex))
        except ObjectNotFoundError:
            boot_ref, boot = bootstrap_pair()
            if boot_ref.digest.hex == digest_hex:
                return boot
            raise BundleNotFoundError(
                f"no bundle sha256:{digest_hex} in the registry; "
                "list bundles with 'fp registry list' or store one with 'fp registry put'"
            ) from None
        try:
            bundle = parse_bundle(canonical_loads(data), source=key)
        except ValueError as exc:  # orjson's JSONDecodeError
            raise BundleInvalidError(key, [f"not JSON: {exc}"]) from exc
        if bundle_bytes(bundle) != data:  # keeps "key digest == ref digest" for every reader
            raise BundleInvalidError(key, ["stored bytes are not the bundle's canonical JSON; "
                                           "store bundles with 'fp registry put' only"])
        if isinstance(ref, BundleRef) and bundle_ref(bundle) != ref:
            raise BundleNotFoundError(
                f"bundle sha256:{digest_hex} is {bundle.bundle_id} v{bundle.version} in scope "
                f"{bundle.scope}, not what the ref {ref.bundle_id} v{ref.version} claims"
            )
        return bundle

    async def list_bundles(self) -> list[BundleRef]:
        """Every bundle the registry can serve (stored ones and the bootstrap), by scope, id,
        version, digest."""
        refs = {bootstrap_pair()[0]}
        for key in await self._store.list(BUNDLES_PREFIX):
            name = key.rsplit("/", 1)[-1].removesuffix(".json")
            if _HEX64.fullmatch(name):
                refs.add(bundle_ref(await self.get_bundle(name)))
        return sorted(refs, key=lambda r: (r.scope, r.bundle_id, r.version, r.digest.hex))

    async def resolve_ref(self, text: str) -> BundleRef:
        """Turn what a person types into a ref: a digest (``sha256:`` optional), a unique digest
        prefix of 8+ hex characters, or ``BUNDLE_ID@VERSION``.

        Raises:
            BundleRefInvalidError: ``text`` has none of those forms.
            BundleNotFoundError: nothing matches, or more than one bundle does.
        """
        body = text.strip().removeprefix("sha256:")
        at = _ID_AT_VERSION.fullmatch(body)
        if _HEX64.fullmatch(body):
            return bundle_ref(await self.get_bundle(body))
        if not (at or _HEX_PREFIX.fullmatch(body)):
            raise BundleRefInvalidError(
                f"bundle ref {text!r} is malformed: use a sha256 digest (or its first 8+ hex "
                "characters) or BUNDLE_ID@VERSION, e.g. bootstrap-scorecard@1"
            )
        refs = await self.list_bundles()
        if at:
            found = [r for r in refs if (r.bundle_id, r.version) == (at[1], int(at[2]))]
        else:
            found = [r for r in refs if r.digest.hex.startswith(body)]
        if len(found) == 1:
            return found[0]
        if not found:
            raise BundleNotFoundError(f"no bundle matches {text!r}; see 'fp registry list'")
        options = ", ".join(f"sha256:{r.digest.hex[:12]}" for r in found)
        raise BundleNotFoundError(f"{text!r} is ambiguous ({options}); give the full digest")

    async def activations(self, scope: str) -> list[Activation]:
        """A scope's activation log, oldest first."""
        return [await self._read_activation(scope, seq) for seq in await self._seqs(scope)]

    async def latest_activation(self, scope: str) -> Activation | None:
        """The newest activation of ``scope`` (the highest ``seq``), or None if never activated."""
        seqs = await self._seqs(scope)
        return await self._read_activation(scope, seqs[-1]) if seqs else None

    async def activate(self, scope: str, digest_hex: str, *, at_utc: str,
                       reason: str) -> Activation:
        """Append an activation making bundle ``digest_hex`` ACTIVE in ``scope``.

        Args:
            scope: the registry scope; must equal the bundle's own scope.
            digest_hex: the bundle's digest (it must be readable from the registry).
            at_utc: apply clock, ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, supplied by the caller.
            reason: why, in words, for the governance trail.

        Raises:
            BundleNotFoundError, BundleRefInvalidError: the bundle cannot be read.
            BundleScopeMismatchError: the bundle was built for another scope.
            ActivationConflictError: the ``seq`` race was lost too many times in a row.
        """
        bundle = await self.get_bundle(digest_hex)
        if bundle.scope != scope:
            raise BundleScopeMismatchError(
                f"bundle {bundle.bundle_id} v{bundle.version} is for scope {bundle.scope!r}, "
                f"not {scope!r}; activate it in its own scope"
            )
        ref = await self.put_bundle(bundle)  # the bootstrap may not be stored yet
        for _ in range(MAX_ACTIVATION_ATTEMPTS):
            seqs = await self._seqs(scope)
            if seqs:
                previous: Digest | None = (await self._read_activation(scope, seqs[-1])).digest
            else:
                boot_ref = bootstrap_pair()[0]
                previous = boot_ref.digest if boot_ref.scope == scope else None
            try:
                activation = Activation(
                    scope=scope, seq=(seqs[-1] + 1) if seqs else 1, digest=ref.digest,
                    bundle_id=bundle.bundle_id, version=bundle.version, previous=previous,
                    activated_at_utc=at_utc, reason=reason)
            except ValidationError as exc:
                raise RegistryError(f"activation of {bundle.bundle_id}@{bundle.version} in "
                                    f"{scope!r} is invalid: {_first_problem(exc)}",
                                    reason_code="ACTIVATION_INVALID") from exc
            body = canonical_dumps(activation.model_dump(mode="json"))
            try:
                await self._store.put(_activation_key(scope, activation.seq), body)
            except ObjectExistsError:
                continue  # another writer took this seq: re-read the log, take the next one
            return activation
        raise ActivationConflictError(
            f"scope {scope!r}: lost the activation race {MAX_ACTIVATION_ATTEMPTS} times in a "
            "row; check who else is activating bundles, then retry"
        )

    async def active(self, scope: str) -> tuple[BundleRef, Activation | None]:
        """The ACTIVE bundle of ``scope`` and the activation that made it so.

        With no activation yet, the bootstrap bundle (stored on first use) with ``None``.

        Raises:
            NoActiveBundleError: the scope was never activated and the bootstrap is for another.
            BundleNotFoundError, DigestMismatchError: the activated bundle cannot be read.
        """
        ref, _bundle, activation = await self.active_bundle(scope)
        return ref, activation

    async def active_bundle(self, scope: str
                            ) -> tuple[BundleRef, ScorecardBundle, Activation | None]:
        """Like :meth:`active`, with the bundle itself (what the resolver takes)."""
        activation = await self.latest_activation(scope)
        if activation is not None:
            bundle = await self.get_bundle(activation.digest)
            return bundle_ref(bundle), bundle, activation
        boot_ref, boot = bootstrap_pair()
        if boot.scope != scope:
            raise NoActiveBundleError(
                f"scope {scope!r} has no activation and the bootstrap bundle is for scope "
                f"{boot.scope!r}; activate a bundle with 'fp registry activate'"
            )
        await self.put_bundle(boot)
        return boot_ref, boot, None

    async def _seqs(self, scope: str) -> list[int]:
        folder = f"{ACTIVATIONS_PREFIX}/{_checked_scope(scope)}"
        seqs = []
        for key in await self._store.list(folder):
            match = _SEQ_FILE.fullmatch(key.rsplit("/", 1)[-1])
            if match and key.count("/") == folder.count("/") + 1:
                seqs.append(int(match[1]))
        return sorted(seqs)

    async def _read_activation(self, scope: str, seq: int) -> Activation:
        key = _activation_key(scope, seq)
        try:
            activation = Activation.model_validate(canonical_loads(await self._store.get(key)))
        except (ValidationError, ValueError) as exc:  # orjson's JSONDecodeError is a ValueError
            raise RegistryError(f"activation object {key} is unreadable: {exc}".splitlines()[0],
                                reason_code="ACTIVATION_INVALID") from exc
        if (activation.scope, activation.seq) != (scope, seq):
            raise RegistryError(
                f"activation object {key} says scope {activation.scope!r} seq {activation.seq}; "
                "the log was written by something else than the registry"
            )
        return activation


def _first_problem(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    return f"{'.'.join(str(p) for p in err['loc']) or '$'}: {err['msg']}"


def _checked_scope(scope: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_.-]{0,63}", scope):
        raise RegistryError(
            f"scope {scope!r} is malformed: lowercase letters, digits, '_', '.', '-' "
            "(starting with a letter), e.g. 'auth'", reason_code="SCOPE_INVALID")
    return scope


def activation_fact(activation: Activation, policy_rev: PolicyRev) -> GovernanceFact:
    """The ``BUNDLE_ACTIVATED`` governance fact for ``activation``, for the caller to publish.

    ``from_value``/``to_value`` are the previous and new bundle digests (hex); the fact id is a
    function of its content, so publishing the same activation twice dedupes.
    """
    return governance_fact(
        FactType.BUNDLE_ACTIVATED,
        activation.scope,
        activation.previous.hex if activation.previous is not None else None,
        activation.digest.hex,
        (),
        policy_rev,
        activation.activated_at_utc,
        details={"bundle_id": activation.bundle_id, "version": activation.version,
                 "seq": activation.seq, "reason": activation.reason},
    )
