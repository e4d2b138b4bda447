"""``fp cases``: list, show and work cases from the command line (the console's operations).

Reads and writes the case log in the profile's object store (``app.cases.log``), so it works with
the worker and the broker down. A command is made against the case's current version (or
``--version``), and its id is derived from what it says (case, version, actor, action, text), so
running the same command again is a no-op, never a second event. ``resolve`` reads the flow's
label from the Label Store: overturning it needs a second investigator (``approve``). Exit codes:
0 done, 1 refused (the reason and the HTTP status an API answers are printed), 2 a platform error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from app.cases.log import list_case_ids, read_case, run_command
from app.cases.model import ACTIONS, VERDICTS, CasePolicy, Refusal, command_of
from app.labels.reader import flow_label
from app.objectstore.base import ObjectStore
from app.objectstore.config import open_object_store
from app.profiles.loader import load_profile
from app.rails.canonical_json import pretty_dumps
from app.rails.ids import short_id
from app.runtime.wall_clock import wall_clock_ts

__all__ = ["register"]


def _store(profile_arg: str) -> ObjectStore:
    profile = load_profile(profile_arg)
    return open_object_store(profile.wiring.object_store, base_dir=profile.base_dir)


async def _list(args: argparse.Namespace) -> int:
    async with _store(args.profile) as store:
        cases = [c for c in [await read_case(store, i) for i in await list_case_ids(store)]
                 if c is not None and (args.state is None or c.state.value == args.state)]
    cases.sort(key=lambda c: (-(c.opened.score or 0.0), c.opened.at_utc, c.case_id))
    for case in cases:
        print(f"{case.case_id}  {case.state.value:<16} v{case.version:<3} "
              f"score {case.opened.score if case.opened.score is not None else '-':<6} "
              f"{case.opened.flow_id or '-'}  opened {case.opened.at_utc}  "
              f"{case.assignee or '-'}")
    print(f"{len(cases)} case(s)", file=sys.stderr)
    return 0


async def _show(args: argparse.Namespace) -> int:
    async with _store(args.profile) as store:
        case = await read_case(store, args.case_id)
    if case is None:
        print(f"no case {args.case_id}", file=sys.stderr)
        return 1
    if args.json:
        sys.stdout.write(pretty_dumps({"case_id": case.case_id, "state": case.state.value,
                                       "version": case.version, "events": [
                                           e.model_dump(mode="json", exclude_none=True)
                                           for e in case.events]}).decode())
        return 0
    print(f"case {case.case_id}: {case.state.value}, version {case.version}, "
          f"assignee {case.assignee or '-'}, verdict {case.verdict or '-'}")
    for e in case.events:
        extra = " ".join(f"{k}={v}" for k, v in (("verdict", e.verdict), ("note", e.note))
                         if v is not None)
        print(f"  {e.seq:>3} {e.at_utc} {e.event_type.value:<17} {e.actor:<12} {extra}")
    return 0


async def _act(args: argparse.Namespace) -> int:
    policy = CasePolicy()
    async with _store(args.profile) as store:
        case = await read_case(store, args.case_id)
        if case is None:
            print(f"fp cases: refused (404 CASE_NOT_FOUND): no case {args.case_id}",
                  file=sys.stderr)
            return 1
        version = case.version if args.version is None else args.version
        text = getattr(args, "text", None) or getattr(args, "note", None) or \
            getattr(args, "reason", None) or ""
        command_id = args.command_id or short_id(
            "case-command", case.case_id, version, args.actor, args.action, text,
            getattr(args, "verdict", None))
        current = await flow_label(store, case.opened.run_id, case.opened.flow_id) \
            if args.action == "resolve" else None
        command = command_of(args.action, case.case_id, command_id, args.actor, version,
                             text=text, verdict=getattr(args, "verdict", None),
                             current_label=current)
        result = await run_command(store, command, at_utc=wall_clock_ts(), policy=policy)
    if isinstance(result, Refusal):
        print(f"fp cases: refused ({result.status} {result.reason_code}): {result.message}",
              file=sys.stderr)
        return 1
    for event in result:
        print(f"case {event.case_id} v{event.seq}: {event.event_type.value} by {event.actor}")
    return 0


def _run(fn: Any) -> Any:
    return lambda args: asyncio.run(fn(args))


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "cases", help="list, show and work cases (case management)",
        description=__doc__.split("\n\n")[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="cases_command", metavar="ACTION")
    sub.required = True
    listing = sub.add_parser("list", help="cases by priority (the decision's score)")
    listing.add_argument("--state", choices=["OPEN", "IN_REVIEW", "PENDING_APPROVAL",
                                             "RESOLVED", "CLOSED"])
    listing.set_defaults(func=_run(_list))
    show = sub.add_parser("show", help="a case's events")
    show.add_argument("case_id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=_run(_show))
    actions: dict[str, tuple[str, list[tuple[str, dict[str, Any]]]]] = {
        "claim": ("take the case (assign it to yourself)", []),
        "note": ("add a note (notes are never edited)", [("text", {})]),
        "resolve": ("give a verdict (dual control may hold it for approval)", [
            ("--verdict", {"required": True, "choices": VERDICTS}),
            ("--note", {"required": True})]),
        "approve": ("approve another investigator's pending verdict", []),
        "reject": ("reject another investigator's pending verdict", [
            ("--note", {"required": True})]),
        "close": ("close a resolved case", []),
        "reopen": ("reopen a resolved or closed case", [("--reason", {"required": True})]),
    }
    assert tuple(actions) == ACTIONS
    for action, (help_text, extra) in actions.items():
        command = sub.add_parser(action, help=help_text)
        command.add_argument("case_id")
        command.add_argument("--as", dest="actor", required=True,
                             help="the investigator acting (lower-case id)")
        command.add_argument("--version", type=int,
                             help="the case version the command is made against "
                                  "(default: the current one)")
        command.add_argument("--command-id", help="idempotency id (default: derived)")
        for name, options in extra:
            command.add_argument(name, **options)
        command.set_defaults(func=_run(_act), action=action)
