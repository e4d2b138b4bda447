"""Calibrate a scorecard bundle on exact features against a generated world's truth (issue #12).

Prints numbers, never asserts. Method:

1. Generate a world with the real engine (``world_engine.generate_world``), or reuse it from
   ``--world-cache`` (one folder per seed/days/scale/fraud rate; ``.cache/`` is git-ignored).
2. Frame its traffic rows exactly as WSP does (SR's verified view, ``plan_rows``, ``frame``) and
   offer them, with IG's watermark after each event-time step, to the REAL pure hot path
   (``HotPath`` through ``tests.unit.hotpath.feed.TrafficFeed``) on one traffic partition, posture
   NORMAL, scored with the first ``--bundle``. One partition is exact: any partition count gives
   the same decisions (the run fold is partition-independent), so this is what a deployment
   decides. Each trigger's feature values are cached (keyed by the feature registry's digest),
   so later runs skip this step.
3. Re-score every ``--bundle`` cheaply from the cached values (``score`` + the profile's policy
   guardrails, the same precedence as ``app.df.decide`` under NORMAL on a complete snapshot).
   The first bundle's re-scored outcomes are checked against the hot path's real decisions, so
   the shortcut cannot drift from DF unnoticed.
4. Join the outcomes to the world's truth (``load_truth`` + ``evaluate``, as ``fp eval
   decisions`` does) and print ``render_table``, the README's markdown table, and (``--explain``)
   how often each rule and guardrail fires per truth subtype.

Usage::

    .venv/bin/python -m bench.calibrate_scorecard --seed 11 --days 7 \\
        --bundle app/registry/bootstrap_scorecard.yaml --bundle /tmp/candidate.yaml --explain
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from app.df.guardrails import evaluate_guardrails
from app.df.policy import Guardrail
from app.evaluation.render import render_table
from app.evaluation.scorecard_report import Evaluation, evaluate
from app.evaluation.truth import TruthRow, load_truth
from app.hotpath.engine import DecisionContext, HotPath
from app.ofp import REGISTRY
from app.oracle.locator import parse_locator
from app.oracle.pack_reader import open_pack
from app.profiles.loader import Profile, load_profile
from app.rails.bundle import ScorecardBundle, bundle_ref, parse_bundle_yaml
from app.rails.decision import DecisionOutcome, FeatureValue
from app.rails.envelope import dump_envelope
from app.rails.posture import Posture
from app.rails.timefmt import ts_to_epoch_micros
from app.registry.resolver import Resolution
from app.registry.scorecard import score
from app.wsp.framing import frame
from app.wsp.merge import plan_rows
from app.wsp.stream_plan import plan_for
from tests.unit.hotpath.feed import TrafficFeed
from tests.unit.wsp.conftest import build_view, collect
from world_engine import WorldParams, generate_world

DEFAULT_BUNDLE = Path("app/registry/bootstrap_scorecard.yaml")
NOT_STREAMED_TO_TRAFFIC = frozenset({"label_event"})  # labels go to their own topic
SUBTYPE_TITLE = {"card_testing": "card testing", "card_testing_cashout": "card-testing cash-out",
                 "account_takeover": "account takeover", "merchant_collusion": "merchant collusion",
                 "mule_activity": "mule activity", "refund_abuse": "refund abuse (abuse)"}
README_ORDER = ("card_testing", "card_testing_cashout", "account_takeover", "merchant_collusion",
                "mule_activity", "refund_abuse")


@dataclass(frozen=True, slots=True)
class Trigger:
    """One decided authorisation: what re-scoring needs, and what the hot path decided."""

    decision_id: str
    flow_id: str
    values: dict[str, FeatureValue]
    outcome: str  # the hot path's outcome under the bundle of the snapshot pass


@dataclass(frozen=True, slots=True)
class World:
    pack: Path
    run_id: str
    triggers: list[Trigger]
    truth: dict[str, TruthRow]
    scored_with: str  # digest hex of the bundle the hot path decided with


def world_pack(cache: Path, seed: int, days: int, scale: str, fraud_rate: float) -> Path:
    """The sealed pack for these parameters under ``cache`` (generated on first use)."""
    root = cache / f"{scale}-s{seed}-d{days}-r{fraud_rate}"
    found = sorted(root.glob("**/_SEALED.json"))
    if not found:
        print(f"generating world {root.name} ...", file=sys.stderr)
        params = WorldParams(scale=scale, days=days,  # type: ignore[arg-type]  # validated
                             fraud_rate_target=fraud_rate)
        generate_world(params, seed, root)
        found = sorted(root.glob("**/_SEALED.json"))
    return found[0].parent


def load_bundle(path: Path) -> ScorecardBundle:
    return parse_bundle_yaml(path.read_text(encoding="utf-8"), source=str(path))


def decide_world(pack: Path, profile: Profile, bundle: ScorecardBundle
                 ) -> tuple[str, list[Trigger]]:
    """(run_id, every trigger) decided by the real hot path over the pack's framed traffic."""
    view = build_view(pack)
    plan = plan_for(view)
    rows = asyncio.run(collect(plan_rows(open_pack(parse_locator(str(pack))), plan)))
    ctx = DecisionContext(posture=Posture.NORMAL, posture_reasons=(), resolution=Resolution(
        bundle=bundle, ref=bundle_ref(bundle), reason_codes=()))
    hot = HotPath(profile.policy.decision, profile.policy_rev)
    feed = TrafficFeed(hot, view.run_id, run_known=lambda run: run == view.run_id)
    triggers: list[Trigger] = []
    late = 0

    def take(results: Sequence[Any]) -> None:
        nonlocal late
        for result in results:
            record = result.decision
            if record is None:
                continue
            late += result.late
            triggers.append(Trigger(record.decision_id, record.intents[0].subject["flow_id"],
                                    dict(record.snapshot.values), record.outcome.value))

    last_ts: int | None = None
    for row in rows:
        envelope = frame(row, plan.output(row.output_id), plan, now_micros=lambda: 0)
        if envelope.event_type in NOT_STREAMED_TO_TRAFFIC:
            continue
        ts = ts_to_epoch_micros(envelope.ts_utc)
        if last_ts is not None and ts > last_ts:
            take(feed.watermark(last_ts, ctx))  # WSP's progress: every event up to last_ts
        last_ts = ts
        take(feed.event(dump_envelope(envelope), ctx))
    take(feed.final(ctx))
    if late:
        raise SystemExit(f"{late} triggers were late: the feed is not in event-time order")
    return view.run_id, triggers


