"""``fp profile show|check``: print or validate a profile and its policy revision stamp."""

from __future__ import annotations

import argparse

import orjson

from app.profiles.loader import load_profile

__all__ = ["register"]


def _show(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    body = {
        "name": profile.name,
        "policy_rev": profile.policy_rev.model_dump(mode="json"),
        "policy": profile.policy.model_dump(mode="json"),
        "wiring": profile.wiring.model_dump(mode="json"),
    }
    print(orjson.dumps(body, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())
    return 0


def _check(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    rev = profile.policy_rev
    print(f"profile {profile.name}: valid; policy {rev.name} {rev.revision} "
          f"sha256:{rev.digest.hex}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]  # argparse
    parser = sub.add_parser("profile", help="show or validate a profile")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("show", help="print the validated profile as JSON").set_defaults(func=_show)
    actions.add_parser("check", help="validate and print the policy stamp").set_defaults(
        func=_check
    )
