"""Chain assembly: a pure fold over one rtdl partition's records, in offset order.

A decision opens a chain expecting one outcome per intent; outcomes fill it; the chain closes
(one :class:`AuditRecord`) when every intent has its outcome, at once for a decision without
intents. AL publishes an outcome to its decision's partition after the decision, so within a
partition the decision always comes first and an outcome for an unknown decision is an anomaly,
not something to wait for.

Repeats are the normal case under at-least-once delivery: the same outcome again (equal in
everything the audit records) is ignored. A *different* outcome for an intent that already has
one becomes a correction: a new record that ``supersedes`` the latest one, never an overwrite
(for a still-open chain, the correction follows the chain's first record when it closes).

No I/O and no clock: the same records in the same order give the same audit records, byte for
byte, which is what lets a restart continue a segment log exactly (``app.dla.partition_log``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError

from app.dla.anomaly import AuditAnomaly, audit_anomaly
from app.rails.action import ActionOutcome, outcome_id_of
from app.rails.audit import AuditDecision, AuditIntent, AuditRecord
from app.rails.canonical_json import canonical_dumps
from app.rails.decision import DecisionRecord
from app.rails.decision_view import DecisionView
from app.rails.pins import ContextPins
from app.rails.reason_codes import ReasonCode
from app.rails.receipts import EbRef

__all__ = ["ChainFold", "Closed", "FoldStep", "IndexKeys", "OpenChain", "audit_line_of",
           "audit_record_of"]

_Parsed = tuple[DecisionView, bytes] | ActionOutcome | AuditAnomaly
# The platform writes canonical JSON (sorted, compact), so its records carry these verbatim;
# they only pick the fast decoder, whose model checks record_type itself.
_DECISION_TAG = b'"record_type":"decision"'
_OUTCOME_TAG = b'"record_type":"action_outcome"'


IndexKeys = tuple[str, str, tuple[str, ...]]
"""What a segment index needs of an audit record: decision id, trigger event id, action ids."""


@dataclass(frozen=True)
class Closed:
    """An audit record the fold produced, with its decision's bus timestamp (metrics only).

    ``line`` is the record's canonical JSON (its segment line), made once with its
    ``audit_id``; the flush writes it and indexes ``keys``, so the :class:`AuditRecord` model is
    only built when someone reads :attr:`record`.
    """

    line: bytes
    decision_published_s: float | None
    superseding: bool
    keys: IndexKeys

    @classmethod
    def of(cls, record: AuditRecord, line: bytes, published_s: float | None) -> Closed:
        return cls(line, published_s, record.supersedes is not None, _keys(record))

    @cached_property
    def record(self) -> AuditRecord:
        return AuditRecord.model_validate_json(self.line)


def _keys(record: AuditRecord) -> IndexKeys:
    return (record.decision_id, record.decision.trigger_event_id,
            tuple(i.action_id for i in record.intents))


@dataclass
class FoldStep:
    """What one record produced, in order (a step may close a chain and correct it at once)."""

    entries: list[Closed | AuditAnomaly] = field(default_factory=list)


@dataclass
class OpenChain:
    """A decision waiting for outcomes; ``applied`` lists every rtdl offset folded into it.

    ``raw`` is the decision's bytes as read: a redelivery is recognised by them, and a second
    record that differs in bytes is compared in full (the view skips the snapshot's contents).
    """

    decision: DecisionView
    raw: bytes
    decision_ref: EbRef
    decision_published_s: float | None
    filled: dict[str, tuple[ActionOutcome, EbRef]] = field(default_factory=dict)
    corrections: list[tuple[ActionOutcome, EbRef]] = field(default_factory=list)
    applied: list[int] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return len(self.filled) == len({i.action_id for i in self.decision.intents})


@dataclass
class _Audited:
    """A closed chain, kept compact (its latest record as JSON: one per audited decision).

    ``earlier`` holds the version keys of intents a correction replaced, so a redelivered older
    outcome does not flip the record back.
    """

    audit_id: str
    latest_json: bytes
    earlier: set[bytes] = field(default_factory=set)

    @classmethod
    def of(cls, record: AuditRecord) -> _Audited:
        return cls(record.audit_id, record.model_dump_json().encode())

    @property
    def latest(self) -> AuditRecord:
        return AuditRecord.model_validate_json(self.latest_json)

    def replace(self, record: AuditRecord, line: bytes | None = None) -> None:
        self.earlier.update(_version_key(i) for i in self.latest.intents)
        self.audit_id = record.audit_id
        self.latest_json = record.model_dump_json().encode() if line is None else line


def _audit_intent(outcome: ActionOutcome, ref: EbRef) -> AuditIntent:
    # model_construct: every value comes from a validated outcome, with the very field types
    # AuditIntent declares (validating them again is most of the cost of building one).
    return AuditIntent.model_construct(
        action_id=outcome.action_id, action_type=outcome.action_type,
        outcome_id=outcome.outcome_id, status=outcome.status, reason_codes=outcome.reason_codes,
        attempts=len(outcome.attempts), side_effect_ref=outcome.side_effect_ref,
        outcome_ref=ref, outcome_policy_rev=outcome.policy_rev)


def _version_key(intent: AuditIntent) -> bytes:
    """What makes two outcomes of one intent 'the same' to the audit: all but their position."""
    return intent.model_dump_json(exclude={"outcome_ref"}).encode()


def _audit_decision(decision: DecisionView, ref: EbRef) -> AuditDecision:
    # model_construct: as in _audit_intent, from a validated decision (view).
    return AuditDecision.model_construct(
        decision_ref=ref, trigger_event_id=decision.trigger.event_id,
        trigger_ref=decision.trigger.eb_ref, trigger_ts_utc=decision.trigger.ts_utc,
        outcome=decision.outcome, reason_codes=decision.reason_codes, score=decision.score,
        posture=decision.posture, bundle=decision.bundle,
        snapshot_hash=decision.snapshot.snapshot_hash,
        graph_version=decision.snapshot.graph_version, policy_rev=decision.policy_rev,
        shadow=decision.shadow)


def audit_record_of(decision_id: str, pins: ContextPins, decision: AuditDecision,
                    intents: Iterable[AuditIntent], *, supersedes: str | None = None,
                    correction_reasons: tuple[str, ...] = ()) -> AuditRecord:
    """The record with ``audit_id`` = H(decision_id, every other field): same chain, same id."""
    return audit_line_of(decision_id, pins, decision, intents, supersedes=supersedes,
                         correction_reasons=correction_reasons)[0]


def _line_of(decision_id: str, content: dict[str, Any]) -> tuple[str, bytes]:
    """``audit_id`` and the segment line of an audit record's content (all but its id), from
    one serialisation: ``audit_id`` sorts first among the keys, so the line is the hashed
    content with the id put in front."""
    body = canonical_dumps(content)
    # make_id("audit_record", decision_id, content): sha256 of canonical_dumps([tag, *parts]),
    # i.e. of these bytes (a tag and a hex id are plain JSON strings; compact separators).
    audit_id = hashlib.sha256(b'["audit_record",' + orjson.dumps(decision_id) + b"," + body
                              + b"]").hexdigest()
    return audit_id, b'{"audit_id":"' + audit_id.encode() + b'",' + body[1:]


_SMALL_JSON: dict[BaseModel, dict[str, Any]] = {}
_SMALL_JSON_MAX = 256


def _small_json(model: BaseModel) -> dict[str, Any]:
    """``model_dump(mode="json")`` of a frozen model that repeats from record to record (pins,
    policy revisions, bundle refs), remembered by value; callers only read the dict."""
    found = _SMALL_JSON.get(model)
    if found is None:
        if len(_SMALL_JSON) >= _SMALL_JSON_MAX:
            _SMALL_JSON.clear()
        found = _SMALL_JSON[model] = model.model_dump(mode="json")
    return found


def _ref_json(ref: EbRef) -> dict[str, Any]:
    return {"topic": ref.topic, "partition": ref.partition, "offset": ref.offset}


def _decision_json(decision: DecisionView, ref: EbRef) -> dict[str, Any]:
    """``_audit_decision(decision, ref).model_dump(mode="json")``, without building the model
    (a test and the bench's digest pin the equality: segments decode and re-encode the same)."""
    trigger = decision.trigger
    return {
        "decision_ref": _ref_json(ref), "trigger_event_id": trigger.event_id,
        "trigger_ref": _ref_json(trigger.eb_ref), "trigger_ts_utc": trigger.ts_utc,
        "outcome": decision.outcome.value, "reason_codes": list(decision.reason_codes),
        "score": decision.score, "posture": decision.posture.value,
        "bundle": None if decision.bundle is None else _small_json(decision.bundle),
        "snapshot_hash": decision.snapshot.snapshot_hash,
        "graph_version": decision.snapshot.graph_version,
        "policy_rev": _small_json(decision.policy_rev),
        "shadow": None if decision.shadow is None else decision.shadow.model_dump(mode="json")}


def _intent_json(outcome: ActionOutcome, ref: EbRef) -> dict[str, Any]:
    """``_audit_intent(outcome, ref).model_dump(mode="json")``, as :func:`_decision_json`."""
    return {
        "action_id": outcome.action_id, "action_type": outcome.action_type.value,
        "outcome_id": outcome.outcome_id, "status": outcome.status.value,
        "reason_codes": list(outcome.reason_codes), "attempts": len(outcome.attempts),
        "side_effect_ref": outcome.side_effect_ref, "outcome_ref": _ref_json(ref),
        "outcome_policy_rev": _small_json(outcome.policy_rev)}


def audit_line_of(decision_id: str, pins: ContextPins, decision: AuditDecision,
                  intents: Iterable[AuditIntent], *, supersedes: str | None = None,
                  correction_reasons: tuple[str, ...] = ()) -> tuple[AuditRecord, bytes]:
    """:func:`audit_record_of` and the record's canonical JSON (its segment line), from one
    serialisation: the line is the hashed content with ``audit_id`` added, and ``audit_id``
    sorts first among the keys, so both come from the same canonical bytes."""
    intents = tuple(intents)
    content = {
        "record_type": "audit_record", "schema_version": "v1", "decision_id": decision_id,
        "pins": pins.model_dump(mode="json"),
        "decision": decision.model_dump(mode="json"),
        "intents": [i.model_dump(mode="json") for i in intents],
        "supersedes": supersedes, "correction_reasons": list(correction_reasons),
    }
    audit_id, line = _line_of(decision_id, content)
    # Built from the validated parts (pydantic does not re-validate model instances).
    record = AuditRecord(audit_id=audit_id, decision_id=decision_id, pins=pins,
                         decision=decision, intents=intents, supersedes=supersedes,
                         correction_reasons=correction_reasons)
    return record, line


class ChainFold:
    """The chain state of one rtdl partition; :meth:`apply` is the whole behaviour."""

    def __init__(self, topic: str, partition: int) -> None:
        self.topic = topic
        self.partition = partition
        self.open: dict[str, OpenChain] = {}
        self.audited: dict[str, _Audited] = {}

    def apply(self, offset: int, raw: bytes, published_s: float | None = None) -> FoldStep:
        """Fold the record at ``offset``; ``published_s`` is its bus timestamp (metrics only)."""
        ref = EbRef(topic=self.topic, partition=self.partition, offset=offset)
        step = FoldStep()
        parsed = _parse(raw, ref)
        if isinstance(parsed, AuditAnomaly):
            step.entries.append(parsed)
        elif isinstance(parsed, tuple):
            self._decision(*parsed, ref, published_s, step)
        else:
            self._outcome(parsed, ref, step)
        return step

    def remember(self, record: AuditRecord) -> None:
        """Take a record already written (a restore from segments) as the chain's latest."""
        known = self.audited.get(record.decision_id)
        if known is None:
            self.audited[record.decision_id] = _Audited.of(record)
        elif known.audit_id != record.audit_id:
            known.replace(record)

    def _decision(self, decision: DecisionView, raw: bytes, ref: EbRef,
                  published_s: float | None, step: FoldStep) -> None:
        did = decision.decision_id
        if did in self.open or did in self.audited:
            same = self._same_decision(decision, raw, did, ref)
            if isinstance(same, AuditAnomaly):
                step.entries.append(same)
            elif not same:
                step.entries.append(audit_anomaly(
                    ReasonCode.DECISION_CONFLICT, ref, "a second, different decision record "
                    "under this decision_id; the first one is audited", decision_id=did))
            return  # the same decision again (redelivery): its chain is already open or closed
        chain = OpenChain(decision, raw, ref, published_s)
        self.open[did] = chain
        if chain.complete:
            self._close(chain, step)

    def _same_decision(self, decision: DecisionView, raw: bytes, did: str,
                       ref: EbRef) -> bool | AuditAnomaly:
        """Whether a second record under ``did`` is the first one again.

        For an open chain that is equality of the whole records: the same bytes (a redelivery),
        else both read with the full model (rare), whose refusal is the anomaly it always was.
        """
        chain = self.open.get(did)
        if chain is not None:
            if raw == chain.raw:
                return True
            full = _parse_full(raw, ref)
            if isinstance(full, AuditAnomaly):
                return full
            if not isinstance(full, tuple):  # unreachable: the view read it as a decision
                return False
            first = _parse_full(chain.raw, chain.decision_ref)
            return isinstance(first, tuple) and first[1] == full[1]
        latest = self.audited[did].latest
        return _audit_decision(decision, latest.decision.decision_ref) == latest.decision

    def _outcome(self, outcome: ActionOutcome, ref: EbRef, step: FoldStep) -> None:
        did = outcome.decision_id
        chain = self.open.get(did)
        if chain is None and did not in self.audited:
            step.entries.append(audit_anomaly(
                ReasonCode.OUTCOME_WITHOUT_DECISION, ref, "no decision with this id precedes "
                "the outcome on its partition", decision_id=did, action_id=outcome.action_id))
            return
        intents = (chain.decision.intents if chain is not None
                   else self.audited[did].latest.intents)
        if not any(i.action_id == outcome.action_id and i.action_type == outcome.action_type
                   for i in intents):
            step.entries.append(audit_anomaly(
                ReasonCode.OUTCOME_WITHOUT_INTENT, ref, "the outcome's action id and type match "
                "no intent of its decision", decision_id=did, action_id=outcome.action_id))
            return
        if chain is None:
            self._correct(did, outcome, ref, step)
            return
        held = [chain.filled[outcome.action_id]] if outcome.action_id in chain.filled else []
        held += [(o, r) for o, r in chain.corrections if o.action_id == outcome.action_id]
        if held:
            key = _version_key(_audit_intent(outcome, ref))
            if any(_version_key(_audit_intent(o, r)) == key for o, r in held):
                return  # a repeat of an outcome the chain holds
            chain.corrections.append((outcome, ref))
        else:
            chain.filled[outcome.action_id] = (outcome, ref)
        chain.applied.append(ref.offset)
        if chain.complete:
            self._close(chain, step)

    def _close(self, chain: OpenChain, step: FoldStep) -> None:
        """The chain's first record, as JSON straight from the validated decision and outcomes
        (the same bytes as ``audit_line_of`` over ``_audit_decision`` and ``_audit_intent``)."""
        decision = chain.decision
        did = decision.decision_id
        # dict.fromkeys: intent order, each action once (a repeated intent is one action)
        actions = tuple(dict.fromkeys(i.action_id for i in decision.intents))
        content = {
            "record_type": "audit_record", "schema_version": "v1", "decision_id": did,
            "pins": _small_json(decision.pins),
            "decision": _decision_json(decision, chain.decision_ref),
            "intents": [_intent_json(*chain.filled[a]) for a in actions],
            "supersedes": None, "correction_reasons": [],
        }
        audit_id, line = _line_of(did, content)
        del self.open[did]
        self.audited[did] = _Audited(audit_id, line)
        step.entries.append(Closed(line, chain.decision_published_s, False,
                                   (did, decision.trigger.event_id, actions)))
        for outcome, ref in chain.corrections:
            self._correct(decision.decision_id, outcome, ref, step, chain.decision_published_s)

    def _correct(self, did: str, outcome: ActionOutcome, ref: EbRef, step: FoldStep,
                 published_s: float | None = None) -> None:
        """A different outcome for an audited intent: a superseding record, unless seen."""
        audited = self.audited[did]
        latest = audited.latest
        new = _audit_intent(outcome, ref)
        key = _version_key(new)
        current = next(i for i in latest.intents if i.action_id == outcome.action_id)
        if key == _version_key(current) or key in audited.earlier:
            return
        record, line = audit_line_of(
            did, latest.pins, latest.decision,
            [new if i.action_id == outcome.action_id else i for i in latest.intents],
            supersedes=latest.audit_id, correction_reasons=(ReasonCode.OUTCOME_CONFLICT.value,))
        audited.replace(record, line)
        step.entries.append(Closed.of(record, line, published_s))


def _parse(raw: bytes, ref: EbRef) -> _Parsed:
    """A decision (as a view, with its bytes), an outcome, or a RECORD_UNREADABLE anomaly
    (never an exception).

    The platform's own records take the fast decoder: pydantic-core parses the bytes and
    validates only what DLA reads (:class:`DecisionView`, the whole small outcome). Whatever it
    refuses is read again by :func:`_parse_full`, so a refused record gets the very anomaly it
    always got.
    """
    try:
        if _DECISION_TAG in raw:
            return DecisionView.model_validate_json(raw), raw
        if _OUTCOME_TAG in raw:
            return _checked(ActionOutcome.model_validate_json(raw), ref)
    except ValidationError:
        pass
    full = _parse_full(raw, ref)
    return (full[0], raw) if isinstance(full, tuple) else full


def _checked(outcome: ActionOutcome, ref: EbRef) -> ActionOutcome | AuditAnomaly:
    if outcome.outcome_id != outcome_id_of(outcome.action_id):
        return audit_anomaly(ReasonCode.RECORD_UNREADABLE, ref, "outcome_id is not H(action_id)",
                             decision_id=outcome.decision_id, action_id=outcome.action_id)
    return outcome


def _parse_full(raw: bytes, ref: EbRef) -> tuple[DecisionView, DecisionRecord] | ActionOutcome \
        | AuditAnomaly:
    """The full decoder: every field of a decision validated (:class:`DecisionRecord`)."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return audit_anomaly(ReasonCode.RECORD_UNREADABLE, ref, "not JSON")
    kind = body.get("record_type") if isinstance(body, dict) else None
    try:
        if kind == "decision":
            full = DecisionRecord.model_validate(body)
            return DecisionView.model_validate(body), full
        if kind == "action_outcome":
            return _checked(ActionOutcome.model_validate(body), ref)
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors()[:5])
        return audit_anomaly(ReasonCode.RECORD_UNREADABLE, ref,
                             f"invalid {kind} record (fields: {fields})")
    return audit_anomaly(ReasonCode.RECORD_UNREADABLE, ref,
                         f"record_type {str(kind)[:40]!r} is neither decision nor action_outcome")
