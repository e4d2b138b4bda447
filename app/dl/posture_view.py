"""What DF consults: the last posture DL published, and whether it may still be trusted.

This module keeps the explicit-degrade rail (DESIGN section 2) on the consuming side: a missing
posture, or one older than the policy allows, means FAIL_CLOSED, never a silent bypass. A stale
stamp most often means DL itself stopped, which is exactly when its last word must not be trusted.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.rails.posture import Posture
from app.rails.reason_codes import ReasonCode

__all__ = ["PostureStamp", "effective_posture"]

_POSTURE_REASON: dict[Posture, tuple[ReasonCode, ...]] = {
    Posture.NORMAL: (),
    Posture.DEGRADED: (ReasonCode.POSTURE_DEGRADED,),
    Posture.RULES_ONLY: (ReasonCode.POSTURE_RULES_ONLY,),
    Posture.FAIL_CLOSED: (ReasonCode.POSTURE_FAIL_CLOSED,),
}


@dataclass(frozen=True, slots=True)
class PostureStamp:
    """A posture as DL last confirmed it, at ``at_s`` on the clock DL and DF share."""

    posture: Posture
    at_s: float


def effective_posture(stamp: PostureStamp | None, now_s: float,
                      max_age_s: float) -> tuple[Posture, tuple[ReasonCode, ...]]:
    """The posture a decision at ``now_s`` must use, with the reason codes to record.

    Returns (FAIL_CLOSED, (POSTURE_MISSING,)) without a stamp and (FAIL_CLOSED,
    (POSTURE_STALE,)) when the stamp is more than ``max_age_s`` away from ``now_s``, in either
    direction: a stamp far in the future (clock skew, a corrupt value) would otherwise stay fresh
    forever. Otherwise the stamp's posture, with its POSTURE_* code unless it is NORMAL.
    """
    if stamp is None:
        return Posture.FAIL_CLOSED, (ReasonCode.POSTURE_MISSING,)
    if not abs(now_s - stamp.at_s) <= max_age_s:  # `not <=` so a NaN age is stale, too
        return Posture.FAIL_CLOSED, (ReasonCode.POSTURE_STALE,)
    return stamp.posture, _POSTURE_REASON[stamp.posture]
