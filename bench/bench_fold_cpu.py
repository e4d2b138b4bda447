"""Hot-path CPU per trigger (issue #13): the real ``HotPath.offer`` over a run's seq log, every
trigger decided (nothing pre-decided), then the emit encoding stage 2 does
(``canonical_dumps(record.model_dump(mode="json"))``). In-process: no broker, no faust.
Prints numbers, never asserts.

Input: bench/bench_takeover.py's cached seq file (a generated world framed as WSP frames it,
with IG's traffic positions and watermark records), capped at ``--records`` records.

Two passes over the same records, each with a fresh ``HotPath``:

1. *plain*: nothing instrumented; gives the total CPU per trigger (``time.process_time``) and
   the decision digest, sha256 over the encoded decisions in order: any change to any output
   byte changes it.
2. *split*: the same, with the stages wrapped by process-time accumulators (their own overhead
   inflates this pass; its "other" line is the rest of ``offer``: watermark records, the
   engine's glue, and the accumulators themselves).

Run: ``python -m bench.bench_fold_cpu [--scale medium] [--days 7] [--records 60000]
[--rounds 3] [--profile out.prof]`` (the seq file is built on first use, see bench_takeover).
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import itertools
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import app.df.decide as df_decide
import app.hotpath.engine as engine
from app.df.decide import decide
from app.df.intents import intents_for
from app.hotpath.engine import DecisionContext, HotPath
from app.hotpath.sequencer import RunSequencer
from app.hotpath.shard import Shard
from app.hotpath.traffic import parse_traffic
from app.profiles.loader import load_profile
from app.rails.decision import DecisionRecord, encode_decision
from app.rails.receipts import EbRef
from bench.bench_takeover import SEED, TRAFFIC, _context, read_seq, seq_file
from bench.common import run_facts

__all__ = ["main"]

Record = tuple[bool, EbRef, bytes]  # (watermark?, where on the traffic log, value)

STAGES = ("parse", "sequence", "fold/apply", "snapshot", "decide", "record build",
          "dump+encode")


def load_records(path: Path, limit: int) -> tuple[dict[str, Any], list[Record]]:
    """The first ``limit`` records of the seq file, with their traffic positions."""
    head, lines = read_seq(path)
    out: list[Record] = []
    for kind, src, value in itertools.islice(lines, limit):
        p, o = src.split(b":")
        out.append((kind == b"W", EbRef(topic=TRAFFIC, partition=int(p), offset=int(o)), value))
    lines.close()  # type: ignore[attr-defined]  # a generator: closes the file
    return head, out


def _any_run(run_id: str) -> bool:
    return True


def run_pass(records: list[Record], ctx: DecisionContext,
             encode: Callable[[Any], bytes] | None = None) -> tuple[float, int, str]:
    """Fold and decide every record, encode every decision (with ``encode``, default the
    agent's): (CPU seconds, decisions, digest)."""
    profile = load_profile("local")
    hot = HotPath(profile.policy.decision, profile.policy_rev)
    digest = hashlib.sha256()
    decisions = 0
    started = time.process_time()
    for is_mark, ref, value in records:
        for result in hot.offer(value, ref, ctx, run_known=_any_run, watermark=is_mark):
            record = result.decision
            if record is not None:
                body = (encode or _encode)(record)
                digest.update(body)
                digest.update(b"\n")
                decisions += 1
            elif result.anomaly is not None:
                raise SystemExit(f"unexpected anomaly: {result.anomaly}")
    return time.process_time() - started, decisions, digest.hexdigest()


def _encode(record: DecisionRecord) -> bytes:
    """What ``app.agents.hot_path._Stage._emit`` puts on rtdl for a decision (the same bytes
    as ``canonical_dumps(record.model_dump(mode="json"))``, the digest shows it)."""
    return encode_decision(record)


class _Split:
    """Process-time accumulators wrapped around the stages (nested ones subtract out)."""

    def __init__(self) -> None:
        self.totals = dict.fromkeys(STAGES, 0.0)
        self._stack: list[float] = []  # child time accumulated per open frame

    def timed(self, stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        totals, stack, clock = self.totals, self._stack, time.process_time

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            stack.append(0.0)
            t0 = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                spent = clock() - t0
                children = stack.pop()
                totals[stage] += spent - children
                if stack:
                    stack[-1] += spent

        return wrapper


@contextmanager
def instrumented(split: _Split) -> Iterator[Callable[[Any], bytes]]:
    """Wrap the stages where the engine and DF look them up; restore them afterwards."""
    patches: list[tuple[Any, str, Any]] = [
        (engine, "parse_traffic", split.timed("parse", parse_traffic)),
        (RunSequencer, "offer_event", split.timed("sequence", RunSequencer.offer_event)),
        (RunSequencer, "offer_watermark", split.timed("sequence", RunSequencer.offer_watermark)),
        (Shard, "apply", split.timed("fold/apply", Shard.apply)),
        (Shard, "snapshot", split.timed("snapshot", Shard.snapshot)),
        (engine, "decide", split.timed("decide", decide)),
        (df_decide, "DecisionRecord", split.timed("record build", DecisionRecord)),
        (df_decide, "intents_for", split.timed("record build", intents_for)),
    ]
    saved = [(obj, name, getattr(obj, name)) for obj, name, _ in patches]
    for obj, name, new in patches:
        setattr(obj, name, new)
    try:
        yield split.timed("dump+encode", _encode)
    finally:
        for obj, name, old in saved:
            setattr(obj, name, old)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--days", type=int, default=7, help="of the cached world (7: the "
                        "takeover bench's cache; the cap makes the length irrelevant)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--records", type=int, default=60_000, help="first N seq records")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", help="also write a cProfile of one plain pass here")
    args = parser.parse_args(argv)
    print(f"hot-path fold CPU  scale={args.scale} days={args.days} seed={args.seed} "
          f"records<={args.records:,}  {run_facts()}")
    head, records = load_records(seq_file(args.scale, args.days, args.seed), args.records)
    ctx = _context()
    marks = sum(r[0] for r in records)
    print(f"  {len(records):,} seq records ({marks:,} watermark records) of run "
          f"{head['run_id']}; posture {ctx.posture}")
    run_pass(records[: min(len(records), 5_000)], ctx)  # warm up (imports, caches)
    plain = [run_pass(records, ctx) for _ in range(args.rounds)]
    decisions, digests = plain[0][1], {p[2] for p in plain}
    per = [p[0] / decisions * 1e6 for p in plain]
    print(f"  decisions {decisions:,}; digest {plain[0][2]}"
          f"{'' if len(digests) == 1 else '  (ROUNDS DIFFER: ' + str(sorted(digests)) + ')'}")
    print(f"  total CPU per trigger (plain): median {statistics.median(per):,.1f} us "
          f"(min {min(per):,.1f} max {max(per):,.1f}, rounds={len(per)}); "
          f"{decisions / statistics.median(p[0] for p in plain):,.0f} decisions/CPU-s")
    split = _Split()
    with instrumented(split) as timed_encode:
        spent, n, digest = run_pass(records, ctx, timed_encode)
    if digest != plain[0][2] or n != decisions:
        print("  split pass DIFFERS from the plain pass (digest or count)")
    print(f"  split (one instrumented pass, {spent / n * 1e6:,.1f} us per trigger in all):")
    for stage in STAGES:
        print(f"    {stage:<14} {split.totals[stage] / n * 1e6:8.1f} us")
    other = spent - sum(split.totals.values())
    print(f"    {'other':<14} {other / n * 1e6:8.1f} us  (watermark parse, engine glue, "
          "accumulators)")
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        run_pass(records, ctx)
        prof.disable()
        prof.dump_stats(args.profile)
        print(f"  cProfile of one plain pass -> {args.profile}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
