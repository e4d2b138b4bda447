"""The learning loop after a run: dataset -> parity -> train and evaluate -> report -> register.

``fp learn`` streams a world (or reuses the finished run of it) and then calls
:func:`learn_from_runs`, which reads only the object store (IG's archive, DLA's audit log, the
Label Store, the registry), so it works after the embedded broker is gone:

1. labels as known at ``label_as_of_utc`` (default: the end of the runs, their latest event
   time), flows too recent for their labels to have matured left out (``maturity_days``);
2. the dataset and its manifest (``app.ofs.dataset``), written create-only;
3. offline/online feature parity of the runs (the rebuild over the archive against the snapshot
   hashes DLA audited);
4. the model factory (``app.factory``) on the dataset, against the scope's ACTIVE bundle (the
   incumbent, whose recorded scores and outcomes are the dataset's ``incumbent_*`` columns);
5. the report, the model text and its bundle in the registry, and the promotion evidence
   (``app.registry.evaluations``) that ``fp registry promote`` checks.

Nothing is activated here: promotion is a decision an operator takes with the evidence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app.df.policy import DecisionPolicy
from app.factory import BandTargets, FactoryResult, train_and_evaluate, write_report
from app.ig.archive import envelopes_only, read_run
from app.objectstore.base import ObjectStore
from app.ofs.archive_source import parity_from_archive
from app.ofs.dataset import (
    DEFAULT_LABEL_DEFINITION,
    build_dataset,
    write_dataset,
)
from app.rails.bundle import ModelBundle
from app.rails.dataset import DatasetManifest, LabelDefinition
from app.rails.decision import BundleRef
from app.rails.policy_rev import PolicyRev
from app.rails.promotion import ParityEvidence, PromotionEvidence
from app.rails.timefmt import epoch_micros_to_ts, ts_to_epoch_micros
from app.registry.evaluations import put_evidence
from app.registry.store import RegistryStore

__all__ = ["LearnRequest", "Learned", "end_of_runs", "learn_from_runs"]


@dataclass(frozen=True)
class LearnRequest:
    run_ids: tuple[str, ...]
    scope: str = "auth"
    bundle_id: str = "trained-auth"
    train_fraction: float = 0.8
    label_as_of_utc: str | None = None
    """None: the end of the runs (their latest event time, label events included)."""
    maturity_days: int = 0
    label_definition: LabelDefinition = DEFAULT_LABEL_DEFINITION


@dataclass(frozen=True)
class Learned:
    manifest: DatasetManifest
    result: FactoryResult
    candidate: BundleRef
    incumbent: BundleRef | None
    evidence: PromotionEvidence
    report_dir: Path

    def summary_line(self) -> str:
        """The loop's one line: candidate vs incumbent on the held-out part."""
        c, i = self.evidence.candidate_metrics, self.evidence.incumbent_metrics
        return (f"held-out {self.evidence.test_rows:,} rows from {self.evidence.split_ts_utc} "
                f"({self.evidence.test_positives:,} positive): candidate "
                f"{self.candidate.bundle_id} v{self.candidate.version} ROC-AUC "
                f"{_f(c.get('roc_auc'))} AP {_f(c.get('average_precision'))}; incumbent "
                f"{self.incumbent.bundle_id if self.incumbent else 'none'} ROC-AUC "
                f"{_f(i.get('roc_auc'))} AP {_f(i.get('average_precision'))}; parity "
                f"{self.evidence.parity.equal:,}/{self.evidence.parity.decisions:,}")

    def promote_command(self) -> str:
        return (f"fp registry promote {self.candidate.bundle_id}@{self.candidate.version} "
                f"--scope {self.candidate.scope} --reason \"...\"")


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


async def end_of_runs(store: ObjectStore, run_ids: Sequence[str]) -> str:
    """The latest event time any of the runs admitted (traffic or label events)."""
    latest = 0
    for run_id in run_ids:
        for stream in ("traffic", "labels"):
            for records in (await read_run(store, run_id, stream)).values():
                for record in envelopes_only(records):
                    latest = max(latest, ts_to_epoch_micros(str(record.record["ts_utc"])))
    if not latest:
        raise ValueError(f"no admitted event of run(s) {', '.join(run_ids)} is archived")
    return epoch_micros_to_ts(latest)


