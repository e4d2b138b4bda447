"""``fp labels show SUBJECT`` and ``fp labels export --run-id R --as-of T``: label timelines, as
known then.

Both read the Label Store's segments and IG's admitted-traffic archive in the profile's object
store (they work with the worker and the broker down). ``show``: SUBJECT is a flow id
(``flow_<12 digits>``), a card id or an account id; every flow it names is shown, in every run,
with its timeline as known at ``--as-of`` (default: everything), what was true at
``--effective-at`` as known then, and a flag when the run's admitted traffic does not have the
flow (``app.labels.query``). ``export``: every label of one run known at ``--as-of``, one
Parquet file (``app.labels.export``). Exit codes: 0 found, 1 no label known (for the subject, or
of the run, as of then; nothing is written), 2 a malformed subject, run id or time.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from pathlib import Path
from typing import Any

from app.labels.export import export_rows, write_parquet
from app.labels.known_flows import known_flows, known_flows_of_runs
from app.labels.query import check_subject, document, flows_json, parse_time, runs_of
from app.labels.reader import LabelStoreView, read_label_store
from app.objectstore.config import open_object_store
from app.profiles.loader import load_profile
from app.rails.canonical_json import pretty_dumps
from app.rails.errors import ContractError
from app.rails.ids import HEX32_PATTERN

__all__ = ["default_export_path", "register"]


async def _read_subject(profile_arg: str, subject: str
                        ) -> tuple[LabelStoreView, dict[str, frozenset[str]]]:
    profile = load_profile(profile_arg)
    async with open_object_store(profile.wiring.object_store, base_dir=profile.base_dir) as store:
        view = await read_label_store(store)
        return view, await known_flows_of_runs(store, runs_of(view, subject))


async def _read_run(profile_arg: str, run_id: str) -> tuple[LabelStoreView, frozenset[str]]:
    profile = load_profile(profile_arg)
    async with open_object_store(profile.wiring.object_store, base_dir=profile.base_dir) as store:
        return await read_label_store(store), await known_flows(store, run_id)


def _show(args: argparse.Namespace) -> int:
    check_subject(args.subject)
    known_at = parse_time(args.as_of, "--as-of")
    effective_at = parse_time(args.effective_at, "--effective-at")
    view, known = asyncio.run(_read_subject(args.profile, args.subject))
    flows = flows_json(view, args.subject, known_at, effective_at, known)
    if not flows:
        when = f" as of {args.as_of}" if args.as_of else ""
        print(f"no label known for {args.subject}{when}", file=sys.stderr)
        return 1
    if args.json:
        sys.stdout.write(pretty_dumps(document(args.subject, args.as_of, args.effective_at,
                                               flows)).decode())
        return 0
    for flow in flows:
        print(f"{flow['flow_id']} (run {flow['run_id']}): verdict {flow['verdict'] or '-'}"
              + (f" as of {args.as_of}" if args.as_of else "")
              + ("  [UNKNOWN FLOW: not in the run's admitted traffic]"
                 if flow["flow_known"] is False else ""))
        for a in flow["timeline"]:
            print(f"  observed {a['observed_ts_utc']}  effective {a['effective_ts_utc']}  "
                  f"{a['label_type']:<20} {a['label_value']:<12} {a['label_id']} "
                  f"({a['source']})")
    return 0


def default_export_path(run_id: str, as_of: str) -> Path:
    """``labels-<first 12 of the run id>-<as-of, compact>.parquet`` in the working directory
    (the compact time keeps its microseconds only when they are not zero)."""
    date, _, clock = as_of.rstrip("Z").partition("T")
    whole, _, micros = clock.partition(".")
    compact = date.replace("-", "") + "T" + whole.replace(":", "")
    if micros.strip("0"):
        compact += f".{micros}"
    return Path(f"labels-{run_id[:12]}-{compact}Z.parquet")


def _export(args: argparse.Namespace) -> int:
    if not re.fullmatch(HEX32_PATTERN, args.run_id):
        raise ContractError(f"--run-id must be 32 lowercase hex characters, got "
                            f"{args.run_id[:80]!r}", reason_code="RUN_ID_INVALID")
    known_at = parse_time(args.as_of, "--as-of")
    assert known_at is not None  # --as-of is required
    view, known = asyncio.run(_read_run(args.profile, args.run_id))
    rows = export_rows(view.timelines, args.run_id, known_at, known)
    if not rows:
        print(f"no label of run {args.run_id} known as of {args.as_of}; nothing written",
              file=sys.stderr)
        return 1
    path = Path(args.out) if args.out else default_export_path(args.run_id, args.as_of)
    summary = write_parquet(rows, path)
    print(f"rows {summary.rows}  flows {summary.flows}  unknown-flow rows "
          f"{summary.unknown_flow_rows}  -> {path}")
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "labels", help="read the Label Store's bitemporal label timelines",
        description=__doc__.split("\n\n")[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="labels_command", metavar="ACTION")
    sub.required = True
    show = sub.add_parser("show", help="a flow's (or a card's, an account's) label timeline")
    show.add_argument("subject", help="flow_<12 digits>, card_<digits> or acct_<digits>")
    show.add_argument("--as-of", help="as known at this UTC time (observed time; default: all)")
    show.add_argument("--effective-at",
                      help="the verdict as true at this UTC time (effective time)")
    show.add_argument("--json", action="store_true", help="print the timelines as JSON")
    show.set_defaults(func=_show)
    export = sub.add_parser("export", help="a run's labels as known at T, as one Parquet file")
    export.add_argument("--run-id", required=True, help="the run (32 lowercase hex)")
    export.add_argument("--as-of", required=True,
                        help="as known at this UTC time, like 2024-03-01T12:00:00.000000Z")
    export.add_argument("--out", help="the Parquet file to write (default: "
                                      "labels-<run id[:12]>-<as-of>.parquet here)")
    export.set_defaults(func=_export)
