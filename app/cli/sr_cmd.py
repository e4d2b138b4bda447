"""``fp sr run | status``: ask the Scenario Runner for a run, or show a run's ledger."""

from __future__ import annotations

import argparse
import asyncio

import orjson

from app.eb.topic_admin import ensure_topics
from app.eb.topics import Topic, topic_name
from app.objectstore.config import S3ObjectStoreConfig, open_object_store
from app.profiles.loader import Profile, load_profile
from app.runtime.bus_address import bootstrap_servers
from app.sr.control_publisher import KafkaControlPublisher
from app.sr.ledger import RunLedger
from app.sr.run_request import RunRequest, parse_run_request
from app.sr.runner import RunOutcome, run_scenario

__all__ = ["register", "sr_run"]


async def sr_run(profile: Profile, request: RunRequest) -> RunOutcome:
    """Run SR for ``request`` with the profile's object store and control topic."""
    servers = bootstrap_servers(profile)
    worker = profile.wiring.worker
    control = topic_name(Topic.CONTROL, worker.topic_prefix)
    await ensure_topics(servers, [control], partitions=worker.partitions,
                        replication_factor=worker.replication_factor)
    s3 = profile.wiring.object_store
    async with (
        open_object_store(s3, base_dir=profile.base_dir) as store,
        KafkaControlPublisher(servers, control) as publisher,
    ):
        return await run_scenario(request, store=store, publisher=publisher,
                                  policy_rev=profile.policy_rev,
                                  s3=s3 if isinstance(s3, S3ObjectStoreConfig) else None)


def _run(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    request = parse_run_request(world_locator=args.world, scenario_id=args.scenario,
                                run_label=args.label,
                                streamed_outputs=tuple(args.stream) if args.stream else None)
    outcome = asyncio.run(sr_run(profile, request))
    reused = " (existing run reused)" if outcome.reused else ""
    print(f"run {outcome.run_id}: {outcome.status}{reused}")
    if outcome.reason_code:
        print(f"  reason: {outcome.reason_code}: {outcome.detail}")
    if outcome.ready is not None:
        print(f"  READY message {outcome.ready.message_id}")
        print(f"  run_facts_view {outcome.ready.run_facts.object_key}")
    return 0 if outcome.status == "READY" else 1


async def _ledger(profile: Profile, run_id: str) -> dict[str, object]:
    async with open_object_store(profile.wiring.object_store, base_dir=profile.base_dir) as store:
        ledger = RunLedger(store, run_id)
        return {"plan": await ledger.read_plan(), "status": await ledger.latest_status(),
                "records": await ledger.records(), "gates": await ledger.gate_receipts()}


def _status(args: argparse.Namespace) -> int:
    body = asyncio.run(_ledger(load_profile(args.profile), args.run_id))
    if body["plan"] is None:
        print(f"no run {args.run_id} in this profile's object store")
        return 1
    print(orjson.dumps(body, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]  # argparse
    parser = sub.add_parser("sr", help="Scenario Runner: verify a world and declare a run READY")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    run = actions.add_parser("run", help="create (or reuse) a run and publish READY once",
                             description="Verify every gate of a sealed world (no PASS, no "
                             "read), write the run ledger and run_facts_view, publish READY.")
    run.add_argument("--world", required=True, help="world locator printed by fp world generate")
    run.add_argument("--scenario", required=True, help="scenario id (must match the locator)")
    run.add_argument("--label", default="default", help="run label: a deliberate re-run")
    run.add_argument("--stream", nargs="+", metavar="OUTPUT",
                     help="outputs to stream (default: business_traffic and label_feed)")
    run.set_defaults(func=_run)
    status = actions.add_parser("status", help="print a run's ledger")
    status.add_argument("run_id")
    status.set_defaults(func=_status)
