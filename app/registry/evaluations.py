"""Promotion evidence in the registry: ``registry/evaluations/<candidate hex>/<dataset_id>.json``.

Create-only, like every registry object: an evaluation of a candidate on a dataset is written
once (the loop run again on the same dataset writes the same bytes: a no-op) and read by
``fp registry promote``, which refuses a bundle with no passing evaluation against the scope's
ACTIVE bundle (``app.learning.promotion``).
"""

from __future__ import annotations

import re

from app.objectstore.base import ObjectStore
from app.rails.canonical_json import canonical_dumps, canonical_loads
from app.rails.errors import ObjectExistsError
from app.rails.promotion import PromotionEvidence

__all__ = ["EVALUATIONS_PREFIX", "evidence_key", "evidence_of", "put_evidence"]

EVALUATIONS_PREFIX = "registry/evaluations"
_KEY = re.compile(r"^registry/evaluations/[0-9a-f]{64}/[0-9a-f]{64}\.json$")


def evidence_key(candidate_hex: str, dataset_id: str) -> str:
    return f"{EVALUATIONS_PREFIX}/{candidate_hex}/{dataset_id}.json"


async def put_evidence(store: ObjectStore, evidence: PromotionEvidence) -> bool:
    """Write ``evidence`` once; False when this exact record was there already.

    Raises:
        ObjectExistsError: another record is held for the same candidate and dataset (an
            evaluation that is not deterministic): nothing is overwritten.
    """
    key = evidence_key(evidence.candidate.digest.hex, evidence.dataset_id)
    data = canonical_dumps(evidence.model_dump(mode="json"))
    if await store.exists(key):
        if await store.get(key) != data:
            raise ObjectExistsError(f"{key} holds another evaluation of this candidate on this "
                                    "dataset")
        return False
    await store.put(key, data)
    return True


async def evidence_of(store: ObjectStore, candidate_hex: str) -> list[PromotionEvidence]:
    """Every evaluation of a candidate, by dataset id."""
    keys = sorted(k for k in await store.list(f"{EVALUATIONS_PREFIX}/{candidate_hex}/")
                  if _KEY.match(k))
    return [PromotionEvidence.model_validate(canonical_loads(await store.get(k))) for k in keys]
