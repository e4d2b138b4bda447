"""Object store settings as profiles declare them, and the factory that opens a store from them.

A profile's ``wiring`` picks a back end with the ``type`` literal (``local`` or ``s3``); unknown
keys are errors. Credentials appear only as the *names* of environment variables, read when the
store first talks to S3, so a profile never holds a secret.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.objectstore.base import DEFAULT_MAX_OBJECT_BYTES, ObjectStore
from app.objectstore.keys import key_problem
from app.objectstore.local import LocalObjectStore
from app.objectstore.s3 import S3ObjectStore

__all__ = [
    "LocalObjectStoreConfig",
    "ObjectStoreConfig",
    "S3ObjectStoreConfig",
    "open_object_store",
]

_ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
# S3's bucket naming rules (3-63 characters, lowercase letters, digits, '.', '-').
_BUCKET_PATTERN = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"

_MaxObjectBytes = Annotated[
    int,
    Field(
        gt=0,
        description=(
            "Largest object accepted by put, in bytes (default 64 MiB). Larger writes fail "
            "with OBJECT_TOO_LARGE and write nothing; objects are read whole into memory."
        ),
    ),
]


class LocalObjectStoreConfig(BaseModel):
    """A folder on local disk: the embedded default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["local"] = Field(
        default="local", description="Selects the local-folder back end."
    )
    root: str = Field(
        min_length=1,
        description=(
            "Folder holding the objects; created on the first write. A relative path resolves "
            "against the base folder given to open_object_store (normally the profile's). "
            "Keep it separate from the Oracle Store's root."
        ),
    )
    max_object_bytes: _MaxObjectBytes = DEFAULT_MAX_OBJECT_BYTES


class S3ObjectStoreConfig(BaseModel):
    """An S3 (or S3-compatible) bucket reached through aioboto3."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["s3"] = Field(default="s3", description="Selects the S3 back end.")
    bucket: str = Field(
        pattern=_BUCKET_PATTERN, description="Bucket name; the bucket must already exist."
    )
    prefix: str = Field(
        default="",
        description=(
            "Folder inside the bucket under which every key is stored, e.g. 'platform/dev'; "
            "'' uses the bucket root. Follows the key rules; a trailing '/' is optional."
        ),
    )
    endpoint_url: str | None = Field(
        default=None,
        description=(
            "S3 endpoint URL, e.g. 'http://127.0.0.1:9000' for MinIO or moto; "
            "None means AWS's regional endpoint."
        ),
    )
    region: str = Field(default="us-east-1", min_length=1, description="AWS region name.")
    access_key_id_env: str = Field(
        default="AWS_ACCESS_KEY_ID",
        pattern=_ENV_NAME_PATTERN,
        description="NAME of the environment variable holding the access key id (not the value).",
    )
    secret_access_key_env: str = Field(
        default="AWS_SECRET_ACCESS_KEY",
        pattern=_ENV_NAME_PATTERN,
        description="NAME of the environment variable holding the secret key (not the value).",
    )
    max_object_bytes: _MaxObjectBytes = DEFAULT_MAX_OBJECT_BYTES

    @field_validator("prefix")
    @classmethod
    def _prefix_follows_key_rules(cls, prefix: str) -> str:
        body = prefix.removesuffix("/")
        problem = key_problem(body) if body else None
        if problem is not None:
            raise ValueError(f"invalid prefix: {problem}")
        return prefix


ObjectStoreConfig = Annotated[
    LocalObjectStoreConfig | S3ObjectStoreConfig, Field(discriminator="type")
]
"""Either back end's settings, chosen by the ``type`` field."""


def open_object_store(
    config: LocalObjectStoreConfig | S3ObjectStoreConfig, *, base_dir: Path | None = None
) -> ObjectStore:
    """Build the store a config describes; no I/O happens until the first call on it.

    Args:
        config: a validated object store config.
        base_dir: folder a relative local ``root`` resolves against; the current working
            folder when ``None``.
    """
    if isinstance(config, LocalObjectStoreConfig):
        root = Path(config.root).expanduser()
        if not root.is_absolute():
            root = (base_dir if base_dir is not None else Path.cwd()) / root
        return LocalObjectStore(root, max_object_bytes=config.max_object_bytes)
    return S3ObjectStore(
        bucket=config.bucket,
        prefix=config.prefix,
        endpoint_url=config.endpoint_url,
        region=config.region,
        access_key_id_env=config.access_key_id_env,
        secret_access_key_env=config.secret_access_key_env,
        max_object_bytes=config.max_object_bytes,
    )
