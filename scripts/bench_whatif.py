"""Time a 1973-2026 backtest of two policies: the policy in force against an alternative with every new rule
(persistence, score buffer, decline), in-process (`backtest`) and as the real command (`whatif --format json`).

    .venv/bin/python scripts/bench_whatif.py [--repeat 3]

The floor, measured in the same run, is one edition's list under the policy in force (`evaluate`, the work a
refresh does per edition); the backtest is printed as a ratio of it, with the peak memory of the process.
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ALTERNATIVE = "[base]\npersistence = 2\nmin_total = 40\ndecline_points = 10\ndecline_editions = 5\n"


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from sovereign import whatif
    from sovereign.eligibility import evaluate
    from sovereign.policy import Policy, load_policy

    with tempfile.TemporaryDirectory() as tmp:
        db, alt = Path(tmp) / "bench.db", Path(tmp) / "alternative.toml"
        alt.write_text(ALTERNATIVE)
        subprocess.run([sys.executable, "-m", "sovereign", "--db", str(db), "refresh", "--source", "bundled"],
                       check=True, capture_output=True)
        conn = sqlite3.connect(db)
        conn.row_factory = sqlite3.Row
        scored = whatif.scored_from_store(conn)
        alternative = load_policy(alt)
        floor = timed(lambda: evaluate(scored, Policy(), 2026), args.repeat)
        core = timed(lambda: whatif.backtest(scored, Policy(), alternative), args.repeat)
        command = timed(lambda: subprocess.run(
            [sys.executable, "-m", "sovereign", "--db", str(db), "whatif", "--policy", str(alt), "--format", "json",
             "-o", str(Path(tmp) / "out.json")], check=True, capture_output=True), args.repeat)
        page = timed(lambda: subprocess.run(
            [sys.executable, "-m", "sovereign", "--db", str(db), "whatif", "--policy", str(alt), "--format", "html",
             "-o", str(Path(tmp) / "out.html")], check=True, capture_output=True), args.repeat)
    base = statistics.median(floor)
    for label, times in (("floor: one edition's list (evaluate 2026)", floor),
                         ("backtest 1973-2026, two policies (in-process)", core),
                         ("whatif --format json (a new process, store read included)", command),
                         ("whatif --format html (charts included)", page)):
        m = statistics.median(times)
        print(f"{label}: median {m:.3f} s (min {min(times):.3f}, max {max(times):.3f}, n={len(times)}; "
              f"{m / base:.0f}x the floor)")
    print(f"peak memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
