"""``fp eval decisions``: score a finished run's decisions against its world's truth.

Offline and by reference: the run's world comes from SR's ledger, truth is read only after its
gate PASSes (``app.evaluation.truth``), and decisions are read back from ``fp.bus.rtdl.v1``. The
run and its truth are checked before the broker is touched, so a wrong run id fails fast.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import orjson

from app.eb.read_back import read_topic
from app.eb.topics import Topic, topic_name
from app.evaluation.render import render_table
from app.evaluation.scorecard_report import Evaluation, evaluate
from app.evaluation.truth import truth_of_run
from app.objectstore.config import S3ObjectStoreConfig, open_object_store
from app.profiles.loader import Profile, load_profile
from app.rails.canonical_json import pretty_dumps
from app.runtime.bus_address import bootstrap_servers

__all__ = ["RtdlSource", "decisions_of_run", "eval_run", "read_rtdl", "register"]

RtdlSource = Callable[[Profile], Awaitable[list[bytes | None]]]
"""Record values of the profile's rtdl topic (the Kafka reader, or a test's recording)."""


async def read_rtdl(profile: Profile) -> list[bytes | None]:
    """Every record value on the profile's ``fp.bus.rtdl.v1``, partition then offset order."""
    worker = profile.wiring.worker
    topic = topic_name(Topic.RTDL, worker.topic_prefix)
    records = await read_topic(",".join(bootstrap_servers(profile)), topic, worker.partitions)
    return [r.value for r in records]


def decisions_of_run(values: Iterable[bytes | None], run_id: str) -> tuple[list[Any], int]:
    """(decision records of ``run_id``, count of values no run can be read from).

    Other record types and other runs are skipped by design (nothing crosses run_id); a value
    that is not a JSON object, or a decision without pins, is counted so it is never silent.
    """
    decisions: list[Any] = []
    unreadable = 0
    for value in values:
        try:
            record = orjson.loads(value or b"")
        except orjson.JSONDecodeError:
            unreadable += 1
            continue
        if not isinstance(record, dict):
            unreadable += 1
        elif record.get("record_type") == "decision":
            pins = record.get("pins")
            if not isinstance(pins, dict):
                unreadable += 1
            elif pins.get("run_id") == run_id:
                decisions.append(record)
    return decisions, unreadable


async def eval_run(profile: Profile, run_id: str, *,
                   source: RtdlSource | None = None) -> tuple[Evaluation, int]:
    """Evaluate ``run_id``: (scorecard, rtdl values that could not be read).

    Args:
        source: where rtdl record values come from; :func:`read_rtdl` (the broker) when None.

    Raises:
        RunNotEvaluableError, TruthGateError, TruthContentError: see ``app.evaluation.truth``.
    """
    config = profile.wiring.object_store
    s3 = config if isinstance(config, S3ObjectStoreConfig) else None
    async with open_object_store(config, base_dir=profile.base_dir) as store:
        truth = await truth_of_run(store, run_id, s3=s3)
    values = await (source or read_rtdl)(profile)
    decisions, unreadable = decisions_of_run(values, run_id)
    return evaluate(decisions, truth, run_id=run_id), unreadable


def _decisions(args: argparse.Namespace) -> int:
    evaluation, unreadable = asyncio.run(eval_run(load_profile(args.profile), args.run_id))
    if args.json:
        sys.stdout.write(pretty_dumps(evaluation.to_dict()).decode())
    else:
        sys.stdout.write(render_table(evaluation))
    if unreadable:
        print(f"fp eval: note: {unreadable} rtdl records were unreadable and skipped",
              file=sys.stderr)
    if evaluation.decisions == 0:
        print(f"fp eval: no decisions of run {args.run_id} on the rtdl topic", file=sys.stderr)
        return 1
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]  # argparse
    parser = sub.add_parser("eval", help="evaluate a run's decisions against the world's truth")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    text = ("score a run's decisions (fp.bus.rtdl.v1) against its world's flow_truth: recall per "
            "fraud/abuse subtype, friction on legitimate flows, precision; truth is read by "
            "reference only after its gate PASSes")
    decisions = actions.add_parser("decisions", help="scorecard of one run", description=text)
    decisions.add_argument("--run-id", required=True, help="SR's run id (32 hex, fp sr run)")
    # SUPPRESS: `fp eval decisions --profile P` and `fp --profile P eval ...` both work.
    decisions.add_argument("--profile", default=argparse.SUPPRESS,
                           help="profile name or path (default: the global --profile)")
    decisions.add_argument("--json", action="store_true", help="print the scorecard as JSON")
    decisions.set_defaults(func=_decisions)
