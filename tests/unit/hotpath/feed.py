"""Drive the pure hot path as the traffic log would: events, each followed by the watermark IG
writes after it (WSP's progress), so tests can decide a trigger as soon as it is offered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from app.hotpath.engine import DecidedMap, DecisionContext, HotPath, StepResult
from app.rails.receipts import EbRef
from app.rails.timefmt import ts_to_epoch_micros
from app.rails.watermark import END_MICROS, watermark_at, watermark_value

TOPIC = "fp.bus.traffic.v1"


class TrafficFeed:
    """One traffic partition (of ``partitions``) of one run, with its own offsets."""

    def __init__(self, hot: HotPath, run_id: str, *, partition: int = 0, partitions: int = 1,
                 run_known: Callable[[str], bool] | None = None) -> None:
        self.hot, self.run_id = hot, run_id
        self.partition, self.partitions = partition, partitions
        self.offset = 0
        self.run_known = run_known or (lambda run: run == run_id)

    def event(self, value: bytes, ctx: DecisionContext, *, decided: DecidedMap | None = None
              ) -> list[StepResult]:
        return self._offer(value, ctx, watermark=False, decided=decided)

    def watermark(self, micros: int, ctx: DecisionContext, *,
                  decided: DecidedMap | None = None) -> list[StepResult]:
        """IG's watermark record at event time ``micros`` (``END_MICROS``: final)."""
        body = watermark_value(watermark_at(self.run_id, self.partition, self.partitions,
                                            micros))
        return self._offer(body, ctx, watermark=True, decided=decided)

    def final(self, ctx: DecisionContext) -> list[StepResult]:
        return self.watermark(END_MICROS, ctx)

    def step(self, value: bytes, ctx: DecisionContext, **kwargs: Any) -> StepResult:
        """Offer one event and a watermark just past it; its own result (or an empty one)."""
        results = self.event(value, ctx, **kwargs)
        if results:
            return results[-1]
        try:
            ts = ts_to_epoch_micros(orjson.loads(value)["ts_utc"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return StepResult()
        released = self.watermark(ts + 1, ctx, **kwargs)
        return released[-1] if released else StepResult()

    def _offer(self, value: bytes, ctx: DecisionContext, *, watermark: bool,
               decided: DecidedMap | None) -> list[StepResult]:
        ref = EbRef(topic=TOPIC, partition=self.partition, offset=self.offset)
        self.offset += 1
        return self.hot.offer(value, ref, ctx, run_known=self.run_known, watermark=watermark,
                              decided=decided)
