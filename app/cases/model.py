"""Case management's domain, pure: a case folded from its events, and commands checked against it.

:func:`fold` turns a case's events into a :class:`Case`; :func:`handle` turns one command into the
events it appends, or a :class:`Refusal` that says why (with the HTTP status an API answers: 404
no such case, 409 an illegal transition, naming the current state, or a stale version, 403 a
verdict without the right, 413 a note over the limit). No clock and no I/O: the caller passes
the time, and ``app.cases.log`` writes the events.

Idempotency: a command whose ``command_id`` is already in the case's history is answered with the
events it made, and appends nothing. Versions: a command names the version (the last ``seq``) it
was made against; any other is stale. Dual control (:func:`needs_second_approval`): a verdict
above the policy amount, or one that overturns the label the flow already carries, is proposed
and waits for a *different* investigator's approval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from app.rails.case import CaseEvent, CaseEventType, CaseState, Verdict

__all__ = [
    "ACTIONS",
    "VERDICTS",
    "Approve",
    "Case",
    "CasePolicy",
    "Claim",
    "Close",
    "Command",
    "Note",
    "Refusal",
    "Reject",
    "Reopen",
    "Resolve",
    "command_of",
    "fold",
    "handle",
    "needs_second_approval",
]


@dataclass(frozen=True)
class CasePolicy:
    dual_control_amount_minor: int = 100_000
    """A verdict on a flow above this amount needs a second investigator."""
    max_note_chars: int = 4000


@dataclass(frozen=True)
class Case:
    case_id: str
    version: int
    state: CaseState
    opened: CaseEvent
    assignee: str | None = None
    verdict: Verdict | None = None
    proposed: CaseEvent | None = None
    """The verdict waiting for approval (PENDING_APPROVAL)."""
    events: tuple[CaseEvent, ...] = ()
    command_ids: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class _Base:
    case_id: str
    command_id: str
    actor: str
    expected_version: int


@dataclass(frozen=True)
class Claim(_Base):
    pass


@dataclass(frozen=True)
class Note(_Base):
    text: str


@dataclass(frozen=True)
class Resolve(_Base):
    verdict: Verdict
    note: str
    current_label: str | None = None
    """The flow's label as the Label Store knows it now (an overturn needs dual control)."""


@dataclass(frozen=True)
class Approve(_Base):
    pass


@dataclass(frozen=True)
class Reject(_Base):
    note: str


@dataclass(frozen=True)
class Close(_Base):
    pass


@dataclass(frozen=True)
class Reopen(_Base):
    reason: str


Command = Claim | Note | Resolve | Approve | Reject | Close | Reopen
ACTIONS = ("claim", "note", "resolve", "approve", "reject", "close", "reopen")
"""Commands by the name the CLI and the console give them."""
VERDICTS: tuple[Verdict, ...] = ("fraud", "abuse", "legit", "inconclusive")


def command_of(action: str, case_id: str, command_id: str, actor: str, version: int, *,
               text: str = "", verdict: str | None = None,
               current_label: str | None = None) -> Command:
    """The command named ``action`` (one of :data:`ACTIONS`); ``text`` is its note or reason.

    Raises:
        ValueError: an unknown action, or a resolve without a known verdict.
    """
    common = (case_id, command_id, actor, version)
    if action == "resolve":
        if verdict not in VERDICTS:
            raise ValueError(f"a verdict is one of {', '.join(VERDICTS)}, got {verdict!r}")
        return Resolve(*common, verdict=verdict,
                       note=text, current_label=current_label)
    simple: dict[str, Command] = {"claim": Claim(*common), "approve": Approve(*common),
                                  "close": Close(*common)}
    if action in simple:
        return simple[action]
    if action == "note":
        return Note(*common, text=text)
    if action == "reject":
        return Reject(*common, note=text)
    if action == "reopen":
        return Reopen(*common, reason=text)
    raise ValueError(f"no case action {action!r} (one of {', '.join(ACTIONS)})")


@dataclass(frozen=True)
class Refusal:
    status: Literal[403, 404, 409, 413]
    reason_code: str
    message: str


def fold(events: Sequence[CaseEvent]) -> Case:
    """The case its events describe (``events`` in ``seq`` order, starting with OPENED)."""
    if not events or events[0].event_type is not CaseEventType.OPENED:
        raise ValueError("a case's first event is OPENED")
    case = Case(events[0].case_id, 0, CaseState.OPEN, events[0])
    for expected, event in enumerate(events, start=1):
        if event.seq != expected or event.case_id != case.case_id:
            raise ValueError(f"case {case.case_id}: event seq {event.seq} where {expected} "
                             f"belongs")
        case = _apply(case, event)
    return case


