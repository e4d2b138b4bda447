"""A case verdict -> a :class:`LabelAssertion`: case management's source of labels.

The case log is append-only truth (``app.cases.log``); the Label Store reads a case's RESOLVED
events as assertions: effective at the flow's authorisation time (the case's OPENED time, which
is the trigger's event time), observed at the resolution's time (for a dual-controlled verdict,
the second investigator's approval), ``source = "case"``. A verdict before its approval is not a
label: a PENDING_APPROVAL proposal asserts nothing. A reopened and resolved-again case asserts
again; the later assertion supersedes as of its own observed time.
"""

from __future__ import annotations

from app.cases.model import Case
from app.labels.from_event import asserted_hash
from app.rails.case import CaseEventType
from app.rails.label import LabelAssertion

__all__ = ["assertions_of_case"]


def assertions_of_case(case: Case) -> list[LabelAssertion]:
    """One assertion per RESOLVED event of ``case`` (none for a case with no flow)."""
    opened = case.opened
    if opened.run_id is None or opened.flow_id is None or opened.card_id is None or \
            opened.account_id is None:
        return []
    out = []
    for event in case.events:
        if event.event_type is not CaseEventType.RESOLVED or event.verdict is None:
            continue
        out.append(LabelAssertion(
            label_id=f"case:{case.case_id}:{event.seq}", run_id=opened.run_id,
            flow_id=opened.flow_id, card_id=opened.card_id, account_id=opened.account_id,
            label_type="case_verdict", label_value=event.verdict,
            effective_ts_utc=opened.at_utc, observed_ts_utc=event.at_utc, source="case",
            payload_hash=asserted_hash("case_verdict", event.verdict, opened.flow_id,
                                       opened.card_id, opened.account_id, opened.at_utc,
                                       event.at_utc)))
    return out
