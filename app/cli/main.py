"""The ``fp`` command: one entry point, one sub-command module per component.

Each command module exposes ``register(subparsers)`` which adds its parser and sets
``func`` (a callable taking the parsed namespace and returning an exit code).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from app.rails.errors import FraudPlatformError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """Build the full ``fp`` parser with every registered sub-command."""
    from app.cli import commands

    parser = argparse.ArgumentParser(
        prog="fp", description="fraud-platform: real-time fraud decisions on Kafka."
    )
    parser.add_argument(
        "--profile",
        default="local",
        help="profile name (profiles/NAME.yaml) or a path to a profile file (default: local)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in commands.MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``fp``; platform errors print one clear line and exit 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except FraudPlatformError as exc:
        print(f"fp: error [{exc.reason_code}]: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
