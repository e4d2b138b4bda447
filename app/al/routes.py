"""Route intents to executors by action type (payments to the switch, OPEN_CASE to case
management), so one AL serves every executor and each outcome names the one that ran it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from app.al.executor import Executor
from app.rails.decision import ActionType

__all__ = ["Routes"]


@dataclass(frozen=True)
class Routes:
    """``by_type``'s executor for its action types, ``default`` for every other."""

    default: Executor
    by_type: Mapping[ActionType, Executor] = field(default_factory=dict)

    def of(self, action_type: ActionType) -> Executor:
        return self.by_type.get(action_type, self.default)
