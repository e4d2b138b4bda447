"""Canonical JSON and sha256 digests: the one place the platform serialises for hashing.

Why each choice keeps digests stable:
- sorted keys (``OPT_SORT_KEYS``): a dict's insertion order never changes its bytes;
- compact separators and UTF-8 (orjson's only output): no whitespace or escaping variance;
- timestamps are *strings* ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (6 digits, ``Z``) produced by
  ``app.rails.timefmt``: a datetime object is refused here, so no library picks its own format;
- money is integer minor units plus an ISO currency: floats never reach a digest of money;
- non-finite floats are refused (orjson would write ``null``, silently changing meaning).
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import orjson

from app.rails.errors import ContractError

__all__ = ["canonical_dumps", "canonical_loads", "sha256_hex"]

_OPTS = orjson.OPT_SORT_KEYS


def _check(value: Any, path: str) -> None:
    """Refuse values whose canonical form would be ambiguous."""
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise ContractError(f"canonical JSON: non-string key {k!r} at {path or '$'}")
            _check(v, f"{path}.{k}")
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _check(v, f"{path}[{i}]")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ContractError(f"canonical JSON: non-finite float at {path or '$'}")
    elif value is None or isinstance(value, str | int | bool):
        return
    else:
        raise ContractError(
            f"canonical JSON: unsupported type {type(value).__name__} at {path or '$'} "
            "(convert datetimes with app.rails.timefmt, money to integer minor units)"
        )


def canonical_dumps(value: Any) -> bytes:
    """Serialise ``value`` (JSON types only) to canonical bytes: sorted keys, compact, UTF-8."""
    _check(value, "")
    return orjson.dumps(value, option=_OPTS)


def canonical_loads(data: bytes | str) -> Any:
    """Parse JSON bytes; the inverse of :func:`canonical_dumps` for canonical input."""
    return orjson.loads(data)


def sha256_hex(data: bytes) -> str:
    """Lowercase hex64 sha256 of raw bytes."""
    return hashlib.sha256(data).hexdigest()
