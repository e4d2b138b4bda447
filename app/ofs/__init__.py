"""Offline Feature Store (DESIGN section 7): rebuild a run's feature snapshots from its admitted
traffic with the online fold itself, and measure parity against the snapshots DF recorded.

``rebuild`` is pure (records in, snapshots out), ``parity`` compares, ``bus`` reads a run back
from the bus and wires the two together (``parity_for_run``); ``archive_source`` does the same
from the object store (IG's admitted-traffic archive, DLA's audit log: ``parity_from_archive``),
which outlives an embedded broker. ``dataset`` builds training datasets (one row per decision
trigger, features rebuilt offline, labels as known at a time) described by a
:class:`~app.rails.dataset.DatasetManifest`.
"""

from app.ofs.errors import ParityInputError
from app.ofs.parity import (
    FeatureParity,
    ParityReport,
    RecordedSnapshot,
    compare,
    recorded_of,
    recorded_of_run,
)
from app.ofs.rebuild import Rebuild, TrafficRecord, rebuild_snapshots

__all__ = [
    "FeatureParity",
    "ParityInputError",
    "ParityReport",
    "Rebuild",
    "RecordedSnapshot",
    "TrafficRecord",
    "compare",
    "rebuild_snapshots",
    "recorded_of",
    "recorded_of_run",
]
