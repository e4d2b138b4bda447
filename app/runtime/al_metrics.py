"""AL metrics (golden signals): outcomes, attempts, duplicates, execution time, kill switch.

Execution time is wall time per batch of intents from the first attempt to the last answer
(the apply clock, never ``ts_utc``).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from app.al.policy import KillSwitch
from app.rails.decision import ActionType

__all__ = ["ATTEMPTS", "DUPLICATE_INTENTS", "EXECUTE_SECONDS", "KILL_SWITCH", "OUTCOMES",
           "POLICY_RELOAD_ERRORS", "UNREADABLE_RECORDS", "set_kill_switch"]

OUTCOMES = Counter("fp_al_outcomes_total", "Action outcomes published, by status and type.",
                   ["status", "action_type"])
ATTEMPTS = Counter("fp_al_attempts_total", "Executor attempts, by result.", ["result"])
DUPLICATE_INTENTS = Counter(
    "fp_al_duplicate_intents_total",
    "Intents that already had an outcome when they arrived (DUPLICATE_INTENT, a no-op).")
EXECUTE_SECONDS = Histogram(
    "fp_al_execute_seconds", "Wall time to execute one batch of intents, every round, seconds.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
KILL_SWITCH = Gauge("fp_al_kill_switch", "1 when the live kill switch covers the action type.",
                    ["action_type"])
UNREADABLE_RECORDS = Counter(
    "fp_al_unreadable_records_total", "rtdl records AL could not read (RECORD_UNREADABLE).")
POLICY_RELOAD_ERRORS = Counter(
    "fp_al_policy_reload_errors_total",
    "Profile re-reads that failed validation (the live policy was kept).")


def set_kill_switch(kill_switch: KillSwitch) -> None:
    for action_type in ActionType:
        KILL_SWITCH.labels(action_type.value).set(1.0 if kill_switch.covers(action_type) else 0.0)
