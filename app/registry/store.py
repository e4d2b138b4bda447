"""The Registry's storage: content-addressed bundles and an append-only activation log.

The Registry is the sole owner of "which model is live" (DESIGN section 1). Everything it knows
sits in the platform object store, written create-only:

- ``registry/bundles/<digest hex>.json``: a bundle's canonical JSON; its key *is* its digest, so
  storing the same bundle twice is a no-op and a different bundle can never take its place;
- ``registry/models/<sha256 hex>.txt``: a model bundle's LightGBM text model, by the digest of
  its bytes (never a pickle); a model bundle is stored only once its model is;
- ``registry/activations/<scope>/<seq:010d>.json``: the scope's history, one object per change,
  numbered from 1: an :class:`Activation` (``action`` ``activate`` or ``rollback``) or a
  :class:`ShadowChange` (a SHADOW bundle set, or cleared), each with who (``actor``) and why
  (``reason``). The ACTIVE bundle is the one named by the newest activation, the SHADOW by the
  newest shadow change; nothing is rewritten, so the log is the scope's full history
  (:meth:`RegistryStore.history`). Two writers racing for the same ``seq`` cannot both win
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
        ├── ModelNotFoundError        no stored model text has that digest
        └── ActivationConflictError   the log kept moving under concurrent writers

The caller publishes a governance fact for each change (:func:`activation_fact`,
:func:`shadow_fact`); the hot path's workers announce what they see.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from app.objectstore.base import ObjectStore
from app.rails.bundle import (
    BundleInvalidError,
    ModelBundle,
    ScorecardBundle,
    bundle_bytes,
    bundle_ref,
    parse_bundle,
)
from app.rails.canonical_json import canonical_dumps, canonical_loads
from app.rails.decision import BundleRef
from app.rails.digests import Digest, digest_bytes
from app.rails.errors import FraudPlatformError, ObjectExistsError, ObjectNotFoundError
from app.rails.governance import FactType, GovernanceFact, governance_fact
from app.rails.policy_rev import PolicyRev
from app.rails.timefmt import TsUtc
from app.registry.resolver import bootstrap_pair

__all__ = [
    "ACTIVATIONS_PREFIX",
    "BUNDLES_PREFIX",
    "MODELS_PREFIX",
    "Activation",
    "ActivationConflictError",
    "BundleNotFoundError",
    "BundleRefInvalidError",
    "BundleScopeMismatchError",
    "HistoryEntry",
    "ModelNotFoundError",
    "NoActiveBundleError",
    "RegistryError",
    "RegistryStore",
    "ShadowChange",
    "activation_fact",
    "shadow_fact",
]

BUNDLES_PREFIX = "registry/bundles"
ACTIVATIONS_PREFIX = "registry/activations"
MODELS_PREFIX = "registry/models"
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


class ModelNotFoundError(RegistryError):
    reason_code = "MODEL_NOT_FOUND"


_Actor = Annotated[str, StringConstraints(min_length=1, max_length=200)]


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
    action: Literal["activate", "promote", "rollback"] = Field(
        default="activate", description="'rollback': back to the bundle the last one replaced.")
    actor: _Actor | None = Field(default=None, description="Who (None in entries written "
                                                           "before actors were recorded).")


class ShadowChange(BaseModel):
    """An entry of a scope's history: from ``seq`` on, ``digest`` is the SHADOW bundle of
    ``scope`` (None: no shadow any more). ``previous`` is the shadow it replaced."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    record_type: Literal["shadow_change"] = "shadow_change"
    schema_version: Literal["v1"] = "v1"
    scope: _Slug
    seq: int = Field(ge=1, le=9_999_999_999)
    digest: Digest | None
    bundle_id: _Slug | None
    version: int | None = Field(ge=1)
    previous: Digest | None
    changed_at_utc: TsUtc = Field(description="Apply clock: when the change was recorded.")
    actor: _Actor
    reason: str = Field(min_length=1, max_length=1000)


HistoryEntry = Activation | ShadowChange
"""One entry of a scope's history (:meth:`RegistryStore.history`)."""

