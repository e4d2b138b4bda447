"""Canonical JSON and sha256 digests: the one place the platform serialises for hashing.

Why each choice keeps digests stable:
- sorted keys (``OPT_SORT_KEYS``): a dict's insertion order never changes its bytes;
- compact separators and UTF-8 (orjson's only output): no whitespace or escaping variance;
- timestamps are *strings* ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (6 digits, ``Z``) produced by
  ``app.rails.timefmt``: a datetime object is refused here, so no library picks its own format;
- money is integer minor units plus an ISO currency: floats never reach a digest of money;
- non-finite floats are refused (orjson would write ``null``, silently changing meaning);
- anything orjson cannot encode exactly (integers outside 64 bits, lone surrogates, nesting deeper
  than :data:`MAX_DEPTH`) is a :class:`ContractError`, never a bare ``TypeError``.

:func:`pretty_dumps` is the one *human* form (sorted keys, two-space indent, trailing newline) for
committed files people review (JSON Schemas, goldens); it is never hashed.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import orjson

from app.rails.errors import ContractError

__all__ = ["MAX_DEPTH", "canonical_dumps", "canonical_loads", "pretty_dumps", "sha256_hex"]

_OPTS = orjson.OPT_SORT_KEYS
_PRETTY_OPTS = orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE

MAX_DEPTH = 254
"""Deepest container nesting orjson encodes; checked here so the failure is a ContractError."""


class _Refused(Exception):
    """Internal: carries the problem up the recursion; each level adds its step to the path."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.steps: list[str] = []


def _walk(value: Any, depth: int) -> None:
    """Refuse values whose canonical form would be ambiguous (hot path: no work on success).

    Scalars inside containers are checked inline rather than by a recursive call: feature
    snapshots and decision records hold hundreds of them, and the call overhead dominated.
    """
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return
    if kind is float or isinstance(value, float):
        if not math.isfinite(value):
            raise _Refused("non-finite float")
        return
    if isinstance(value, dict | list | tuple):
        if depth >= MAX_DEPTH:
            raise _Refused(f"nesting deeper than {MAX_DEPTH}")
        is_object = isinstance(value, dict)
        for k, v in value.items() if is_object else enumerate(value):
            if is_object and type(k) is not str and not isinstance(k, str):
                raise _Refused(f"non-string key {k!r}")
            inner = type(v)
            if inner is str or inner is int or inner is bool or v is None:
                continue
            if inner is float and math.isfinite(v):
                continue
            try:
                _walk(v, depth + 1)
            except _Refused as refused:
                refused.steps.append(f".{k}" if is_object else f"[{k}]")
                raise
        return
    if isinstance(value, str | int):  # subclasses, e.g. StrEnum members: orjson writes the value
        return
    raise _Refused(
        f"unsupported type {kind.__name__} "
        "(convert datetimes with app.rails.timefmt, money to integer minor units)"
    )


def _check(value: Any) -> None:
    try:
        _walk(value, 0)
    except _Refused as refused:
        path = "".join(reversed(refused.steps)) or "$"
        raise ContractError(f"canonical JSON: {refused.problem} at {path}") from None


def canonical_dumps(value: Any) -> bytes:
    """Serialise ``value`` (JSON types only) to canonical bytes: sorted keys, compact, UTF-8."""
    return _encode(value, _OPTS)


def pretty_dumps(value: Any) -> bytes:
    """Serialise ``value`` for a committed, human-reviewed file: sorted keys, indent 2, newline."""
    return _encode(value, _PRETTY_OPTS)


def _encode(value: Any, option: int) -> bytes:
    _check(value)
    try:
        return orjson.dumps(value, option=option)
    except orjson.JSONEncodeError as exc:  # out-of-range int, lone surrogate
        raise ContractError(f"canonical JSON: cannot encode exactly: {exc}") from exc


def canonical_loads(data: bytes | str) -> Any:
    """Parse JSON bytes; the inverse of :func:`canonical_dumps` for canonical input."""
    return orjson.loads(data)


def sha256_hex(data: bytes) -> str:
    """Lowercase hex64 sha256 of raw bytes."""
    return hashlib.sha256(data).hexdigest()
