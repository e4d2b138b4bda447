"""``fp demo``: the platform's main job on the embedded default (see app.runtime.demo).

The world comes from the synthetic engine (a black box, outside ``app/``): the demo generates
one once under the profile's Oracle root and reuses it on later runs (packs are write-once).
"""

from __future__ import annotations

import argparse

from app.profiles.loader import load_profile
from app.runtime.demo import run_demo
from world_engine import WorldParams, generate_world
from world_engine.errors import WorldPackExistsError

__all__ = ["DEMO_SEED", "register"]

DEMO_SEED = 42


def _demo(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    oracle_root = profile.resolve(profile.wiring.oracle_root)
    try:
        world = generate_world(WorldParams(scale=args.scale, days=args.days), DEMO_SEED,
                               oracle_root).path
        print(f"[1/5] generated a {args.scale} world ({args.days} days): {world}")
    except WorldPackExistsError as exc:
        world = exc.locator
        print(f"[1/5] reusing the sealed {args.scale} world at {world}")
    return run_demo(profile, args.profile, str(world), log_dir=profile.resolve(".fp/logs"))


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]  # argparse
    text = "run the main job end to end on the embedded broker and print a summary"
    parser = sub.add_parser("demo", help=text, description=text)
    parser.add_argument("--scale", default="tiny", choices=("tiny", "small", "medium"),
                        help="world scale (default tiny: ~5k authorizations a week)")
    parser.add_argument("--days", type=int, default=7, help="days of traffic (default 7)")
    parser.set_defaults(func=_demo)