_Entry = TypeVar("_Entry", Activation, ShadowChange)


def _bundle_key(digest_hex: str) -> str:
    return f"{BUNDLES_PREFIX}/{digest_hex}.json"


def _model_key(digest_hex: str) -> str:
    return f"{MODELS_PREFIX}/{digest_hex}.txt"


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

    @property
    def object_store(self) -> ObjectStore:
        """The store the registry lives in (its promotion evidence lives there too)."""
        return self._store

    async def put_model(self, text: bytes) -> Digest:
        """Store a LightGBM text model under the sha256 of its bytes (create-only, idempotent).

        The text is stored as given: a model bundle names it by that digest (``model_digest``).
        """
        digest = digest_bytes(text)
        await self._store.put(_model_key(digest.hex), bytes(text))
        return digest

    async def get_model(self, digest: Digest | str) -> bytes:
        """A model's text, checked against ``digest`` (a Digest or its hex).

        Raises:
            BundleRefInvalidError: ``digest`` is not 64 lowercase hex characters.
            ModelNotFoundError: no model has that digest.
            DigestMismatchError: the stored bytes were changed.
        """
        digest_hex = _digest_hex(digest)
        try:
            return await self._store.get(_model_key(digest_hex),
                                         Digest(algo="sha256", hex=digest_hex))
        except ObjectNotFoundError:
            raise ModelNotFoundError(
                f"no model sha256:{digest_hex} in the registry; store it with "
                "'fp registry put BUNDLE --model MODEL.txt'") from None

    async def put_bundle(self, bundle: ScorecardBundle | ModelBundle) -> BundleRef:
        """Store ``bundle`` under its digest (idempotent) and return its ref.

        Raises:
            ModelNotFoundError: a model bundle whose model text is not stored yet
                (:meth:`put_model` first).
        """
        if isinstance(bundle, ModelBundle) and not await self._store.exists(
                _model_key(bundle.model_digest.hex)):
            raise ModelNotFoundError(
                f"bundle {bundle.bundle_id}@{bundle.version} names model "
                f"sha256:{bundle.model_digest.hex}, which the registry does not hold; store "
                "the model text first ('fp registry put BUNDLE --model MODEL.txt')")
        ref = bundle_ref(bundle)
        await self._store.put(_bundle_key(ref.digest.hex), bundle_bytes(bundle))
        return ref

    async def get_bundle(self, ref: BundleRef | Digest | str) -> ScorecardBundle | ModelBundle:
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

    async def history(self, scope: str) -> list[HistoryEntry]:
        """Every change of ``scope`` (activations, rollbacks, shadow changes), oldest first."""
        return [await self._read_entry(scope, seq) for seq in await self._seqs(scope)]

    async def activations(self, scope: str) -> list[Activation]:
        """A scope's activations (rollbacks included), oldest first."""
        return [e for e in await self.history(scope) if isinstance(e, Activation)]

    async def latest_activation(self, scope: str) -> Activation | None:
        """The newest activation of ``scope``, or None if never activated."""
        return await self._latest(scope, Activation)

    async def latest_shadow_change(self, scope: str) -> ShadowChange | None:
        """The newest shadow change of ``scope`` (its ``digest`` is None when cleared)."""
        return await self._latest(scope, ShadowChange)

    async def _latest(self, scope: str, kind: type[_Entry]) -> _Entry | None:
        for seq in reversed(await self._seqs(scope)):
            entry = await self._read_entry(scope, seq)
            if isinstance(entry, kind):
                return entry
        return None

    async def activate(self, scope: str, digest_hex: str, *, at_utc: str, reason: str,
                       actor: str = "unknown",
                       action: Literal["activate", "promote", "rollback"] = "activate"
                       ) -> Activation:
        """Append an activation making bundle ``digest_hex`` ACTIVE in ``scope``.

        This is the one way to change the ACTIVE bundle; a promotion gate calls it once its
        checks pass.

        Args:
            scope: the registry scope; must equal the bundle's own scope.
            digest_hex: the bundle's digest (it must be readable from the registry).
            at_utc: apply clock, ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, supplied by the caller.
            reason: why, in words, for the governance trail.
            actor: who (a person or a tool), for the governance trail.
            action: ``rollback`` when going back (see :meth:`rollback`).

        Raises:
            BundleNotFoundError, BundleRefInvalidError: the bundle cannot be read.
            BundleScopeMismatchError: the bundle was built for another scope.
            ActivationConflictError: the ``seq`` race was lost too many times in a row.
        """
        bundle = await self._scoped_bundle(scope, digest_hex)
        ref = await self.put_bundle(bundle)  # the bootstrap may not be stored yet

        async def entry(seq: int) -> Activation:
            latest = await self.latest_activation(scope)
            if latest is not None:
                previous: Digest | None = latest.digest
            else:
                boot_ref = bootstrap_pair()[0]
                previous = boot_ref.digest if boot_ref.scope == scope else None
            return Activation(
                scope=scope, seq=seq, digest=ref.digest, bundle_id=bundle.bundle_id,
                version=bundle.version, previous=previous, activated_at_utc=at_utc,
                reason=reason, action=action, actor=actor)

        return await self._append(scope, f"activation of {bundle.bundle_id}@{bundle.version}",
                                  entry)

    async def rollback(self, scope: str, *, at_utc: str, reason: str,
                       actor: str = "unknown") -> Activation:
        """Make the bundle the newest activation replaced ACTIVE again (``action`` rollback).

        Raises:
            RegistryError: ``NOTHING_TO_ROLL_BACK`` when the scope was never activated, or its
                first activation replaced nothing.
        """
        latest = await self.latest_activation(scope)
        if latest is None or latest.previous is None:
            raise RegistryError(f"scope {scope!r} has no earlier ACTIVE bundle to roll back to; "
                                "see 'fp registry history --scope " + scope + "'",
                                reason_code="NOTHING_TO_ROLL_BACK")
        return await self.activate(scope, latest.previous.hex, at_utc=at_utc, reason=reason,
                                   actor=actor, action="rollback")

    async def set_shadow(self, scope: str, digest_hex: str, *, at_utc: str, reason: str,
                         actor: str = "unknown") -> ShadowChange:
        """Make bundle ``digest_hex`` the SHADOW of ``scope``: DF scores it on every decision
        that runs a model and records the score, never acting on it.

        Raises:
            BundleNotFoundError, BundleRefInvalidError, BundleScopeMismatchError: as
                :meth:`activate`.
            ActivationConflictError: the ``seq`` race was lost too many times in a row.
        """
        bundle = await self._scoped_bundle(scope, digest_hex)
        ref = await self.put_bundle(bundle)
        return await self._append_shadow(scope, ref, at_utc=at_utc, reason=reason, actor=actor)

    async def clear_shadow(self, scope: str, *, at_utc: str, reason: str,
                           actor: str = "unknown") -> ShadowChange:
        """End the SHADOW of ``scope``.

        Raises:
            RegistryError: ``SHADOW_NOT_SET`` when the scope has no SHADOW bundle.
        """
        latest = await self.latest_shadow_change(scope)
        if latest is None or latest.digest is None:
            raise RegistryError(f"scope {scope!r} has no SHADOW bundle to clear",
                                reason_code="SHADOW_NOT_SET")
        return await self._append_shadow(scope, None, at_utc=at_utc, reason=reason, actor=actor)

    async def _append_shadow(self, scope: str, ref: BundleRef | None, *, at_utc: str,
                             reason: str, actor: str) -> ShadowChange:
        async def entry(seq: int) -> ShadowChange:
            latest = await self.latest_shadow_change(scope)
            return ShadowChange(
                scope=scope, seq=seq, digest=None if ref is None else ref.digest,
                bundle_id=None if ref is None else ref.bundle_id,
                version=None if ref is None else ref.version,
                previous=None if latest is None else latest.digest,
                changed_at_utc=at_utc, actor=actor, reason=reason)

        what = "clearing the shadow" if ref is None else f"shadow {ref.bundle_id}@{ref.version}"
        return await self._append(scope, what, entry)

    async def _scoped_bundle(self, scope: str, digest_hex: str) -> ScorecardBundle | ModelBundle:
        bundle = await self.get_bundle(digest_hex)
        if bundle.scope != scope:
            raise BundleScopeMismatchError(
                f"bundle {bundle.bundle_id} v{bundle.version} is for scope {bundle.scope!r}, "
                f"not {scope!r}; use it in its own scope"
            )
        return bundle

    async def _append(self, scope: str, what: str,
                      entry: Callable[[int], Awaitable[_Entry]]) -> _Entry:
        """Write ``entry(next seq)`` create-only; re-read and retry when a rival took the seq."""
        for _ in range(MAX_ACTIVATION_ATTEMPTS):
            seqs = await self._seqs(scope)
            try:
                record = await entry((seqs[-1] + 1) if seqs else 1)
            except ValidationError as exc:
                raise RegistryError(f"{what} in {scope!r} is invalid: {_first_problem(exc)}",
                                    reason_code="ACTIVATION_INVALID") from exc
            body = canonical_dumps(record.model_dump(mode="json"))
            try:
                await self._store.put(_activation_key(scope, record.seq), body)
            except ObjectExistsError:
                continue  # another writer took this seq: re-read the log, take the next one
            return record
        raise ActivationConflictError(
            f"scope {scope!r}: lost the history race {MAX_ACTIVATION_ATTEMPTS} times in a "
            "row; check who else is changing this scope, then retry"
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

    async def shadow_bundle(self, scope: str
                            ) -> tuple[BundleRef, ScorecardBundle | ModelBundle,
                                       ShadowChange] | None:
        """The SHADOW bundle of ``scope`` with the change that set it, or None (never set or
        cleared).

        Raises:
            BundleNotFoundError, DigestMismatchError: the shadow bundle cannot be read.
        """
        change = await self.latest_shadow_change(scope)
        if change is None or change.digest is None:
            return None
        bundle = await self.get_bundle(change.digest)
        return bundle_ref(bundle), bundle, change

    async def active_bundle(self, scope: str
                            ) -> tuple[BundleRef, ScorecardBundle | ModelBundle,
                                       Activation | None]:
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

    async def _read_entry(self, scope: str, seq: int) -> HistoryEntry:
        key = _activation_key(scope, seq)
        try:
            body = canonical_loads(await self._store.get(key))
            model: type[Activation] | type[ShadowChange] = (
                ShadowChange if isinstance(body, dict)
                and body.get("record_type") == "shadow_change" else Activation)
            entry = model.model_validate(body)
        except (ValidationError, ValueError) as exc:  # orjson's JSONDecodeError is a ValueError
            raise RegistryError(f"history object {key} is unreadable: {exc}".splitlines()[0],
                                reason_code="ACTIVATION_INVALID") from exc
        if (entry.scope, entry.seq) != (scope, seq):
            raise RegistryError(
                f"history object {key} says scope {entry.scope!r} seq {entry.seq}; "
                "the log was written by something else than the registry"
            )
        return entry


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
        details=_details(activation),
    )


def _details(entry: HistoryEntry) -> dict[str, object]:
    details: dict[str, object] = {"bundle_id": entry.bundle_id, "version": entry.version,
                                  "seq": entry.seq, "reason": entry.reason}
    if isinstance(entry, Activation) and entry.action != "activate":
        details["action"] = entry.action
    if entry.actor is not None:  # absent from entries written before actors were recorded
        details["actor"] = entry.actor
    return details


def shadow_fact(change: ShadowChange, policy_rev: PolicyRev) -> GovernanceFact:
    """The ``SHADOW_CHANGED`` governance fact for ``change``, for the caller to publish.

    ``from_value`` is the previous shadow's digest hex (None: there was none), ``to_value`` the
    new one's, or ``"none"`` when the shadow was cleared; the id is a function of the content.
    """
    return governance_fact(
        FactType.SHADOW_CHANGED,
        change.scope,
        change.previous.hex if change.previous is not None else None,
        change.digest.hex if change.digest is not None else "none",
        (),
        policy_rev,
        change.changed_at_utc,
        details=_details(change),
    )
