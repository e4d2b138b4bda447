"""Platform object store: create-only, digest-verified objects on a local folder or S3.

Owners write under their own prefix (``sr/``, ``ig/receipts/``, ``dla/audit/`` ...; DESIGN.md
section 3) and pass objects on by-ref as an :class:`ObjectRef` (key, sha256 digest, size). Every
back end keeps the same rails, checked by one contract suite (``tests/contract``):

- writes are create-only: the same bytes again are a no-op, different bytes raise
  ``ObjectExistsError`` and leave the original untouched;
- every read re-hashes the bytes against the digest recorded at write time;
- readers see a whole object or none, never a partial write.

Open a store from profile settings with :func:`open_object_store`.
"""

from app.objectstore.base import DEFAULT_MAX_OBJECT_BYTES, ObjectRef, ObjectStore
from app.objectstore.config import (
    LocalObjectStoreConfig,
    ObjectStoreConfig,
    S3ObjectStoreConfig,
    open_object_store,
)
from app.objectstore.keys import normalize_prefix, validate_key
from app.objectstore.local import LocalObjectStore
from app.objectstore.s3 import S3ObjectStore

__all__ = [
    "DEFAULT_MAX_OBJECT_BYTES",
    "LocalObjectStore",
    "LocalObjectStoreConfig",
    "ObjectRef",
    "ObjectStore",
    "ObjectStoreConfig",
    "S3ObjectStore",
    "S3ObjectStoreConfig",
    "normalize_prefix",
    "open_object_store",
    "validate_key",
]
