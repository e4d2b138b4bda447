"""A seq partition's run folds as snapshot bytes, and back (issue #12 item 4).

The bytes are a pickle of the folds, stamped with :data:`STATE_FORMAT`: a digest of the feature
registry and of the source of every module whose classes a fold holds. A snapshot made by any
other code (a new feature, a changed window, a fixed bug) is therefore refused and the partition
rebuilt from its log; a snapshot is a cache of the log, never a truth of its own. Snapshots come
only from the platform's own object store, digest-verified by ``app.runtime.stage_snapshots``,
so unpickling trusts nothing a producer could write (anyone who can write that store can also
rewrite the audit trail; protect it accordingly).
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import pickle
from functools import cache
from pathlib import Path

from app.hotpath.engine import RunFold
from app.ofp import REGISTRY
from app.runtime.structured_log import log_event

__all__ = ["dump_lane", "load_lane", "state_format"]

logger = logging.getLogger(__name__)

_STATE_MODULES = (
    "app.hotpath.engine", "app.hotpath.shard", "app.hotpath.sequencer",
    "app.hotpath.event_clock", "app.hotpath.traffic",
    "app.ofp.feature_state", "app.ofp.entity_windows", "app.ofp.running_window",
    "app.ofp.layout", "app.ofp.registry", "app.ofp.txn", "app.ofp.windows",
    "app.ieg.graph", "app.ieg.edge", "app.ieg.observation", "app.ieg.link_features",
    "app.rails.envelope", "app.rails.payloads",
)


@cache
def state_format() -> str:
    """Digest of the registry and of the code of everything a fold holds."""
    h = hashlib.sha256(REGISTRY.digest.encode())
    for name in _STATE_MODULES:
        module = importlib.import_module(name)
        path = Path(str(module.__file__))
        files = sorted(path.parent.glob("*.py")) if path.name == "__init__.py" else [path]
        for file in files:
            h.update(name.encode() + b"\0" + file.read_bytes())
    return h.hexdigest()


def dump_lane(folds: dict[str, RunFold]) -> bytes:
    """The folds of one seq partition (run_id -> fold) as snapshot bytes."""
    return pickle.dumps((state_format(), folds), protocol=pickle.HIGHEST_PROTOCOL)


def load_lane(data: bytes) -> dict[str, RunFold] | None:
    """The folds back, or None (logged) when the bytes come from other code or are damaged."""
    try:
        stamp, folds = pickle.loads(data)  # our own, digest-verified store (module doc)
    except Exception as exc:  # a damaged snapshot is skipped, never trusted
        log_event(logger, "hotpath.snapshot_unreadable", error=repr(exc)[:200])
        return None
    if stamp != state_format() or not isinstance(folds, dict):
        log_event(logger, "hotpath.snapshot_other_code", stamp=str(stamp)[:16])
        return None
    return folds
