"""A decision chain as a person reads it: decision, provenance, each intent's outcome, history.

Pure text from audit records (latest first, as ``AuditIndex`` returns them) and, when the bus
was reachable, the decision record itself (``fp audit show --full``) for what the audit record
holds only by reference (the feature values, the intents' subjects).
"""

from __future__ import annotations

from typing import Any

from app.rails.audit import AuditRecord
from app.rails.receipts import EbRef

__all__ = ["render_chain"]


def _ref(ref: EbRef) -> str:
    return f"{ref.topic}[{ref.partition}]@{ref.offset}"


def _codes(codes: tuple[str, ...]) -> str:
    return ", ".join(codes) if codes else "-"


def render_chain(records: list[AuditRecord], decision: dict[str, Any] | None = None) -> str:
    """Every chain in ``records`` (one per decision id), its versions newest first."""
    by_decision: dict[str, list[AuditRecord]] = {}
    for record in records:
        by_decision.setdefault(record.decision_id, []).append(record)
    return "\n\n".join(_one_chain(versions, decision if decision is not None and
                                  decision.get("decision_id") == did else None)
                       for did, versions in by_decision.items())


def _one_chain(versions: list[AuditRecord], full: dict[str, Any] | None) -> str:
    latest = versions[0]
    d = latest.decision
    bundle = (f"{d.bundle.bundle_id}@{d.bundle.version} (sha256:{d.bundle.digest.hex[:16]}...)"
              if d.bundle else "none (no model ran)")
    lines = [
        f"decision   {latest.decision_id}",
        f"  run      {latest.pins.run_id}  scenario {latest.pins.scenario_id}",
        f"  trigger  event {d.trigger_event_id}  at {d.trigger_ts_utc}  on {_ref(d.trigger_ref)}",
        f"  on bus   {_ref(d.decision_ref)}",
        f"  outcome  {d.outcome.value}  score {'-' if d.score is None else f'{d.score:.4f}'}"
        f"  reasons {_codes(d.reason_codes)}",
        f"  posture  {d.posture.value}",
        f"  bundle   {bundle}",
        f"  snapshot {d.snapshot_hash}",
        f"  graph    {d.graph_version or '-'}",
        f"  policy   {d.policy_rev.name} {d.policy_rev.revision} "
        f"(sha256:{d.policy_rev.digest.hex[:16]}...)",
    ]
    if full is not None:
        snapshot = full.get("snapshot", {})
        lines.append(f"  features {len(snapshot.get('values', {}))} values as of "
                     f"{snapshot.get('as_of')} (complete: {snapshot.get('complete')})")
    subjects = {i["action_id"]: i.get("subject", {}) for i in (full or {}).get("intents", [])}
    lines.append(f"intents    {len(latest.intents)}")
    for intent in latest.intents:
        lines += [
            f"  - {intent.action_type.value}  action {intent.action_id}",
            f"      {intent.status.value}  reasons {_codes(intent.reason_codes)}  "
            f"attempts {intent.attempts}  side effect {intent.side_effect_ref or '-'}",
            f"      outcome {intent.outcome_id} on {_ref(intent.outcome_ref)}",
        ]
        if intent.action_id in subjects:
            subject = " ".join(f"{k}={v}" for k, v in sorted(subjects[intent.action_id].items()))
            lines.append(f"      subject {subject}")
    lines.append(f"audit      {latest.audit_id}"
                 + ("" if latest.supersedes is None else "  (a correction)"))
    if len(versions) > 1:
        lines.append("history    newest first")
        for version in versions:
            note = ("first record" if version.supersedes is None else
                    f"supersedes {version.supersedes[:16]}... "
                    f"({_codes(version.correction_reasons)})")
            changed = ", ".join(f"{i.action_type.value}={i.status.value}"
                                for i in version.intents)
            lines.append(f"  {version.audit_id[:16]}...  {note}; {changed}")
    return "\n".join(lines)
