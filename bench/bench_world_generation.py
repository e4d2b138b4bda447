"""World generation throughput: authorisations/s and rows/s for the small and medium worlds.

Target (issue #3): medium (~1M authorisations over 7 days) in under 60 s on the 2-core box.
Each scale runs one warm-up and then ``--rounds`` timed rounds into a temporary oracle root
(removed afterwards); it prints median and spread of wall seconds, authorisations/s and all
rows/s (every output, reference included), with the seed, commit and Python version. Numbers are
printed, never asserted. Run: ``python -m bench.bench_world_generation [--rounds N]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.common import run_facts, summarize
from world_engine import WorldParams, generate_world

__all__ = ["main"]

SEED = 20_250_303


def _one_round(scale: str, root: Path, seed: int) -> tuple[float, int, int]:
    started = time.perf_counter()
    locator = generate_world(WorldParams(scale=scale), seed, root)  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    auths = locator.row_counts["auth_request"]
    total = sum(locator.row_counts.values())
    shutil.rmtree(root)
    return seconds, auths, total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=["small", "medium"])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"world generation  seed={SEED}  {run_facts()}")
    with tempfile.TemporaryDirectory(prefix="fp-bench-world-") as tmp:
        for scale in args.scales:
            _one_round(scale, Path(tmp) / "warmup", SEED)
            seconds, auth_rate, row_rate = [], [], []
            auths = total = 0
            for r in range(args.rounds):
                s, auths, total = _one_round(scale, Path(tmp) / f"round{r}", SEED)
                seconds.append(s)
                auth_rate.append(auths / s)
                row_rate.append(total / s)
            print(f"{scale:>6}: {auths:,} auths, {total:,} rows in all outputs")
            print(
                f"        seconds      median={statistics.median(seconds):.2f} "
                f"min={min(seconds):.2f} max={max(seconds):.2f}"
            )
            print(f"        auths/s      {summarize(auth_rate)}")
            print(f"        rows/s       {summarize(row_rate)}")
            if scale == "medium":
                verdict = "meets" if statistics.median(seconds) < 60 else "MISSES"
                print(f"        target: medium < 60 s -> {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
