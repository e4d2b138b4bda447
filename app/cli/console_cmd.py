"""``fp console``: serve the investigator console on the profile's object store.

Investigators sign in with their own token, read from ``FP_CONSOLE_TOKENS`` (``ann=<token>,
bob=<token>``; 16+ characters each) in the console's environment and never written anywhere.
Open ``http://HOST:PORT/`` (default 127.0.0.1:8088). Works with the worker and the broker down:
cases, labels and audit records all live in the object store.
"""

from __future__ import annotations

import argparse
from typing import Any

from aiohttp import web

from app.cases.model import CasePolicy
from app.console.auth import TOKENS_ENV, Investigators
from app.console.server import Console, build_console
from app.objectstore.config import open_object_store
from app.profiles.loader import load_profile
from app.rails.errors import FraudPlatformError
from app.runtime.wall_clock import wall_clock_ts

__all__ = ["register"]


def _serve(args: argparse.Namespace) -> int:
    try:
        investigators = Investigators.from_env()
    except ValueError as exc:
        raise FraudPlatformError(str(exc), reason_code="CONSOLE_TOKENS_INVALID") from exc
    if not investigators.tokens:
        raise FraudPlatformError(f"no investigator tokens: set {TOKENS_ENV}=name=token,...",
                                 reason_code="CONSOLE_TOKENS_MISSING")
    profile = load_profile(args.profile)
    store = open_object_store(profile.wiring.object_store, base_dir=profile.base_dir)
    app = build_console(Console(store=store, investigators=investigators, policy=CasePolicy(),
                                now_utc=wall_clock_ts))
    print(f"investigator console on http://{args.host}:{args.port}/ "
          f"({len(investigators.tokens)} investigators)", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None)
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "console", help="serve the investigator console (queue, case pages, actions)",
        description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8088)
    parser.set_defaults(func=_serve)
