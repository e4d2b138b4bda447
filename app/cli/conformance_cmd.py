"""``fp conformance check --run-id ID``: judge a finished run by DESIGN section 10's invariants."""

from __future__ import annotations

import argparse
import asyncio

from app.conformance.collect import collect_evidence
from app.conformance.suite import run_checks
from app.profiles.loader import load_profile
from app.rails.ids import HEX32_PATTERN

__all__ = ["register"]


def _check(args: argparse.Namespace) -> int:
    import re

    if not re.fullmatch(HEX32_PATTERN, args.run_id):
        print(f"error: --run-id must be 32 lowercase hex characters, got {args.run_id!r}")
        return 2
    profile = load_profile(args.profile)
    evidence = asyncio.run(collect_evidence(profile, args.run_id))
    results = run_checks(evidence)
    for result in results:
        print(result.line())
    failed = [r for r in results if not r.ok]
    print(f"{len(results) - len(failed)}/{len(results)} invariants hold for run {args.run_id}")
    return 1 if failed else 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]  # argparse
    parser = sub.add_parser("conformance", help="check DESIGN section 10 invariants on a run")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    text = ("read the run's records back from the bus, the executor's side-effect log and the "
            "audit store, and check every invariant (after the stream drained)")
    check = actions.add_parser("check", help=text, description=text)
    check.add_argument("--run-id", required=True, help="the run to judge (SR's run id)")
    check.set_defaults(func=_check)
