"""Stage snapshots on a real object store (local disk, and S3 through moto): create-only,
content-addressed, keyed by the offsets they cover; a damaged one is skipped, never trusted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.objectstore import LocalObjectStore, ObjectStore, S3ObjectStoreConfig, open_object_store
from app.rails.canonical_json import canonical_dumps, sha256_hex
from app.runtime.stage_snapshots import (
    FORMAT_VERSION,
    newest_snapshot,
    snapshot_key,
    snapshot_prefix,
    write_snapshot,
)

WHERE: dict[str, Any] = {"owner": "hotpath", "log_id": "fp.hotpath.seq.v2.e0", "stage": "fold",
                         "partition": 2}


@pytest.fixture(params=["local", "s3"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ObjectStore]:
    if request.param == "local":
        opened: ObjectStore = LocalObjectStore(tmp_path / "objects")
    else:  # looked up only here, so a local-only run never starts the moto server
        moto = request.getfixturevalue("moto_server")
        access, secret = request.getfixturevalue("s3_credentials")
        opened = open_object_store(S3ObjectStoreConfig(
            bucket=await moto.ensure_bucket(), prefix=moto.unique_prefix(),
            endpoint_url=moto.endpoint_url, access_key_id_env=access,
            secret_access_key_env=secret))
    async with opened as s:
        yield s


async def _write(store: ObjectStore, next_offset: int, state: bytes) -> str:
    return await write_snapshot(store, next_offset=next_offset, state=state, **WHERE)


async def _newest(store: ObjectStore, at_or_below: int) -> tuple[int, bytes] | None:
    found = await newest_snapshot(store, at_or_below=at_or_below, **WHERE)
    return None if found is None else (found.next_offset, found.state)


def _manifest(next_offset: int, state: bytes, **overrides: object) -> bytes:
    body = {"record_type": "stage_snapshot", "format_version": FORMAT_VERSION,
            "owner": WHERE["owner"], "log_id": WHERE["log_id"], "stage": WHERE["stage"],
            "partition": WHERE["partition"], "next_offset": next_offset,
            "state_sha256": sha256_hex(state), "state_bytes": len(state)} | overrides
    return canonical_dumps(body) + b"\n"


async def test_a_written_snapshot_is_read_back_with_its_offset_and_state(
        store: ObjectStore) -> None:
    key = await _write(store, 120, b"state at 120")
    assert key == (f"{snapshot_prefix(**WHERE)}/000000000120-"
                   f"{sha256_hex(b'state at 120')[:16]}.bin")
    assert await _newest(store, at_or_below=120) == (120, b"state at 120")


async def test_the_same_state_at_the_same_offset_is_one_object_written_idempotently(
        store: ObjectStore) -> None:
    first = await _write(store, 7, b"same")
    again = await _write(store, 7, b"same")
    assert first == again
    assert await store.list(snapshot_prefix(**WHERE)) == [first]


async def test_the_newest_snapshot_at_or_below_the_log_end_is_chosen(store: ObjectStore) -> None:
    for offset in (10, 20, 30):
        await _write(store, offset, f"s{offset}".encode())
    assert await _newest(store, at_or_below=30) == (30, b"s30")
    assert await _newest(store, at_or_below=29) == (20, b"s20")  # 30 is past a shorter log
    assert await _newest(store, at_or_below=9) is None


async def test_nothing_is_found_for_another_log_stage_or_partition(store: ObjectStore) -> None:
    await _write(store, 10, b"x")
    for other in ({"log_id": "fp.hotpath.seq.v2.e1"}, {"stage": "other"}, {"partition": 3}):
        assert await newest_snapshot(store, at_or_below=99, **(WHERE | other)) is None


async def test_an_empty_state_round_trips(store: ObjectStore) -> None:
    await _write(store, 0, b"")
    assert await _newest(store, at_or_below=0) == (0, b"")


async def test_an_unknown_format_version_is_skipped_for_an_older_snapshot(
        store: ObjectStore) -> None:
    await _write(store, 10, b"good")
    state = b"from the future"
    await store.put(snapshot_key(next_offset=20, state=state, **WHERE),
                    _manifest(20, state, format_version=FORMAT_VERSION + 1) + state)
    assert await _newest(store, at_or_below=99) == (10, b"good")


async def test_state_bytes_that_do_not_match_the_manifest_are_skipped(store: ObjectStore) -> None:
    await _write(store, 10, b"good")
    state = b"what was snapshotted"
    await store.put(snapshot_key(next_offset=20, state=state, **WHERE),
                    _manifest(20, state) + b"something else")
    assert await _newest(store, at_or_below=99) == (10, b"good")


async def test_a_manifest_that_disagrees_with_its_key_is_skipped(store: ObjectStore) -> None:
    await _write(store, 10, b"good")
    state = b"moved"
    await store.put(snapshot_key(next_offset=20, state=state, **WHERE),
                    _manifest(25, state) + state)  # claims offsets its key does not name
    assert await _newest(store, at_or_below=99) == (10, b"good")


async def test_an_object_without_a_manifest_is_skipped(store: ObjectStore) -> None:
    state = b"no manifest"
    await store.put(snapshot_key(next_offset=20, state=state, **WHERE), state)
    assert await _newest(store, at_or_below=99) is None


async def test_bytes_changed_behind_the_store_are_skipped(tmp_path: Path) -> None:
    async with LocalObjectStore(tmp_path / "objects") as local:
        await _write(local, 10, b"good")
        key = await _write(local, 20, b"newer")
        path = local.path_for(key)
        path.write_bytes(path.read_bytes()[:-1] + b"!")  # the store's recorded digest differs
        assert await _newest(local, at_or_below=99) == (10, b"good")


async def test_a_negative_offset_is_refused(store: ObjectStore) -> None:
    with pytest.raises(ValueError, match="next_offset"):
        await _write(store, -1, b"x")
