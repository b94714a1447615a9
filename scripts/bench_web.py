"""Wall time and request count of `refresh --source web` against the local FH stand-in (tests/fhsite.py).

    .venv/bin/python scripts/bench_web.py [--min-interval 1.0]

Table only, then --with-details (about 210 country pages), each into a fresh copy of a database
loaded from the bundled data. At the default 1 s between requests the interval dominates by design.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from click.testing import CliRunner  # noqa: E402

from scrapers.freedomhouse import read_workbook  # noqa: E402
from sovereign.cli import main as cli  # noqa: E402
from tests.fhsite import FHSite, edition_2027  # noqa: E402

ALL_DATA = ROOT.parent / "shared" / "fiw" / "All_data_FIW_2013-2025.xlsx"


def run(db: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--db", str(db), *args])
    if result.exit_code != 0:
        raise SystemExit(result.stderr or result.stdout)
    return result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-interval", default="1.0")
    args = parser.parse_args()
    rows = edition_2027(read_workbook(ALL_DATA))
    with tempfile.TemporaryDirectory() as tmp, FHSite() as site:
        site.publish(rows, 2027)
        base = Path(tmp) / "base.db"
        run(base, "refresh", "--source", "bundled")
        for label, extra in (("table only", []), ("with details", ["--with-details"])):
            db = Path(tmp) / f"{label.replace(' ', '_')}.db"
            shutil.copy(base, db)
            before = len(site.log)
            start = time.perf_counter()
            run(db, "refresh", "--source", "web", "--base-url", site.url, "--min-interval", args.min_interval, *extra)
            took = time.perf_counter() - start
            print(f"{label:<13} {took:7.2f} s, {len(site.log) - before} requests (min interval {args.min_interval} s)")
            start = time.perf_counter()
            before = len(site.log)
            run(db, "refresh", "--source", "web", "--base-url", site.url, "--min-interval", args.min_interval, *extra)
            print(f"{label + ' again':<13} {time.perf_counter() - start:7.2f} s, {len(site.log) - before} requests "
                  "(unchanged site: conditional / archived)")


if __name__ == "__main__":
    main()
