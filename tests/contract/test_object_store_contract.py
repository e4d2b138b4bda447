"""One contract for every object store back end: each case runs on local disk and on S3 (moto).

A back end passes when it keeps the rails: create-only writes, all-or-nothing objects, digest
verification on every read, validated keys, folder-style listing and a size cap that writes
nothing when exceeded.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.objectstore import (
    LocalObjectStore,
    LocalObjectStoreConfig,
    ObjectRef,
    ObjectStore,
    S3ObjectStoreConfig,
    open_object_store,
)
from app.objectstore.s3 import S3ObjectStore
from app.rails.digests import digest_bytes
from app.rails.errors import (
    DigestMismatchError,
    InvalidObjectKeyError,
    ObjectExistsError,
    ObjectNotFoundError,
    ObjectStoreError,
    ObjectTooLargeError,
)
from tests.fixtures.s3_server import MotoServer

MAX_OBJECT_BYTES = 4096
BACKENDS = ["local", "s3"]


@dataclass
class Backend:
    """A store under test plus a way to corrupt an object behind the store's back."""

    store: ObjectStore
    tamper: Callable[[str], Awaitable[None]]
    """Replace ``key``'s stored bytes with same-length garbage, keeping its recorded digest."""
    reopen: Callable[[], ObjectStore]
    """A second store on the same storage, as another process or a restart would see it."""


def _flipped(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0xFF])


async def _local_backend(tmp_path: Path) -> Backend:
    config = LocalObjectStoreConfig(root="objects", max_object_bytes=MAX_OBJECT_BYTES)

    def reopen() -> ObjectStore:
        return open_object_store(config, base_dir=tmp_path)

    store = reopen()
    assert isinstance(store, LocalObjectStore)

    async def tamper(key: str) -> None:
        path = store.path_for(key)
        path.write_bytes(_flipped(path.read_bytes()))

    return Backend(store=store, tamper=tamper, reopen=reopen)


async def _s3_backend(moto: MotoServer, credential_envs: tuple[str, str]) -> Backend:
    config = S3ObjectStoreConfig(
        bucket=await moto.ensure_bucket(),
        prefix=moto.unique_prefix(),
        endpoint_url=moto.endpoint_url,
        access_key_id_env=credential_envs[0],
        secret_access_key_env=credential_envs[1],
        max_object_bytes=MAX_OBJECT_BYTES,
    )

    def reopen() -> ObjectStore:
        return open_object_store(config)

    store = reopen()
    assert isinstance(store, S3ObjectStore)

    async def tamper(key: str) -> None:
        full_key = f"{config.prefix}/{key}"
        async with moto.raw_client() as client:
            original = await client.get_object(Bucket=config.bucket, Key=full_key)
            async with original["Body"] as body:
                data = await body.read()
            await client.put_object(
                Bucket=config.bucket,
                Key=full_key,
                Body=_flipped(data),
                Metadata=original["Metadata"],
            )

    return Backend(store=store, tamper=tamper, reopen=reopen)


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "local":
        made = await _local_backend(tmp_path)
    else:
        # Looked up only for the S3 case, so local-only runs never start the moto server.
        made = await _s3_backend(
            request.getfixturevalue("moto_server"), request.getfixturevalue("s3_credentials")
        )
    async with made.store:
        yield made


@pytest.fixture
def store(backend: Backend) -> ObjectStore:
    return backend.store


async def test_put_then_get_returns_the_same_bytes_and_a_matching_ref(store: ObjectStore) -> None:
    data = b'{"decision":"ADMIT"}\n\x00\xff binary tail'
    ref = await store.put("ig/receipts/r1.json", data)
    assert ref == ObjectRef(key="ig/receipts/r1.json", digest=digest_bytes(data), size_bytes=35)
    assert await store.get("ig/receipts/r1.json") == data


async def test_empty_object_round_trips(store: ObjectStore) -> None:
    ref = await store.put("sr/empty", b"")
    assert ref.size_bytes == 0
    assert await store.get("sr/empty") == b""


async def test_same_bytes_twice_is_a_no_op_returning_the_same_ref(backend: Backend) -> None:
    first = await backend.store.put("sr/run_plan.json", b"plan-v1")
    assert await backend.store.put("sr/run_plan.json", b"plan-v1") == first
    async with backend.reopen() as restarted:
        assert await restarted.put("sr/run_plan.json", b"plan-v1") == first
    assert await backend.store.list("sr") == ["sr/run_plan.json"]


async def test_different_bytes_for_an_existing_key_are_refused_and_original_kept(
    store: ObjectStore,
) -> None:
    original = await store.put("dla/audit/a1", b"original")
    with pytest.raises(ObjectExistsError) as caught:
        await store.put("dla/audit/a1", b"overwrite attempt")
    assert caught.value.key == "dla/audit/a1"
    assert caught.value.reason_code == "OBJECT_EXISTS_DIFFERENT"
    assert await store.get("dla/audit/a1") == b"original"
    assert await store.head("dla/audit/a1") == original


