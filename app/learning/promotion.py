"""The promotion gate: may a candidate bundle become ACTIVE in a scope? Pure; the registry asks.

A candidate is promoted only on evidence, never on a hunch (issue #15, item 6). The gate refuses,
each refusal with a reason code and a sentence naming what to do:

- ``EVALUATION_MISSING``: no evaluation of the candidate is on record;
- ``EVALUATION_STALE``: it was evaluated against another incumbent than the scope's ACTIVE
  bundle now (the comparison must be on the same test window *with the bundle it replaces*);
- ``EVALUATION_FAILED``: on that window the candidate's average precision is below the
  incumbent's, or it catches less at the incumbent's legitimate friction;
- ``FEATURE_MISSING``: the candidate reads a feature the feature registry does not provide;
- ``PARITY_BELOW_100``: the offline rebuild did not reproduce every snapshot the online path
  logged (or parity was never measured): a model trained on features the hot path would not
  compute the same way must not decide.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["GateInputs", "PromotionEvaluation", "Refusal", "evaluation_failures", "lines",
           "refusals"]


@dataclass(frozen=True)
class PromotionEvaluation:
    """A candidate's evaluation against an incumbent on one test window (the factory's)."""

    candidate_digest: str
    incumbent_digest: str | None
    """The bundle the candidate was compared with (None: no model ran, rules only)."""
    dataset_id: str
    test_rows: int
    candidate: Mapping[str, float]
    incumbent: Mapping[str, float]
    """Each: ``average_precision``, ``roc_auc``, ``recall_at_incumbent_friction``, ... ."""


@dataclass(frozen=True)
class GateInputs:
    candidate_digest: str
    active_digest: str | None
    evaluation: PromotionEvaluation | None
    missing_features: tuple[str, ...]
    parity_share: float | None
    """Share of the training runs' decisions whose snapshot the offline rebuild reproduced."""


@dataclass(frozen=True)
class Refusal:
    reason_code: str
    detail: str


_COMPARED = ("average_precision", "recall_at_incumbent_friction")
"""What a candidate must not lose to the incumbent (the loop's promise: catch more at equal or
lower legitimate friction)."""


def evaluation_failures(evaluation: PromotionEvaluation) -> list[str]:
    """The measures on which the candidate is worse than the incumbent ([] passes)."""
    failures = []
    for name in _COMPARED:
        mine, theirs = evaluation.candidate.get(name), evaluation.incumbent.get(name)
        if mine is None:
            failures.append(f"{name}: not measured for the candidate")
        elif theirs is not None and mine < theirs:
            failures.append(f"{name} {mine:.4f} < the incumbent's {theirs:.4f}")
    return failures


def refusals(inputs: GateInputs) -> list[Refusal]:
    """Every reason to refuse the promotion ([]: promote)."""
    out: list[Refusal] = []
    evaluation = inputs.evaluation
    if evaluation is None or evaluation.candidate_digest != inputs.candidate_digest:
        out.append(Refusal("EVALUATION_MISSING", "no evaluation of this bundle is on record: "
                           "run `fp learn` (or the model factory) on a dataset first"))
    elif evaluation.incumbent_digest != inputs.active_digest:
        was, now = _short(evaluation.incumbent_digest), _short(inputs.active_digest)
        out.append(Refusal("EVALUATION_STALE", f"evaluated against {was}, but the ACTIVE "
                           f"bundle is now {now}: evaluate again on the same test window"))
    else:
        failed = evaluation_failures(evaluation)
        if failed:
            out.append(Refusal("EVALUATION_FAILED", f"on dataset {evaluation.dataset_id[:12]} "
                               f"({evaluation.test_rows:,} test rows): " + "; ".join(failed)))
    if inputs.missing_features:
        out.append(Refusal("FEATURE_MISSING", "the feature registry does not provide: "
                           + ", ".join(inputs.missing_features)))
    if inputs.parity_share is None or inputs.parity_share < 1.0:
        share = "not measured" if inputs.parity_share is None else \
            f"{inputs.parity_share:.2%}"
        out.append(Refusal("PARITY_BELOW_100", f"offline/online feature parity {share}: "
                           "`fp features parity --run-id R` must reproduce every snapshot"))
    return out


def _short(digest: str | None) -> str:
    return "no bundle (rules only)" if digest is None else digest[:12]


def lines(found: Iterable[Refusal]) -> list[str]:
    return [f"{r.reason_code}: {r.detail}" for r in found]
