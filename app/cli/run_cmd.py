"""``fp run start``: verify a world, stream it through IG, and summarize (see run_driver)."""

from __future__ import annotations

import argparse

from app.profiles.loader import load_profile
from app.runtime.run_driver import start_run

__all__ = ["register"]


def _start(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    summary = start_run(profile, args.profile, args.world, args.scenario,
                        log_dir=profile.resolve(".fp/logs"), run_label=args.label)
    print("\n".join(summary.lines()))
    return 0 if summary.status == "READY" else 1


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]  # argparse
    parser = sub.add_parser("run", help="run a world end to end (SR, streaming, admission)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    text = "SR + streaming in one go, with progress and a summary of receipts"
    start = actions.add_parser("start", help=text, description=text)
    start.add_argument("--world", required=True, help="world locator (fp world generate)")
    start.add_argument("--scenario", default="baseline", help="scenario id (default baseline)")
    start.add_argument("--label", default="default",
                       help="run label: the same world+scenario+label is the same run (reused)")
    start.set_defaults(func=_start)
