"""``fp run start``: the main job on any world, with progress, a summary and a report.

See ``app.runtime.run_driver``: SR, streaming at the profile's pace, waiting until the run drained
(judged from receipts, rtdl and audit records), evaluation against truth, summary and report.
Exit codes: 0 the run drained (and the worker it started stopped cleanly), 1 it did not (or it
admitted nothing, or decided nothing although its world has triggers: ``fp: error
[NOTHING_ADMITTED]: 0 of 3,000 admitted; QUARANTINE EVENT_TYPE_UNKNOWN 3,000``), 2 a
platform error (one ``fp: error [CODE]: ...`` line), e.g. ``WORKER_LOST`` when the worker exited
mid-run (its exit code and last error are named), ``WORKER_START_FAILED``, ``PARTITIONS_MISMATCH``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.profiles.loader import load_profile
from app.runtime.run_driver import DEFAULT_STALL_S, REPORTS_DIR, start_run

__all__ = ["register"]


def _start(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    result = start_run(profile, args.profile, args.world, args.scenario, run_label=args.label,
                       stall_s=args.stall_s,
                       reports_dir=Path(args.reports_dir) if args.reports_dir else None)
    if result.failure is not None:
        code, message = result.failure
        print(f"fp: error [{code}]: run {result.run_id}: {message}", file=sys.stderr, flush=True)
    return 0 if result.ok and not result.worker_exit else 1


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]  # argparse
    parser = sub.add_parser("run", help="run a world end to end (the main job)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    text = ("SR + streaming + hot path + actions + audit on one world, with a progress bar; then "
            "the evaluation against truth, a summary and a report (HTML, Markdown, PNG charts)")
    start = actions.add_parser("start", help=text, description=text)
    start.add_argument("--world", required=True, help="world locator (fp world generate)")
    start.add_argument("--scenario", default="baseline", help="scenario id (default baseline)")
    start.add_argument("--label", default="default",
                       help="run label: the same world+scenario+label is the same run (reused)")
    start.add_argument("--stall-s", type=float, default=DEFAULT_STALL_S,
                       help="stop waiting after this many seconds without progress "
                            f"(default {DEFAULT_STALL_S:.0f})")
    start.add_argument("--reports-dir", default=None,
                       help=f"where reports go (default {REPORTS_DIR} under the profile's base "
                            "dir); each report gets a new folder")
    start.set_defaults(func=_start)
