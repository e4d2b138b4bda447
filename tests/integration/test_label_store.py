"""The Label Store on the real broker: the suite's shared pipeline run (every agent in one
worker, ``kill -9``-ed mid-stream and restarted; ``tests/fixtures/pipeline.py``), judged from
outside: the labels topic read back against the segment objects in the store."""

from __future__ import annotations

import asyncio
from collections import Counter

import orjson
import pytest

from app.eb.topics import Topic
from app.labels.reader import LabelStoreView, read_label_store
from app.labels.segments import SEGMENTS_PREFIX, decode_segment
from app.objectstore.config import open_object_store
from app.rails.label import LabelAssertion
from tests.fixtures.pipeline import PipelineRun
from tests.integration.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]


def _view(run: PipelineRun) -> LabelStoreView:
    async def read() -> LabelStoreView:
        async with open_object_store(run.profile.wiring.object_store,
                                     base_dir=run.profile.base_dir) as store:
            return await read_label_store(store)
    return asyncio.run(read())


def _covered(run: PipelineRun, ends: dict[int, int]) -> tuple[bool, dict[int, int]]:
    """Has a segment reached each partition's log end?"""
    reached: dict[int, int] = {}
    for key, data in run.objects(SEGMENTS_PREFIX).items():
        header = decode_segment(key, data).header
        reached[header.partition] = max(reached.get(header.partition, 0), header.next_offset)
    return all(reached.get(p, 0) >= end for p, end in ends.items()), reached


def test_every_admitted_label_event_is_in_exactly_one_timeline_entry(
        pipeline_run: PipelineRun) -> None:
    records = pipeline_run.read(Topic.LABELS)
    assert records, "the run admitted no label events: nothing to judge"
    ends: dict[int, int] = {}
    for r in records:
        ends[r.partition] = max(ends.get(r.partition, 0), r.offset + 1)
    wait_for(lambda: _covered(pipeline_run, ends), 120, "the Label Store to reach the log ends")
    admitted = Counter()
    for r in records:
        body = orjson.loads(r.value)
        admitted[(body["run_id"], body["payload"]["label_event_id"])] += 1
    lines = Counter(
        (e.run_id, e.label_id)
        for key, data in pipeline_run.objects(SEGMENTS_PREFIX).items()
        for e in decode_segment(key, data).entries if isinstance(e, LabelAssertion))
    assert lines == admitted and set(lines.values()) == {1}
    view = _view(pipeline_run)
    assert view.anomalies == [] and view.collisions == []
    for run_id, label_id in admitted:
        held = view.timelines.get(run_id, label_id)
        assert held is not None and held.source == "label_feed"
        assert held.source_ref is not None and held.source_ref.topic.endswith(Topic.LABELS.value)


def test_kill_9_rewrote_no_label_segment(pipeline_run: PipelineRun) -> None:
    after = pipeline_run.objects(SEGMENTS_PREFIX)
    for key, data in pipeline_run.labels_at_crash.items():
        assert after.get(key) == data  # create-only: what was written stays byte for byte
