"""Wall time and request count of `refresh --source web` against the local FH stand-in (tests/fhsite.py).

    .venv/bin/python scripts/bench_web.py [--min-interval 1.0] [--page live|combined|both]

Table only, then --with-details (about 210 country pages), each into a fresh copy of a database
loaded from the bundled data, against the site as 2026 showed it (every page carrying the CDN's beacon):
`live` is the configured scores page, `combined` the configured one missing and `/country/scores` read
instead (names linking to hubs). At the default 1 s between requests the interval dominates by design.
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
    parser.add_argument("--page", choices=("live", "combined", "both"), default="both")
    args = parser.parse_args()
    rows = edition_2027(read_workbook(ALL_DATA))
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base.db"
        run(base, "refresh", "--source", "bundled")
        for page in ("live", "combined") if args.page == "both" else (args.page,):
            with FHSite() as site:
                site.beacon = True
                site.publish_live(rows, 2027, page=page)
                print(f"{page} scores page:")
                measure(site, base, Path(tmp), args.min_interval)


def measure(site: FHSite, base: Path, tmp: Path, interval: str) -> None:
    """Each run into a fresh copy of `base`, then again on the unchanged site."""
    for label, extra in (("table only", []), ("with details", ["--with-details"])):
        db = tmp / f"{label.replace(' ', '_')}.db"
        shutil.copy(base, db)
        for again in ("", " again"):
            before = len(site.log)
            start = time.perf_counter()
            run(db, "refresh", "--source", "web", "--base-url", site.url, "--min-interval", interval, *extra)
            took = time.perf_counter() - start
            print(f"  {label + again:<18} {took:7.2f} s, {len(site.log) - before:4d} requests (min interval "
                  f"{interval} s{'; unchanged site: conditional / archived' if again else ''})")


if __name__ == "__main__":
    main()
