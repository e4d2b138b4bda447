"""decided_of: a seq lane keeps only its own runs' decided triggers (issue #13: decisions are
spread over every rtdl partition, and a lane pops only its own entries)."""

from __future__ import annotations

import random

import orjson
from aiokafka.partitioner import DefaultPartitioner

from app.hotpath.decided_log import decided_of
from app.rails.decision import DecisionOutcome
from app.rails.partition_key import kafka_partition

TRAFFIC = "fp.bus.traffic.v1"


def _decision(run_id: str, partition: int, offset: int, outcome: str = "APPROVE") -> bytes:
    return orjson.dumps({"record_type": "decision", "pins": {"run_id": run_id},
                         "outcome": outcome,
                         "trigger": {"eb_ref": {"topic": TRAFFIC, "partition": partition,
                                                "offset": offset}}})


def test_stage_one_and_the_lane_filter_agree_on_a_runs_seq_partition() -> None:
    """Stage 1 keys a run's records by run id through the producer's default partitioner; the
    filter must pick the same seq partition."""
    rng = random.Random(7)
    for _ in range(500):
        key = f"{rng.getrandbits(128):032x}".encode()
        n = rng.randrange(1, 13)
        assert kafka_partition(key, n) == DefaultPartitioner()(key, list(range(n)),
                                                               list(range(n)))


def test_a_lane_keeps_only_the_decisions_of_its_own_runs() -> None:
    runs = [f"{i:032x}" for i in range(40)]
    values = [_decision(run, i % 4, i) for i, run in enumerate(runs)]
    values += [b"not json", orjson.dumps({"record_type": "action_outcome"})]
    everything = decided_of(values, TRAFFIC)
    assert len(everything) == len(runs)
    lanes = [decided_of(values, TRAFFIC, seq_partition=p, seq_partitions=4) for p in range(4)]
    assert sum(len(lane) for lane in lanes) == len(runs)  # each trigger in exactly one lane
    for p, lane in enumerate(lanes):
        for (part, offset), outcome in lane.items():
            assert kafka_partition(runs[offset].encode(), 4) == p
            assert outcome is DecisionOutcome.APPROVE and part == offset % 4
    assert all(lanes)  # 40 runs over 4 lanes: none empty for this fixed set
