"""Switch AL's kill switch by profile change while the worker runs.

The kill switch is policy: an operator edits the worker's profile file (a new revision), and
the worker, re-reading the file every ``policy.action.reload_s``, swaps in the new
``policy.action`` when its kill switch differs from the live one. From then on outcomes carry
the new profile's ``policy_rev``, and the change is recorded as a ``KILL_SWITCH_CHANGED``
governance fact (apply clock). An edited profile that does not validate changes nothing: the
live policy stays, and the error is logged with the ProfileError text and counted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.al.policy import ActionPolicy, KillSwitch
from app.profiles.loader import Profile, load_profile
from app.rails.digests import digest_bytes
from app.rails.errors import ProfileError
from app.rails.governance import FactType, GovernanceFact, governance_fact
from app.rails.policy_rev import PolicyRev
from app.rails.reason_codes import ReasonCode
from app.runtime.al_metrics import POLICY_RELOAD_ERRORS, set_kill_switch
from app.runtime.structured_log import log_event

__all__ = ["LivePolicy", "PolicyWatch", "kill_switch_fact"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LivePolicy:
    """The action policy AL applies now, and the revision its outcomes are stamped with."""

    action: ActionPolicy
    policy_rev: PolicyRev


def _state(kill_switch: KillSwitch) -> str:
    if not kill_switch.enabled:
        return "off"
    return "on:" + (",".join(kill_switch.action_types) if kill_switch.action_types else "*")


def kill_switch_fact(before: KillSwitch, after: KillSwitch, policy_rev: PolicyRev,
                     at_utc: str) -> GovernanceFact:
    """The governance fact of a kill-switch change (``at_utc``: when it took effect)."""
    covering = after if after.enabled else before
    scope = "action:" + (",".join(covering.action_types) if covering.action_types else "*")
    reasons = (ReasonCode.KILL_SWITCH_ON,) if after.enabled else ()
    return governance_fact(
        FactType.KILL_SWITCH_CHANGED, scope, _state(before), _state(after), reasons, policy_rev,
        at_utc, details={"reason": after.reason if after.enabled else before.reason,
                         "action_types_from": list(before.action_types),
                         "action_types_to": list(after.action_types)})


class PolicyWatch:
    """Re-reads one profile file; holds the live action policy."""

    def __init__(self, profile: Profile, *, now_utc: Callable[[], str]) -> None:
        self.path: Path | None = profile.source_path
        self.base_dir = profile.base_dir
        self.live = LivePolicy(profile.policy.action, profile.policy_rev)
        self._now_utc = now_utc
        self._seen: str | None = None  # digest of the file bytes last looked at
        self._error: str | None = None  # the last re-read error (logged once, not every tick)
        self.unannounced: list[GovernanceFact] = []
        """Facts of changes whose publication is not acked yet (:meth:`announced`), oldest
        first."""
        set_kill_switch(self.live.action.kill_switch)

    def check(self) -> list[GovernanceFact]:
        """Look at the file once; returns the facts still to publish, oldest first (this
        change's, and earlier ones whose publication failed)."""
        if self.path is None:
            return list(self.unannounced)
        try:
            seen = digest_bytes(self.path.read_bytes()).hex
        except OSError as exc:
            self._reject(f"cannot read {self.path}: {exc.strerror}")
            return list(self.unannounced)
        if seen == self._seen:
            return list(self.unannounced)
        self._seen = seen
        try:
            profile = load_profile(str(self.path), base_dir=self.base_dir)
        except ProfileError as exc:
            self._reject(str(exc))
            return list(self.unannounced)
        self._error = None
        before, after = self.live.action.kill_switch, profile.policy.action.kill_switch
        if after == before:
            return list(self.unannounced)
        self.live = LivePolicy(profile.policy.action, profile.policy_rev)
        set_kill_switch(after)
        fact = kill_switch_fact(before, after, profile.policy_rev, self._now_utc())
        log_event(logger, "al.kill_switch_changed", from_value=fact.from_value,
                  to_value=fact.to_value, revision=profile.policy_rev.revision,
                  reason=fact.details["reason"])
        self.unannounced.append(fact)
        return list(self.unannounced)

    def announced(self, fact: GovernanceFact) -> None:
        """The broker acked ``fact``: it is no longer owed."""
        self.unannounced = [f for f in self.unannounced if f.fact_id != fact.fact_id]

    def _reject(self, error: str) -> None:
        if error == self._error:
            return
        self._error = error
        POLICY_RELOAD_ERRORS.inc()
        logger.error("al: profile re-read failed, the live action policy is kept: %s", error)
