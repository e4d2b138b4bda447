"""``fp eval decisions`` / ``fp eval shadow``: score a finished run's decisions against its
world's truth.

Offline and by reference: the run's world comes from SR's ledger, truth is read only after its
gate PASSes (``app.evaluation.truth``). ``decisions`` reads decisions back from
``fp.bus.rtdl.v1``; ``shadow`` reads them from DLA's audit log in the object store (the embedded
broker is gone after a run) and each trigger's flow from IG's archive. The run and its truth are
checked before anything else is read, so a wrong run id fails fast.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import orjson

from app.dla.lookup import read_audit_records
from app.eb.read_back import read_topic
from app.eb.topics import Topic, topic_name
from app.evaluation.render import render_shadow, render_table
from app.evaluation.scorecard_report import Evaluation, evaluate
from app.evaluation.shadow_compare import (
    ShadowComparison,
    compare_shadow,
    in_window,
    rows_of_audit,
)
from app.evaluation.truth import truth_of_run
from app.ig.archive import read_run
from app.objectstore.base import ObjectStore
from app.objectstore.config import S3ObjectStoreConfig, open_object_store
from app.ofs.archive_source import audit_of_run
from app.ofs.dataset import flow_id_of
from app.profiles.loader import Profile, load_profile
from app.rails.canonical_json import pretty_dumps
from app.rails.errors import ContractError
from app.rails.timefmt import ts_to_epoch_micros
from app.runtime.bus_address import bootstrap_servers

__all__ = ["RtdlSource", "decisions_of_run", "eval_run", "flows_of_triggers", "read_rtdl",
           "register", "shadow_of_run"]

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


async def flows_of_triggers(store: ObjectStore, run_id: str,
                            event_ids: set[str]) -> dict[str, str]:
    """Trigger event id -> flow id for ``event_ids``, from IG's archive of the run (what was
    admitted; audit records carry no flow). Only the run's traffic is read."""
    flows: dict[str, str] = {}
    for records in (await read_run(store, run_id, "traffic")).values():
        for record in records:
            event_id = record.record.get("event_id")
            if not record.is_watermark and event_id in event_ids:
                flows[str(event_id)] = flow_id_of(record.record)
    return flows


async def shadow_of_run(profile: Profile, run_id: str, *, from_us: int | None = None,
                        to_us: int | None = None) -> ShadowComparison:
    """ACTIVE against SHADOW on ``run_id``'s audited decisions in ``[from_us, to_us)``.

    Truth is checked first (a wrong run id fails before the audit log is listed); the archive
    is read only when some decision in the window carries a shadow.

    Raises:
        RunNotEvaluableError, TruthGateError, TruthContentError: see ``app.evaluation.truth``.
    """
    config = profile.wiring.object_store
    s3 = config if isinstance(config, S3ObjectStoreConfig) else None
    async with open_object_store(config, base_dir=profile.base_dir) as store:
        truth = await truth_of_run(store, run_id, s3=s3)
        records = audit_of_run(await read_audit_records(store), run_id)
        wanted = {r.decision.trigger_event_id for r in records if r.decision.shadow is not None
                  and in_window(ts_to_epoch_micros(r.decision.trigger_ts_utc), from_us, to_us)}
        flows = await flows_of_triggers(store, run_id, wanted) if wanted else {}
    return compare_shadow(rows_of_audit(records, flows), truth, from_us=from_us, to_us=to_us,
                          run_id=run_id)


def _micros(flag: str, text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return ts_to_epoch_micros(text)
    except (ContractError, ValueError):
        raise _UsageError(f"{flag}: not a UTC timestamp like 2025-03-17T00:00:00.000000Z: "
                          f"{text[:80]!r}") from None


class _UsageError(Exception):
    """A bad flag value: one line, exit 2."""


def _shadow(args: argparse.Namespace) -> int:
    try:
        from_us, to_us = _micros("--from", args.from_ts), _micros("--to", args.to_ts)
        if from_us is not None and to_us is not None and from_us >= to_us:
            raise _UsageError("--from must be before --to")
    except _UsageError as exc:
        print(f"fp: error [USAGE]: {exc}", file=sys.stderr)
        return 2
    comparison = asyncio.run(shadow_of_run(load_profile(args.profile), args.run_id,
                                           from_us=from_us, to_us=to_us))
    if args.json:
        sys.stdout.write(pretty_dumps(comparison.to_dict()).decode())
    if comparison.compared == 0:
        print(f"fp: error [NO_SHADOW]: none of the {comparison.in_window} audited decisions of "
              f"run {args.run_id} on {comparison.window_text()} carries a shadow score (was a "
              f"SHADOW bundle set for the scope during the run?)", file=sys.stderr)
        return 1
    if not args.json:
        sys.stdout.write(render_shadow(comparison))
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
    text = ("compare the ACTIVE bundle's decisions with the SHADOW bundle's would-be decisions "
            "on the same audited decisions (DLA's audit log, IG's archive) against the world's "
            "truth, on a window of trigger event time: fraud/abuse caught and legitimate "
            "friction per side and per campaign")
    shadow = actions.add_parser("shadow", help="ACTIVE vs SHADOW on one run's decisions",
                                description=text)
    shadow.add_argument("--run-id", required=True, help="SR's run id (32 hex, fp sr run)")
    shadow.add_argument("--from", dest="from_ts", default=None, metavar="TS",
                        help="window start, inclusive (e.g. 2025-03-17T00:00:00.000000Z; "
                             "default: the first decision)")
    shadow.add_argument("--to", dest="to_ts", default=None, metavar="TS",
                        help="window end, exclusive (default: after the last decision)")
    shadow.add_argument("--profile", default=argparse.SUPPRESS,
                        help="profile name or path (default: the global --profile)")
    shadow.add_argument("--json", action="store_true", help="print the comparison as JSON")
    shadow.set_defaults(func=_shadow)
