"""``fp schemas``: regenerate or check the committed JSON Schemas of the rails contracts.

``generate`` rewrites ``schemas/rails/`` and ``schemas/payloads/`` from the pydantic models;
``check`` exits 1 when the committed files drift, so CI and a pre-commit hook catch a model
edited without its schema.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.rails.schema_export import (
    SCHEMA_DIRS,
    diff_all_schemas,
    render_all_schemas,
    write_all_schemas,
)

_DIRS = ", ".join(f"{d}/" for d in SCHEMA_DIRS)

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add ``fp schemas {generate,check}``; each sub-parser sets ``func(args) -> int``."""
    parser = subparsers.add_parser(
        "schemas", help=f"generate or check the committed JSON Schemas under {_DIRS}"
    )
    actions = parser.add_subparsers(dest="schemas_command", metavar="ACTION")
    actions.required = True
    for name, func, text in (
        ("generate", _generate, "rewrite the schema files from the models"),
        ("check", _check, "exit 1 if the committed schema files differ from the models"),
    ):
        action = actions.add_parser(name, help=text, description=text)
        action.add_argument(
            "--root",
            type=Path,
            default=Path("."),
            help="repository root holding schemas/ (default: the current directory)",
        )
        action.set_defaults(func=func)


def _generate(args: argparse.Namespace) -> int:
    changed = write_all_schemas(args.root)
    for rel in changed:
        print(f"wrote {rel}" if (args.root / rel).exists() else f"removed {rel}")
    print(f"{len(render_all_schemas())} schemas in {_DIRS}, {len(changed)} changed")
    return 0


def _check(args: argparse.Namespace) -> int:
    drifted = diff_all_schemas(args.root)
    if not drifted:
        print(f"{len(render_all_schemas())} schemas in {_DIRS} match the models")
        return 0
    expected = render_all_schemas()
    for rel in drifted:
        kind = (
            "extra"
            if rel not in expected
            else "drifted"
            if (args.root / rel).exists()
            else "missing"
        )
        print(f"{kind}: {rel}", file=sys.stderr)
    print(
        "schemas are out of date: run `fp schemas generate` and commit the result", file=sys.stderr
    )
    return 1
