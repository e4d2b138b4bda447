"""The ``policy`` half of a profile: what the platform decides and how, identical everywhere.

Policy is versioned: its revision label and the digest of its canonical content are stamped on
receipts, decisions and outcomes (``PolicyRev``). Environments may differ only in the testing
posture (``testing``); a test holds local, dev and prod to that.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.al.policy import ActionPolicy
from app.df.policy import DecisionPolicy
from app.dl.policy import DegradePolicy
from app.learning.policy import LearningPolicy

__all__ = ["IngestPolicy", "Policy", "StreamingPolicy", "TestingPosture"]

_Closed = ConfigDict(extra="forbid", frozen=True)


class TestingPosture(BaseModel):
    """How much of a world a run processes: the only policy part environments may differ in."""

    model_config = _Closed
    __test__ = False  # not a pytest class, despite its name

    mode: Literal["smoke", "completion"] = Field(
        description="smoke: small, capped runs for fast feedback; completion: uncapped."
    )
    max_rows_per_output: int | None = Field(
        default=None,
        gt=0,
        description="Cap on rows streamed per output in smoke mode; None = no cap.",
    )


class StreamingPolicy(BaseModel):
    """WSP pacing; pacing never changes ``ts_utc``."""

    model_config = _Closed

    speedup: float = Field(
        ge=0,
        description="World seconds per wall second; 0 = as fast as possible, 60 = 1 h per minute.",
    )


class IngestPolicy(BaseModel):
    """IG admission knobs."""

    model_config = _Closed

    max_record_bytes: int = Field(
        gt=0, description="Largest raw record IG admits, in bytes; larger ones are quarantined."
    )
    max_batch_items: int = Field(
        gt=0, description="Largest HTTP ingest batch, in items; larger batches get HTTP 413."
    )
    quarantine_quota_bytes: int = Field(
        default=64 * 1024 * 1024, ge=0,
        description="Most bytes of quarantined raw data kept per ingress partition and window "
                    "of quarantine_quota_window_records ingress offsets; past it the QUARANTINE "
                    "receipt is still written, retained NONE, QUARANTINE_QUOTA_EXCEEDED "
                    "(app/ig/quarantine_store.py).",
    )
    quarantine_quota_window_records: int = Field(
        default=10_000, gt=0,
        description="Size of a quarantine quota window, in ingress offsets (not wall time: the "
                    "same ingress log keeps the same bytes).",
    )
    partition_key_precedence: tuple[str, ...] = Field(
        min_length=1,
        description="Payload fields tried in order for the partition key; event_id if none set.",
    )
    event_time_skew_s: float = Field(
        default=3600.0, ge=0, le=7 * 86400,
        description="How far (seconds) before a run's first utc_day and after the end of its "
                    "last one an event's ts_utc (or a payload *_ts_utc) may lie and still be "
                    "admitted; outside: QUARANTINE EVENT_TIME_IMPLAUSIBLE (app/ig/event_time.py).",
    )


class Policy(BaseModel):
    """Every policy knob of the platform, validated once at start."""

    model_config = _Closed

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Policy name on every stamp.")
    revision: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="Human revision label; bump it with every policy change.",
    )
    testing: TestingPosture
    streaming: StreamingPolicy
    ingest: IngestPolicy
    decision: DecisionPolicy
    degrade: DegradePolicy
    action: ActionPolicy = ActionPolicy()
    learning: LearningPolicy = LearningPolicy()
