"""``fp worker``: run one Faust worker of the platform for a profile."""

from __future__ import annotations

import argparse

from app.profiles.loader import load_profile
from app.runtime.worker import run_worker

__all__ = ["register"]


def _worker(args: argparse.Namespace) -> int:
    return run_worker(load_profile(args.profile))


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]  # argparse
    text = "run a worker (agents, tables, /metrics and /v1 API) until SIGTERM"
    sub.add_parser("worker", help=text, description=text).set_defaults(func=_worker)
