"""Object store settings: the ``type`` literal picks the back end, and bad settings fail early."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from app.objectstore import (
    LocalObjectStore,
    LocalObjectStoreConfig,
    ObjectStoreConfig,
    S3ObjectStore,
    S3ObjectStoreConfig,
    open_object_store,
)
from app.rails.errors import ObjectStoreError

_CONFIG = TypeAdapter(ObjectStoreConfig)


def test_type_field_selects_the_back_end() -> None:
    assert isinstance(
        _CONFIG.validate_python({"type": "local", "root": "x"}), LocalObjectStoreConfig
    )
    s3 = _CONFIG.validate_python({"type": "s3", "bucket": "fp-objects", "prefix": "platform/dev"})
    assert isinstance(s3, S3ObjectStoreConfig)
    assert s3.access_key_id_env == "AWS_ACCESS_KEY_ID"
    assert s3.max_object_bytes == 64 * 1024 * 1024


@pytest.mark.parametrize(
    ("raw", "bad_field"),
    [
        ({"root": "x"}, "type"),
        ({"type": "ftp", "root": "x"}, "type"),
        ({"type": "local", "root": "x", "rooot": "y"}, "rooot"),
        ({"type": "local", "root": "x", "max_object_bytes": 0}, "max_object_bytes"),
        ({"type": "s3", "bucket": "Bad_Bucket"}, "bucket"),
        ({"type": "s3", "bucket": "fp-objects", "prefix": "../up"}, "prefix"),
        ({"type": "s3", "bucket": "fp-objects", "access_key_id_env": "AKIA/secret+value"}, "env"),
    ],
)
def test_invalid_settings_are_refused_naming_the_field(
    raw: dict[str, object], bad_field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        _CONFIG.validate_python(raw)
    assert bad_field in str(caught.value)


def test_relative_local_root_resolves_against_base_dir(tmp_path: Path) -> None:
    store = open_object_store(LocalObjectStoreConfig(root="data/objects"), base_dir=tmp_path)
    assert isinstance(store, LocalObjectStore)
    assert store.root == tmp_path / "data" / "objects"


def test_absolute_local_root_ignores_base_dir(tmp_path: Path) -> None:
    store = open_object_store(LocalObjectStoreConfig(root=str(tmp_path)), base_dir=Path("/else"))
    assert isinstance(store, LocalObjectStore)
    assert store.root == tmp_path


async def test_s3_store_without_its_credential_variable_fails_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FP_UNSET_KEY_ID", raising=False)
    config = S3ObjectStoreConfig(
        bucket="fp-objects", endpoint_url="http://127.0.0.1:9", access_key_id_env="FP_UNSET_KEY_ID"
    )
    async with open_object_store(config) as store:
        assert isinstance(store, S3ObjectStore)
        with pytest.raises(ObjectStoreError, match="environment variable FP_UNSET_KEY_ID"):
            await store.get("sr/x")
