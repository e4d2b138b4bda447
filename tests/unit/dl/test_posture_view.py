"""effective_posture: DF fails closed on a missing or stale posture, never bypasses silently."""

from __future__ import annotations

import math

import pytest

from app.dl.posture_view import PostureStamp, effective_posture
from app.rails.posture import Posture
from app.rails.reason_codes import ReasonCode as RC

MAX_AGE_S = 10.0


def test_missing_posture_fails_closed() -> None:
    assert effective_posture(None, 100.0, MAX_AGE_S) == (Posture.FAIL_CLOSED, (RC.POSTURE_MISSING,))


@pytest.mark.parametrize("now_s", [110.001, 1e9, 89.0, math.nan])
def test_stale_or_implausible_posture_fails_closed(now_s: float) -> None:
    stamp = PostureStamp(posture=Posture.NORMAL, at_s=100.0)
    assert effective_posture(stamp, now_s, MAX_AGE_S) == (Posture.FAIL_CLOSED, (RC.POSTURE_STALE,))


@pytest.mark.parametrize(
    ("posture", "reasons"),
    [
        (Posture.NORMAL, ()),
        (Posture.DEGRADED, (RC.POSTURE_DEGRADED,)),
        (Posture.RULES_ONLY, (RC.POSTURE_RULES_ONLY,)),
        (Posture.FAIL_CLOSED, (RC.POSTURE_FAIL_CLOSED,)),
    ],
)
def test_fresh_posture_is_used_with_its_reason(posture: Posture, reasons: tuple[RC, ...]) -> None:
    stamp = PostureStamp(posture=posture, at_s=100.0)
    for now_s in (100.0, 105.0, 110.0):  # up to and including the maximum age
        assert effective_posture(stamp, now_s, MAX_AGE_S) == (posture, reasons)
