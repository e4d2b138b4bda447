"""AL's progress entries: where a partition resumes, keyed by the log the offsets belong to."""

from __future__ import annotations

from typing import Any

import pytest

from app.eb.topics import log_id_of
from app.tables.al import progress_key, progress_of, progress_value


def test_a_progress_entry_round_trips_its_resume_offset() -> None:
    assert progress_of(progress_value(0)) == 0
    assert progress_of(progress_value(1_234)) == 1_234


@pytest.mark.parametrize("stored", [None, {}, {"next_offset": -1}, {"next_offset": "7"},
                                    {"next_offset": True}, {"next_offset": 1.5}, [7], "7"])
def test_a_missing_or_unreadable_entry_resumes_from_the_start(stored: Any) -> None:
    # Reading too much is safe (outcomes on the log make re-read intents no-ops); skipping is not.
    assert progress_of(stored) == 0


def test_offsets_of_another_broker_instance_never_resume_this_log() -> None:
    # Tansu's in-memory log restarts at offset 0: a new instance must not inherit old progress.
    before = progress_key(log_id_of("fp.bus.rtdl.v1", "epoch-a"), 2)
    after = progress_key(log_id_of("fp.bus.rtdl.v1", "epoch-b"), 2)
    assert before != after
    assert progress_key(log_id_of("fp.bus.rtdl.v1", None), 2) == b"fp.bus.rtdl.v1/p002"


def test_each_partition_has_its_own_entry() -> None:
    keys = {progress_key("fp.bus.rtdl.v1", p) for p in range(8)}
    assert len(keys) == 8
