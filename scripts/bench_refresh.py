"""Time `sovereign refresh --source bundled`: into an empty database, and again (nothing to do).

    .venv/bin/python scripts/bench_refresh.py [--repeat 3]

Runs the real command in a fresh process each time, so imports and start-up are counted.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(db: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sovereign", "--db", str(db), "refresh", "--source", "bundled"],
                   check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cold, warm = [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "bench.db"
            cold.append(run(db))
            warm.append(run(db))
    for label, times in (("empty database", cold), ("unchanged (no-op)", warm)):
        print(f"refresh --source bundled, {label}: median {statistics.median(times):.2f} s "
              f"(min {min(times):.2f}, max {max(times):.2f}, n={len(times)})")


if __name__ == "__main__":
    main()
