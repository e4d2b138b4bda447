"""WSP agent: on READY, stream the run's traffic and labels in event-time order into IG.

Decode the READY → read ``run_facts_view`` by reference (never scan) → StreamPlan → rows merged
in event time → paced by ``policy.streaming.speedup`` → framed envelopes on ``fp.ig.ingress.v1``
(keyed by dedupe key). The checkpoint per (run, output) advances only after the broker acked the
rows before it; a restarted worker resumes from it, and anything re-sent comes back DUPLICATE.
A READY redelivered after the stream finished re-sends nothing but the end markers.

Every ingress record carries WSP's event-time progress (``app.wsp.progress``): a header on each
row, progress markers to every ingress partition now and then (so an idle partition does not
hold a run's fold back), and end markers to every partition once the data is acked (also when a
redelivered READY finds the stream already finished, or a run is refused: nothing more will
come from WSP for it, and a fold must not wait forever). IG turns them into watermark records.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from typing import Any

import faust
from pydantic import ValidationError

from app.eb.publish import publish
from app.eb.topics import Topic
from app.objectstore.config import S3ObjectStoreConfig, open_object_store
from app.oracle.locator import parse_locator
from app.oracle.pack_reader import open_pack
from app.rails.control import RunReady
from app.rails.errors import FraudPlatformError
from app.rails.run_facts import RunFactsView
from app.runtime.agent_context import AgentContext
from app.runtime.fail_stop import fail_stop
from app.runtime.ig_metrics import WSP_LAG_SECONDS, WSP_ROWS
from app.runtime.structured_log import log_event
from app.tables.wsp import WSP_CHECKPOINT_TABLE
from app.wsp.checkpoint import WspCheckpoint, advance, checkpoint_key, resume_rows
from app.wsp.framing import frame, ingress_record
from app.wsp.merge import plan_rows
from app.wsp.pacing import pacer_for
from app.wsp.progress import (
    MarkerCadence,
    ProgressMarker,
    end_markers,
    progress_markers,
    row_headers,
)
from app.wsp.stream_plan import StreamPlan, plan_for

__all__ = ["CHUNK_ROWS", "register"]

logger = logging.getLogger(__name__)
CHUNK_ROWS = 2000  # rows between checkpoint advances (each waits for the broker's acks)


def _emission_micros() -> int:
    """The emission clock (``emitted_at_utc``); it never touches ``ts_utc``."""
    return time.time_ns() // 1000


def register(app: faust.App, ctx: AgentContext) -> None:
    """Declare WSP's checkpoint table and agent on ``app``."""
    raw: dict[str, Any] = {"key_serializer": "raw", "value_serializer": "raw",
                           "partitions": ctx.partitions}
    ingress_name = ctx.topic(Topic.INGRESS)
    app.topic(ingress_name, **raw)  # declared so the worker creates it at start
    table = app.Table(WSP_CHECKPOINT_TABLE, partitions=ctx.partitions, key_type=str)
    wiring = ctx.profile.wiring
    store = open_object_store(wiring.object_store, base_dir=ctx.profile.base_dir)
    s3 = wiring.object_store if isinstance(wiring.object_store, S3ObjectStoreConfig) else None
    policy = ctx.profile.policy
    cap = policy.testing.max_rows_per_output if policy.testing.mode == "smoke" else None
    precedence = policy.ingest.partition_key_precedence

    async def stream_run(ready: RunReady) -> None:
        view = RunFactsView.model_validate_json(
            await store.get(ready.run_facts.object_key, expected=ready.run_facts.digest))
        plan = plan_for(view, cap)
        recorded = {o.output_id: _checkpoint(table.get(checkpoint_key(plan.run_id, o.output_id)))
                    for o in plan.outputs}
        done = resume_rows(recorded, plan)
        # app.sleep returns early when the worker stops, so a paced stream never holds up a stop.
        pacer = pacer_for(policy.streaming.speedup, wiring.streaming.rows_per_s,
                          monotonic=time.monotonic, sleep=app.sleep)
        pending: list[tuple[str, Any]] = []
        cadence = MarkerCadence(monotonic=time.monotonic)
        async with open_pack(parse_locator(view.world_locator), s3=s3) as reader:
            async for row in plan_rows(reader, plan, start_rows=done):
                if cadence.due(pacer.delay(row.time_micros)):
                    # Every row still to come has time >= this row's: say so on every partition.
                    markers.extend(await _send(progress_markers(plan.run_id, row.time_micros,
                                                                ctx.partitions)))
                    cadence.marked()
                due = pacer.due_at(row.time_micros)
                await pacer.wait_until_due(row.time_micros)
                if app.should_stop:
                    # Leave READY unacked, as a crash would: the next start resumes the run
                    # from its checkpoint (rows sent but not acked are re-sent; IG dedupes).
                    log_event(logger, "wsp.run_paused", run_id=plan.run_id,
                              rows=sum(done.values()))
                    raise asyncio.CancelledError
                if pacer.paced:  # how far behind its paced plan WSP runs (0 when on time)
                    WSP_LAG_SECONDS.labels(plan.run_id).set(max(0.0, time.monotonic() - due))
                envelope = frame(row, plan.output(row.output_id), view,
                                 now_micros=_emission_micros)
                key, value = ingress_record(envelope, precedence)
                pending.append((row.output_id, await publish(
                    app, ingress_name, key, value, row_headers(row.time_micros))))
                cadence.row_sent()
                if len(pending) >= CHUNK_ROWS:
                    await _advance(plan, pending, done)
                    cadence.force()
            await _advance(plan, pending, done)
        await _end(plan.run_id)
        log_event(logger, "wsp.run_streamed", run_id=plan.run_id, rows=sum(done.values()),
                  **{f"rows_{k}": v for k, v in sorted(done.items())})

    markers: list[Any] = []  # acks of progress markers not awaited yet

    async def _send(batch: list[ProgressMarker]) -> list[Any]:
        """Queue markers (empty key and value, explicit partition); their pending acks."""
        return [await publish(app, ingress_name, b"", b"", m.headers, partition=m.partition)
                for m in batch]

    async def _end(run_id: str) -> None:
        """End markers to every ingress partition, after every row's ack (idempotent)."""
        await asyncio.gather(*await _send(end_markers(run_id, ctx.partitions)))

    async def _advance(plan: StreamPlan, pending: list[tuple[str, Any]],
                       done: dict[str, int]) -> None:
        """Wait for the acks, then move each output's checkpoint (never before the acks)."""
        await asyncio.gather(*(future for _, future in pending), *markers)
        markers.clear()
        for output_id, n in Counter(o for o, _ in pending).items():
            done[output_id] += n
            WSP_ROWS.labels(output_id).inc(n)
            key = checkpoint_key(plan.run_id, output_id)
            proposed = WspCheckpoint(run_id=plan.run_id, output_id=output_id,
                                     plan_digest=plan.digest(), rows_done=done[output_id])
            table[key] = advance(_checkpoint(table.get(key)), proposed).model_dump(mode="json")
        pending.clear()

    @app.agent(app.topic(ctx.topic(Topic.CONTROL), **raw), name="wsp")
    async def wsp(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            message = event.message
            try:
                ready = RunReady.model_validate_json(message.value or b"")
            except ValidationError:
                log_event(logger, "wsp.control_ignored", partition=message.partition,
                          offset=message.offset, reason="not a READY fact")
                continue
            try:
                await stream_run(ready)
            except FraudPlatformError as exc:  # a bad pack stops this run, not the worker
                log_event(logger, "wsp.run_refused", run_id=ready.run_id,
                          reason_code=exc.reason_code, error=str(exc)[:300])
                try:  # nothing more comes from WSP for this run: do not let its fold wait
                    await asyncio.gather(*markers)
                    markers.clear()
                    await _end(ready.run_id)
                except Exception as end_exc:
                    fail_stop("wsp", end_exc)
            except Exception as exc:  # infrastructure: READY stays unacked, restart resumes
                fail_stop("wsp", exc)


def _checkpoint(stored: Any) -> WspCheckpoint | None:
    return WspCheckpoint.model_validate(stored) if stored else None