async def test_list_returns_sorted_keys_under_a_folder_prefix_only(store: ObjectStore) -> None:
    for key in ["sr/run1/b", "sr/run1/a", "sr/run1/deep/c", "sr/run10/x", "sr/run1x", "ig/q"]:
        await store.put(key, key.encode())
    expected = ["sr/run1/a", "sr/run1/b", "sr/run1/deep/c"]
    assert await store.list("sr/run1") == expected
    assert await store.list("sr/run1/") == expected
    assert await store.list("sr") == [*expected, "sr/run10/x", "sr/run1x"]
    assert await store.list("") == ["ig/q", *expected, "sr/run10/x", "sr/run1x"]
    assert await store.list("nothing/here") == []


async def test_a_key_and_keys_below_it_coexist(store: ObjectStore) -> None:
    await store.put("a/b", b"object")
    await store.put("a/b/c", b"child")
    assert await store.list("a") == ["a/b", "a/b/c"]
    assert await store.list("a/b") == ["a/b/c"]
    assert await store.get("a/b") == b"object"


async def test_list_of_an_empty_store_is_empty(store: ObjectStore) -> None:
    assert await store.list() == []


async def test_list_refuses_an_invalid_prefix(store: ObjectStore) -> None:
    with pytest.raises(InvalidObjectKeyError):
        await store.list("../outside")


async def test_head_and_exists_report_presence_without_reading(store: ObjectStore) -> None:
    assert await store.head("labels/l1") is None
    assert await store.exists("labels/l1") is False
    ref = await store.put("labels/l1", b"label")
    assert await store.head("labels/l1") == ref
    assert await store.exists("labels/l1") is True


async def test_get_of_a_missing_key_raises_not_found(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFoundError) as caught:
        await store.get("cases/none")
    assert caught.value.key == "cases/none"


@pytest.mark.parametrize("bad_key", ["", "..", "a/../b", "./a", "/abs", "a//b", "a\\b", "a/"])
async def test_bad_keys_are_refused_by_every_operation(store: ObjectStore, bad_key: str) -> None:
    with pytest.raises(InvalidObjectKeyError) as caught:
        await store.put(bad_key, b"x")
    assert caught.value.key == bad_key
    with pytest.raises(InvalidObjectKeyError):
        await store.get(bad_key)
    with pytest.raises(InvalidObjectKeyError):
        await store.head(bad_key)
    assert await store.list() == []


async def test_oversize_object_is_refused_and_nothing_written(store: ObjectStore) -> None:
    with pytest.raises(ObjectTooLargeError):
        await store.put("mf/model.bin", b"x" * (MAX_OBJECT_BYTES + 1))
    assert await store.exists("mf/model.bin") is False
    assert await store.list() == []
    assert (await store.put("mf/model.bin", b"x" * MAX_OBJECT_BYTES)).size_bytes == MAX_OBJECT_BYTES


async def test_tampered_bytes_are_detected_on_read(backend: Backend) -> None:
    await backend.store.put("ofs/datasets/d1", b"training rows")
    await backend.tamper("ofs/datasets/d1")
    with pytest.raises(DigestMismatchError) as caught:
        await backend.store.get("ofs/datasets/d1")
    assert caught.value.reason_code == "DIGEST_MISMATCH"


async def test_tampered_object_is_not_accepted_as_a_repeat_put(backend: Backend) -> None:
    await backend.store.put("ofs/datasets/d2", b"training rows")
    await backend.tamper("ofs/datasets/d2")
    with pytest.raises(ObjectStoreError):
        await backend.store.put("ofs/datasets/d2", _flipped(b"training rows"))


async def test_get_with_a_wrong_expected_digest_raises_mismatch(store: ObjectStore) -> None:
    ref = await store.put("registry/bundles/b1", b"bundle")
    assert await store.get("registry/bundles/b1", expected=ref.digest) == b"bundle"
    with pytest.raises(DigestMismatchError):
        await store.get("registry/bundles/b1", expected=digest_bytes(b"other bundle"))


async def test_concurrent_puts_of_different_bytes_have_exactly_one_winner(
    store: ObjectStore,
) -> None:
    payloads = [f"contender-{i}".encode() for i in range(8)]
    results = await asyncio.gather(
        *(store.put("governance/g1", p) for p in payloads), return_exceptions=True
    )
    winners = [r for r in results if isinstance(r, ObjectRef)]
    losers = [r for r in results if not isinstance(r, ObjectRef)]
    assert len(winners) == 1
    assert all(isinstance(e, ObjectExistsError) for e in losers), losers
    assert digest_bytes(await store.get("governance/g1")) == winners[0].digest


async def test_concurrent_puts_of_the_same_bytes_all_return_the_same_ref(
    store: ObjectStore,
) -> None:
    results = await asyncio.gather(*(store.put("sr/facts", b"facts") for _ in range(4)))
    assert set(results) == {results[0]}


async def test_a_closed_store_refuses_further_calls(backend: Backend) -> None:
    other = backend.reopen()
    await other.put("sr/x", b"x")
    await other.close()
    with pytest.raises(ObjectStoreError):
        await other.get("sr/x")
