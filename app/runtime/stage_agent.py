"""Wire a :class:`~app.runtime.partition_stage.PartitionStage` into a faust app: the rebalance
hooks and the agent that feeds it batches, with a failure a fail-stop.

Every stage agent needs the same three pieces (give partitions back after the batch in flight,
take new ones outside the rebalance, process batches), so agents declare only their logic and
timers. The Label Store and the case bus use it; AL and DLA still wire their own (same shape).
"""

from __future__ import annotations

from typing import Any

import faust

from app.runtime.fail_stop import fail_stop
from app.runtime.partition_stage import PartitionStage

__all__ = ["serve_stage"]


def serve_stage(app: faust.App, stage: PartitionStage[Any], topic: faust.TopicT, *,
                batch_max: int, within_s: float) -> None:
    """Register ``stage``'s rebalance hooks and its agent (named after the stage) on ``topic``."""

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]  # mode's stub refuses any receiver
    async def _give_back(sender: Any, revoked: Any, **kwargs: Any) -> None:
        await stage.revoke()  # after the batch in flight: what it buffered or sent is done

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]  # as above
    async def _assigned(sender: Any, assigned: Any, **kwargs: Any) -> None:
        stage.assign(assigned)  # taken by the next tick or batch, outside the rebalance

    @app.agent(topic, name=stage.name)
    async def _feed(stream: faust.StreamT[bytes]) -> None:
        async for events in stream.take_events(  # type: ignore[attr-defined]  # not on StreamT
                batch_max, within=within_s):
            try:
                await stage.process(events)
            except Exception as exc:
                fail_stop(stage.name, exc)
