"""``make bench``: run every ``bench/bench_*.py`` in turn; each prints its own numbers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    root = Path(__file__).resolve().parent
    failed = []
    for script in sorted(root.glob("bench_*.py")):
        print(f"\n=== {script.name} ===", flush=True)
        module = f"bench.{script.stem}"
        if subprocess.run([sys.executable, "-m", module], cwd=root.parent, check=False).returncode:
            failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
