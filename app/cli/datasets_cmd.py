"""``fp datasets build`` and ``fp datasets show``: training datasets with their manifest.

``build --run-id R [--run-id R2 ...] --label-as-of T``: one row per decision trigger of the
runs, features rebuilt offline from IG's admitted-traffic archive, labels as known at T from
the Label Store, incumbent score and outcome from DLA's audit log (``app.ofs.dataset``); written
create-only to the profile's object store under ``ofs/datasets/<dataset_id>/`` (``data.parquet``
and ``manifest.json``). Prints the dataset id, rows, positives, negatives, excluded (immature)
and where it is. ``show ID``: a stored manifest (``--json``: the whole manifest).

Exit codes: 0 built (or already there with the same bytes) / found; 1 nothing to build (no
audited decision or archived traffic of a run, no label known at T, every trigger immature) / no
such dataset; 2 bad input (a malformed run id, time or dataset id: one ``fp: error`` line).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from typing import Any, get_args

from app.eb.topics import Topic, topic_name
from app.objectstore.config import open_object_store
from app.ofs.dataset import (
    DEFAULT_LABEL_DEFINITION,
    build_dataset,
    data_key,
    read_manifest,
    write_dataset,
)
from app.ofs.errors import DatasetInputError, NothingToBuildError
from app.profiles.loader import load_profile
from app.rails.canonical_json import pretty_dumps
from app.rails.dataset import DatasetManifest, LabelDefinition
from app.rails.label import LabelType, LabelValue

__all__ = ["register"]


async def _build(args: argparse.Namespace) -> tuple[DatasetManifest, bool]:
    profile = load_profile(args.profile)
    definition = LabelDefinition(
        label_types=tuple(args.label_types or DEFAULT_LABEL_DEFINITION.label_types),
        positive_values=tuple(args.positive or DEFAULT_LABEL_DEFINITION.positive_values))
    async with open_object_store(profile.wiring.object_store, base_dir=profile.base_dir) as store:
        manifest, data = await build_dataset(
            store, args.run_id, args.label_as_of, args.maturity_days, definition,
            policy=profile.policy.decision, policy_rev=profile.policy_rev,
            topic=topic_name(Topic.TRAFFIC, profile.wiring.worker.topic_prefix))
        return manifest, await write_dataset(store, manifest, data)


def _build_cmd(args: argparse.Namespace) -> int:
    try:
        manifest, written = asyncio.run(_build(args))
    except NothingToBuildError as exc:
        print(f"nothing to build: {exc}", file=sys.stderr)
        return 1
    counts = manifest.counts
    print(f"dataset {manifest.dataset_id}  rows {counts.rows}  positives {counts.positives}  "
          f"negatives {counts.negatives}  excluded {counts.excluded_immature}  -> "
          f"{data_key(manifest.dataset_id)}" + ("" if written else "  (already built)"))
    return 0


async def _show(args: argparse.Namespace) -> DatasetManifest | None:
    profile = load_profile(args.profile)
    async with open_object_store(profile.wiring.object_store, base_dir=profile.base_dir) as store:
        return await read_manifest(store, args.dataset_id)


def _show_cmd(args: argparse.Namespace) -> int:
    if not re.fullmatch(r"[0-9a-f]{64}", args.dataset_id):
        raise DatasetInputError(f"a dataset id is 64 lowercase hex characters, got "
                                f"{args.dataset_id[:80]!r}")
    manifest = asyncio.run(_show(args))
    if manifest is None:
        print(f"no dataset {args.dataset_id}", file=sys.stderr)
        return 1
    if args.json:
        sys.stdout.write(pretty_dumps(manifest.model_dump(mode="json")).decode())
        return 0
    counts, labels = manifest.counts, manifest.label_definition
    print(f"dataset {manifest.dataset_id}  ({data_key(manifest.dataset_id)})")
    for run in manifest.runs:
        spans = ", ".join(f"p{s.partition}@{s.generation} [{s.first_offset}, {s.next_offset})"
                          for s in run.traffic)
        print(f"  run {run.run_id}: {spans}")
    print(f"  labels as of {manifest.label_as_of_utc}, maturity {manifest.maturity_days} days, "
          f"types {', '.join(labels.label_types)}, positive {', '.join(labels.positive_values)}")
    print(f"  rows {counts.rows}  positives {counts.positives}  negatives {counts.negatives}  "
          f"excluded {counts.excluded_immature}  without incumbent {counts.without_incumbent}")
    print(f"  features {len(manifest.features)} from "
          + ", ".join(f"{s.name}@{s.digest[:12]}" for s in manifest.feature_sets))
    print(f"  code {manifest.code_version}, policy {manifest.policy_rev.name} "
          f"{manifest.policy_rev.revision}, content sha256 {manifest.content_digest.hex}")
    return 0


def register(sub: Any) -> None:
    parser = sub.add_parser("datasets", help="training datasets (offline features + labels)",
                            description=__doc__.split("\n\n")[0] if __doc__ else None)
    actions = parser.add_subparsers(dest="datasets_command", metavar="ACTION", required=True)
    build = actions.add_parser(
        "build", help="build a dataset from runs and the labels known at a time",
        description="one row per decision trigger of the runs: features rebuilt offline from "
                    "IG's archive, labels as known at --label-as-of, the incumbent's score "
                    "from DLA's audit log; written create-only under ofs/datasets/<id>/")
    build.add_argument("--run-id", action="append", required=True,
                       help="a run (32 lowercase hex); repeat for several")
    build.add_argument("--label-as-of", required=True,
                       help="labels as known at this UTC time, like 2024-03-22T00:00:00.000000Z")
    build.add_argument("--maturity-days", type=int, default=0,
                       help="leave out flows authorised less than this many days before "
                            "--label-as-of (default 0)")
    build.add_argument("--label-types", nargs="+", choices=get_args(LabelType),
                       help="label types read (default: all)")
    build.add_argument("--positive", nargs="+", choices=get_args(LabelValue),
                       help="label values that make a flow positive (default: fraud abuse)")
    build.add_argument("--profile", default=argparse.SUPPRESS,
                       help="profile name or path (default: the global --profile)")
    build.set_defaults(func=_build_cmd)
    show = actions.add_parser("show", help="a stored dataset's manifest")
    show.add_argument("dataset_id", help="the dataset id (64 hex)")
    show.add_argument("--json", action="store_true", help="print the whole manifest")
    show.add_argument("--profile", default=argparse.SUPPRESS,
                      help="profile name or path (default: the global --profile)")
    show.set_defaults(func=_show_cmd)
