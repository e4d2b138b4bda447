"""OFP's feature snapshot: the values a decision saw, with what they were computed from.

``as_of`` is the trigger's ``ts_utc`` (only strictly earlier events count); ``input_basis`` is the
traffic offsets applied before the trigger; ``graph_version`` names the graph state the link
features came from. ``snapshot_hash`` covers all of it, so two decisions that saw the same
inputs carry the same hash, and any difference shows.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.rails.decision import FeatureSetRef, FeatureSnapshot, FeatureValue, snapshot_hash_of

__all__ = ["build_snapshot"]


def build_snapshot(
    *,
    feature_sets: tuple[FeatureSetRef, ...],
    as_of: str,
    values: Mapping[str, FeatureValue],
    input_basis: Mapping[str, int],
    graph_version: str | None,
    complete: bool,
) -> FeatureSnapshot:
    """A validated snapshot whose hash is computed over its canonical JSON body.

    ``feature_sets`` names each feature family the values come from, by the digest of its
    definitions (``FeatureRegistry.feature_set``), so the hash changes with any definition.
    """
    body: dict[str, object] = {
        "feature_sets": [{"name": ref.name, "digest": ref.digest} for ref in feature_sets],
        "as_of": as_of,
        "values": dict(values),
        "input_basis": dict(input_basis),
        "graph_version": graph_version,
        "complete": complete,
    }
    # Built from validated parts (the values come from the feature library, the rest from
    # validated envelopes), so skip re-validating a dict of hundreds of entries per decision;
    # tests validate snapshots round trip through the model.
    return FeatureSnapshot.model_construct(
        feature_sets=feature_sets,
        as_of=as_of,
        values=body["values"],
        input_basis=body["input_basis"],
        graph_version=graph_version,
        complete=complete,
        snapshot_hash=snapshot_hash_of(body),
    )
