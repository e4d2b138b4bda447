"""``generate_world``: build a synthetic bank world and seal it as a world pack.

This module owns the order of work. It validates the seed and scenario, refuses an existing pack
before doing anything expensive, builds the population and the campaign plan, then generates the
world one UTC day at a time: that day's legitimate and campaign authorisations (sorted by time,
numbered ``flow_<n>`` in that order across the whole world), their follow-ups and label events
(which may land on later days) and their truth. After each day the writer flushes the
partitions no later day can add to, so memory stays bounded by about one day of traffic at any
scale. Every random draw comes from a named stream keyed by the seed (and the day), so the pack is
byte-identical for the same seed and parameters, whatever the machine or chunking.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable

import numpy as np
import pyarrow as pa

from app.rails.pins import SCENARIO_ID_PATTERN, SEED_MAX
from world_engine.campaigns import plan_campaigns
from world_engine.entities import build_world
from world_engine.errors import WorldParamsError
from world_engine.flows import concat_flows
from world_engine.interface import load_interface_pack
from world_engine.labels import label_events
from world_engine.pack_writer import PackWriter, WorldLocator
from world_engine.params import WorldParams
from world_engine.rng import stream
from world_engine.tables import (
    EntityIds,
    auth_request_table,
    clearing_table,
    flow_truth_table,
    label_event_table,
    reference_tables,
    refund_table,
    reversal_table,
)
from world_engine.traffic import follow_ups, legit_day

__all__ = ["Progress", "check_inputs", "generate_world"]

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: called as generation advances (stage ``"day"``, ...)."""


def check_inputs(seed: int, scenario_id: str) -> None:
    """Refuse a seed or scenario id no pack may carry (shared by the generator and importer)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
        raise WorldParamsError("seed", f"must be an integer in [0, {SEED_MAX}], got {seed!r}")
    if not isinstance(scenario_id, str) or re.fullmatch(SCENARIO_ID_PATTERN, scenario_id) is None:
        raise WorldParamsError(
            "scenario_id",
            f"must match {SCENARIO_ID_PATTERN} (a safe path token), got {scenario_id!r}",
        )


def generate_world(
    params: WorldParams,
    seed: int,
    oracle_root: str | os.PathLike[str],
    scenario_id: str = "baseline",
    progress: Progress | None = None,
) -> WorldLocator:
    """Generate the world for ``params`` and ``seed`` and seal it under ``oracle_root``.

    Args:
        params: the parameter pack (its canonical JSON hashes to ``parameter_hash``).
        seed: integer in [0, 2**63 - 1]; same seed and params give a byte-identical pack.
        oracle_root: local folder of the Oracle Store.
        scenario_id: the scenario the pack is generated for (a path token; a label only: it
            does not change the content).
        progress: optional ``progress(stage, done, total)`` callback.

    Returns:
        The sealed pack's locator, identity and row counts per output.

    Raises:
        WorldParamsError: bad seed or scenario_id.
        WorldPackExistsError: the locator already holds a pack; nothing was written.
        WorldPackWriteError: the pack could not be written; nothing is left at the locator.
    """
    check_inputs(seed, scenario_id)
    report = progress or (lambda stage, done, total: None)
    raw_interface, interface, _ = load_interface_pack()
    with PackWriter(
        oracle_root=oracle_root,
        seed=seed,
        scenario_id=scenario_id,
        parameters=params.canonical(),
        parameter_hash=params.parameter_hash(),
        interface_bytes=raw_interface,
        interface=interface,
        reference_day=params.start_date,
    ) as writer:
        report("entities", 0, 1)
        world = build_world(params, seed)
        ids = EntityIds.of(world)
        for output_id, table in reference_tables(world, ids).items():
            writer.add(output_id, table)
        report("entities", 1, 1)
        plan = plan_campaigns(world, params, seed)
        campaign_ids = pa.array(plan.campaign_ids, type=pa.string())
        next_flow = 0
        for day in range(params.days):
            batch = concat_flows([legit_day(world, params, seed, day), plan.flows_on_day(day)])
            batch = batch.sorted_by_time()
            flow_no = next_flow + np.arange(len(batch), dtype=np.int64)
            next_flow += len(batch)
            outcome = follow_ups(batch, stream(seed, "traffic.follow_ups", day))
            labels = label_events(batch, outcome, stream(seed, "labels", day))
            writer.add("auth_request", auth_request_table(batch, flow_no, ids))
            writer.add("clearing", clearing_table(batch, outcome, flow_no, ids))
            writer.add("refund", refund_table(batch, outcome, flow_no, ids))
            writer.add("reversal", reversal_table(batch, outcome, flow_no, ids))
            writer.add("label_event", label_event_table(batch, labels, flow_no, ids))
            writer.add("flow_truth", flow_truth_table(batch, outcome, flow_no, campaign_ids))
            writer.flush_through(params.start_date + dt.timedelta(days=day))
            report("day", day + 1, params.days)
        report("seal", 0, 1)
        locator = writer.seal()
        report("seal", 1, 1)
    return locator
