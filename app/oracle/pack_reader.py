"""Read-only access to one sealed world pack, on local disk or S3 (by reference, never copied).

Readers hash files in streaming chunks so gate verification of large packs stays in bounded
memory. Paths are relative to the pack folder, POSIX, and may not escape it.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from abc import ABC, abstractmethod
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aioboto3
from botocore.exceptions import ClientError

from app.objectstore.config import S3ObjectStoreConfig
from app.oracle.locator import WorldLocator
from app.rails.errors import ContractError, FraudPlatformError

__all__ = ["LocalPackReader", "PackFileMissingError", "PackReader", "S3PackReader", "open_pack"]

_CHUNK = 1 << 20
_MISSING_CODES = ("NoSuchKey", "404", "NotFound")


class PackFileMissingError(FraudPlatformError):
    """A file the pack should hold is not there."""

    reason_code = "PACK_FILE_MISSING"

    def __init__(self, locator: str, path: str) -> None:
        self.path = path
        super().__init__(f"world pack {locator}: missing file {path}")


def _check_relative(path: str) -> str:
    parts = path.split("/")
    if path.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ContractError(f"pack path {path!r} is not a plain relative path",
                            reason_code="PACK_PATH_INVALID")
    return path


class PackReader(ABC):
    """One pack folder; every method takes paths relative to it."""

    def __init__(self, locator: WorldLocator) -> None:
        self.locator = locator

    async def read(self, path: str) -> bytes:
        """Whole file bytes (small files: manifest, index, flags)."""
        return await self._read(_check_relative(path))

    async def sha256(self, path: str) -> tuple[str, int]:
        """(hex sha256, size in bytes) of a file, streamed."""
        return await self._sha256(_check_relative(path))

    async def exists(self, path: str) -> bool:
        return await self._exists(_check_relative(path))

    async def list(self, prefix: str) -> list[str]:
        """Sorted relative paths of every file under the folder ``prefix``."""
        return sorted(await self._list(_check_relative(prefix.rstrip("/"))))

    async def close(self) -> None:  # noqa: B027  # optional hook: local readers hold nothing
        """Release clients; idempotent."""

    async def __aenter__(self) -> PackReader:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @abstractmethod
    async def _read(self, path: str) -> bytes: ...

    @abstractmethod
    async def _sha256(self, path: str) -> tuple[str, int]: ...

    @abstractmethod
    async def _exists(self, path: str) -> bool: ...

    @abstractmethod
    async def _list(self, prefix: str) -> list[str]: ...


class LocalPackReader(PackReader):
    """A pack in a local folder."""

    def __init__(self, locator: WorldLocator) -> None:
        super().__init__(locator)
        self.folder = Path(locator.uri)

    def _path(self, path: str) -> Path:
        return self.folder / path

    async def _read(self, path: str) -> bytes:
        try:
            return await asyncio.to_thread(self._path(path).read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise PackFileMissingError(self.locator.uri, path) from None

    async def _sha256(self, path: str) -> tuple[str, int]:
        def digest() -> tuple[str, int]:
            h, size = hashlib.sha256(), 0
            with open(self._path(path), "rb") as f:
                while chunk := f.read(_CHUNK):
                    h.update(chunk)
                    size += len(chunk)
            return h.hexdigest(), size

        try:
            return await asyncio.to_thread(digest)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise PackFileMissingError(self.locator.uri, path) from None

    async def _exists(self, path: str) -> bool:
        return await asyncio.to_thread(self._path(path).is_file)

    async def _list(self, prefix: str) -> list[str]:
        def walk() -> list[str]:
            base = self._path(prefix)
            if not base.is_dir():
                return []
            return [p.relative_to(self.folder).as_posix() for p in base.rglob("*") if p.is_file()]

        return await asyncio.to_thread(walk)


class S3PackReader(PackReader):
    """A pack under ``s3://bucket/prefix``; credentials by env var name from the S3 config."""

    def __init__(self, locator: WorldLocator, s3: S3ObjectStoreConfig) -> None:
        super().__init__(locator)
        bucket, _, key_prefix = locator.uri.removeprefix("s3://").partition("/")
        self.bucket, self.key_prefix = bucket, key_prefix.rstrip("/") + "/"
        self.s3 = s3
        self._stack: AsyncExitStack | None = None
        self._client: Any = None

    async def _s3(self) -> Any:
        if self._client is None:
            env = os.environ
            session = aioboto3.Session(
                region_name=self.s3.region,
                aws_access_key_id=env.get(self.s3.access_key_id_env),
                aws_secret_access_key=env.get(self.s3.secret_access_key_env),
            )
            self._stack = AsyncExitStack()
            self._client = await self._stack.enter_async_context(
                session.client("s3", endpoint_url=self.s3.endpoint_url))
        return self._client

    async def close(self) -> None:
        if self._stack is not None:
            stack, self._stack, self._client = self._stack, None, None
            await stack.aclose()

    async def _get(self, path: str) -> Any:
        client = await self._s3()
        try:
            return await client.get_object(Bucket=self.bucket, Key=self.key_prefix + path)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING_CODES:
                raise PackFileMissingError(self.locator.uri, path) from None
            raise

    async def _read(self, path: str) -> bytes:
        response = await self._get(path)
        async with response["Body"] as body:
            return bytes(await body.read())

    async def _sha256(self, path: str) -> tuple[str, int]:
        response = await self._get(path)
        h, size = hashlib.sha256(), 0
        async with response["Body"] as body:
            while chunk := await body.read(_CHUNK):
                h.update(chunk)
                size += len(chunk)
        return h.hexdigest(), size

    async def _exists(self, path: str) -> bool:
        client = await self._s3()
        try:
            await client.head_object(Bucket=self.bucket, Key=self.key_prefix + path)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING_CODES:
                return False
            raise
        return True

    async def _list(self, prefix: str) -> list[str]:
        client = await self._s3()
        out: list[str] = []
        paginator = client.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self.bucket,
                                             Prefix=f"{self.key_prefix}{prefix}/"):
            out.extend(o["Key"][len(self.key_prefix):] for o in page.get("Contents", []))
        return out


def open_pack(locator: WorldLocator, *, s3: S3ObjectStoreConfig | None = None) -> PackReader:
    """A reader for the pack at ``locator`` (S3 packs need the S3 endpoint/credential config)."""
    if locator.is_s3:
        if s3 is None:
            raise ContractError(
                f"world {locator.uri} is on S3 but the profile has no S3 wiring to reach it",
                reason_code="ORACLE_UNREACHABLE",
            )
        return S3PackReader(locator, s3)
    return LocalPackReader(locator)
