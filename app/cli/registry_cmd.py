"""``fp registry list | show | put | activate | rollback | shadow | history``: the model bundles
of the profile's object store.

``promote`` activates only on evidence: a passing evaluation of the bundle against the scope's
ACTIVE bundle (``fp learn`` records one), 100 % feature parity, every feature it reads provided
(exit 1 with the refusals otherwise; ``--shadow`` sets the SHADOW, which needs no gate). ``put``
validates a bundle YAML or JSON (every mistake is reported with its field path) and
stores it by digest; a model bundle comes with its LightGBM text model (``--model``), stored by
its own digest first. ``activate``, ``rollback`` and ``shadow`` append to the scope's history
with who (``--actor``, default ``$USER``) and why (``--reason``); ``history`` prints it. ``list``
marks the ACTIVE and SHADOW bundle of each scope; ``show`` prints a bundle as readable YAML. A
REF is a digest (``sha256:`` optional), its first 8+ hex characters, or ``BUNDLE_ID@VERSION``.
Errors print one line and exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import yaml

from app.learning.promotion import GateInputs, PromotionEvaluation, Refusal, lines, refusals
from app.objectstore.config import open_object_store
from app.ofp.registry import REGISTRY
from app.profiles.loader import load_profile
from app.rails.bundle import BundleInvalidError, ModelBundle, ScorecardBundle, parse_bundle_yaml
from app.rails.canonical_json import canonical_dumps
from app.rails.decision import BundleRef
from app.rails.errors import FraudPlatformError
from app.rails.promotion import PromotionEvidence
from app.rails.timefmt import format_ts
from app.registry.evaluations import evidence_of
from app.registry.resolver import bootstrap_pair, missing_features
from app.registry.store import Activation, HistoryEntry, RegistryStore, ShadowChange

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


def _actor(text: str) -> str:
    if not text.strip() or len(text) > 200:
        raise argparse.ArgumentTypeError("give an actor of 1 to 200 characters")
    return text


def _default_actor() -> str:
    return os.environ.get("USER") or "unknown"


def _now() -> str:
    return format_ts(datetime.now(UTC))  # apply clock: when the change is recorded


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
    return str(yaml.safe_dump(value, default_flow_style=True, sort_keys=False,
                              width=1 << 20)).strip()


def _bundle_yaml(bundle: ScorecardBundle | ModelBundle) -> str:
    """The bundle as YAML a person reads (and ``fp registry put`` accepts back): one rule a line."""
    body = bundle.model_dump(mode="json")
    if isinstance(bundle, ModelBundle):
        return str(yaml.safe_dump(body, sort_keys=False, width=100))
    lines = [yaml.safe_dump({key: body[key]}, sort_keys=False, width=100).rstrip()
             for key in ("bundle_id", "version", "scope", "kind", "description")]
    lines.append(f"bands: {_flow(body['bands'])}")
    lines.append("features:")
    lines.extend(f"  - {name}" for name in body["features"])
    lines.append("rules:")
    order = ("name", "feature", "op", "value", "points", "reason_code")  # as analysts write it
    lines.extend(f"  - {_flow({key: rule[key] for key in order})}" for rule in body["rules"])
    return "\n".join(lines) + "\n"


def _list(args: argparse.Namespace) -> int:
    async def work(registry: RegistryStore) -> list[str]:
        refs = await registry.list_bundles()
        active = await _active_digests(registry, refs)
        shadows = {}
        for scope in sorted({r.scope for r in refs}):
            change = await registry.latest_shadow_change(scope)
            if change is not None and change.digest is not None:
                shadows[scope] = change.digest.hex
        lines = []
        for ref in refs:
            here = active.get(ref.scope)
            mark = "ACTIVE" if here is not None and here[0] == ref.digest.hex else (
                "SHADOW" if shadows.get(ref.scope) == ref.digest.hex else "-")
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
    at_utc = _now()

    async def work(registry: RegistryStore) -> tuple[BundleRef, Activation]:
        ref = await registry.resolve_ref(args.ref)
        activation = await registry.activate(args.scope, ref.digest.hex, at_utc=at_utc,
                                             reason=args.reason, actor=args.actor)
        return ref, activation

    ref, activation = _with_registry(args, work)
    previous = f"sha256:{activation.previous.hex[:16]}" if activation.previous else "none"
    print(f"activated {_label(ref)} sha256:{ref.digest.hex} in scope {activation.scope} "
          f"(activation #{activation.seq}, previous {previous})")
    return 0


def _promote(args: argparse.Namespace) -> int:
    """Activate (or, with ``--shadow``, shadow) a bundle only on passing promotion evidence."""
    at_utc = _now()

    async def work(registry: RegistryStore) -> tuple[BundleRef, list[tuple[str, list[Refusal]]],
                                                      str]:
        ref = await registry.resolve_ref(args.ref)
        if args.shadow:  # a shadow is scored and recorded, never acted on: no gate
            change = await registry.set_shadow(args.scope, ref.digest.hex, at_utc=at_utc,
                                               reason=args.reason, actor=args.actor)
            return ref, [], f"shadow in scope {change.scope} (history #{change.seq})"
        active, _ = await registry.active(args.scope)
        bundle = await registry.get_bundle(ref)
        found = await evidence_of(registry.object_store, ref.digest.hex)
        inputs = [GateInputs(ref.digest.hex, active.digest.hex, _gate_evaluation(e),
                             missing_features(bundle, REGISTRY.names),
                             e.parity.share if e.parity.decisions else None) for e in found]
        verdicts = [(f"on dataset {e.dataset_id[:12]}", refusals(i))
                    for e, i in zip(found, inputs, strict=True)] or [("", refusals(GateInputs(
                        ref.digest.hex, active.digest.hex, None,
                        missing_features(bundle, REGISTRY.names), None)))]
        if all(refused for _, refused in verdicts):
            return ref, verdicts, ""
        activation = await registry.activate(args.scope, ref.digest.hex, at_utc=at_utc,
                                             reason=args.reason, actor=args.actor,
                                             action="promote")
        previous = activation.previous.hex[:16] if activation.previous else "none"
        return ref, [], (f"ACTIVE in scope {activation.scope} (activation #{activation.seq}, "
                         f"previous {previous})")

    ref, refused, done = _with_registry(args, work)
    if refused:
        print(f"fp: promotion of {_label(ref)} refused:", file=sys.stderr)
        for where, reasons in refused:
            for line in lines(reasons):
                print(f"  {where + ': ' if where else ''}{line}", file=sys.stderr)
        return 1
    print(f"promoted {_label(ref)} sha256:{ref.digest.hex}: {done}")
    return 0


def _gate_evaluation(evidence: PromotionEvidence) -> PromotionEvaluation:
    return PromotionEvaluation(
        candidate_digest=evidence.candidate.digest.hex,
        incumbent_digest=evidence.incumbent.digest.hex if evidence.incumbent else None,
        dataset_id=evidence.dataset_id, test_rows=evidence.test_rows,
        candidate=evidence.candidate_metrics, incumbent=evidence.incumbent_metrics)


def _rollback(args: argparse.Namespace) -> int:
    at_utc = _now()

    async def work(registry: RegistryStore) -> Activation:
        return await registry.rollback(args.scope, at_utc=at_utc, reason=args.reason,
                                       actor=args.actor)

    activation = _with_registry(args, work)
    print(f"rolled back scope {activation.scope} to {activation.bundle_id}@{activation.version} "
          f"sha256:{activation.digest.hex} (history #{activation.seq})")
    return 0


def _shadow(args: argparse.Namespace) -> int:
    if (args.ref is None) != args.clear:
        raise FraudPlatformError("give a REF to shadow, or --clear (not both)",
                                 reason_code="USAGE")
    at_utc = _now()
    reason = args.reason or ("shadow cleared with fp registry shadow --clear" if args.clear
                             else "shadow set with fp registry shadow")

    async def work(registry: RegistryStore) -> ShadowChange:
        if args.clear:
            return await registry.clear_shadow(args.scope, at_utc=at_utc, reason=reason,
                                               actor=args.actor)
        ref = await registry.resolve_ref(args.ref)
        return await registry.set_shadow(args.scope, ref.digest.hex, at_utc=at_utc,
                                         reason=reason, actor=args.actor)

    change = _with_registry(args, work)
    if change.digest is None:
        print(f"cleared the SHADOW bundle of scope {change.scope} (history #{change.seq})")
    else:
        print(f"SHADOW of scope {change.scope} is {change.bundle_id}@{change.version} "
              f"sha256:{change.digest.hex} (history #{change.seq}); decisions record its score "
              "and never act on it")
    return 0


def _history_line(entry: HistoryEntry) -> str:
    if isinstance(entry, Activation):
        what = f"{entry.action.upper():8s}  {entry.bundle_id}@{entry.version} " \
               f"sha256:{entry.digest.hex[:16]}"
        when = entry.activated_at_utc
    elif entry.digest is None:
        what, when = f"{'UNSHADOW':8s}  -", entry.changed_at_utc
    else:
        what = f"{'SHADOW':8s}  {entry.bundle_id}@{entry.version} sha256:{entry.digest.hex[:16]}"
        when = entry.changed_at_utc
    return f"#{entry.seq:<4d} {when}  {what}  by {entry.actor or '-'}: {entry.reason}"


def _history(args: argparse.Namespace) -> int:
    entries = _with_registry(args, lambda registry: registry.history(args.scope))
    if args.json:
        for entry in entries:
            print(canonical_dumps(entry.model_dump(mode="json")).decode())
        return 0
    if not entries:
        print(f"scope {args.scope}: no history (the bootstrap bundle is ACTIVE if it is for "
              "this scope)")
    for entry in entries:
        print(_history_line(entry))
    return 0


def _put(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BundleInvalidError(str(path), [f"cannot read the file: {exc}"]) from exc
    bundle = parse_bundle_yaml(text, source=str(path))
    model_text: bytes | None = None
    if args.model is not None:
        try:
            model_text = Path(args.model).read_bytes()
        except OSError as exc:
            raise BundleInvalidError(args.model, [f"cannot read the model: {exc}"]) from exc
    if isinstance(bundle, ScorecardBundle) and model_text is not None:
        raise BundleInvalidError(str(path), ["kind: a scorecard takes no --model"])

    async def work(registry: RegistryStore) -> BundleRef:
        if model_text is not None:
            digest = await registry.put_model(model_text)
            if isinstance(bundle, ModelBundle) and digest != bundle.model_digest:
                raise BundleInvalidError(str(path), [
                    f"model_digest: the bundle names sha256:{bundle.model_digest.hex}, the "
                    f"--model file is sha256:{digest.hex}"])
        return await registry.put_bundle(bundle)

    ref = _with_registry(args, work)
    what = (f"{len(bundle.rules)} rules" if isinstance(bundle, ScorecardBundle)
            else f"lightgbm over {len(bundle.features)} features, model "
                 f"sha256:{bundle.model_digest.hex[:16]}")
    print(f"stored {_label(ref)} scope {ref.scope} sha256:{ref.digest.hex} ({what})")
    return 0


def _who_and_why(parser: argparse.ArgumentParser, default_reason: str | None) -> None:
    parser.add_argument("--reason", type=_reason, default=default_reason,
                        help="why, for the governance trail")
    parser.add_argument("--actor", type=_actor, default=_default_actor(),
                        help="who, for the governance trail (default: $USER)")


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
    _who_and_why(activate, "activated with fp registry activate")
    activate.set_defaults(func=_activate)
    promote = actions.add_parser(
        "promote", help="make a bundle ACTIVE only on a passing evaluation against the ACTIVE "
                        "bundle (fp learn), full feature parity and every feature provided; "
                        "--shadow sets it as the SHADOW instead")
    promote.add_argument("ref", help="digest, 8+ hex digest prefix, or BUNDLE_ID@VERSION")
    promote.add_argument("--scope", required=True, help="registry scope, e.g. auth")
    promote.add_argument("--shadow", action="store_true",
                         help="set it as the scope's SHADOW (scored, recorded, never acted on)")
    _who_and_why(promote, "promoted with fp registry promote")
    promote.set_defaults(func=_promote)
    rollback = actions.add_parser(
        "rollback", help="make the bundle the latest activation replaced ACTIVE again")
    rollback.add_argument("--scope", required=True, help="registry scope, e.g. auth")
    _who_and_why(rollback, "rolled back with fp registry rollback")
    rollback.set_defaults(func=_rollback)
    shadow = actions.add_parser(
        "shadow", help="set (or --clear) the scope's SHADOW bundle: scored on every decision, "
                       "recorded, never acted on")
    shadow.add_argument("ref", nargs="?", default=None,
                        help="digest, 8+ hex digest prefix, or BUNDLE_ID@VERSION")
    shadow.add_argument("--clear", action="store_true", help="end the scope's SHADOW")
    shadow.add_argument("--scope", required=True, help="registry scope, e.g. auth")
    _who_and_why(shadow, None)
    shadow.set_defaults(func=_shadow)
    history = actions.add_parser(
        "history", help="every activation, rollback and shadow change of a scope, oldest first")
    history.add_argument("--scope", required=True, help="registry scope, e.g. auth")
    history.add_argument("--json", action="store_true", help="one canonical JSON entry a line")
    history.set_defaults(func=_history)
    put = actions.add_parser("put", help="validate a bundle YAML/JSON and store it by digest")
    put.add_argument("file", metavar="BUNDLE")
    put.add_argument("--model", metavar="MODEL.txt", default=None,
                     help="a lightgbm bundle's LightGBM text model (stored by its digest)")
    put.set_defaults(func=_put)
