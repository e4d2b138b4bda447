"""``fp registry list | show | activate | put``: the model bundles of the profile's object store.

``put`` validates a bundle YAML (every mistake is reported with its field path) and stores it by
digest; ``activate`` appends to the scope's activation log; ``list`` marks the ACTIVE bundle of
each scope; ``show`` prints a bundle as readable YAML. A REF is a digest (``sha256:`` optional),
its first 8+ hex characters, or ``BUNDLE_ID@VERSION``. Errors print one line and exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import yaml

from app.objectstore.config import open_object_store
from app.profiles.loader import load_profile
from app.rails.bundle import BundleInvalidError, ScorecardBundle, parse_bundle_yaml
from app.rails.decision import BundleRef
from app.rails.timefmt import format_ts
from app.registry.resolver import bootstrap_pair
from app.registry.store import Activation, RegistryStore

__all__ = ["register"]

_T = TypeVar("_T")


def _with_registry(args: argparse.Namespace, work: Callable[[RegistryStore], Awaitable[_T]]) -> _T:
    profile = load_profile(args.profile)

    async def run() -> _T:
        async with open_object_store(profile.wiring.object_store,
                                     base_dir=profile.base_dir) as store:
            return await work(RegistryStore(store))

    return asyncio.run(run())


def _reason(text: str) -> str:
    if not text.strip() or len(text) > 1000:
        raise argparse.ArgumentTypeError("give a reason of 1 to 1000 characters")
    return text


def _label(ref: BundleRef) -> str:
    return f"{ref.bundle_id}@{ref.version}"


async def _active_digests(registry: RegistryStore, refs: list[BundleRef]
                          ) -> dict[str, tuple[str, Activation | None]]:
    """scope -> (ACTIVE digest hex, its activation), without writing anything."""
    out: dict[str, tuple[str, Activation | None]] = {}
    boot = bootstrap_pair()[0]
    for scope in sorted({r.scope for r in refs}):
        activation = await registry.latest_activation(scope)
        if activation is not None:
            out[scope] = (activation.digest.hex, activation)
        elif scope == boot.scope:
            out[scope] = (boot.digest.hex, None)
    return out


def _flow(value: object) -> str:
    return yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=1 << 20).strip()


def _bundle_yaml(bundle: ScorecardBundle) -> str:
    """The bundle as YAML a person reads (and ``fp registry put`` accepts back): one rule a line."""
    body = bundle.model_dump(mode="json")
    lines = [yaml.safe_dump({key: body[key]}, sort_keys=False, width=100).rstrip()
             for key in ("bundle_id", "version", "scope", "kind", "description")]
    lines.append(f"bands: {_flow(body['bands'])}")
    lines.append("features:")
    lines.extend(f"  - {name}" for name in body["features"])
    lines.append("rules:")
    lines.extend(f"  - {_flow(rule)}" for rule in body["rules"])
    return "\n".join(lines) + "\n"


def _list(args: argparse.Namespace) -> int:
    async def work(registry: RegistryStore) -> list[str]:
        refs = await registry.list_bundles()
        active = await _active_digests(registry, refs)
        lines = []
        for ref in refs:
            here = active.get(ref.scope)
            mark = "ACTIVE" if here is not None and here[0] == ref.digest.hex else "-"
            lines.append(f"{mark:6s}  {ref.scope:8s}  {_label(ref):28s}  "
                         f"sha256:{ref.digest.hex[:16]}")
        return lines

    lines = _with_registry(args, work)
    print(f"{'STATUS':6s}  {'SCOPE':8s}  {'BUNDLE':28s}  DIGEST")
    print("\n".join(lines))
    return 0


def _show(args: argparse.Namespace) -> int:
    async def work(registry: RegistryStore) -> str:
        ref = await registry.resolve_ref(args.ref)
        bundle = await registry.get_bundle(ref)
        activation = await registry.latest_activation(ref.scope)
        if activation is not None:
            status = ("ACTIVE" if activation.digest == ref.digest else "inactive") + (
                f" (latest activation in {ref.scope}: #{activation.seq} "
                f"{activation.bundle_id}@{activation.version} at {activation.activated_at_utc})")
        else:
            status = ("ACTIVE (bootstrap: no activation yet)"
                      if ref == bootstrap_pair()[0] else "inactive")
        body = _bundle_yaml(bundle)
        return (f"# bundle {_label(ref)}  sha256:{ref.digest.hex}\n"
                f"# status in scope {ref.scope}: {status}\n{body}")

    print(_with_registry(args, work), end="")
    return 0


def _activate(args: argparse.Namespace) -> int:
    at_utc = format_ts(datetime.now(UTC))  # apply clock: when the activation is recorded

    async def work(registry: RegistryStore) -> tuple[BundleRef, Activation]:
        ref = await registry.resolve_ref(args.ref)
        activation = await registry.activate(args.scope, ref.digest.hex, at_utc=at_utc,
                                             reason=args.reason)
        return ref, activation

    ref, activation = _with_registry(args, work)
    previous = f"sha256:{activation.previous.hex[:16]}" if activation.previous else "none"
    print(f"activated {_label(ref)} sha256:{ref.digest.hex} in scope {activation.scope} "
          f"(activation #{activation.seq}, previous {previous})")
    return 0


def _put(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BundleInvalidError(str(path), [f"cannot read the file: {exc}"]) from exc
    bundle = parse_bundle_yaml(text, source=str(path))
    ref = _with_registry(args, lambda registry: registry.put_bundle(bundle))
    print(f"stored {_label(ref)} scope {ref.scope} sha256:{ref.digest.hex} "
          f"({len(bundle.rules)} rules)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]  # argparse
    parser = sub.add_parser(
        "registry", help="model bundles: list, show, store, activate",
        description="Model bundles in the profile's object store. REF is a sha256 digest, its "
                    "first 8+ hex characters, or BUNDLE_ID@VERSION.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="every bundle, ACTIVE marked per scope").set_defaults(
        func=_list)
    show = actions.add_parser("show", help="print one bundle as YAML")
    show.add_argument("ref", help="digest, 8+ hex digest prefix, or BUNDLE_ID@VERSION")
    show.set_defaults(func=_show)
    activate = actions.add_parser("activate", help="make a stored bundle ACTIVE in its scope")
    activate.add_argument("ref", help="digest, 8+ hex digest prefix, or BUNDLE_ID@VERSION")
    activate.add_argument("--scope", required=True, help="registry scope, e.g. auth")
    activate.add_argument("--reason", type=_reason, default="activated with fp registry activate",
                          help="why, for the governance trail")
    activate.set_defaults(func=_activate)
    put = actions.add_parser("put", help="validate a bundle YAML and store it by digest")
    put.add_argument("file", metavar="FILE.yaml")
    put.set_defaults(func=_put)
