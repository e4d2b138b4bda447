"""Evaluation: the run's decisions scored against the world's truth, after the fact, by reference.

Truth is read only here, only after its gate PASSes, and joined to decisions by ``flow_id`` once
the run is over; nothing in this package feeds the hot path (DESIGN sections 3 and 10).
"""

from app.evaluation.render import render_table
from app.evaluation.scorecard_report import (
    OUTCOMES,
    CampaignStats,
    Evaluation,
    LegitStats,
    ScoreSummary,
    evaluate,
)
from app.evaluation.truth import (
    TRUTH_LABELS,
    TRUTH_OUTPUT_ID,
    EvaluationError,
    RunNotEvaluableError,
    TruthContentError,
    TruthGateError,
    TruthRow,
    load_truth,
    locator_of_run,
    run_facts_of,
    truth_of_run,
)

__all__ = [
    "OUTCOMES",
    "TRUTH_LABELS",
    "TRUTH_OUTPUT_ID",
    "CampaignStats",
    "Evaluation",
    "EvaluationError",
    "LegitStats",
    "RunNotEvaluableError",
    "ScoreSummary",
    "TruthContentError",
    "TruthGateError",
    "TruthRow",
    "evaluate",
    "load_truth",
    "locator_of_run",
    "render_table",
    "run_facts_of",
    "truth_of_run",
]