def _finite(metrics: dict[str, float]) -> dict[str, float]:
    return {k: float(v) for k, v in sorted(metrics.items()) if math.isfinite(v)}


async def _candidate(registry: RegistryStore, result: FactoryResult, bundle_id: str,
                     scope: str) -> BundleRef:
    """The registered candidate: the same model already registered under the id is reused."""
    digest = await registry.put_model(result.model_text)
    versions = [r for r in await registry.list_bundles() if r.bundle_id == bundle_id]
    for ref in versions:
        held = await registry.get_bundle(ref)
        if isinstance(held, ModelBundle) and held.model_digest == digest and held.scope == scope:
            return ref
    fields = {**result.bundle_fields, "bundle_id": bundle_id, "scope": scope,
              "version": 1 + max((r.version for r in versions), default=0)}
    return await registry.put_bundle(ModelBundle.model_validate(fields))


async def learn_from_runs(store: ObjectStore, request: LearnRequest, *, policy: DecisionPolicy,
                          policy_rev: PolicyRev, reports_root: Path,
                          band_targets: BandTargets | None = None) -> Learned:
    """Steps 1-5 of the module doc (the runs must have drained); the bands meet
    ``band_targets`` (the profile's ``policy.learning.band_targets``; None: the factory's)."""
    as_of = request.label_as_of_utc or await end_of_runs(store, request.run_ids)
    manifest, data = await build_dataset(store, request.run_ids, as_of, request.maturity_days,
                                         request.label_definition, policy=policy,
                                         policy_rev=policy_rev)
    await write_dataset(store, manifest, data)
    decisions = equal = 0
    for run_id in sorted(set(request.run_ids)):
        report = await parity_from_archive(store, run_id, policy=policy, policy_rev=policy_rev)
        decisions, equal = decisions + report.decisions, equal + report.equal
    parity = ParityEvidence(run_ids=tuple(sorted(set(request.run_ids))), decisions=decisions,
                            equal=equal, source="archive")
    registry = RegistryStore(store)
    incumbent, _activation = await registry.active(request.scope)
    result = train_and_evaluate(data, list(manifest.features), manifest.dataset_id,
                                train_fraction=request.train_fraction,
                                band_targets=band_targets, bundle_id=request.bundle_id,
                                version=1, scope=request.scope,
                                code_version=manifest.code_version)
    candidate = await _candidate(registry, result, request.bundle_id, request.scope)
    report_dir = reports_root / manifest.dataset_id[:16] / f"{candidate.bundle_id}-v" \
        f"{candidate.version}"
    write_report(result, report_dir)
    e = result.evaluation
    evidence = PromotionEvidence(
        candidate=candidate, incumbent=incumbent, dataset_id=manifest.dataset_id,
        split_ts_utc=result.split_ts_utc, test_to_ts_utc=epoch_micros_to_ts(result.test_to_ts_us),
        train_rows=result.train_rows, test_rows=result.test_rows,
        test_positives=e.test_positives,
        candidate_metrics=_finite({
            "roc_auc": e.candidate.roc_auc, "average_precision": e.candidate.average_precision,
            "recall_at_1pct_fpr": e.candidate.recall_at_1pct_fpr,
            "recall_at_incumbent_friction": e.candidate_point.recall,
            "friction_at_incumbent_friction": e.candidate_point.friction}),
        incumbent_metrics=_finite({
            "roc_auc": e.incumbent.roc_auc, "average_precision": e.incumbent.average_precision,
            "recall_at_1pct_fpr": e.incumbent.recall_at_1pct_fpr,
            "recall_at_incumbent_friction": e.incumbent_point.recall,
            "friction_at_incumbent_friction": e.incumbent_point.friction}),
        parity=parity)
    await put_evidence(store, evidence)
    return Learned(manifest, result, candidate, incumbent, evidence, report_dir)