def load_world(args: argparse.Namespace, profile: Profile, first: ScorecardBundle) -> World:
    """The world, its truth and every trigger's feature values (cached per registry digest)."""
    pack = world_pack(args.world_cache, args.seed, args.days, args.scale, args.fraud_rate)
    ref = bundle_ref(first)
    cache = pack.parent / f"triggers-{REGISTRY.digest[:16]}.jsonl"
    truth = asyncio.run(load_truth(str(pack)))
    if cache.exists() and not args.fresh:
        lines = cache.read_bytes().splitlines()
        head = orjson.loads(lines[0])
        triggers = [Trigger(t["d"], t["f"], t["v"], t["o"]) for t in map(orjson.loads, lines[1:])]
        return World(pack, head["run_id"], triggers, truth, head["bundle"])
    print(f"deciding {pack} with the hot path ...", file=sys.stderr)
    run_id, triggers = decide_world(pack, profile, first)
    out = [orjson.dumps({"run_id": run_id, "bundle": ref.digest.hex})]
    out += [orjson.dumps({"d": t.decision_id, "f": t.flow_id, "v": t.values, "o": t.outcome})
            for t in triggers]
    cache.write_bytes(b"\n".join(out) + b"\n")
    return World(pack, run_id, triggers, truth, ref.digest.hex)


def outcome_of(bundle: ScorecardBundle, guardrails: Sequence[Guardrail],
               values: Mapping[str, FeatureValue]) -> tuple[DecisionOutcome, int]:
    """DF's outcome under NORMAL on a complete snapshot: the stricter of band and guardrails."""
    result = score(bundle, values)
    band = DecisionOutcome(result.outcome_band)
    guard, _ = evaluate_guardrails(guardrails, values)
    return (band if band.friction >= guard.friction else guard), result.score


def rescore(world: World, bundle: ScorecardBundle, guardrails: Sequence[Guardrail]
            ) -> Evaluation:
    """The scorecard of ``bundle`` on the world (decision dicts shaped as on rtdl)."""
    decisions = []
    for t in world.triggers:
        outcome, total = outcome_of(bundle, guardrails, t.values)
        decisions.append({"decision_id": t.decision_id, "outcome": outcome.value,
                          "pins": {"run_id": world.run_id}, "posture": Posture.NORMAL.value,
                          "score": float(total), "intents": [{"subject": {"flow_id": t.flow_id}}]})
    return evaluate(decisions, world.truth, run_id=world.run_id)


def check_against_hot_path(world: World, bundle: ScorecardBundle,
                           guardrails: Sequence[Guardrail]) -> None:
    """The re-scored outcomes of the snapshot pass's bundle must equal the real decisions."""
    if bundle_ref(bundle).digest.hex != world.scored_with:
        return
    wrong = sum(outcome_of(bundle, guardrails, t.values)[0].value != t.outcome
                for t in world.triggers)
    if wrong:
        raise SystemExit(f"re-scoring disagrees with the hot path on {wrong} triggers")
    print(f"re-scoring equals the hot path's {len(world.triggers)} decisions", file=sys.stderr)


