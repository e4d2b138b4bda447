"""``fp demo``: the platform's main job on the embedded default (see app.runtime.demo).

The world comes from the synthetic engine (a black box, outside ``app/``): the demo generates
one once under the profile's Oracle root and reuses it on later runs (packs are write-once).
The default size fits ``make demo`` in its time budget on a 2-core machine (README, Performance).
"""

from __future__ import annotations

import argparse

from app.profiles.loader import load_profile
from app.runtime.demo import DEMO_RATE, DEMO_STEPS, run_demo
from app.runtime.run_driver import DEFAULT_STALL_S, Steps
from world_engine import WorldParams, generate_world
from world_engine.errors import WorldPackExistsError

__all__ = ["DEMO_DAYS", "DEMO_SCALE", "DEMO_SEED", "register"]

DEMO_SEED = 42
DEMO_SCALE = "small"
DEMO_DAYS = 1
"""A small world is ~14.5 k streamed rows a day; one worker on 2 cores runs about 300 rows/s
through IG and the hot path, so 1 day keeps the run part of ``make demo`` well under 3 minutes."""


def _demo(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    oracle_root = profile.resolve(profile.wiring.oracle_root)
    steps = Steps(DEMO_STEPS)
    what = f"{args.scale} world ({args.days} days, seed {DEMO_SEED})"
    try:
        world = generate_world(WorldParams(scale=args.scale, days=args.days), DEMO_SEED,
                               oracle_root).path
        steps.say(f"generated a {what}: {world}")
    except WorldPackExistsError as exc:
        world = exc.locator
        steps.say(f"reusing the sealed {what} at {world}")
    return run_demo(profile, args.profile, str(world), steps=steps, stall_s=args.stall_s,
                    rate=args.rate)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]  # argparse
    text = ("run the main job end to end on the embedded broker: a synthetic world through SR, "
            "IG, the hot path, AL and DLA; then a summary against the world's truth and a report")
    parser = sub.add_parser("demo", help=text, description=text)
    parser.add_argument("--scale", default=DEMO_SCALE, choices=("tiny", "small", "medium"),
                        help=f"world scale (default {DEMO_SCALE}: ~14.5k streamed rows a day)")
    parser.add_argument("--days", type=int, default=DEMO_DAYS,
                        help=f"days of traffic (default {DEMO_DAYS})")
    parser.add_argument("--stall-s", type=float, default=DEFAULT_STALL_S,
                        help="stop waiting after this many seconds without progress "
                             f"(default {DEFAULT_STALL_S:.0f})")
    parser.add_argument("--rate", type=float, default=DEMO_RATE,
                        help=f"offered load, rows per second (default {DEMO_RATE:g}: below one "
                             "worker's capacity, so the latency printed is the platform's; "
                             "0 = the profile's pacing, full speed locally)")
    parser.set_defaults(func=_demo)
