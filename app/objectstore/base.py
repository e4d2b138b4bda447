"""The object store interface: create-only, digest-verified, all-or-nothing objects.

Every rule the rails set for platform objects lives here once, so back ends cannot drift apart:
keys are validated (:mod:`app.objectstore.keys`), writes are create-only (the same bytes again are
a no-op, different bytes are refused), sizes are capped before anything is written, and every read
re-hashes the bytes and compares them with the digest recorded at write time (and with the
caller's ``expected`` digest, when the caller holds a by-ref locator). Back ends implement only the
raw primitives ``_put``, ``_get``, ``_head``, ``_list`` and ``_close``.
"""

from __future__ import annotations

import asyncio
import builtins
from abc import ABC, abstractmethod
from collections.abc import Iterable
from types import TracebackType
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.objectstore.keys import is_valid_key, key_problem, normalize_prefix, validate_key
from app.rails.digests import Digest, digest_bytes
from app.rails.errors import DigestMismatchError, ObjectStoreError, ObjectTooLargeError

__all__ = ["DEFAULT_MAX_OBJECT_BYTES", "ObjectRef", "ObjectStore"]

DEFAULT_MAX_OBJECT_BYTES = 64 * 1024 * 1024
"""Default per-object size limit in bytes (64 MiB): objects are read whole into memory."""

# Hashing 64 MiB takes ~0.1 s; above this size the hash runs in a worker thread so it does not
# stall the event loop, below it the thread hand-off would cost more than the hash.
_THREAD_HASH_BYTES = 256 * 1024


def _check_key(key: str) -> str:
    problem = key_problem(key)
    if problem is not None:
        raise ValueError(problem)  # pydantic turns ValueError into a ValidationError
    return key


class ObjectRef(BaseModel):
    """A by-ref locator for one stored object: where it is, what it hashes to, how big it is."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    key: Annotated[str, AfterValidator(_check_key)] = Field(
        description="Object key relative to the store root, e.g. 'ig/receipts/<id>.json'."
    )
    digest: Digest = Field(description="sha256 of the object's raw bytes.")
    size_bytes: int = Field(ge=0, description="Length of the object's raw bytes.")


async def _digest(data: bytes) -> Digest:
    if len(data) > _THREAD_HASH_BYTES:
        return await asyncio.to_thread(digest_bytes, data)
    return digest_bytes(data)


class ObjectStore(ABC):
    """Async, create-only object store; use as ``async with open_object_store(cfg) as store``.

    Readers see a whole object or none: back ends publish an object in one atomic step.
    """

    def __init__(self, *, max_object_bytes: int = DEFAULT_MAX_OBJECT_BYTES) -> None:
        if max_object_bytes <= 0:
            raise ValueError(f"max_object_bytes must be positive, got {max_object_bytes}")
        self.max_object_bytes = max_object_bytes
        self._closed = False

    async def put(self, key: str, data: bytes) -> ObjectRef:
        """Store ``data`` under ``key`` unless the key already holds it.

        Idempotent on (key, bytes): writing identical bytes again returns the same ref.

        Raises:
            InvalidObjectKeyError: the key breaks a key rule.
            ObjectTooLargeError: ``data`` is over ``max_object_bytes``; nothing was written.
            ObjectExistsError: the key holds different bytes, which stay untouched.
        """
        self._check_open(key)
        validate_key(key)
        if not isinstance(data, bytes):
            raise TypeError(f"object data must be bytes, not {type(data).__name__}")
        if len(data) > self.max_object_bytes:
            raise ObjectTooLargeError(
                key,
                f"{len(data)} bytes is over this store's limit of {self.max_object_bytes} "
                "bytes; nothing was written (split the object or raise max_object_bytes)",
            )
        ref = ObjectRef(key=key, digest=await _digest(data), size_bytes=len(data))
        return await self._put(ref, data)

    async def get(self, key: str, expected: Digest | None = None) -> bytes:
        """Read the object's bytes after checking them against the digest recorded at write time.

        Args:
            key: the object's key.
            expected: the digest the caller's locator promises, checked as well when given.

        Raises:
            ObjectNotFoundError: nothing is stored under ``key``.
            DigestMismatchError: the bytes differ from the recorded or the expected digest.
        """
        self._check_open(key)
        validate_key(key)
        data, recorded = await self._get(key)
        actual = await _digest(data)
        if actual != recorded:
            raise DigestMismatchError(
                key,
                f"stored bytes hash to sha256 {actual.hex} but the store recorded "
                f"{recorded.hex}: the object was changed outside the store; restore it from "
                "its source instead of rewriting it",
            )
        if expected is not None and expected != actual:
            raise DigestMismatchError(
                key,
                f"object has sha256 {actual.hex} but the caller expected {expected.hex}: "
                "the locator and the stored object disagree",
            )
        return data

    async def head(self, key: str) -> ObjectRef | None:
        """Return the recorded ref of ``key`` without reading its bytes, or ``None`` if absent.

        The recorded digest is not re-checked against the bytes here; :meth:`get` does that.
        """
        self._check_open(key)
        validate_key(key)
        return await self._head(key)

    async def exists(self, key: str) -> bool:
        """True when an object is stored under ``key``."""
        return await self.head(key) is not None

    async def list(self, prefix: str = "") -> builtins.list[str]:
        """Sorted keys under ``prefix`` (folder semantics: ``"a/b"`` means keys in ``a/b/``).

        An empty prefix lists every key. Back-end private files never appear.
        """
        self._check_open(prefix)
        folder = normalize_prefix(prefix)
        keys = await self._list(folder)
        return sorted({k for k in keys if k.startswith(folder) and is_valid_key(k)})

    async def close(self) -> None:
        """Release the back end's resources; later calls raise :class:`ObjectStoreError`."""
        if not self._closed:
            self._closed = True
            await self._close()

    async def __aenter__(self) -> Self:
        self._check_open("")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _check_open(self, key: str) -> None:
        if self._closed:
            raise ObjectStoreError(key, "the object store is closed; open a new one")

    @abstractmethod
    async def _put(self, ref: ObjectRef, data: bytes) -> ObjectRef:
        """Publish ``data`` (already validated and hashed as ``ref``) atomically, create-only."""

    @abstractmethod
    async def _get(self, key: str) -> tuple[bytes, Digest]:
        """Return the stored bytes and the digest recorded with them, or raise not-found."""

    @abstractmethod
    async def _head(self, key: str) -> ObjectRef | None:
        """Return the recorded ref, or ``None`` when nothing is stored under ``key``."""

    @abstractmethod
    async def _list(self, folder: str) -> Iterable[str]:
        """Return the keys under ``folder`` ("" or ending in '/'); the caller sorts and filters."""

    @abstractmethod
    async def _close(self) -> None:
        """Release clients and connections held between calls."""
