"""``fp demo``: the platform's main job on the embedded default (see app.runtime.demo)."""

from __future__ import annotations

import argparse

from app.profiles.loader import load_profile
from app.runtime.demo import run_demo

__all__ = ["register"]


def _demo(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    return run_demo(profile, args.profile, log_dir=profile.resolve(".fp/logs"))


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]  # argparse
    text = "run the main job end to end on the embedded broker and print a summary"
    sub.add_parser("demo", help=text, description=text).set_defaults(func=_demo)
