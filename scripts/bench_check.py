"""Cold start of `sovereign check NL` against `python -c pass`, each in a fresh process.

    .venv/bin/python scripts/bench_check.py [--repeat 20]

Prints the ratio of the two medians: the target is under 3x Python's own start-up, measured in the same run
(digest check included). Uses a scratch database loaded from the bundled data.
"""

from __future__ import annotations

import argparse
import compileall
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=False, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    exe = shutil.which("sovereign", path=str(Path(sys.executable).parent)) or "sovereign"
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.db")
        subprocess.run([exe, "--db", db, "refresh", "--source", "bundled"], check=True, capture_output=True)
        # As installed: byte-code compiled (PYTHONDONTWRITEBYTECODE would otherwise make every run compile).
        root = Path(__file__).resolve().parent.parent
        for package in ("sovereign", "fiw", "scrapers"):
            compileall.compile_dir(str(root / package), quiet=1)
        check = [exe, "--db", db, "check", "NL"]
        assert subprocess.run(check, capture_output=True).returncode == 0
        commands = {"python -c pass": [sys.executable, "-c", "pass"], "sovereign check NL": check}
        runs: dict[str, list[tuple[float, float]]] = {label: [] for label in commands}
        for _ in range(args.repeat):  # alternated, so a busy moment on a shared machine hits both alike
            for label, cmd in commands.items():
                runs[label].append(timed(cmd))
        wall, cpu = {}, {}
        for label, times in runs.items():
            walls = [w for w, _ in times]
            wall[label], cpu[label] = statistics.median(walls), statistics.median(c for _, c in times)
            print(f"{label:<20} median {wall[label] * 1000:6.1f} ms  (min {min(walls) * 1000:.1f}, "
                  f"max {max(walls) * 1000:.1f}, n={args.repeat}); CPU {cpu[label] * 1000:.1f} ms")
        bare, check_nl = wall["python -c pass"], wall["sovereign check NL"]
        print(f"check NL over python start-up: {(check_nl - bare) * 1000:.1f} ms")
        print(f"ratio: {check_nl / bare:.2f}x python's start-up (wall-clock medians), "
              f"{cpu['sovereign check NL'] / cpu['python -c pass']:.2f}x in CPU time (target: under 3x)")


if __name__ == "__main__":
    main()
