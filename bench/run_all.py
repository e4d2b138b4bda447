"""``make bench``: run every ``bench/bench_*.py`` in turn; each prints its own numbers.

The takeover bench defaults to a medium 7-day run (issue #12's done-when figure), which folds
~2 M records several times: ``make bench`` runs it on a small world unless told otherwise
(``make bench BENCH_ARGS="--takeover-scale medium"``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--takeover-scale", default="small",
                        help="world scale of bench_takeover (its own default is medium)")
    parser.add_argument("--takeover-days", type=int, default=7)
    args = parser.parse_args(argv)
    extra = {"bench_takeover.py": ["--scale", args.takeover_scale,
                                   "--days", str(args.takeover_days)]}
    root = Path(__file__).resolve().parent
    failed = []
    for script in sorted(root.glob("bench_*.py")):
        print(f"\n=== {script.name} ===", flush=True)
        module = f"bench.{script.stem}"
        command = [sys.executable, "-m", module, *extra.get(script.name, [])]
        if subprocess.run(command, cwd=root.parent, check=False).returncode:
            failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
