"""Cases opened by labels that need a look: a dispute or a chargeback on a flow the platform
approved (the bank's customer says "not me" about a payment the platform let through).

The Label Store stage offers every new assertion to :class:`LabelTriage`; the ones that may need
a look (:func:`needs_a_look`) wait until the flow's decision is known, because a label can be
admitted before its authorisation's decision is audited (they travel on different topics):

1. the flow's authorisation (or an imported world's transaction, whose ``txn_id`` is its flow),
   from IG's admitted-traffic archive (:class:`FlowDecisions`);
2. its decision, from DLA's audit log (latest chain first: a re-decision supersedes);
3. APPROVE: the case opens (:func:`opened_for_label`); any other outcome: nothing to look at.

The case id is a function of the run and the label id, and the OPENED event a function of the
label and the decision (its time is the label's observed time), so triaging the same label again
(a redelivery, a restart: the stage offers every restored label again) writes the same bytes
under the same key: one case per label, ever. A label whose flow or decision never shows up (an
unknown flow: the Label Store keeps and flags it) stays waiting, counted, and costs nothing but
a lookup per tick.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from app.cases.log import event_key, open_case
from app.dla.lookup import AuditIndex
from app.ig.archive import ARCHIVE_PREFIX, parse_segment_key
from app.objectstore.base import ObjectStore
from app.rails.archive import ArchivedRecord
from app.rails.canonical_json import canonical_loads
from app.rails.case import CaseEvent, CaseEventType
from app.rails.decision import DecisionOutcome
from app.rails.ids import short_id
from app.rails.label import LabelAssertion

__all__ = ["NEEDS_A_LOOK", "FlowDecision", "FlowDecisions", "LabelTriage", "Triaged",
           "case_id_for_label", "needs_a_look", "opened_for_label"]

NEEDS_A_LOOK = frozenset({"customer_dispute", "chargeback"})
"""Label types that open a case on an approved flow (a post-auth detection is the bank's own
finding, already worked by its team)."""


def needs_a_look(assertion: LabelAssertion) -> bool:
    """A bank label that says the flow was bad, of a type a customer or a scheme raises."""
    return (assertion.source == "label_feed" and assertion.label_type in NEEDS_A_LOOK
            and assertion.label_value in ("fraud", "abuse"))


def case_id_for_label(run_id: str, label_id: str) -> str:
    """The one case a label opens."""
    return short_id("case", "label", run_id, label_id)


@dataclass(frozen=True)
class FlowDecision:
    """A flow's authorisation decision, as the audit log holds it."""

    decision_id: str
    outcome: DecisionOutcome
    score: float | None
    amount_minor: int | None


def opened_for_label(assertion: LabelAssertion, decision: FlowDecision) -> CaseEvent:
    """The OPENED event a label that needs a look makes (deterministic: see the module doc)."""
    return CaseEvent(
        case_id=case_id_for_label(assertion.run_id, assertion.label_id), seq=1,
        event_type=CaseEventType.OPENED, command_id=assertion.label_id, actor="platform",
        at_utc=assertion.observed_ts_utc, run_id=assertion.run_id,
        decision_id=decision.decision_id, flow_id=assertion.flow_id, card_id=assertion.card_id,
        account_id=assertion.account_id, score=decision.score,
        amount_minor=decision.amount_minor, label_id=assertion.label_id,
        note=f"{assertion.label_type} ({assertion.label_value}) on a flow the platform approved")


@dataclass
class _RunFlows:
    read: set[str] = field(default_factory=set)
    auth: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    """flow id -> (its authorisation's event id, amount)."""


class FlowDecisions:
    """flow -> its authorisation's decision: the admitted-traffic archive (read incrementally,
    segment by segment) and DLA's audit index (polled incrementally)."""

    def __init__(self) -> None:
        self._runs: dict[str, _RunFlows] = {}
        self._audit = AuditIndex()

    async def refresh(self, store: ObjectStore, run_ids: Iterable[str]) -> None:
        """Read what is new in the runs' archives and in the audit log: once per triage round,
        never per label (each is a listing: thousands of segments on a large run)."""
        for run_id in sorted(set(run_ids)):
            await self._flows(store, run_id)
        await self._audit.poll(store)

    async def of(self, store: ObjectStore, run_id: str, flow_id: str) -> FlowDecision | None:
        """The flow's decision as of the last :meth:`refresh` (None: its authorisation or its
        audit record is not in yet)."""
        flows = self._runs.get(run_id)
        auth = None if flows is None else flows.auth.get(flow_id)
        if auth is None:
            return None
        records = await self._audit.resolve(store, "event", auth[0], poll=False)
        if not records:
            return None
        latest = records[0].decision  # latest first: a superseding chain wins
        return FlowDecision(records[0].decision_id, latest.outcome, latest.score, auth[1])

    async def _flows(self, store: ObjectStore, run_id: str) -> _RunFlows:
        flows = self._runs.setdefault(run_id, _RunFlows())
        for key in await store.list(f"{ARCHIVE_PREFIX}/{run_id}/traffic/"):
            name = parse_segment_key(key)
            if name is None or key in flows.read:
                continue
            for line in (await store.get(key)).splitlines():
                if line:
                    _index(flows, ArchivedRecord.model_validate(canonical_loads(line)))
            flows.read.add(key)
        return flows


_TXN_FLOW = re.compile(r"^txn_[0-9]{12}$")
"""An imported world's transaction is its own flow: its ``txn_id`` (issue #15)."""


def _index(flows: _RunFlows, record: ArchivedRecord) -> None:
    envelope = record.record
    if record.is_watermark:
        return
    payload = envelope.get("payload") or {}
    if envelope.get("event_type") == "auth_request":
        flow_id = payload.get("flow_id")
    else:  # an imported transaction (its label feed names the txn_id) or a follow-up (skipped)
        txn_id = payload.get("txn_id")
        flow_id = txn_id if isinstance(txn_id, str) and _TXN_FLOW.match(txn_id) else None
    amount = payload.get("amount_minor")
    if isinstance(flow_id, str):
        flows.auth.setdefault(flow_id, (str(envelope["event_id"]),
                                        amount if isinstance(amount, int) else None))


@dataclass(frozen=True)
class Triaged:
    opened: int
    dismissed: int
    waiting: int


@dataclass
class LabelTriage:
    """Labels waiting for their flow's decision (one per partition of the Label Store)."""

    waiting: dict[tuple[str, str], LabelAssertion] = field(default_factory=dict)

    def offer(self, assertions: Iterable[LabelAssertion]) -> None:
        for assertion in assertions:
            if needs_a_look(assertion):
                self.waiting.setdefault((assertion.run_id, assertion.label_id), assertion)

    async def run(self, store: ObjectStore, decisions: FlowDecisions) -> Triaged:
        """Open the cases whose flow turned out approved; keep what cannot be told yet."""
        opened = dismissed = 0
        await decisions.refresh(store, (run_id for run_id, _ in self.waiting))
        for key, assertion in sorted(self.waiting.items()):
            if await store.exists(event_key(case_id_for_label(*key), 1)):
                del self.waiting[key]  # opened before a restart
                continue
            decision = await decisions.of(store, assertion.run_id, assertion.flow_id)
            if decision is None:
                continue
            del self.waiting[key]
            if decision.outcome is DecisionOutcome.APPROVE:
                opened += await open_case(store, opened_for_label(assertion, decision))
            else:
                dismissed += 1
        return Triaged(opened, dismissed, len(self.waiting))
