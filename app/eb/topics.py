"""Every platform topic name, declared once (DESIGN.md section 5).

Names carry their version (``.v1``); renaming one is a migration, never an edit. A profile's
``wiring.worker.topic_prefix`` is prepended (tests isolate themselves with it); partition counts
come from ``wiring.worker.partitions``.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Topic", "log_id_of", "topic_name"]


class Topic(StrEnum):
    """Base names of the platform topics; values are wire contracts."""

    INGRESS = "fp.ig.ingress.v1"      # IG's private intake queue (keyed by dedupe key)
    TRAFFIC = "fp.bus.traffic.v1"     # admitted business traffic (IG is the only writer)
    LABELS = "fp.bus.labels.v1"       # admitted label events (IG is the only writer)
    CONTROL = "fp.bus.control.v1"     # READY and other run control facts (SR writes)
    RTDL = "fp.bus.rtdl.v1"           # decisions, action intents, outcomes
    AUDIT = "fp.bus.audit.v1"         # receipts and governance facts
    CASE = "fp.bus.case.v1"           # case management events
    HOTPATH_SEQ = "fp.hotpath.seq.v2"  # traffic + watermarks re-keyed by run, bundled (hot path)


def topic_name(topic: Topic, prefix: str = "") -> str:
    """The broker-side name of ``topic`` under ``prefix``."""
    return f"{prefix}{topic.value}"


def log_id_of(topic: str, broker_epoch: str | None) -> str:
    """A topic's log identity: the topic, plus the embedded broker's instance when it has one.

    Offsets name records only within one log; Tansu's in-memory log starts again at offset 0
    after a broker restart, so anything that stores offsets (DLA segments, AL progress) keys
    them by this.
    """
    return topic if broker_epoch is None else f"{topic}.{broker_epoch}"
