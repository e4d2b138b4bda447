"""Census agent: exact per-run record counts of ``fp.bus.traffic.v1``, served at /v1/census.

Decode -> pure :func:`apply_record` -> table write. Redelivered records are no-ops, so the
counts stay exact across crashes and rebalances; operators and tests compare them with the
pack's row counts. IG's watermark records (issue #12) are not traffic: skipped by their header.
"""

from __future__ import annotations

import logging
from typing import Any

import faust

from app.census.counting import CensusCount, apply_record, merge_counts
from app.eb.topics import Topic
from app.rails.envelope import CanonicalEnvelope, parse_envelope
from app.rails.watermark import is_watermark_record
from app.runtime.agent_context import AgentContext
from app.runtime.metrics import AGENT_ERRORS, AGENT_EVENTS, AGENT_LATENCY
from app.runtime.structured_log import log_event
from app.tables.census import (
    CENSUS_TABLE,
    INVALID_EVENT_TYPE,
    NO_RUN,
    census_key,
    parse_census_key,
)

__all__ = ["register"]

logger = logging.getLogger(__name__)
AGENT = "census"


def register(app: faust.App, ctx: AgentContext) -> None:
    """Declare the census table, agent and web view on ``app``."""
    source = ctx.topic(Topic.TRAFFIC)
    topic = app.topic(
        source, key_serializer="raw", value_serializer="raw", partitions=ctx.partitions
    )
    table = app.Table(
        CENSUS_TABLE, partitions=ctx.partitions, key_type=str  # values: JSON dicts (default)
    )

    @app.agent(topic, name=AGENT)
    async def census(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            message = event.message
            if is_watermark_record(message.headers):
                continue  # progress, not an admitted event: it counts for nothing here
            with AGENT_LATENCY.labels(AGENT).time():
                try:
                    _count(table, message.partition, message.offset, message.value)
                    AGENT_EVENTS.labels(AGENT, source).inc()
                except Exception as exc:  # per-event boundary: record, never stop consuming
                    AGENT_ERRORS.labels(AGENT, source, type(exc).__name__).inc()
                    log_event(logger, "census.error", topic=source, partition=message.partition,
                              offset=message.offset, error=type(exc).__name__)

    @app.page("/v1/census")
    async def census_view(web: Any, request: Any) -> Any:
        # Only this worker's active partitions: a cluster-wide total sums every worker's view.
        items = ((parse_census_key(k), v) for k, v in table.items())
        return web.json({"partitions": sorted(_active(table)), "counts": merge_counts(items)})


def _count(table: Any, partition: int, offset: int, raw: bytes) -> None:
    parsed = parse_envelope(raw)
    if isinstance(parsed, CanonicalEnvelope):
        run, event_type, ts = parsed.run_id, parsed.event_type, parsed.ts_utc
    else:
        run, event_type, ts = NO_RUN, INVALID_EVENT_TYPE, None
    key = census_key(partition, run, event_type)
    previous = table.get(key)
    state = apply_record(CensusCount.model_validate(previous) if previous else None, offset, ts)
    if state is None:
        return
    table[key] = state.model_dump()
    if previous is None and isinstance(parsed, CanonicalEnvelope):
        log_event(logger, "census.first_seen", partition=partition, offset=offset,
                  event_type=event_type, **parsed.pins().model_dump())


def _active(table: Any) -> set[int]:
    return {tp.partition for tp in table.app.assignor.assigned_actives()
            if tp.topic == table.changelog_topic.get_topic_name()}
