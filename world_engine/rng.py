"""Named random streams: one ``numpy.random.Generator(PCG64)`` per (seed, tag, keys).

This module owns the engine's randomness. Every consumer asks for its own stream by a stable tag
(``"entities.customers"``, ``"traffic.legit"`` plus the day index, ...), so adding draws to one
stream never shifts another, and generating day by day (bounded memory) gives exactly the same
world as any other chunking. The tag is hashed with sha256, never Python's ``hash`` (salted per
process), and no wall clock or OS entropy is involved.
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["stream"]


def _tag_words(tag: str) -> tuple[int, int]:
    digest = hashlib.sha256(tag.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "little"), int.from_bytes(digest[4:8], "little")


def stream(seed: int, tag: str, *keys: int) -> np.random.Generator:
    """A fresh generator for ``tag`` (and integer ``keys`` such as a day index) under ``seed``.

    Same arguments, same sequence, on every machine and in every process.
    """
    spawn_key = (*_tag_words(tag), *(int(k) for k in keys))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=spawn_key)))
