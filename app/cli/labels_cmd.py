"""``fp labels show SUBJECT [--as-of T] [--effective-at E]``: label timelines, as known then.

Reads the Label Store's segments in the profile's object store (works with the worker and the
broker down). SUBJECT is a flow id (``flow_<12 digits>``), a card id or an account id; every flow
it names is shown, in every run, with its timeline as known at ``--as-of`` (default: everything)
and what was true at ``--effective-at`` as known then. Exit codes: 0 found, 1 no label known for
the subject (as of then), 2 a malformed subject or time.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from typing import Any

from app.labels.reader import LabelStoreView, read_label_store
from app.labels.timeline import Subject
from app.objectstore.config import open_object_store
from app.profiles.loader import load_profile
from app.rails.canonical_json import pretty_dumps
from app.rails.errors import ContractError
from app.rails.timefmt import ts_to_epoch_micros

__all__ = ["register"]

_SUBJECT = re.compile(r"^(flow|card|acct)_\d+$")


def _micros(text: str | None, what: str) -> int | None:
    if text is None:
        return None
    try:
        return ts_to_epoch_micros(text)
    except (ContractError, ValueError) as exc:
        raise ContractError(f"{what}: not a UTC timestamp like 2024-03-01T12:00:00.000000Z: "
                            f"{text!r}", reason_code="TS_FORMAT_INVALID") from exc


def _subjects(view: LabelStoreView, subject: str) -> list[Subject]:
    timelines = view.timelines
    if subject.startswith("flow_"):
        return [s for s in timelines.subjects() if s[1] == subject]
    if subject.startswith("card_"):
        return timelines.subjects_of_card(subject)
    return timelines.subjects_of_account(subject)


async def _read(profile_arg: str) -> LabelStoreView:
    profile = load_profile(profile_arg)
    async with open_object_store(profile.wiring.object_store, base_dir=profile.base_dir) as store:
        return await read_label_store(store)


def _show(args: argparse.Namespace) -> int:
    if not _SUBJECT.match(args.subject):
        raise ContractError(f"subject must be a flow, card or account id (flow_..., card_..., "
                            f"acct_...), got {args.subject!r}", reason_code="LABEL_SUBJECT_INVALID")
    known_at = _micros(args.as_of, "--as-of")
    effective_at = _micros(args.effective_at, "--effective-at")
    view = asyncio.run(_read(args.profile))
    flows: list[dict[str, Any]] = []
    for subject in _subjects(view, args.subject):
        timeline = view.timelines.timeline(subject, known_at_us=known_at)
        if not timeline:
            continue
        verdict = view.timelines.verdict(subject, known_at_us=known_at,
                                         effective_at_us=effective_at)
        flows.append({"run_id": subject[0], "flow_id": subject[1],
                      "timeline": [a.model_dump(mode="json", exclude_none=True)
                                   for a in timeline],
                      "verdict": None if verdict is None else verdict.label_value,
                      "verdict_label_id": None if verdict is None else verdict.label_id})
    if not flows:
        when = f" as of {args.as_of}" if args.as_of else ""
        print(f"no label known for {args.subject}{when}", file=sys.stderr)
        return 1
    if args.json:
        sys.stdout.write(pretty_dumps({"subject": args.subject, "as_of": args.as_of,
                                       "effective_at": args.effective_at,
                                       "flows": flows}).decode())
        return 0
    for flow in flows:
        print(f"{flow['flow_id']} (run {flow['run_id']}): verdict {flow['verdict'] or '-'}"
              + (f" as of {args.as_of}" if args.as_of else ""))
        for a in flow["timeline"]:
            print(f"  observed {a['observed_ts_utc']}  effective {a['effective_ts_utc']}  "
                  f"{a['label_type']:<20} {a['label_value']:<12} {a['label_id']} "
                  f"({a['source']})")
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
