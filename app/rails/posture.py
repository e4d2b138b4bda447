"""Degrade postures: how much of the hot path a decision may rely on (DESIGN section 6).

This module owns the posture vocabulary and its order. Each posture removes something from the
decision: DEGRADED drops the graph features, RULES_ONLY drops the model, FAIL_CLOSED never approves.
Every decision records the posture it was made under; a missing or stale posture means
FAIL_CLOSED, never a silent bypass. Values are wire contracts: add, never rename.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["POSTURE_ORDER", "Posture", "stricter"]


class Posture(StrEnum):
    """From least to most restrictive; see :data:`POSTURE_ORDER`."""

    NORMAL = "NORMAL"
    """Everything available: entity-graph features, the ACTIVE model, guardrails."""
    DEGRADED = "DEGRADED"
    """No graph features (the entity graph is behind or unhealthy); model and guardrails run."""
    RULES_ONLY = "RULES_ONLY"
    """No model (the registry cannot resolve a usable bundle); only the policy guardrails decide."""
    FAIL_CLOSED = "FAIL_CLOSED"
    """Never approve: every decision is the policy's conservative outcome."""

    @property
    def level(self) -> int:
        """0 (NORMAL) .. 3 (FAIL_CLOSED)."""
        return POSTURE_ORDER.index(self)

    @property
    def uses_graph(self) -> bool:
        return self is Posture.NORMAL

    @property
    def uses_model(self) -> bool:
        return self in (Posture.NORMAL, Posture.DEGRADED)


POSTURE_ORDER: tuple[Posture, ...] = (
    Posture.NORMAL,
    Posture.DEGRADED,
    Posture.RULES_ONLY,
    Posture.FAIL_CLOSED,
)


def stricter(a: Posture, b: Posture) -> Posture:
    """The more restrictive of two postures."""
    return a if a.level >= b.level else b
