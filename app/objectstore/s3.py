"""S3 object store (aioboto3): the same create-only, digest-verified contract on a bucket.

Object ``k`` lives at ``<prefix>/<k>`` in the bucket, with its raw bytes as the body and its
sha256 (hex) in the user metadata ``x-amz-meta-sha256``; a read re-hashes the body and compares.
S3 PUTs are atomic, so a reader sees the whole object or none.

Create-only uses a conditional write (``If-None-Match: *``): S3 answers 412 when the key already
exists, and the store then compares the existing object's recorded digest with its own (same: a
no-op; different: :class:`ObjectExistsError`). S3 answers 409 while another conditional write to
the same key is in flight; that is retried a few times.

Credentials are read from environment variables whose *names* the config holds, when the client
is first needed; values never reach config, logs or errors. One aioboto3 session and client per
store, opened lazily and closed by :meth:`S3ObjectStore.close`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import aioboto3
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from app.objectstore.base import DEFAULT_MAX_OBJECT_BYTES, ObjectRef, ObjectStore
from app.objectstore.keys import normalize_prefix
from app.rails.digests import Digest
from app.rails.errors import (
    DigestMismatchError,
    ObjectExistsError,
    ObjectNotFoundError,
    ObjectStoreError,
)

__all__ = ["DIGEST_METADATA_KEY", "S3ObjectStore"]

DIGEST_METADATA_KEY = "sha256"
"""User-metadata key (``x-amz-meta-sha256``) holding the hex sha256 of the object body."""

_CONFLICT_ATTEMPTS = 5
_CONFLICT_BACKOFF_SECONDS = 0.05


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _store_error(key: str, operation: str, exc: ClientError | BotoCoreError) -> ObjectStoreError:
    code = f" ({_error_code(exc)})" if isinstance(exc, ClientError) else ""
    return ObjectStoreError(key, f"S3 {operation} failed{code}: {exc}")


@asynccontextmanager
async def _s3_errors(key: str, operation: str) -> AsyncIterator[None]:
    """Turn botocore failures into ObjectStoreError (cause kept), so callers catch one family."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise _store_error(key, operation, exc) from exc


