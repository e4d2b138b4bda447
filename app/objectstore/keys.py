"""Object key validation: the one gate every key passes before any back end touches storage.

A key is a relative POSIX path such as ``ig/receipts/3f2a.json``. The rules keep a key from
escaping the store's root on disk (``..``, a leading ``/``, backslashes) and make the same key
mean the same object on every back end:

- segments are separated by ``/``; none is empty, ``.`` or ``..``;
- a segment uses only ``[A-Za-z0-9._=-]`` (``=`` allows ``run_id=...`` style partition folders);
  every other character, ``@`` included, stays free for a back end's private file names;
- a key is at most :data:`MAX_KEY_LENGTH` characters and a segment at most
  :data:`MAX_SEGMENT_LENGTH`, leaving room on disk for the local back end's suffixes within the
  usual 255-byte file-name limit, and room in S3's 1024-byte key for a bucket prefix.

Prefixes for ``list`` follow folder semantics: ``sr/run1`` and ``sr/run1/`` both mean "keys under
``sr/run1/``", so listing run ``run1`` never returns keys of run ``run10``.
"""

from __future__ import annotations

import re

from app.rails.errors import InvalidObjectKeyError

__all__ = [
    "MAX_KEY_LENGTH",
    "MAX_SEGMENT_LENGTH",
    "is_valid_key",
    "key_problem",
    "normalize_prefix",
    "validate_key",
]

MAX_KEY_LENGTH = 512
"""Longest accepted key, in characters (keys are ASCII, so also in bytes)."""

MAX_SEGMENT_LENGTH = 200
"""Longest accepted segment, in characters; file names on disk add a short suffix to it."""

_SEGMENT_RE = re.compile(r"[A-Za-z0-9._=-]+")
_BAD_CHAR_RE = re.compile(r"[^A-Za-z0-9._=-]")


def key_problem(key: object) -> str | None:
    """Say what is wrong with ``key``, or return ``None`` when it is a valid object key.

    Returning the problem (rather than raising) lets callers that scan storage skip foreign
    names cheaply, while :func:`validate_key` turns the same text into an error.
    """
    if not isinstance(key, str):
        return f"a key must be a str, not {type(key).__name__}"
    if not key:
        return "the key is empty"
    if len(key) > MAX_KEY_LENGTH:
        return f"the key is {len(key)} characters long; the limit is {MAX_KEY_LENGTH}"
    if "\\" in key:
        return "the key contains a backslash; segments are separated by '/' only"
    if key.startswith("/"):
        return "the key is absolute (leading '/'); keys are relative to the store root"
    if key.endswith("/"):
        return "the key ends with '/'; a key names an object, not a folder"
    for segment in key.split("/"):
        if not segment:
            return "the key has an empty segment ('//')"
        if segment in (".", ".."):
            return f"the key has a '{segment}' segment; keys never step around the store root"
        if len(segment) > MAX_SEGMENT_LENGTH:
            return (
                f"segment '{segment[:20]}...' is {len(segment)} characters long; "
                f"the limit is {MAX_SEGMENT_LENGTH}"
            )
        if not _SEGMENT_RE.fullmatch(segment):
            bad = sorted(set(_BAD_CHAR_RE.findall(segment)))
            return f"segment {segment!r} has characters outside [A-Za-z0-9._=-]: {bad!r}"
    return None


def is_valid_key(key: object) -> bool:
    """True when ``key`` passes :func:`validate_key`."""
    return key_problem(key) is None


def validate_key(key: str) -> str:
    """Return ``key`` unchanged if it is valid.

    Raises:
        InvalidObjectKeyError: naming the key and the first rule it breaks.
    """
    problem = key_problem(key)
    if problem is not None:
        raise InvalidObjectKeyError(str(key), problem)
    return key


def normalize_prefix(prefix: str) -> str:
    """Turn a ``list`` prefix into ``""`` (everything) or a folder path ending in ``/``.

    ``"sr/run1"`` and ``"sr/run1/"`` both become ``"sr/run1/"``, so matching is on segment
    boundaries.

    Raises:
        InvalidObjectKeyError: when the prefix, without its trailing ``/``, is not a valid key.
    """
    if prefix == "":
        return ""
    body = prefix[:-1] if isinstance(prefix, str) and prefix.endswith("/") else prefix
    problem = key_problem(body)
    if problem is not None:
        raise InvalidObjectKeyError(str(prefix), f"invalid list prefix: {problem}")
    return f"{body}/"
