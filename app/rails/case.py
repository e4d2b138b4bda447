"""Case management's contract: a case is the fold of its append-only case events.

Every change to a case is one :class:`CaseEvent` with the case's next ``seq`` (1 = opened). The
object store holds them create-only (``app.cases.log``), so two writers of the same ``seq`` cannot
both win: the second is refused as stale (409), and the same event written twice (a retried
command, an intent executed again) is the same bytes, a no-op. ``command_id`` makes a command
idempotent: a command whose id is already in the case's history changes nothing.

States: ``OPEN`` -> ``IN_REVIEW`` (claimed by an investigator) -> ``RESOLVED`` (a verdict with a
note) -> ``CLOSED``; a verdict that needs dual control waits in ``PENDING_APPROVAL`` until a
second investigator approves (-> ``RESOLVED``) or rejects it (-> ``IN_REVIEW``); a resolved or
closed case reopens (with a reason) to ``IN_REVIEW``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict

from app.rails.decision import (
    BundleRef,
    DecisionOutcome,
    DecisionReason,
    FeatureSnapshot,
)
from app.rails.ids import Hex32, Hex64
from app.rails.timefmt import TsUtc

__all__ = ["CaseEvent", "CaseEventType", "CaseEvidence", "CaseState", "Verdict"]


class CaseState(StrEnum):
    OPEN = "OPEN"
    IN_REVIEW = "IN_REVIEW"
    PENDING_APPROVAL = "PENDING_APPROVAL"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"


class CaseEventType(StrEnum):
    OPENED = "OPENED"
    CLAIMED = "CLAIMED"
    NOTE_ADDED = "NOTE_ADDED"
    VERDICT_PROPOSED = "VERDICT_PROPOSED"
    """A verdict that needs a second investigator's approval (dual control)."""
    VERDICT_APPROVED = "VERDICT_APPROVED"
    VERDICT_REJECTED = "VERDICT_REJECTED"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"
    REOPENED = "REOPENED"


Verdict = Literal["fraud", "abuse", "legit", "inconclusive"]
_Actor = Annotated[str, Strict(), Field(min_length=1, max_length=64,
                                        pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
_CommandId = Annotated[str, Strict(), Field(min_length=1, max_length=128,
                                            pattern=r"^[A-Za-z0-9_.:-]+$")]


class CaseEvent(BaseModel):
    """One change to one case (see the module doc). Fields beyond the type's own are None."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    record_type: Literal["case_event"] = "case_event"
    case_id: Hex32
    seq: int = Field(ge=1, description="1 for OPENED, then +1 per event: the case's version.")
    event_type: CaseEventType
    command_id: _CommandId
    actor: _Actor = Field(description="Who did it: an investigator, or 'platform'.")
    at_utc: TsUtc = Field(description="When (OPENED: the trigger's event time).")
    # OPENED
    run_id: Hex32 | None = None
    decision_id: Hex64 | None = None
    action_id: Hex64 | None = None
    flow_id: str | None = None
    card_id: str | None = None
    account_id: str | None = None
    score: float | None = Field(default=None, allow_inf_nan=False)
    amount_minor: int | None = None
    label_id: str | None = Field(
        default=None, max_length=128,
        description="OPENED by a label that needs a look (a dispute or chargeback on an "
                    "approved flow): that label's id. None when an OPEN_CASE intent opened it.")
    # NOTE_ADDED, VERDICT_*, RESOLVED, REOPENED
    note: str | None = Field(default=None, max_length=4000)
    verdict: Verdict | None = None


class CaseEvidence(BaseModel):
    """Why the platform opened a case: the triggering decision's outcome, score, reason codes and
    bundle, and its feature snapshot, the entity context (card, account, device, IP, merchant,
    graph) as of the decision.

    Written once, before the case's OPENED event, at ``cases/<case_id>/evidence.json``: the bus
    that carried the decision may be long gone when an investigator opens the case.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    record_type: Literal["case_evidence"] = "case_evidence"
    case_id: Hex32
    decision_id: Hex64
    outcome: DecisionOutcome
    score: float | None = Field(allow_inf_nan=False)
    reason_codes: tuple[DecisionReason, ...]
    bundle: BundleRef | None
    snapshot: FeatureSnapshot