class S3ObjectStore(ObjectStore):
    """Objects in ``bucket`` under ``prefix``; see the module docstring for the scheme."""

    def __init__(
        self,
        *,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id_env: str = "AWS_ACCESS_KEY_ID",
        secret_access_key_env: str = "AWS_SECRET_ACCESS_KEY",
        max_object_bytes: int = DEFAULT_MAX_OBJECT_BYTES,
    ) -> None:
        super().__init__(max_object_bytes=max_object_bytes)
        self.bucket = bucket
        self.prefix = normalize_prefix(prefix)
        self.endpoint_url = endpoint_url
        self.region = region
        self.access_key_id_env = access_key_id_env
        self.secret_access_key_env = secret_access_key_env
        self._stack: AsyncExitStack | None = None
        self._client: Any = None
        self._open_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"S3ObjectStore(bucket={self.bucket!r}, prefix={self.prefix!r})"

    async def _s3(self, key: str) -> Any:
        """The client, opened on first use so that constructing a store does no I/O."""
        if self._client is None:
            async with self._open_lock:
                if self._client is None:
                    self._client = await self._open(key)
        return self._client

    async def _open(self, key: str) -> Any:
        credentials: dict[str, str] = {}
        for param, env_name in (
            ("aws_access_key_id", self.access_key_id_env),
            ("aws_secret_access_key", self.secret_access_key_env),
        ):
            value = os.environ.get(env_name)
            if not value:
                raise ObjectStoreError(
                    key,
                    f"environment variable {env_name} is not set; the S3 object store for "
                    f"bucket '{self.bucket}' reads its credentials from it",
                )
            credentials[param] = value
        session = aioboto3.Session(region_name=self.region, **credentials)
        stack = AsyncExitStack()
        async with _s3_errors(key, "client setup"):
            client = await stack.enter_async_context(
                session.client("s3", endpoint_url=self.endpoint_url)
            )
        self._stack = stack
        return client

    async def _close(self) -> None:
        if self._stack is not None:
            stack, self._stack, self._client = self._stack, None, None
            await stack.aclose()

    async def _put(self, ref: ObjectRef, data: bytes) -> ObjectRef:
        client = await self._s3(ref.key)
        for attempt in range(_CONFLICT_ATTEMPTS):
            try:
                await client.put_object(
                    Bucket=self.bucket,
                    Key=self.prefix + ref.key,
                    Body=data,
                    IfNoneMatch="*",
                    Metadata={DIGEST_METADATA_KEY: ref.digest.hex},
                )
                return ref
            except ClientError as exc:
                code = _error_code(exc)
                if code == "PreconditionFailed":
                    return await self._same_or_refuse(ref)
                if code != "ConditionalRequestConflict":
                    raise _store_error(ref.key, "put_object", exc) from exc
            except BotoCoreError as exc:
                raise _store_error(ref.key, "put_object", exc) from exc
            await asyncio.sleep(_CONFLICT_BACKOFF_SECONDS * (attempt + 1))
        raise ObjectStoreError(
            ref.key,
            f"S3 kept reporting a concurrent conditional write after {_CONFLICT_ATTEMPTS} "
            "attempts; retry the put later",
        )

    async def _same_or_refuse(self, ref: ObjectRef) -> ObjectRef:
        """The key is taken: equal recorded digests mean a no-op, anything else is refused."""
        existing = await self._head(ref.key)
        if existing is not None and existing == ref:
            return ref
        recorded = f"sha256 {existing.digest.hex}" if existing else "an object deleted meanwhile"
        raise ObjectExistsError(
            ref.key,
            f"already holds different content ({recorded}); objects are create-only, so write "
            "the new content under a new key",
        )

    def _recorded_digest(self, key: str, metadata: dict[str, str]) -> Digest:
        try:
            return Digest(algo="sha256", hex=metadata[DIGEST_METADATA_KEY])
        except (KeyError, ValidationError) as exc:
            raise DigestMismatchError(
                key,
                f"the S3 object has no valid '{DIGEST_METADATA_KEY}' metadata: it was not "
                "written by this store or was replaced outside it; restore it from its source",
            ) from exc

    async def _get(self, key: str) -> tuple[bytes, Digest]:
        client = await self._s3(key)
        try:
            response = await client.get_object(Bucket=self.bucket, Key=self.prefix + key)
        except ClientError as exc:
            if _error_code(exc) in ("NoSuchKey", "404"):
                raise ObjectNotFoundError(key, "no object is stored under this key") from exc
            raise _store_error(key, "get_object", exc) from exc
        except BotoCoreError as exc:
            raise _store_error(key, "get_object", exc) from exc
        digest = self._recorded_digest(key, response.get("Metadata", {}))
        async with _s3_errors(key, "get_object body read"), response["Body"] as body:
            data: bytes = await body.read()
        return data, digest

    async def _head(self, key: str) -> ObjectRef | None:
        client = await self._s3(key)
        try:
            response = await client.head_object(Bucket=self.bucket, Key=self.prefix + key)
        except ClientError as exc:
            if _error_code(exc) in ("NoSuchKey", "404"):
                return None
            raise _store_error(key, "head_object", exc) from exc
        except BotoCoreError as exc:
            raise _store_error(key, "head_object", exc) from exc
        digest = self._recorded_digest(key, response.get("Metadata", {}))
        return ObjectRef(key=key, digest=digest, size_bytes=int(response["ContentLength"]))

    async def _list(self, folder: str) -> Iterable[str]:
        client = await self._s3(folder)
        keys: list[str] = []
        paginator = client.get_paginator("list_objects_v2")
        async with _s3_errors(folder, "list_objects_v2"):
            async for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + folder):
                keys.extend(item["Key"][len(self.prefix) :] for item in page.get("Contents", ()))
        return keys
