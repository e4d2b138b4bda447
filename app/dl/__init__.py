"""Degrade ladder (DL): health signals in, an explicit posture out, as pure logic.

``policy`` holds the knobs (``policy.degrade``), ``signals`` maps one reading to the posture it
requires, ``ladder`` adds hysteresis and governance facts, and ``posture_view`` is what DF
consults, failing closed on a missing or stale posture. No clock, no I/O: callers pass ``now_s``.
"""

from __future__ import annotations

from app.dl.ladder import DegradeLadder, PostureTransition, transition_fact
from app.dl.policy import DegradePolicy, Thresholds
from app.dl.posture_view import PostureStamp, effective_posture
from app.dl.signals import HealthSignals, required_posture

__all__ = [
    "DegradeLadder",
    "DegradePolicy",
    "HealthSignals",
    "PostureStamp",
    "PostureTransition",
    "Thresholds",
    "effective_posture",
    "required_posture",
    "transition_fact",
]
