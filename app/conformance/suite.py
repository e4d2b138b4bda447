"""Every DESIGN section 10 invariant that exists so far, run over one run's evidence."""

from __future__ import annotations

from collections.abc import Callable

from app.conformance.action_outcomes import check_action_outcomes
from app.conformance.as_of_safety import check_as_of_safety
from app.conformance.audit_lineage import check_audit_lineage
from app.conformance.decision_coverage import check_decision_coverage
from app.conformance.degrade_obedience import check_degrade_obedience
from app.conformance.deterministic_ids import check_deterministic_ids
from app.conformance.evidence import RunEvidence
from app.conformance.provenance import check_provenance
from app.conformance.result import CheckResult, Findings
from app.conformance.run_isolation import check_run_isolation
from app.conformance.shadow_obedience import check_shadow_obedience

__all__ = ["CHECKS", "check_exactly_one_decision", "run_checks"]


def check_exactly_one_decision(evidence: RunEvidence) -> CheckResult:
    """Exactly one decision per admitted trigger of the run, none for anything else."""
    coverage = check_decision_coverage((r.value for r in evidence.traffic),
                                       (r.value for r in evidence.rtdl), run_id=evidence.run_id,
                                       trigger_types=evidence.trigger_types)
    found = Findings(examined=coverage.triggers)
    for what, ids in (("trigger without a decision", coverage.missing),
                      ("trigger decided more than once", coverage.repeated),
                      ("decision for a non-trigger event", coverage.for_non_triggers),
                      ("decision for an event not on the traffic log", coverage.unknown_triggers)):
        found.violations.extend(f"{what}: {event_id[:16]}" for event_id in ids)
    found.expect(not coverage.unreadable, f"{coverage.unreadable} unreadable rtdl records")
    return found.result("exactly_one_decision", "one decision per admitted trigger")


CHECKS: tuple[Callable[[RunEvidence], CheckResult], ...] = (
    check_run_isolation,
    check_exactly_one_decision,
    check_deterministic_ids,
    check_as_of_safety,
    check_provenance,
    check_degrade_obedience,
    check_shadow_obedience,
    check_action_outcomes,
    check_audit_lineage,
)
"""In DESIGN section 10's order. Replay determinism needs a second consumer run: see
``app.hotpath.replay`` (the suite's test runs it)."""


def run_checks(evidence: RunEvidence) -> list[CheckResult]:
    return [check(evidence) for check in CHECKS]