def _pct(x: float | None, places: int = 1) -> str:
    return "-" if x is None else f"{100 * x:.{places}f} %"


def readme_table(e: Evaluation) -> str:
    """The README's markdown table (decided flows per subtype; legit friction and declines)."""
    out = ["| truth | flows | caught (any friction) | step-up | review | decline | recall |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    by = {c.subtype: c for c in e.campaigns}
    for sub in [*README_ORDER, *sorted(set(by) - set(README_ORDER))]:
        c = by.get(sub)
        if c is not None:
            out.append(f"| {SUBTYPE_TITLE.get(sub, sub)} | {c.decided:,} | {c.caught:,} | "
                       f"{c.stepped_up:,} | {c.reviewed:,} | {c.declined:,} | {_pct(c.recall)} |")
    lg = e.legit
    out.append(f"| **legitimate** | {lg.decided:,} | **{lg.friction:,} friction "
               f"({_pct(lg.friction_share)})** | | | {lg.declined:,} declined "
               f"({_pct(lg.decline_share, 2)}) | |")
    fraud = [c for c in e.campaigns if c.subtype != "refund_abuse"]
    caught, decided = sum(c.caught for c in fraud), sum(c.decided for c in fraud)
    out.append("")
    out.append(f"Fraud (without refund abuse) caught: {caught:,} of {decided:,} "
               f"({_pct(caught / decided if decided else None)}); "
               f"{_pct(e.precision)} of the friction lands on fraud or abuse.")
    return "\n".join(out) + "\n"


def explain(world: World, bundle: ScorecardBundle, guardrails: Sequence[Guardrail]) -> str:
    """How often each rule and guardrail fires, per truth subtype (legit first)."""
    groups: Counter[str] = Counter()
    fired: Counter[tuple[str, str]] = Counter()
    for t in world.triggers:
        row = world.truth.get(t.flow_id)
        group = "legit" if row is None or row.label == "legit" else row.subtype
        groups[group] += 1
        for rule in score(bundle, t.values).fired:
            fired[rule.name, group] += 1
        for code in evaluate_guardrails(guardrails, t.values)[1]:
            fired[f"guardrail:{code}", group] += 1
    cols = ["legit", *[s for s in README_ORDER if s in groups]]
    names = [r.name for r in bundle.rules] + [f"guardrail:{g.reason_code}" for g in guardrails]
    width = max(len(n) for n in names)
    lines = [" " * width + "".join(f"{c[:12]:>14}" for c in cols)]
    lines.append(" " * width + "".join(f"{groups[c]:>14,}" for c in cols))
    for name in names:
        cells = "".join(f"{fired[name, c]:>8,} {100 * fired[name, c] / groups[c]:4.0f}%"
                        for c in cols)
        lines.append(f"{name:<{width}}{cells}")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--scale", default="small")
    parser.add_argument("--fraud-rate", type=float, default=0.015)
    parser.add_argument("--bundle", type=Path, action="append",
                        help=f"scorecard YAML (repeatable; default {DEFAULT_BUNDLE}); the first "
                             "one decides the hot-path pass")
    parser.add_argument("--profile", default="local",
                        help="profile whose policy (guardrails) decides")
    parser.add_argument("--world-cache", type=Path, default=Path(".cache/calibrate"))
    parser.add_argument("--fresh", action="store_true",
                        help="re-run the hot path even if the trigger cache exists")
    parser.add_argument("--explain", action="store_true",
                        help="print rule and guardrail fire counts per truth subtype")
    args = parser.parse_args(argv)
    paths: list[Path] = args.bundle or [DEFAULT_BUNDLE]
    bundles = [load_bundle(p) for p in paths]
    profile = load_profile(args.profile)
    guardrails = profile.policy.decision.guardrails
    world = load_world(args, profile, bundles[0])
    print(f"world {world.pack.relative_to(args.world_cache)}: run {world.run_id}, "
          f"{len(world.triggers):,} authorisations decided; profile {args.profile} "
          f"({len(guardrails)} guardrails); feature registry {REGISTRY.digest[:16]}")
    for path, bundle in zip(paths, bundles, strict=True):
        check_against_hot_path(world, bundle, guardrails)
        evaluation = rescore(world, bundle, guardrails)
        ref = bundle_ref(bundle)
        print(f"\n=== {path} (version {bundle.version}, digest {ref.digest.hex[:12]}) ===")
        print(render_table(evaluation))
        print(readme_table(evaluation))
        if args.explain:
            print(explain(world, bundle, guardrails))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
