"""The Label Store's read by subject, shared by ``fp labels show`` and ``GET /v1/labels/...``.

Pure: both callers read the store (``app.labels.reader``) and, for the flag below, the runs'
admitted traffic (``app.labels.known_flows``), then build the same JSON here. A SUBJECT is a flow
id (``flow_<digits>``), a card id or an account id; every flow it names is shown, in every run,
with its timeline as known at ``known_at_us`` (None: everything) and its verdict as true at
``effective_at_us`` as known then. Each flow says whether its run's admitted traffic has it
(``flow_known``): a label for an unknown flow is kept and shown, flagged ``false``; ``null`` when
the caller did not look the run up.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from app.labels.reader import LabelStoreView
from app.labels.timeline import Subject
from app.rails.errors import ContractError
from app.rails.timefmt import ts_to_epoch_micros

__all__ = ["SUBJECT_PATTERN", "check_subject", "document", "flows_json", "parse_time",
           "runs_of", "subjects_of"]

SUBJECT_PATTERN = re.compile(r"^(flow|card|acct)_\d+$")


def check_subject(subject: str) -> str:
    """``subject`` if it is a flow, card or account id.

    Raises:
        ContractError: ``LABEL_SUBJECT_INVALID`` for anything else.
    """
    if not SUBJECT_PATTERN.match(subject):
        raise ContractError(f"subject must be a flow, card or account id (flow_..., card_..., "
                            f"acct_...), got {subject[:80]!r}",
                            reason_code="LABEL_SUBJECT_INVALID")
    return subject


def parse_time(text: str | None, what: str) -> int | None:
    """A wire-form UTC time as epoch micros (None stays None).

    Raises:
        ContractError: ``TS_FORMAT_INVALID``, naming ``what``.
    """
    if text is None:
        return None
    try:
        return ts_to_epoch_micros(text)
    except (ContractError, ValueError) as exc:
        raise ContractError(f"{what}: not a UTC timestamp like 2024-03-01T12:00:00.000000Z: "
                            f"{text[:80]!r}", reason_code="TS_FORMAT_INVALID") from exc


def subjects_of(view: LabelStoreView, subject: str) -> list[Subject]:
    """Every (run, flow) a checked subject names, sorted."""
    timelines = view.timelines
    if subject.startswith("flow_"):
        return [s for s in timelines.subjects() if s[1] == subject]
    if subject.startswith("card_"):
        return timelines.subjects_of_card(subject)
    return timelines.subjects_of_account(subject)


def runs_of(view: LabelStoreView, subject: str) -> list[str]:
    """The runs whose flows a subject names (the traffic a caller looks up for the flag)."""
    return sorted({run_id for run_id, _ in subjects_of(view, subject)})


def flows_json(view: LabelStoreView, subject: str, known_at_us: int | None,
               effective_at_us: int | None,
               known_flows: Mapping[str, frozenset[str]] | None = None) -> list[dict[str, Any]]:
    """The subject's flows with a label known at ``known_at_us``, in (run, flow) order.

    ``known_flows`` maps a run id to the flow ids of its admitted traffic; a run missing from it
    (or no mapping) gives ``flow_known: null``.
    """
    flows: list[dict[str, Any]] = []
    for run_id, flow_id in subjects_of(view, subject):
        timeline = view.timelines.timeline((run_id, flow_id), known_at_us=known_at_us)
        if not timeline:
            continue
        verdict = view.timelines.verdict((run_id, flow_id), known_at_us=known_at_us,
                                         effective_at_us=effective_at_us)
        known = None if known_flows is None else known_flows.get(run_id)
        flows.append({"run_id": run_id, "flow_id": flow_id,
                      "flow_known": None if known is None else flow_id in known,
                      "timeline": [a.model_dump(mode="json", exclude_none=True)
                                   for a in timeline],
                      "verdict": None if verdict is None else verdict.label_value,
                      "verdict_label_id": None if verdict is None else verdict.label_id})
    return flows


def document(subject: str, as_of: str | None, effective_at: str | None,
             flows: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON answer of ``fp labels show --json`` and ``GET /v1/labels/{subject}``."""
    return {"subject": subject, "as_of": as_of, "effective_at": effective_at, "flows": flows}
