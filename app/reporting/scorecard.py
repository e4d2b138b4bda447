"""The run's decisions against its world's truth, for the summary: after the run, by reference.

Truth is read only through ``app.evaluation`` (SR's ledger names the world, its truth gate must
PASS before a byte is decoded) and only once the run stopped; the returned truth feeds the
report's score chart and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.evaluation.scorecard_report import Evaluation, evaluate
from app.evaluation.truth import TruthRow, truth_of_run
from app.objectstore.config import S3ObjectStoreConfig, open_object_store
from app.profiles.loader import Profile
from app.reporting.records import BusRecord

__all__ = ["evaluate_run"]


async def evaluate_run(profile: Profile, run_id: str, decisions: Sequence[BusRecord]
                       ) -> tuple[Evaluation, dict[str, TruthRow]]:
    """(scorecard of ``decisions``, the run's truth by flow_id).

    Raises:
        RunNotEvaluableError, TruthGateError, TruthContentError: see ``app.evaluation.truth``.
    """
    config = profile.wiring.object_store
    s3 = config if isinstance(config, S3ObjectStoreConfig) else None
    async with open_object_store(config, base_dir=profile.base_dir) as store:
        truth = await truth_of_run(store, run_id, s3=s3)
    return evaluate([d.body for d in decisions], truth, run_id=run_id), truth
