"""``fp features parity --run-id R``: does the offline feature function reproduce every
snapshot DF emitted for a run (DESIGN section 7)?

Rebuilds each trigger's snapshot offline with the online fold's own code (``app.ofs``) from the
run's traffic (every partition, watermark records included) and compares it with what the run's
decisions recorded. Two sources (``--source``; default ``archive`` when IG archived traffic of
the run, else ``bus``):

- ``archive``: the object store, which outlives an embedded broker: IG's admitted-traffic archive
  and DLA's audit log. Audit records carry each decision's ``snapshot_hash``, not its values, so
  only hashes are compared (no per-feature table);
- ``bus``: the traffic and rtdl topics; decisions carry their full snapshot, so the report also
  has, per feature, mismatches, missing and extra.

Prints the share of equal snapshot hashes (always) and the per-feature differences (bus). Exit 0
when every decision is reproduced, 1 otherwise (``--json`` for the machine-readable report), 2
on bad input (a malformed run id, or a run with no decisions or no traffic in the source: one
``fp: error [CODE]: ...`` line).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from app.eb.topics import Topic, topic_name
from app.objectstore.config import open_object_store
from app.ofs.archive_source import archive_exists, parity_from_archive
from app.ofs.bus import parity_for_run
from app.ofs.parity import ParityReport
from app.ofs.run import check_run_id
from app.profiles.loader import Profile, load_profile
from app.rails.canonical_json import pretty_dumps

__all__ = ["register"]


async def _from_archive(profile: Profile, run_id: str, source: str | None
                        ) -> ParityReport | None:
    """The archive's report, or None when the bus is to be read (asked for, or no archive)."""
    if source == "bus":
        return None
    async with open_object_store(profile.wiring.object_store, base_dir=profile.base_dir) as store:
        if source is None and not await archive_exists(store, run_id):
            return None
        return await parity_from_archive(
            store, run_id, policy=profile.policy.decision, policy_rev=profile.policy_rev,
            topic=topic_name(Topic.TRAFFIC, profile.wiring.worker.topic_prefix))


def _parity(args: argparse.Namespace) -> int:
    check_run_id(args.run_id)
    profile = load_profile(args.profile)
    report = asyncio.run(_from_archive(profile, args.run_id, args.source))
    if report is None:
        report = asyncio.run(parity_for_run(profile, args.run_id))
    if args.json:
        sys.stdout.write(pretty_dumps(report.to_dict()).decode())
    else:
        print("\n".join(report.lines(every_feature=args.all_features)))
    return 0 if report.ok else 1


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]  # argparse
    parser = sub.add_parser("features", help="feature tools (offline rebuild, parity)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    text = ("rebuild a run's feature snapshots offline from its admitted traffic and compare "
            "them with the snapshots its decisions recorded: share of equal snapshot hashes; "
            "with --source bus also, per feature, mismatches, missing and extra")
    parity = actions.add_parser("parity", help="offline/online parity of one run",
                                description=text)
    parity.add_argument("--run-id", required=True, help="SR's run id (32 hex, fp sr run)")
    parity.add_argument("--source", choices=("archive", "bus"), default=None,
                        help="archive: IG's archive + DLA's audit log in the object store "
                             "(hashes only); bus: the traffic and rtdl topics (per feature). "
                             "Default: archive when the run's traffic was archived, else bus")
    # SUPPRESS: `fp features parity --profile P` and `fp --profile P features ...` both work.
    parity.add_argument("--profile", default=argparse.SUPPRESS,
                        help="profile name or path (default: the global --profile)")
    parity.add_argument("--all-features", action="store_true",
                        help="list every feature, not only those that differ")
    parity.add_argument("--json", action="store_true", help="print the report as JSON")
    parity.set_defaults(func=_parity)
