"""Local-folder object store: the embedded default back end, one file per object.

On-disk layout (version 1). Object ``ig/receipts/x.json`` lives in the file
``<root>/ig/receipts/x.json@obj``, which holds a one-line ASCII header followed by the raw bytes::

    fp-object/1 sha256=<64 lowercase hex> size=<decimal byte count>\\n<raw bytes>

Why this shape:
- the digest travels *inside* the published file, so publishing is one atomic ``os.link`` and
  there is no moment where bytes exist without their digest (a sidecar file would need two
  publishes and a rule for the gap between them); a changed, truncated or extended file no
  longer matches its header and every read reports it;
- ``@`` never occurs in a key, so the ``@obj`` suffix keeps object files and folders apart: keys
  ``a/b`` and ``a/b/c`` can both exist, exactly as on S3;
- temporary files are named ``.<segment>@tmp-<random>`` next to their target, so they are on the
  same file system (a link, not a copy) and never look like an object file to ``list``.

Writes: temp file, write, fsync, ``os.link`` to the final name (fails if it exists, so two writers
cannot both win), fsync the folder, remove the temp name. Blocking I/O runs in worker threads.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from contextlib import suppress
from pathlib import Path
from typing import TypeVar

from app.objectstore.base import DEFAULT_MAX_OBJECT_BYTES, ObjectRef, ObjectStore
from app.objectstore.keys import validate_key
from app.rails.digests import Digest, digest_bytes
from app.rails.errors import (
    DigestMismatchError,
    ObjectExistsError,
    ObjectNotFoundError,
    ObjectStoreError,
)

__all__ = ["OBJECT_FILE_SUFFIX", "LocalObjectStore"]

OBJECT_FILE_SUFFIX = "@obj"
"""Suffix of every published object file; ``@`` is outside the key alphabet."""

_HEADER_RE = re.compile(rb"fp-object/1 sha256=([0-9a-f]{64}) size=(0|[1-9][0-9]{0,15})\n")
_MAX_HEADER_BYTES = 128
_T = TypeVar("_T")


def _encode_header(ref: ObjectRef) -> bytes:
    return f"fp-object/1 sha256={ref.digest.hex} size={ref.size_bytes}\n".encode("ascii")


def _decode_header(key: str, head: bytes) -> tuple[Digest, int, int]:
    """Parse the header at the start of ``head``: (digest, payload size, header length)."""
    end = head.find(b"\n", 0, _MAX_HEADER_BYTES)
    match = _HEADER_RE.fullmatch(head[: end + 1]) if end >= 0 else None
    if match is None:
        raise DigestMismatchError(
            key,
            "the object file has no valid 'fp-object/1' header: it was not written by this "
            "store or was changed outside it; restore it from its source",
        )
    digest = Digest(algo="sha256", hex=match.group(1).decode("ascii"))
    return digest, int(match.group(2)), end + 1


def _fsync_dir(folder: Path) -> None:
    """Make a new directory entry durable (a link is only safe once its folder is synced)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalObjectStore(ObjectStore):
    """Objects as files under ``root``; the folder is created on the first write."""

    def __init__(
        self, root: Path | str, *, max_object_bytes: int = DEFAULT_MAX_OBJECT_BYTES
    ) -> None:
        super().__init__(max_object_bytes=max_object_bytes)
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalObjectStore(root={str(self.root)!r})"

    def path_for(self, key: str) -> Path:
        """The file holding ``key`` (header + bytes), for operators and diagnostics."""
        return self.root / f"{validate_key(key)}{OBJECT_FILE_SUFFIX}"

    async def _put(self, ref: ObjectRef, data: bytes) -> ObjectRef:
        return await self._in_thread(ref.key, "write", self._put_sync, ref, data)

    async def _get(self, key: str) -> tuple[bytes, Digest]:
        return await self._in_thread(key, "read", self._get_sync, key)

    async def _head(self, key: str) -> ObjectRef | None:
        return await self._in_thread(key, "head", self._head_sync, key)

    async def _list(self, folder: str) -> Iterable[str]:
        return await self._in_thread(folder, "list", self._list_sync, folder)

    async def _in_thread(
        self, key: str, operation: str, func: Callable[..., _T], *args: object
    ) -> _T:
        """Run blocking file I/O off the event loop; OS failures become ObjectStoreError."""
        try:
            return await asyncio.to_thread(func, *args)
        except OSError as exc:
            raise ObjectStoreError(
                key, f"local {operation} under {self.root} failed: {exc}"
            ) from exc

    async def _close(self) -> None:
        """Nothing to release: every call opens and closes its own files."""

    def _put_sync(self, ref: ObjectRef, data: bytes) -> ObjectRef:
        path = self.path_for(ref.key)
        path.parent.mkdir(parents=True, exist_ok=True)
        segment = path.name.removesuffix(OBJECT_FILE_SUFFIX)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{segment}@tmp-")
        try:
            with os.fdopen(fd, "wb") as tmp:
                tmp.write(_encode_header(ref))
                tmp.write(data)
                tmp.flush()
                os.fsync(tmp.fileno())
            try:
                os.link(tmp_name, path)
            except FileExistsError:
                return self._same_or_refuse(ref, data)
            _fsync_dir(path.parent)
            return ref
        finally:
            with suppress(FileNotFoundError):
                os.unlink(tmp_name)

    def _same_or_refuse(self, ref: ObjectRef, data: bytes) -> ObjectRef:
        """The key is taken: a repeat of the same bytes is a no-op, anything else is refused."""
        existing, recorded = self._get_sync(ref.key)
        if existing == data and recorded == ref.digest:
            return ref
        if digest_bytes(existing) != recorded:
            raise DigestMismatchError(
                ref.key,
                "already exists but its file was changed outside the store; restore it from "
                "its source (nothing was written)",
            )
        raise ObjectExistsError(
            ref.key,
            f"already holds different content (sha256 {recorded.hex}, {len(existing)} bytes); "
            "objects are create-only, so write the new content under a new key",
        )

    def _get_sync(self, key: str) -> tuple[bytes, Digest]:
        try:
            blob = self.path_for(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise ObjectNotFoundError(key, "no object is stored under this key") from exc
        digest, size, header_len = _decode_header(key, blob[:_MAX_HEADER_BYTES])
        data = blob[header_len:]
        if len(data) != size:
            raise DigestMismatchError(
                key,
                f"the object file holds {len(data)} bytes but its header records {size}: it was "
                "truncated or extended outside the store; restore it from its source",
            )
        return data, digest

    def _head_sync(self, key: str) -> ObjectRef | None:
        try:
            with self.path_for(key).open("rb") as fh:
                head = fh.read(_MAX_HEADER_BYTES)
        except (FileNotFoundError, NotADirectoryError):
            return None
        digest, size, _ = _decode_header(key, head)
        return ObjectRef(key=key, digest=digest, size_bytes=size)

    def _list_sync(self, folder: str) -> list[str]:
        base = self.root / folder if folder else self.root
        keys: list[str] = []
        # os.walk skips a missing folder silently and does not follow folder symlinks.
        for dirpath, _dirnames, filenames in os.walk(base):
            rel = Path(dirpath).relative_to(self.root).as_posix()
            for name in filenames:
                if name.endswith(OBJECT_FILE_SUFFIX):
                    key = name.removesuffix(OBJECT_FILE_SUFFIX)
                    keys.append(key if rel == "." else f"{rel}/{key}")
        return keys
