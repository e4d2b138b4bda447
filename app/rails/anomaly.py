"""Anomaly records: a hot-path input that got no decision, and why (never silently dropped).

Published to ``fp.bus.audit.v1``. ``anomaly_id`` is derived from where the record sits on the bus
and the reason, so a redelivered bad record yields the same anomaly id (consumers dedupe on it).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.rails.ids import Hex32, Hex64, make_id
from app.rails.reason_codes import ReasonCode
from app.rails.receipts import EbRef

__all__ = ["HotPathAnomaly", "hot_path_anomaly"]


class HotPathAnomaly(BaseModel):
    """A traffic record the hot path could not decide on or apply."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    record_type: Literal["anomaly"] = "anomaly"
    anomaly_id: Hex64
    component: Literal["df", "ofp", "ieg"]
    reason_code: ReasonCode
    eb_ref: EbRef
    event_id: Hex64 | None
    run_id: Hex32 | None
    detail: str = Field(max_length=500, description="Human detail; never raw payload values.")


def hot_path_anomaly(component: Literal["df", "ofp", "ieg"], reason: ReasonCode, eb_ref: EbRef,
                     detail: str, event_id: str | None = None,
                     run_id: str | None = None) -> HotPathAnomaly:
    anomaly_id = make_id("hot_path_anomaly", component, str(reason), eb_ref.model_dump())
    return HotPathAnomaly(anomaly_id=anomaly_id, component=component, reason_code=reason,
                          eb_ref=eb_ref, event_id=event_id, run_id=run_id, detail=detail[:500])
