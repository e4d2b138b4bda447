"""``fp eb tail`` (decoded records for people) and ``fp replay`` (move a group's offsets)."""

from __future__ import annotations

import argparse
import asyncio

from app.eb.replay import reset_group_offsets
from app.eb.tail import tail
from app.eb.topics import Topic
from app.profiles.loader import Profile, load_profile
from app.runtime.bus_address import bootstrap_servers

__all__ = ["register"]


def _topic(profile: Profile, name: str) -> str:
    """Accept a platform base name (``fp.bus.traffic.v1``) or a full broker-side name."""
    known = {t.value for t in Topic}
    return profile.wiring.worker.topic_prefix + name if name in known else name


def _tail(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)

    async def run() -> int:
        shown = 0
        async for record in tail(bootstrap_servers(profile), _topic(profile, args.topic),
                                 profile.wiring.worker.partitions,
                                 from_beginning=args.from_beginning, max_records=args.max):
            print(record.line())
            shown += 1
        return shown

    shown = asyncio.run(run())
    print(f"({shown} records)")
    return 0


def _replay(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    offsets = asyncio.run(reset_group_offsets(
        bootstrap_servers(profile), args.group, _topic(profile, args.topic),
        profile.wiring.worker.partitions, to_offset=None if args.to_beginning else args.to_offset))
    print(f"group {args.group} on {args.topic}: committed {offsets} "
          "(restart the group's workers to reprocess from there)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]  # argparse
    parser = sub.add_parser("eb", help="event bus tools")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    tail_p = actions.add_parser("tail", help="print decoded records of a topic")
    tail_p.add_argument("topic", help="e.g. fp.bus.traffic.v1 (the profile's prefix is added)")
    tail_p.add_argument("--from-beginning", action="store_true", help="start at offset 0")
    tail_p.add_argument("--max", type=int, default=20, help="records to show (default 20)")
    tail_p.set_defaults(func=_tail)
    _register_replay(sub)


def _register_replay(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    text = "move a consumer group's committed offsets so its workers reprocess (stop them first)"
    parser = sub.add_parser("replay", help=text, description=text)
    parser.add_argument("--group", required=True, help="consumer group (a worker app_id)")
    parser.add_argument("--topic", default=Topic.TRAFFIC.value, help="topic to rewind")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--to-beginning", action="store_true", help="offset 0 everywhere")
    where.add_argument("--to-offset", type=int, help="this offset in every partition")
    parser.set_defaults(func=_replay)
