"""Cold start of `sovereign check NL` against `python -c pass`, each in a fresh process.

    .venv/bin/python scripts/bench_check.py [--repeat 20]

Target (issue 5): under 300 ms on this machine. Uses a scratch database loaded from the bundled data.
"""

from __future__ import annotations

import argparse
import compileall
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=False, capture_output=True)
    return time.perf_counter() - start


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
        compileall.compile_dir(str(root / "sovereign"), quiet=1)
        compileall.compile_dir(str(root / "fiw"), quiet=1)
        check = [exe, "--db", db, "check", "NL"]
        assert subprocess.run(check, capture_output=True).returncode == 0
        results = {}
        for label, cmd in (("python -c pass", [sys.executable, "-c", "pass"]), ("sovereign check NL", check)):
            times = [timed(cmd) for _ in range(args.repeat)]
            results[label] = statistics.median(times)
            print(f"{label:<20} median {results[label] * 1000:6.1f} ms  (min {min(times) * 1000:.1f}, "
                  f"max {max(times) * 1000:.1f}, n={args.repeat})")
        print(f"check NL over python start-up: {(results['sovereign check NL'] - results['python -c pass']) * 1000:.1f} ms "
              f"(target: check NL under 300 ms)")


if __name__ == "__main__":
    main()
