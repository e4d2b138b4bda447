"""``fp learn --world LOCATOR``: the learning loop in one command.

Streams the world through the platform (the main job, ``fp run start``; the same world, scenario
and label is the same run, so a finished run is reused, not streamed again) or takes finished
runs by ``--run-id``; then builds the dataset with labels as known at ``--label-as-of`` (default:
the end of the run) and a maturity window, measures feature parity, trains and evaluates a
LightGBM candidate against the scope's ACTIVE bundle on the later part of event time, writes the
report, registers the bundle with its promotion evidence, and prints one summary line with the
candidate's and the incumbent's ROC-AUC and average precision on the held-out part, then the
promote command to run (``app.learning.loop``). Exit codes: 0 a candidate is registered, 1 the
run did not drain or there is nothing to learn from, 2 bad input or a platform error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from app.learning.loop import Learned, LearnRequest, learn_from_runs
from app.objectstore.config import open_object_store
from app.ofs.dataset import DEFAULT_LABEL_DEFINITION
from app.ofs.errors import NothingToBuildError
from app.profiles.loader import Profile, load_profile
from app.rails.dataset import LabelDefinition
from app.runtime.run_driver import start_run

__all__ = ["register"]

LEARN_REPORTS = "reports/learn"


def _learn(args: argparse.Namespace) -> int:
    if not args.world and not args.run_id:
        print("fp: error [USAGE]: give --world LOCATOR (stream it, or reuse its finished run) "
              "or --run-id R", file=sys.stderr)
        return 2
    if not 0.0 < args.train_fraction < 1.0:
        print("fp: error [USAGE]: --train-fraction must be between 0 and 1", file=sys.stderr)
        return 2
    profile = load_profile(args.profile)
    run_ids = list(args.run_id or [])
    if args.world:
        result = start_run(profile, args.profile, args.world, args.scenario,
                           run_label=args.label)
        if not result.ok:
            code, message = result.failure or ("RUN_NOT_DRAINED", "the run did not drain")
            print(f"fp: error [{code}]: run {result.run_id}: {message}", file=sys.stderr)
            return 1
        run_ids.append(result.run_id)
    definition = LabelDefinition(
        label_types=tuple(args.label_types or DEFAULT_LABEL_DEFINITION.label_types),
        positive_values=tuple(args.positive or DEFAULT_LABEL_DEFINITION.positive_values)) \
        if args.label_types or args.positive else None
    request = LearnRequest(
        run_ids=tuple(run_ids), scope=args.scope, bundle_id=args.bundle_id,
        train_fraction=args.train_fraction, label_as_of_utc=args.label_as_of,
        maturity_days=args.maturity_days,
        **({"label_definition": definition} if definition is not None else {}))
    try:
        learned = asyncio.run(_run(profile, request, args.reports_dir))
    except NothingToBuildError as exc:
        print(f"fp: error [NOTHING_TO_LEARN]: {exc}", file=sys.stderr)
        return 1
    print(f"dataset {learned.manifest.dataset_id[:16]}: {learned.manifest.counts.rows:,} rows, "
          f"{learned.manifest.counts.positives:,} positive, labels as of "
          f"{learned.manifest.label_as_of_utc}; report {learned.report_dir / 'report.html'}")
    print(learned.summary_line())
    print(f"to promote: {learned.promote_command()}")
    return 0


async def _run(profile: Profile, request: LearnRequest, reports_dir: str | None) -> Learned:
    root = Path(reports_dir) if reports_dir else Path(profile.base_dir) / ".fp" / LEARN_REPORTS
    async with open_object_store(profile.wiring.object_store,
                                 base_dir=profile.base_dir) as store:
        return await learn_from_runs(
            store, request, policy=profile.policy.decision, policy_rev=profile.policy_rev,
            reports_root=root, band_targets=profile.policy.learning.band_targets.targets())


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]  # argparse
    text = ("stream a world (or reuse its finished run), build the dataset with labels as known "
            "then, train and evaluate a LightGBM candidate against the ACTIVE bundle on the "
            "later part of event time, register it with its evidence, print the promote command")
    parser = sub.add_parser("learn", help="the learning loop in one command", description=text)
    parser.add_argument("--world", default=None, help="world locator (fp world generate/import)")
    parser.add_argument("--scenario", default="baseline", help="scenario id (default baseline)")
    parser.add_argument("--label", default="default",
                        help="run label (the same world+scenario+label is the same run: reused)")
    parser.add_argument("--run-id", action="append", default=None,
                        help="learn from this finished run instead (repeatable)")
    parser.add_argument("--train-fraction", type=float, default=0.8,
                        help="train on this earlier share of the rows by event time (default 0.8)")
    parser.add_argument("--label-as-of", default=None,
                        help="labels as known at this UTC time (default: the end of the run)")
    parser.add_argument("--maturity-days", type=int, default=0,
                        help="leave out flows younger than this at --label-as-of (default 0)")
    parser.add_argument("--label-types", nargs="*", default=None,
                        help="label types that count (default: all)")
    parser.add_argument("--positive", nargs="*", default=None,
                        help="label values that are positive (default: fraud abuse)")
    parser.add_argument("--bundle-id", default="trained-auth", help="the candidate's bundle id")
    parser.add_argument("--scope", default="auth", help="registry scope (default auth)")
    parser.add_argument("--reports-dir", default=None,
                        help="where the evaluation report goes (default .fp/reports/learn)")
    parser.set_defaults(func=_learn)
