"""``fp hotpath replay`` (re-decide the traffic log, compare digests) and ``fp hotpath verify``."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from app.conformance.decision_coverage import check_decision_coverage
from app.eb.read_back import read_topic
from app.eb.topics import Topic, topic_name
from app.hotpath.replay import decision_stream, replay_profile, stream_digest
from app.profiles.loader import load_profile
from app.rails.posture import Posture
from app.rails.watermark import is_watermark_record
from app.runtime.bus_address import bootstrap_servers

__all__ = ["register"]


def _replay(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    posture = Posture(args.posture)
    result = asyncio.run(replay_profile(profile, group_id=args.group, posture=posture))
    rtdl = topic_name(Topic.RTDL, profile.wiring.worker.topic_prefix)
    records = asyncio.run(read_topic(bootstrap_servers(profile)[0], rtdl,
                                     profile.wiring.worker.partitions))
    emitted = decision_stream(r.value for r in records if r.value)
    replayed, original = stream_digest(result.decisions), stream_digest(emitted)
    if args.out:
        Path(args.out).write_bytes(b"\n".join(result.decisions) + b"\n")
    print(f"replayed {result.events} traffic records in group {args.group}: "
          f"{len(result.decisions)} decisions, {result.anomalies} anomalies")
    print(f"replay digest  {replayed}\nemitted digest {original} ({len(emitted)} decisions)")
    same = replayed == original
    print("IDENTICAL" if same else "DIFFERENT (was the posture pinned to the same value?)")
    return 0 if same else 1


def _verify(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    prefix, partitions = profile.wiring.worker.topic_prefix, profile.wiring.worker.partitions
    bootstrap = bootstrap_servers(profile)[0]

    def values(topic: Topic) -> list[bytes]:
        records = asyncio.run(read_topic(bootstrap, topic_name(topic, prefix), partitions))
        # IG's watermark records (issue #12) are not events (coverage also skips them by value)
        return [r.value for r in records if r.value is not None
                and not is_watermark_record(r.headers)]

    coverage = check_decision_coverage(values(Topic.TRAFFIC), values(Topic.RTDL),
                                       run_id=args.run_id,
                                       trigger_types=profile.policy.decision.triggers)
    print("\n".join(coverage.lines()))
    return 0 if coverage.ok else 1


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]  # argparse
    parser = sub.add_parser("hotpath", help="hot-path tools (replay determinism)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    text = ("re-decide the whole traffic log in a fresh consumer group with a pinned posture and "
            "compare the digest with the decisions on fp.bus.rtdl.v1")
    replay = actions.add_parser("replay", help=text, description=text)
    replay.add_argument("--group", required=True, help="a NEW consumer group id")
    replay.add_argument("--posture", default="NORMAL", choices=[p.value for p in Posture])
    replay.add_argument("--out", help="also write the replayed decisions here (NDJSON)")
    replay.set_defaults(func=_replay)
    text = ("check from the bus alone that every admitted trigger (policy.decision.triggers) has "
            "exactly one decision and nothing else has one")
    verify = actions.add_parser("verify", help=text, description=text)
    verify.add_argument("--run-id", help="only this run (default: every run on the topics)")
    verify.set_defaults(func=_verify)
