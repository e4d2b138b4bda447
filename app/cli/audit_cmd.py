"""``fp audit show ID``: the whole audit chain of a decision, trigger event or action id.

Reads DLA's segment indexes in the profile's object store, so it works with the worker and the
broker down. ``--full`` also reads the decision record itself from ``fp.bus.rtdl.v1`` (feature
snapshot, intent subjects) when the bus is reachable, and says so when it is not. Exit codes:
0 found, 1 no audit record for the id, 2 a malformed id (or another platform error).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

import orjson
from aiokafka.errors import KafkaError

from app.dla.chain_view import render_chain
from app.dla.errors import MalformedAuditIdError
from app.dla.lookup import AuditIndex, Lookup, is_hex64
from app.eb.partition_reader import read_partition
from app.objectstore.config import open_object_store
from app.profiles.loader import Profile, load_profile
from app.rails.audit import AuditRecord
from app.rails.canonical_json import pretty_dumps
from app.rails.errors import BrokerError
from app.runtime.bus_address import bootstrap_servers

__all__ = ["register"]

_BUS_TIMEOUT_S = 10.0


async def _lookup(profile: Profile, id_: str) -> Lookup | None:
    async with open_object_store(profile.wiring.object_store, base_dir=profile.base_dir) as store:
        return await AuditIndex().find(store, id_)


async def _decision_from_bus(profile: Profile, record: AuditRecord) -> dict[str, Any] | None:
    ref = record.decision.decision_ref
    found = await read_partition(bootstrap_servers(profile), ref.topic, ref.partition,
                                 start=ref.offset, stop=ref.offset + 1, timeout_s=_BUS_TIMEOUT_S)
    body = orjson.loads(found[0].value or b"null") if found else None
    return body if isinstance(body, dict) and body.get(
        "decision_id") == record.decision_id else None


def _full_decision(profile: Profile, record: AuditRecord) -> dict[str, Any] | None:
    try:
        decision = asyncio.run(_decision_from_bus(profile, record))
    except (BrokerError, KafkaError, OSError, TimeoutError) as exc:
        print(f"fp audit: the bus is not reachable ({type(exc).__name__}); showing what the "
              "audit record holds", file=sys.stderr)
        return None
    if decision is None:
        print("fp audit: the decision is no longer at its rtdl position (another broker "
              "instance?); showing what the audit record holds", file=sys.stderr)
    return decision


def _show(args: argparse.Namespace) -> int:
    if not is_hex64(args.id):
        raise MalformedAuditIdError(args.id)
    profile = load_profile(args.profile)
    found = asyncio.run(_lookup(profile, args.id))
    if found is None:
        print(f"no audit record for {args.id} (as a decision, event or action id)",
              file=sys.stderr)
        return 1
    kind, records = found
    decision = _full_decision(profile, records[0]) if args.full else None
    if args.json:
        body = {"kind": kind, "id": args.id, "records": [r.model_dump(mode="json")
                                                         for r in records],
                "decision_record": decision}
        sys.stdout.write(pretty_dumps(body).decode())
    else:
        print(f"{kind} id {args.id}: {len(records)} audit record(s)\n")
        print(render_chain(records, decision))
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "audit", help="look up decision chains in DLA's append-only audit log",
        description=__doc__.split("\n\n")[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="audit_command", metavar="ACTION")
    sub.required = True
    show = sub.add_parser("show", help="print the audit chain of a decision, event or action id")
    show.add_argument("id", help="decision id, trigger event id or action id (64 hex)")
    show.add_argument("--json", action="store_true", help="print the records as JSON")
    show.add_argument("--full", action="store_true",
                      help="also read the decision record from the bus (broker must be up)")
    show.set_defaults(func=_show)
