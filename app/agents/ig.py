"""IG agent: the only writer of ``fp.bus.traffic.v1`` / ``fp.bus.labels.v1``.

Per batch of ingress records: for newly assigned partitions, restore what a wiped bus lost from
the archive (``app.ig.restore``) and re-learn lost admissions (``app.ig.reconcile``); decide each
submission (``app.ig.admission.assess``), publish the ADMIT candidates and wait for the broker's
acks; then, in this order, archive the admitted records (``app.ig.archive``), write the receipts
(append-only segments, then the audit topic, acks awaited), record the dedupe entries. Each step's
durable output covers a crash before the next one. A publish or store failure is an
infrastructure failure: it stops the worker (never an ADMIT); bad input never does.

Admitted records go to the output partition numbered like the ingress partition they came from
(explicit, not left to the partitioner): a watermark record must follow, in the same log, every
record it covers. WSP's progress (a header on each row, and progress markers, which are never
admitted, receipted or quarantined) is tracked per (run, ingress partition)
(``app.ig.watermarks``); after a batch's data acks IG writes a watermark record for each that
advanced into that traffic partition, awaits its ack, and archives it with the batch.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import faust
import orjson
from aiokafka import TopicPartition

from app.eb.partition_reader import log_ends
from app.eb.publish import publish
from app.eb.topics import Topic
from app.ig.admission import Admit, Decision, DedupeEntry, Duplicate, Quarantine, assess
from app.ig.archive import DURABLE_GENERATION, write_archive
from app.ig.oversize import oversize_quarantine
from app.ig.payloads import default_payload_registry
from app.ig.quarantine_store import QuarantineQuota, store_quarantined
from app.ig.receipt_builder import admit_receipt, duplicate_receipt, quarantine_receipt
from app.ig.receipt_log import admitted_receipt_ids, write_segment
from app.ig.reconcile import INGRESS_HEADER, scan_admitted, tp_key
from app.ig.restore import take_partition
from app.ig.run_directory import RunDirectory
from app.ig.watermarks import (
    ProgressTracker,
    header,
    is_progress_marker,
    marker_run,
    watermark_record,
)
from app.objectstore.config import open_object_store
from app.rails.archive import ArchivedRecord, ArchiveStream
from app.rails.canonical_json import canonical_dumps
from app.rails.dedupe_key import dedupe_key
from app.rails.digests import digest_bytes
from app.rails.envelope import CanonicalEnvelope, dump_envelope, payload_hash
from app.rails.partition_key import derive_partition_key
from app.rails.receipts import EbRef, IngestionReceipt
from app.rails.timefmt import ts_to_epoch_micros
from app.rails.watermark import PROGRESS_HEADER, TrafficWatermark
from app.runtime.agent_context import AgentContext
from app.runtime.bus_address import bootstrap_servers, broker_epoch
from app.runtime.fail_stop import fail_stop
from app.runtime.ig_metrics import observe_receipt
from app.runtime.structured_log import log_event
from app.runtime.wall_clock import wall_clock_ts
from app.sr.ledger import RunLedger
from app.tables.event_context import as_current
from app.tables.ig import IG_DEDUPE_TABLE, checkpoint_key

__all__ = ["BATCH_MAX", "EMIT_WATERMARKS", "EMIT_WATERMARKS_ENV", "POKE_HEADER", "POKE_KEY",
           "register"]

_Decided = list[tuple[Any, "Decision", "EbRef | None"]]

logger = logging.getLogger(__name__)
BATCH_MAX = 500
BATCH_WITHIN_S = 0.02

EMIT_WATERMARKS = True
"""Whether IG writes watermark records into the traffic log (issue #12). The hot path's run
fold releases events only under them, so turning this off stops decisions: it exists only for
tests of IG's admission path that count traffic records."""
EMIT_WATERMARKS_ENV = "FP_IG_EMIT_WATERMARKS"
"""``1`` switches emission on in a worker process while :data:`EMIT_WATERMARKS` is off (tests
of the emission start workers as subprocesses, where a patched constant does not reach)."""


class _PendingInBatchError(Exception):
    """The dedupe lookup met a key admitted earlier in the same batch, not yet acked.

    Control flow, not an error: the submission is decided again once the acks are in.
    """


@dataclass
class _Gate:
    """What the agent keeps between batches (handles, caches, reconciled partitions)."""

    app: faust.App
    ctx: AgentContext
    dedupe: Any
    outputs: dict[str, str]  # stream -> topic name
    audit: str
    store: Any
    directory: RunDirectory
    quota: QuarantineQuota
    generation: str  # the bus generation this worker runs on (app.ig.archive)
    progress: ProgressTracker
    emit_watermarks: bool = False
    ingress: str = ""
    reconciled: set[int] = field(default_factory=set)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def process(self, events: Sequence[Any]) -> None:
        async with self.lock:  # the unstamped-watermark timer never writes mid-batch
            await self._process(events)

    async def flush_unstamped(self) -> None:
        """Timer: fallback watermarks of runs whose producers send no progress (HTTP pushes),
        once quiet (``app.ig.watermarks``); archived like any watermark record."""
        if not self.emit_watermarks:
            return
        async with self.lock:
            marks = await self._publish_watermarks()
            if marks:
                await self._archive([], marks)

    async def _process(self, events: Sequence[Any]) -> None:
        submissions = [ev for ev in events if not _is_poke(ev)
                       and not is_progress_marker(ev.message.headers, ev.message.value)]
        await self.directory.refresh(_run_ids(submissions))
        first_of: dict[int, Any] = {}
        for ev in events:
            first_of.setdefault(ev.message.partition, ev)
        for partition in sorted(first_of.keys() - self.reconciled):
            # Before anything new is admitted: first the bus gets back what it lost, then the
            # dedupe state learns what the bus holds.
            await self._restore(first_of[partition])
            await self._reconcile(first_of[partition])
            self.reconciled.add(partition)
        decided = await self._decide_and_publish(submissions)
        self._observe_progress(events, decided)
        # After the data acks, so a watermark lands behind every record it covers.
        marks = await self._publish_watermarks() if self.emit_watermarks else []
        # Archive, receipts, dedupe entries, in that order: a crash between two steps leaves
        # admissions that the reconcile re-learns from the bus (re-archiving them and re-emitting
        # the same ADMIT receipt ids), and a wiped bus gets every receipted admission back from
        # the archive; never an ADMIT receipt whose record is lost.
        await self._archive(decided, marks)
        receipts = await self._receipts(decided)
        await self._write_receipts(decided, receipts)
        self._remember(decided, marks, first_of)

    def _observe_progress(self, events: Sequence[Any], decided: _Decided) -> None:
        """Note WSP's progress from the batch's markers and rows (a row's counts whatever its
        verdict: it proves the stream got that far). A malformed one is ignored, and logged."""
        before = self.progress.malformed
        for ev in events:
            message = ev.message
            if is_progress_marker(message.headers, message.value):
                self.progress.observe(marker_run(message.headers), message.partition,
                                      header(message.headers, PROGRESS_HEADER))
        now = time.monotonic()
        for ev, decision, _ in decided:
            raw = header(ev.message.headers, PROGRESS_HEADER)
            if raw is not None:
                envelope = getattr(decision, "envelope", None)
                self.progress.observe(envelope.run_id if envelope is not None else None,
                                      ev.message.partition, raw)
            elif isinstance(decision, Admit) and decision.stream == "traffic":
                self.progress.observe_unstamped(decision.envelope.run_id,
                                                ts_to_epoch_micros(decision.envelope.ts_utc),
                                                now)
        if self.progress.malformed > before:
            log_event(logger, "ig.progress_malformed", ignored=self.progress.malformed - before,
                      total=self.progress.malformed)

    async def _publish_watermarks(self) -> list[ArchivedRecord]:
        """One watermark record per (run, partition) whose progress advanced, into the traffic
        partition numbered like the ingress one; acks awaited. Their archive lines."""
        owned = {tp.partition for tp in self.app.consumer.assignment()
                 if tp.topic == self.ingress}
        latest: dict[tuple[str, int], TrafficWatermark] = {}
        for mark in [*self.progress.due(),
                     *self.progress.unstamped_due(owned, time.monotonic())]:
            latest[(mark.run_id, mark.partition)] = mark  # the fallback only when it advances
        due = [latest[key] for key in sorted(latest)]
        if not due:
            return []
        sends = []
        for watermark in due:
            key, value, headers = watermark_record(watermark)
            sends.append(await publish(self.app, self.outputs["traffic"], key, value, headers,
                                       partition=watermark.partition))
        acks = await asyncio.gather(*sends)  # raises: fail-stop
        self.progress.written(due)
        return [_archived_watermark(w, meta.partition, meta.offset)
                for w, meta in zip(due, acks, strict=True)]

    def _assess(self, ev: Any, overlay: dict[bytes, DedupeEntry | None]) -> Decision:
        policy = self.ctx.profile.policy.ingest
        raw = ev.message.value or b""
        oversize = oversize_quarantine(ev.message.headers, raw, policy.max_record_bytes)
        if oversize is not None:  # an HTTP line over the limit, queued as its bounded prefix
            return oversize

        def seen(key: bytes) -> DedupeEntry | None:
            if key in overlay:
                entry = overlay[key]
                if entry is None:
                    raise _PendingInBatchError
                return entry
            stored = self.dedupe.get(key)
            return DedupeEntry.model_validate(stored) if stored else None

        return assess(raw, digest_bytes(raw), max_record_bytes=policy.max_record_bytes,
                      precedence=policy.partition_key_precedence, payloads=PAYLOADS,
                      run_of=self.directory.get, seen=seen)

    async def _decide_and_publish(self, events: Sequence[Any]) -> _Decided:
        overlay: dict[bytes, DedupeEntry | None] = {}
        decided: _Decided = []
        deferred: list[int] = []
        sends: list[tuple[int, Any]] = []
        for ev in events:
            as_current(ev)  # table reads, too, go to the event's own partition
            try:
                decision = self._assess(ev, overlay)
            except _PendingInBatchError:
                deferred.append(len(decided))
                decided.append((ev, None, None))  # type: ignore[arg-type]  # filled below
                continue
            if isinstance(decision, Admit):
                overlay[decision.key] = None
                future = await publish(
                    self.app, self.outputs[decision.stream], decision.partition_key.encode(),
                    dump_envelope(decision.envelope),
                    {INGRESS_HEADER: str(ev.message.partition).encode()},
                    partition=ev.message.partition)  # the rule a watermark relies on
                sends.append((len(decided), future))
            decided.append((ev, decision, None))
        acks = await asyncio.gather(*(future for _, future in sends))  # raises: crash, no ADMIT
        for (index, _), meta in zip(sends, acks, strict=True):
            ev, decision, _ = decided[index]
            ref = EbRef(topic=meta.topic, partition=meta.partition, offset=meta.offset)
            decided[index] = (ev, decision, ref)
            assert isinstance(decision, Admit)
            overlay[decision.key] = DedupeEntry(payload_hash=decision.payload_hash, eb_ref=ref)
        for index in deferred:
            ev = decided[index][0]
            as_current(ev)
            decided[index] = (ev, self._assess(ev, overlay), None)
        return decided

    async def _receipts(self, decided: _Decided) -> list[IngestionReceipt]:
        """One receipt per submission (quarantined bytes are stored first, by reference)."""
        rev = self.ctx.profile.policy_rev
        now = wall_clock_ts()
        receipts: list[IngestionReceipt] = []
        for ev, decision, ref in decided:
            if isinstance(decision, Admit):
                assert ref is not None
                receipts.append(admit_receipt(decision.envelope, decision.payload_hash, ref,
                                              rev, now))
            elif isinstance(decision, Duplicate):
                receipts.append(duplicate_receipt(decision, rev, now))
            else:
                qref = await store_quarantined(
                    self.store, decision, ev.message.value or b"", quota=self.quota,
                    partition=ev.message.partition, offset=ev.message.offset)
                receipts.append(quarantine_receipt(decision, qref, rev, now))
        return receipts

    async def _archive(self, decided: _Decided, watermarks: Sequence[ArchivedRecord]) -> None:
        records = list(watermarks)
        for ev, decision, ref in decided:
            if isinstance(decision, Admit):
                assert ref is not None
                records.append(_archived(decision.stream, decision.partition_key,
                                         decision.envelope, ref, ev.message.partition))
        await write_archive(self.store, self.generation, records)

    def _remember(self, decided: _Decided, watermarks: Sequence[ArchivedRecord],
                  first_of: Mapping[int, Any]) -> None:
        """Dedupe entries of the batch's admissions, then each partition's reconcile checkpoint
        (past the batch's watermark records too)."""
        checkpoints: dict[int, tuple[Any, dict[str, int]]] = {}
        for mark in watermarks:
            ev = first_of.get(mark.ingress_partition)
            if ev is None:  # not this batch's partition: the reconcile re-archives it if need be
                continue
            _, ends = checkpoints.get(mark.ingress_partition, (ev, {}))
            key = tp_key(self.outputs["traffic"], mark.partition)
            ends[key] = max(ends.get(key, 0), mark.offset + 1)
            checkpoints[mark.ingress_partition] = (ev, ends)
        for ev, decision, ref in decided:
            if not isinstance(decision, Admit):
                continue
            assert ref is not None
            as_current(ev)
            self.dedupe[decision.key] = DedupeEntry(
                payload_hash=decision.payload_hash, eb_ref=ref).model_dump(mode="json")
            _, ends = checkpoints.get(ev.message.partition, (ev, {}))
            key = tp_key(ref.topic, ref.partition)
            ends[key] = max(ends.get(key, 0), ref.offset + 1)
            checkpoints[ev.message.partition] = (ev, ends)
        for partition, (ev, ends) in checkpoints.items():
            as_current(ev)
            current = dict(self.dedupe.get(checkpoint_key(partition)) or {})
            current.update({k: max(v, current.get(k, 0)) for k, v in ends.items()})
            self.dedupe[checkpoint_key(partition)] = current

    async def _write_receipts(self, decided: _Decided, receipts: list[IngestionReceipt]) -> None:
        """Segments (the durable truth) first, then the audit topic, whose acks are awaited:
        the HTTP path answers from the topic, and a receipt lost there would leave a client
        without its answer."""
        by_partition: dict[int, list[tuple[int, IngestionReceipt]]] = {}
        for (ev, _, _), receipt in zip(decided, receipts, strict=True):
            by_partition.setdefault(ev.message.partition, []).append((ev.message.offset, receipt))
        for partition, items in by_partition.items():
            await write_segment(self.store, partition, items[0][0], items[-1][0],
                                (r for _, r in items))
        acks = []
        for (ev, decision, _), receipt in zip(decided, receipts, strict=True):
            message = ev.message
            acks.append(await publish(
                self.app, self.audit, _receipt_key(decision),
                canonical_dumps(receipt.model_dump(mode="json")),
                {INGRESS_HEADER: f"{message.partition}:{message.offset}".encode()}))
            observe_receipt(receipt, message.timestamp)
        await asyncio.gather(*acks)  # raises: fail-stop (the segments already hold them)

    async def _restore(self, ev: Any) -> None:
        """Take the partition on this bus generation (``app.ig.restore``): put back what a lost
        bus took with it, then record the restored admissions' dedupe entries and any ADMIT
        receipt the loss took with it."""
        partition = ev.message.partition
        servers = bootstrap_servers(self.ctx.profile)
        as_current(ev)
        checkpoint = dict(self.dedupe.get(checkpoint_key(partition)) or {})
        known = {TopicPartition(t, partition): int(checkpoint.get(tp_key(t, partition), 0))
                 for t in self.streams.values()}
        result = await take_partition(
            self.store, self.streams, partition, self.generation,
            log_ends=lambda tps: log_ends(servers, tps),
            publish=lambda topic, key, value, headers, p: publish(
                self.app, topic, key, value, headers, partition=p),
            run_is_open=self._run_is_open, known_ends=known)
        restored = result.restored
        if not restored:
            return
        ends: dict[str, int] = {}
        for item in restored:
            ref = item.eb_ref
            ends[tp_key(ref.topic, ref.partition)] = ref.offset + 1
        # Dedupe state lives with the ingress partition that admitted the record.
        own = [(r.envelope, r.eb_ref) for r in restored
               if r.envelope is not None and r.record.ingress_partition == partition]
        have = await admitted_receipt_ids(self.store, partition)
        missing = self._relearn(ev, own, have)
        await self._emit_recovered(ev, missing)
        as_current(ev)
        checkpoint = dict(self.dedupe.get(checkpoint_key(partition)) or {})
        self.dedupe[checkpoint_key(partition)] = {**checkpoint, **ends}
        shifted = sum(1 for r in restored if r.shifted)
        log_fn = logger.error if shifted else logger.warning
        log_fn("ig.restored %s", orjson.dumps({
            "partition": partition, "records": len(restored), "receipts_written": len(missing),
            "shifted": shifted, "from_generation": result.source,
            "to_generation": self.generation,
            "runs": sorted({r.record.run_id for r in restored})}).decode())

    async def _run_is_open(self, run_id: str) -> bool:
        return not await RunLedger(self.store, run_id).drained()

    def _relearn(self, ev: Any, admitted: Sequence[tuple[CanonicalEnvelope, EbRef]],
                 have_receipts: set[str] | None) -> list[IngestionReceipt]:
        """Record dedupe entries for admissions found on the bus; their ADMIT receipts to write.

        ``have_receipts`` None: every admission whose entry was missing gets its receipt again
        (same receipt id: a receipt written twice is one); else only those not in the set.
        """
        rev, now = self.ctx.profile.policy_rev, wall_clock_ts()
        receipts = []
        for env, ref in admitted:
            key = dedupe_key(env.run_id, env.event_type, env.event_id)
            as_current(ev)
            if have_receipts is None and self.dedupe.get(key) is not None:
                continue
            hash_hex = payload_hash(env)
            self.dedupe[key] = DedupeEntry(payload_hash=hash_hex, eb_ref=ref).model_dump(
                mode="json")
            receipt = admit_receipt(env, hash_hex, ref, rev, now)
            if have_receipts is None or receipt.receipt_id not in have_receipts:
                receipts.append(receipt)
        return receipts

    async def _emit_recovered(self, ev: Any, receipts: list[IngestionReceipt]) -> None:
        if not receipts:
            return
        await write_segment(self.store, ev.message.partition, ev.message.offset,
                            ev.message.offset, receipts)
        acks = [await publish(self.app, self.audit,
                              dedupe_key(r.run_id or "", r.event_type or "", r.event_id or ""),
                              canonical_dumps(r.model_dump(mode="json"))) for r in receipts]
        await asyncio.gather(*acks)

    async def _reconcile(self, ev: Any) -> None:
        partition = ev.message.partition
        as_current(ev)
        checkpoint = dict(self.dedupe.get(checkpoint_key(partition)) or {})
        targets = list(self.outputs.values())
        starts = {TopicPartition(t, q): int(checkpoint.get(tp_key(t, q), 0))
                  for t in targets for q in range(self.ctx.partitions)}
        result = await scan_admitted(bootstrap_servers(self.ctx.profile), starts, partition)
        found = [(env, entry.eb_ref) for entry, env in result.entries.values()]
        as_current(ev)
        fresh = [(env, ref) for env, ref in found
                 if self.dedupe.get(dedupe_key(env.run_id, env.event_type, env.event_id)) is None]
        # Admissions the crash left without a dedupe entry may also lack their archive lines.
        precedence = self.ctx.profile.policy.ingest.partition_key_precedence
        await write_archive(self.store, self.generation, [
            *(_archived(self.stream_of[ref.topic], derive_partition_key(env, precedence), env,
                        ref, partition) for env, ref in fresh),
            *(_archived_watermark(TrafficWatermark.model_validate_json(value), ref.partition,
                                  ref.offset) for ref, _, value in result.watermarks)])
        recovered = self._relearn(ev, fresh, None)
        await self._emit_recovered(ev, recovered)
        as_current(ev)
        self.dedupe[checkpoint_key(partition)] = {**checkpoint, **result.ends}
        log_event(logger, "ig.reconciled", partition=partition, relearned=len(recovered))

    @property
    def streams(self) -> dict[ArchiveStream, str]:
        return {"traffic": self.outputs["traffic"], "labels": self.outputs["labels"]}

    @property
    def stream_of(self) -> dict[str, ArchiveStream]:
        return {topic: stream for stream, topic in self.streams.items()}


def _archived(stream: str, partition_key: str, envelope: CanonicalEnvelope, ref: EbRef,
              ingress_partition: int) -> ArchivedRecord:
    return ArchivedRecord(
        stream="traffic" if stream == "traffic" else "labels", partition=ref.partition,
        offset=ref.offset, partition_key=partition_key, ingress_partition=ingress_partition,
        record=envelope.model_dump(mode="json", exclude_none=True))  # dump_envelope's object


def _archived_watermark(watermark: TrafficWatermark, partition: int,
                        offset: int) -> ArchivedRecord:
    """The archive line of a watermark record IG wrote (key: the run; ingress partition: the
    one numbered like its traffic partition)."""
    return ArchivedRecord(stream="traffic", partition=partition, offset=offset,
                          partition_key=watermark.run_id, ingress_partition=watermark.partition,
                          record=watermark.model_dump(mode="json"), kind="watermark")


PAYLOADS = default_payload_registry()


def _run_ids(events: Sequence[Any]) -> set[str]:
    """Run ids the batch mentions (a cheap look before the full parse; bad input is skipped)."""
    ids = set()
    for ev in events:
        try:
            body = orjson.loads(ev.message.value or b"")
        except orjson.JSONDecodeError:
            continue
        if isinstance(body, dict) and isinstance(body.get("run_id"), str):
            ids.add(body["run_id"])
    return ids


POKE_HEADER = "fp-ig-poke"
"""Header of IG's own no-op ingress records (only the platform's producers set headers)."""
POKE_KEY = b"__ig_poke__"


def _is_poke(ev: Any) -> bool:
    headers = ev.message.headers or ()
    return any(key == POKE_HEADER for key, _ in (
        headers.items() if isinstance(headers, Mapping) else headers))


async def _poke(app: faust.App, topic: str, partition: int) -> None:
    """Off the rebalance path: a failed poke only delays the checks to the next submission."""
    try:
        await (await publish(app, topic, POKE_KEY, b"", {POKE_HEADER: b"1"},
                             partition=partition))
    except Exception as exc:
        logger.warning("ig.poke_failed partition=%d: %r", partition, exc)


def _receipt_key(decision: Decision) -> bytes:
    if isinstance(decision, Admit | Duplicate):
        return decision.key
    assert isinstance(decision, Quarantine)
    return b"quarantine|" + decision.raw_digest.hex.encode()


def register(app: faust.App, ctx: AgentContext) -> None:
    """Declare IG's topics, dedupe table and agent on ``app``."""
    raw: dict[str, Any] = {"key_serializer": "raw", "value_serializer": "raw",
                           "partitions": ctx.partitions}
    for name in (Topic.TRAFFIC, Topic.LABELS, Topic.AUDIT):
        app.topic(ctx.topic(name), **raw)  # declared so the worker creates them at start
    store = open_object_store(ctx.profile.wiring.object_store, base_dir=ctx.profile.base_dir)
    gate = _Gate(
        app=app, ctx=ctx,
        dedupe=app.Table(IG_DEDUPE_TABLE, partitions=ctx.partitions, key_type=bytes),
        outputs={"traffic": ctx.topic(Topic.TRAFFIC), "labels": ctx.topic(Topic.LABELS)},
        audit=ctx.topic(Topic.AUDIT),
        store=store,
        directory=RunDirectory(store, now=time.monotonic,
                               event_time_skew_s=ctx.profile.policy.ingest.event_time_skew_s),
        quota=QuarantineQuota(max_bytes=ctx.profile.policy.ingest.quarantine_quota_bytes,
                              window_records=ctx.profile.policy.ingest
                              .quarantine_quota_window_records),
        generation=broker_epoch(ctx.profile) or DURABLE_GENERATION,
        progress=ProgressTracker(partitions=ctx.partitions),
        emit_watermarks=EMIT_WATERMARKS or os.environ.get(EMIT_WATERMARKS_ENV) == "1",
        ingress=ctx.topic(Topic.INGRESS),
    )

    @app.timer(1.0)
    async def _unstamped_watermarks() -> None:
        try:
            await gate.flush_unstamped()
        except Exception as exc:  # a publish or store failure: as in a batch, stop loudly
            fail_stop("ig", exc)

    @app.on_partitions_revoked.connect
    async def _forget_reconciled(sender: Any, revoked: Any, **kwargs: Any) -> None:
        gate.reconciled.clear()  # re-check every partition after the next assignment

    ingress_name = ctx.topic(Topic.INGRESS)
    pokes: set[asyncio.Future[Any]] = set()

    @app.on_partitions_assigned.connect
    async def _poke_assigned(sender: Any, assigned: Any, **kwargs: Any) -> None:
        """Queue a poke on each ingress partition taken, so its restore and reconcile run now,
        not only when a submission next arrives there (a wiped bus may see none for a while)."""
        for tp in assigned:
            if tp.topic == ingress_name:
                task = asyncio.ensure_future(_poke(app, ingress_name, tp.partition))
                pokes.add(task)
                task.add_done_callback(pokes.discard)

    @app.agent(app.topic(ctx.topic(Topic.INGRESS), **raw), name="ig")
    async def ig(stream: faust.StreamT[bytes]) -> None:
        async for events in stream.take_events(BATCH_MAX, within=BATCH_WITHIN_S):
            try:
                await gate.process(events)
            except Exception as exc:
                fail_stop("ig", exc)
