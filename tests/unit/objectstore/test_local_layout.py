"""The local back end's on-disk format: one header-prefixed file per object, nothing else listed."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.objectstore.local import OBJECT_FILE_SUFFIX, LocalObjectStore
from app.rails.digests import digest_bytes
from app.rails.errors import DigestMismatchError, ObjectStoreError


@pytest.fixture
async def store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "objects")


async def test_constructing_a_store_creates_nothing_on_disk(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    assert await store.list() == []
    assert not (tmp_path / "objects").exists()


async def test_object_file_is_a_header_line_then_the_raw_bytes(store: LocalObjectStore) -> None:
    data = b"raw\nbytes"
    await store.put("ig/receipts/r1", data)
    path = store.path_for("ig/receipts/r1")
    assert path == store.root / "ig" / "receipts" / f"r1{OBJECT_FILE_SUFFIX}"
    header = f"fp-object/1 sha256={digest_bytes(data).hex} size=9\n".encode()
    assert path.read_bytes() == header + data


async def test_a_put_leaves_no_temporary_files_behind(store: LocalObjectStore) -> None:
    await store.put("sr/a", b"a")
    await store.put("sr/a", b"a")
    assert sorted(p.name for p in (store.root / "sr").iterdir()) == [f"a{OBJECT_FILE_SUFFIX}"]


async def test_crash_leftover_temp_file_is_not_listed_and_does_not_block_a_put(
    store: LocalObjectStore,
) -> None:
    folder = store.root / "sr"
    folder.mkdir(parents=True)
    (folder / ".a@tmp-deadbeef").write_bytes(b"half-written")
    assert await store.list() == []
    await store.put("sr/a", b"whole")
    assert await store.list("sr") == ["sr/a"]
    assert await store.get("sr/a") == b"whole"


async def test_foreign_files_without_the_object_suffix_are_not_listed(
    store: LocalObjectStore,
) -> None:
    await store.put("sr/a", b"a")
    (store.root / "sr" / "notes.txt").write_text("operator notes")
    (store.root / "sr" / "bad name@obj").write_text("not a valid key")
    assert await store.list() == ["sr/a"]


async def test_truncated_object_file_is_detected_on_read(store: LocalObjectStore) -> None:
    await store.put("dla/audit/a1", b"0123456789")
    path = store.path_for("dla/audit/a1")
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(DigestMismatchError, match="truncated or extended"):
        await store.get("dla/audit/a1")


async def test_object_file_without_a_valid_header_is_detected_on_read_and_head(
    store: LocalObjectStore,
) -> None:
    await store.put("dla/audit/a2", b"payload")
    store.path_for("dla/audit/a2").write_bytes(b"payload")
    with pytest.raises(DigestMismatchError, match="no valid 'fp-object/1' header"):
        await store.get("dla/audit/a2")
    with pytest.raises(DigestMismatchError):
        await store.head("dla/audit/a2")


async def test_os_failures_surface_as_object_store_errors_naming_the_key(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("a file where the store root should be")
    store = LocalObjectStore(not_a_folder)
    with pytest.raises(ObjectStoreError) as caught:
        await store.put("sr/a", b"a")
    assert caught.value.key == "sr/a"
    assert isinstance(caught.value.__cause__, OSError)
