"""``fp features parity --run-id R``: does the offline feature function reproduce every
snapshot DF emitted for a run (DESIGN section 7)?

Reads the run's traffic (every partition, watermark records included) and its decisions back
from the bus, rebuilds each trigger's snapshot offline with the online fold's own code
(``app.ofs``), and prints the share of equal snapshot hashes and the per-feature differences.
Exit 0 when every decision is reproduced, 1 otherwise, 2 on bad input (a malformed run id, or
a run with no decisions or no traffic on the bus: one ``fp: error [CODE]: ...`` line).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from app.ofs.bus import parity_for_run
from app.profiles.loader import load_profile
from app.rails.canonical_json import pretty_dumps

__all__ = ["register"]


def _parity(args: argparse.Namespace) -> int:
    report = asyncio.run(parity_for_run(load_profile(args.profile), args.run_id))
    if args.json:
        sys.stdout.write(pretty_dumps(report.to_dict()).decode())
    else:
        print("\n".join(report.lines(every_feature=args.all_features)))
    return 0 if report.ok else 1


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]  # argparse
    parser = sub.add_parser("features", help="feature tools (offline rebuild, parity)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    text = ("rebuild a run's feature snapshots offline from its traffic on the bus and compare "
            "them with the snapshots its decisions carry (fp.bus.rtdl.v1): share of equal "
            "snapshot hashes; per feature, mismatches, missing and extra")
    parity = actions.add_parser("parity", help="offline/online parity of one run",
                                description=text)
    parity.add_argument("--run-id", required=True, help="SR's run id (32 hex, fp sr run)")
    # SUPPRESS: `fp features parity --profile P` and `fp --profile P features ...` both work.
    parity.add_argument("--profile", default=argparse.SUPPRESS,
                        help="profile name or path (default: the global --profile)")
    parity.add_argument("--all-features", action="store_true",
                        help="list every feature, not only those that differ")
    parity.add_argument("--json", action="store_true", help="print the report as JSON")
    parity.set_defaults(func=_parity)
