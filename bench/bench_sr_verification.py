"""SR gate verification throughput: MB/s of pack bytes re-hashed and checked, small and medium.

Generates each world once (untimed), then times ``verify_pack`` (every gate, every file) over
several rounds. The page cache is warm after the first round: numbers are hashing + parsing
throughput, not disk throughput.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from app.oracle.locator import parse_locator
from app.oracle.pack_reader import open_pack
from app.sr.pack_verifier import verify_pack
from app.sr.run_request import RunRequest
from bench.common import run_facts, summarize
from world_engine import WorldParams, generate_world

SEED = 20250303
ROUNDS = 3


async def _verify(path: str) -> tuple[float, int]:
    locator = parse_locator(path)
    request = RunRequest(world_locator=path, scenario_id=locator.scenario_id)
    t0 = time.perf_counter()
    async with open_pack(locator) as reader:
        verdict = await verify_pack(reader, locator, request)
    elapsed = time.perf_counter() - t0
    assert verdict.passed, verdict.reason_code
    return elapsed, sum(g.bytes_verified for g in verdict.gates)


def main() -> None:
    print(f"# bench_sr_verification seed={SEED} rounds={ROUNDS} {run_facts()}")
    for scale in ("small", "medium"):
        with tempfile.TemporaryDirectory(prefix="fp-bench-sr-") as tmp:
            locator = generate_world(WorldParams(scale=scale), SEED, Path(tmp))
            rates, size = [], 0
            for _ in range(ROUNDS):
                elapsed, size = asyncio.run(_verify(locator.path))
                rates.append(size / elapsed / 1e6)
            files = sum(1 for _ in Path(locator.path).rglob("*.parquet"))
            print(f"{scale}: {size / 1e6:.1f} MB in {files} parquet files; "
                  f"verify MB/s {summarize(rates)}")


if __name__ == "__main__":
    main()
