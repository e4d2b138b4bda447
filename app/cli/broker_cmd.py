"""``fp broker up|down|status``: the embedded Tansu broker of the ``tansu`` wiring."""

from __future__ import annotations

import argparse
import asyncio

from app.profiles.loader import load_profile
from app.runtime.bus_address import embedded_broker

__all__ = ["register"]


def _up(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    broker = embedded_broker(profile)
    timeout = profile.wiring.broker.start_timeout_s  # type: ignore[union-attr]  # tansu checked
    state = asyncio.run(broker.up(timeout_s=timeout))
    print(f"broker up: {state.bootstrap} (pid {state.pid}); state in {broker.state_dir}")
    return 0


def _down(args: argparse.Namespace) -> int:
    broker = embedded_broker(load_profile(args.profile))
    stopped = broker.down()
    print("broker stopped" if stopped else "broker was not running")
    return 0


def _status(args: argparse.Namespace) -> int:
    broker = embedded_broker(load_profile(args.profile))
    state, answers = asyncio.run(broker.status())
    if state is None:
        print("broker: not running")
        return 1
    print(f"broker: running at {state.bootstrap} (pid {state.pid}), "
          f"metadata {'answers' if answers else 'does NOT answer'}")
    return 0 if answers else 1


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]  # argparse
    parser = sub.add_parser("broker", help="start, stop or inspect the embedded broker")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, func, text in (
        ("up", _up, "start the broker on loopback and wait until it answers (idempotent)"),
        ("down", _down, "stop the broker (idempotent)"),
        ("status", _status, "show whether the broker runs and answers metadata (exit 1 if not)"),
    ):
        actions.add_parser(name, help=text, description=text).set_defaults(func=func)
