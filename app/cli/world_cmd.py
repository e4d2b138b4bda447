"""``fp world``: generate or import a world pack, or show a sealed pack's manifest.

``generate`` runs the stand-in world engine (``world_engine``, a black box outside ``app/``)
and prints the locator, ``manifest_fingerprint``, ``parameter_hash`` and row counts, with
progress on stderr. ``import`` seals an external CSV/Parquet transaction table as a world pack
under a MAP.yaml column mapping (``world_engine.importer``) and prints the same identity plus the
rows read, fraud rows and bad rows. ``show`` prints the manifest summary of a sealed pack. Bad
input (unknown scale, days <= 0, malformed date) is an argparse error; a pack already at the
target is a ``WorldPackExistsError`` and a bad mapping, input or (under ``refuse``) bad rows are
importer errors (exit 2), and nothing is half-written either way.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from typing import Any

from app.rails.canonical_json import canonical_dumps
from world_engine import SCALES, WorldLocator, generate_world, parse_params
from world_engine.pack_reader import read_sealed_manifest

__all__ = ["register"]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _date(text: str) -> dt.date:
    try:
        if len(text) != 10:
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from None


def _add_pack_target_args(parser: argparse.ArgumentParser) -> None:
    """Where a new pack goes and how the result prints (shared by generate and import)."""
    parser.add_argument("--scenario", default="baseline", help="scenario_id (default: baseline)")
    parser.add_argument(
        "--oracle-root",
        default=None,
        help="Oracle Store root folder (default: the profile's wiring.oracle_root)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")


def register(subparsers: Any) -> None:
    """Add ``fp world {generate,import,show}``; each sub-parser sets ``func(args) -> int``."""
    parser = subparsers.add_parser(
        "world", help="generate or import a world pack, or show a sealed pack's manifest"
    )
    actions = parser.add_subparsers(dest="world_command", metavar="ACTION")
    actions.required = True

    text = "generate a deterministic synthetic bank world and seal it as a world pack"
    gen = actions.add_parser("generate", help=text, description=text)
    gen.add_argument("--seed", type=_seed, required=True, help="integer >= 0")
    gen.add_argument(
        "--scale",
        choices=list(SCALES),
        default="small",
        help="size of the bank: tiny ~5k, small ~50k, medium ~1M, large ~10M auths per 7 days "
        "(default: small)",
    )
    gen.add_argument("--days", type=_positive_int, default=7, help="days of authorisations")
    gen.add_argument("--start-date", type=_date, default=None, help="first UTC day, YYYY-MM-DD")
    gen.add_argument(
        "--fraud-rate", type=float, default=None, help="fraud+abuse share, 0.005..0.03"
    )
    _add_pack_target_args(gen)
    gen.set_defaults(func=_generate)

    text = "seal an external CSV/Parquet transaction table as a world pack (MAP.yaml mapping)"
    imp = actions.add_parser("import", help=text, description=text)
    imp.add_argument("--input", required=True, help="the CSV or Parquet file to import")
    imp.add_argument(
        "--mapping",
        required=True,
        help="MAP.yaml column mapping (e.g. world_engine/importer/mappings/ulb_creditcard.yaml)",
    )
    imp.add_argument("--seed", type=_seed, required=True, help="integer >= 0 (label-feed draws)")
    _add_pack_target_args(imp)
    imp.set_defaults(func=_import)

    text = "print the manifest summary of a sealed world pack"
    show = actions.add_parser("show", help=text, description=text)
    show.add_argument("locator", help="the pack folder printed by `fp world generate`")
    show.add_argument("--json", action="store_true", help="print the manifest as JSON")
    show.set_defaults(func=_show)


def _oracle_root(args: argparse.Namespace) -> str:
    if args.oracle_root:
        return str(args.oracle_root)
    from app.profiles.loader import load_profile

    profile = load_profile(args.profile)
    root = profile.wiring.oracle_root
    return root if "://" in root else str(profile.resolve(root))


def _progress() -> Any:
    started = time.monotonic()
    tty = sys.stderr.isatty()

    def report(stage: str, done: int, total: int) -> None:
        if stage == "day" or done == total:
            line = f"world: {stage} {done}/{total} ({time.monotonic() - started:.1f} s)"
            print(("\r" + line) if tty else line, end="" if tty else "\n", file=sys.stderr)
            if tty and stage == "seal" and done == total:
                print(file=sys.stderr)

    return report


def _generate(args: argparse.Namespace) -> int:
    values: dict[str, Any] = {"scale": args.scale, "days": args.days}
    if args.start_date is not None:
        values["start_date"] = args.start_date
    if args.fraud_rate is not None:
        values["fraud_rate_target"] = args.fraud_rate
    params = parse_params(**values)
    root = _oracle_root(args)
    started = time.monotonic()
    locator = generate_world(params, args.seed, root, args.scenario, progress=_progress())
    _print_locator(locator, time.monotonic() - started, as_json=args.json)
    return 0


def _import(args: argparse.Namespace) -> int:
    from world_engine.importer import import_world, load_mapping

    mapping = load_mapping(args.mapping)
    root = _oracle_root(args)
    started = time.monotonic()
    locator = import_world(args.input, mapping, args.seed, root, args.scenario)
    report = read_sealed_manifest(locator.path)["parameters"]["import_report"]
    _print_locator(
        locator, time.monotonic() - started, as_json=args.json, verb="imported", report=report
    )
    return 0


def _print_locator(
    locator: WorldLocator,
    seconds: float,
    *,
    as_json: bool,
    verb: str = "generated",
    report: dict[str, Any] | None = None,
) -> None:
    summary: dict[str, Any] = {
        "locator": locator.path,
        "seed": locator.seed,
        "parameter_hash": locator.parameter_hash,
        "manifest_fingerprint": locator.manifest_fingerprint,
        "scenario_id": locator.scenario_id,
        "row_counts": locator.row_counts,
    }
    if report is not None:
        summary["import_report"] = report
    if as_json:
        print(canonical_dumps(summary).decode())
        return
    for key in ("locator", "manifest_fingerprint", "parameter_hash", "seed", "scenario_id"):
        print(f"{key}: {summary[key]}")
    if report is not None:
        print(
            f"rows: {report['rows_read']:,} read, {report['rows_imported']:,} imported, "
            f"{report['fraud_rows']:,} fraud, {report['bad_rows']:,} bad"
        )
        for reason, count in report["bad_rows_by_reason"].items():
            print(f"  {reason:<20} {count:>12,}")
    width = max([14, *(len(o) for o in locator.row_counts)])
    print("row_counts:")
    for output_id, count in locator.row_counts.items():
        print(f"  {output_id:<{width}} {count:>12,}")
    print(f"{verb} in {seconds:.1f} s")


def _show(args: argparse.Namespace) -> int:
    manifest = read_sealed_manifest(args.locator)
    if args.json:
        print(canonical_dumps(manifest).decode())
        return 0
    engine, iface = manifest["engine"], manifest["interface_pack"]
    print(f"pack_format: {manifest['pack_format']} (sealed)")
    print(f"engine: {engine['name']} {engine['version']}, interface pack v{iface['version']}")
    for key in ("seed", "scenario_id", "parameter_hash", "manifest_fingerprint"):
        print(f"{key}: {manifest[key]}")
    print(f"parameters: {canonical_dumps(manifest['parameters']).decode()}")
    print("outputs:")
    for out in manifest["outputs"]:
        print(
            f"  {out['output_id']:<14} {out['role']:<17} {out['row_count']:>12,} rows "
            f"{len(out['files']):>4} files"
        )
    print("gates:")
    for gate in manifest["gates"]:
        print(f"  {gate['gate_id']:<16} index sha256 {gate['index_sha256']}")
    return 0
