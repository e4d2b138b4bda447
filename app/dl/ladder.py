"""The degrade ladder: a pure state machine from health readings to posture transitions.

This module owns the hysteresis of DL (DESIGN section 6): downgrade at once, upgrade one level at a
time and only after a quiet period, so a flapping signal cannot make the posture flap. The caller
drives it with its own clock (``now_s``, seconds on any monotonic scale); nothing here reads the
wall clock, so a test or a replay gets the same transitions from the same readings. Each
transition becomes a governance fact (:func:`transition_fact`) on the audit bus.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.dl.policy import DegradePolicy
from app.dl.posture_view import PostureStamp
from app.dl.signals import HealthSignals, required_posture
from app.rails.errors import ContractError
from app.rails.governance import FactType, GovernanceFact, governance_fact
from app.rails.policy_rev import PolicyRev
from app.rails.posture import POSTURE_ORDER, Posture
from app.rails.reason_codes import ReasonCode

__all__ = ["DegradeLadder", "PostureTransition", "transition_fact"]

_MAX_SCOPE_LEN = 128  # GovernanceFact.scope's limit: fail at construction, not at the first fact


@dataclass(frozen=True, slots=True)
class PostureTransition:
    """The ladder moved from one posture to another at ``at_s`` (the caller's clock), and why."""

    from_posture: Posture
    to_posture: Posture
    reason_codes: tuple[ReasonCode, ...]
    at_s: float


class DegradeLadder:
    """Posture of one scope (e.g. a DF worker), moved only by :meth:`observe`.

    Args:
        policy: thresholds, quiet period and optional pin.
        scope: what this posture governs; becomes ``GovernanceFact.scope``.
        start: posture before the first reading (e.g. a posture recovered from a table).

    Raises:
        ContractError: ``scope`` is empty or longer than a governance fact allows.
    """

    def __init__(self, policy: DegradePolicy, *, scope: str,
                 start: Posture = Posture.NORMAL) -> None:
        if not scope or len(scope) > _MAX_SCOPE_LEN:
            raise ContractError(
                f"DegradeLadder scope must be 1..{_MAX_SCOPE_LEN} characters, got {scope!r:.140}"
            )
        self._policy = policy
        self._scope = scope
        self._posture = start
        self._since_s: float | None = None
        self._last_s: float | None = None
        # Start of the current unbroken run of readings below the current posture; None while
        # some signal still asks for the current posture or worse.
        self._quiet_since_s: float | None = None

    @property
    def posture(self) -> Posture:
        return self._posture

    @property
    def since_s(self) -> float | None:
        """When the current posture began (caller's clock); the first reading for ``start``."""
        return self._since_s

    @property
    def scope(self) -> str:
        return self._scope

    def stamp(self) -> PostureStamp | None:
        """The posture as of the last reading, for DF; None before the first reading.

        The stamp's time is the last reading, not :attr:`since_s`: a posture is fresh because DL
        keeps confirming it, not because it changed recently.
        """
        if self._last_s is None:
            return None
        return PostureStamp(posture=self._posture, at_s=self._last_s)

    def observe(self, signals: HealthSignals, now_s: float) -> PostureTransition | None:
        """Take one reading at ``now_s``; return the transition it causes, if any.

        Downgrades go straight to the required posture (skipping levels). Upgrades need the
        required posture to stay below the current one for ``quiet_period_s`` without a break,
        then move one level and restart the quiet timer. A reading that asks for the current
        posture or worse breaks the quiet run. If ``now_s`` goes backwards the quiet run restarts
        at ``now_s``, so a full quiet period must pass after the step: a clock step can delay an
        upgrade, never hasten it, and cannot block upgrades for as long as the step was.
        """
        if self._since_s is None:
            self._since_s = now_s
        if self._last_s is not None and now_s < self._last_s and self._quiet_since_s is not None:
            self._quiet_since_s = now_s
        self._last_s = now_s

        pinned = self._policy.pinned
        if pinned is not None:
            if pinned is self._posture:
                return None
            return self._move(pinned, (ReasonCode.POSTURE_PINNED,), now_s)

        required, reasons = required_posture(signals, self._policy)
        if required.level > self._posture.level:
            return self._move(required, reasons, now_s)
        if required.level == self._posture.level:
            self._quiet_since_s = None
            return None
        if self._quiet_since_s is None:
            self._quiet_since_s = now_s
            return None
        if now_s - self._quiet_since_s < self._policy.quiet_period_s:
            return None
        one_up = POSTURE_ORDER[self._posture.level - 1]
        transition = self._move(one_up, (ReasonCode.SIGNALS_QUIET,), now_s)
        if required.level < one_up.level:
            self._quiet_since_s = now_s
        return transition

    def _move(self, to: Posture, reasons: tuple[ReasonCode, ...],
              now_s: float) -> PostureTransition:
        transition = PostureTransition(from_posture=self._posture, to_posture=to,
                                       reason_codes=reasons, at_s=now_s)
        self._posture = to
        self._since_s = now_s
        self._quiet_since_s = None
        return transition


def transition_fact(transition: PostureTransition, scope: str, policy_rev: PolicyRev,
                    at_utc: str) -> GovernanceFact:
    """The POSTURE_CHANGED governance fact for ``transition``.

    ``at_utc`` is the apply clock (when the change took effect), supplied by the caller. The
    caller's ``at_s`` is left out: it is a process-local clock and would make the fact id depend
    on which process observed the change. The fact id is a pure function of the fields, so a
    re-emitted fact dedupes.
    """
    return governance_fact(
        FactType.POSTURE_CHANGED,
        scope,
        from_value=str(transition.from_posture),
        to_value=str(transition.to_posture),
        reason_codes=tuple(str(code) for code in transition.reason_codes),
        policy_rev=policy_rev,
        at_utc=at_utc,
    )