def _apply(case: Case, event: CaseEvent) -> Case:
    kind = event.event_type
    state, assignee, verdict, proposed = case.state, case.assignee, case.verdict, case.proposed
    if kind is CaseEventType.CLAIMED:
        state, assignee = CaseState.IN_REVIEW, event.actor
    elif kind is CaseEventType.VERDICT_PROPOSED:
        state, proposed = CaseState.PENDING_APPROVAL, event
    elif kind is CaseEventType.VERDICT_REJECTED:
        state, proposed = CaseState.IN_REVIEW, None
    elif kind is CaseEventType.RESOLVED:
        state, verdict, proposed = CaseState.RESOLVED, event.verdict, None
    elif kind is CaseEventType.CLOSED:
        state = CaseState.CLOSED
    elif kind is CaseEventType.REOPENED:
        state, verdict = CaseState.IN_REVIEW, None
    return Case(case.case_id, event.seq, state, case.opened, assignee, verdict, proposed,
                (*case.events, event), case.command_ids | {event.command_id})


def needs_second_approval(verdict: Verdict, *, amount_minor: int | None,
                          current_label: str | None, policy: CasePolicy) -> bool:
    """Above the policy amount, or overturning the flow's current label (fraud/abuse <->
    legit)."""
    if amount_minor is not None and amount_minor > policy.dual_control_amount_minor:
        return True
    bad = {"fraud", "abuse"}
    return current_label is not None and verdict != "inconclusive" and (
        (current_label in bad) != (verdict in bad))


_ALLOWED: dict[type, tuple[CaseState, ...]] = {
    Claim: (CaseState.OPEN, CaseState.IN_REVIEW),
    Note: tuple(CaseState),
    Resolve: (CaseState.IN_REVIEW,),
    Approve: (CaseState.PENDING_APPROVAL,),
    Reject: (CaseState.PENDING_APPROVAL,),
    Close: (CaseState.RESOLVED,),
    Reopen: (CaseState.RESOLVED, CaseState.CLOSED),
}


def handle(case: Case | None, command: Command, *, at_utc: str,
           policy: CasePolicy) -> list[CaseEvent] | Refusal:
    """The events ``command`` appends to ``case`` (none when it was handled before)."""
    if case is None:
        return Refusal(404, "CASE_NOT_FOUND", f"no case {command.case_id}")
    if command.command_id in case.command_ids:
        return [e for e in case.events if e.command_id == command.command_id]
    if command.expected_version != case.version:
        return Refusal(409, "CASE_VERSION_STALE",
                       f"case {case.case_id} is at version {case.version}, the command was made "
                       f"against {command.expected_version}: reload it")
    if case.state not in _ALLOWED[type(command)]:
        return Refusal(409, "CASE_TRANSITION_ILLEGAL",
                       f"{type(command).__name__.lower()} is not allowed while the case is "
                       f"{case.state.value}")
    text = getattr(command, "text", None) or getattr(command, "note", None) or \
        getattr(command, "reason", None)
    if text is not None and len(text) > policy.max_note_chars:
        return Refusal(413, "CASE_NOTE_TOO_LARGE",
                       f"a note holds at most {policy.max_note_chars} characters, got {len(text)}")
    refusal = _rights(case, command)
    if refusal is not None:
        return refusal
    return [_event(case, command, at_utc, policy)]


def _rights(case: Case, command: Command) -> Refusal | None:
    if isinstance(command, Resolve) and case.assignee != command.actor:
        return Refusal(403, "CASE_NOT_ASSIGNEE",
                       f"only the assignee ({case.assignee}) resolves case {case.case_id}")
    if isinstance(command, Approve | Reject) and case.proposed is not None and \
            case.proposed.actor == command.actor:
        return Refusal(403, "CASE_DUAL_CONTROL",
                       "the verdict needs a second investigator: its proposer cannot decide it")
    if isinstance(command, Reopen) and not command.reason.strip():
        return Refusal(409, "CASE_REOPEN_REASON_MISSING", "reopening a case needs a reason")
    return None


def _event(case: Case, command: Command, at_utc: str, policy: CasePolicy) -> CaseEvent:
    common: dict[str, Any] = {"case_id": case.case_id, "seq": case.version + 1,
                              "command_id": command.command_id, "actor": command.actor,
                              "at_utc": at_utc}
    if isinstance(command, Claim):
        return CaseEvent(event_type=CaseEventType.CLAIMED, **common)
    if isinstance(command, Note):
        return CaseEvent(event_type=CaseEventType.NOTE_ADDED, note=command.text, **common)
    if isinstance(command, Resolve):
        dual = needs_second_approval(command.verdict, amount_minor=case.opened.amount_minor,
                                     current_label=command.current_label, policy=policy)
        kind = CaseEventType.VERDICT_PROPOSED if dual else CaseEventType.RESOLVED
        return CaseEvent(event_type=kind, verdict=command.verdict, note=command.note, **common)
    if isinstance(command, Approve):
        assert case.proposed is not None
        return CaseEvent(event_type=CaseEventType.RESOLVED, verdict=case.proposed.verdict,
                         note=case.proposed.note, **common)
    if isinstance(command, Reject):
        return CaseEvent(event_type=CaseEventType.VERDICT_REJECTED, note=command.note, **common)
    if isinstance(command, Close):
        return CaseEvent(event_type=CaseEventType.CLOSED, **common)
    return CaseEvent(event_type=CaseEventType.REOPENED, note=command.reason, **common)
