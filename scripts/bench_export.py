"""Export time and size over every edition: `export answers` (base list and every mandate, Parquet and CSV),
`export register` and the restricted list, against a floor measured in the same run (reading every published
list once through `listing.on_date`). Run: .venv/bin/python scripts/bench_export.py [--db PATH]"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

from sovereign import clock, export, listing, store
from sovereign.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, help="A loaded database (default: a fresh `refresh --source bundled`).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = args.db
        if db is None:
            from sovereign.cli import main as cli

            db = Path(folder) / "sovereign.db"
            try:
                cli(["--db", str(db), "refresh", "--source", "bundled"], standalone_mode=False)
            except SystemExit:
                pass
        policy = Settings.load().policy
        with store.reader(db) as conn:
            versions = [v for v in store.reads.versions(conn) if v["state"] == "published" and not v["withdrawn"]]
            started = time.perf_counter()
            for v in versions:
                listing.on_date(conn, date.fromisoformat(v["effective_from"]))
            floor = time.perf_counter() - started
        print(f"{len(versions)} published lists ({min(v['edition'] for v in versions)}-"
              f"{max(v['edition'] for v in versions)}); floor (each list read once): {floor:.2f} s")
        for fmt in export.FORMATS:
            out = Path(folder) / f"out-{fmt}"
            started = time.perf_counter()
            done = export.export_answers(db, out, fmt, policy)
            seconds = time.perf_counter() - started
            print(f"export answers --format {fmt}: {seconds:.2f} s ({seconds / floor:.1f}x floor), {done['rows']:,} rows, "
                  f"{done['bytes']:,} bytes, base list and {len(policy.mandates)} mandates")
        started = time.perf_counter()
        done = export.export_register(db, Path(folder) / "out-parquet", "parquet")
        print(f"export register: {time.perf_counter() - started:.2f} s, {done['rows']:,} identifiers, {done['bytes']:,} bytes")
        started = time.perf_counter()
        restricted = export.export_restricted(db, Path(folder) / "restricted.csv", policy, (), "isin", clock.today())
        print(f"export restricted: {time.perf_counter() - started:.2f} s, {restricted[0]['rows']:,} rows")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak:.0f} MB")


if __name__ == "__main__":
    main()
