"""Screen a generated 1,000,000-row holdings CSV and compare with polars reading and writing the same file.

    .venv/bin/python scripts/bench_screen.py [--rows 1000000] [--repeat 3]

Target (issue 5): screening takes at most 2x the time polars needs just to read the file and write
it back out. Uses a scratch database loaded from the bundled data and the sample issuer register.
The default file has the ten columns a custody export carries; --narrow keeps only four, where
the reason text screening adds to every row (about 55 bytes) dominates the output size.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sovereign import paths, pipeline, store  # noqa: E402
from sovereign.issuers import import_register  # noqa: E402
from sovereign.screen import read_holdings, screen, write_result  # noqa: E402
from sovereign.settings import Settings  # noqa: E402


def holdings(path: Path, rows: int, narrow: bool = False) -> None:
    isins = pl.read_csv(paths.ISSUERS)["isins"].str.split(" ").explode().to_list()
    ids = isins + ["XS1234567896", "US0378331005", "XS1234567891", "NL", "TUR", "India", "Ivory Coast", ""]
    n = pl.int_range(rows, eager=True)
    frame = pl.DataFrame({
        "portfolio": pl.Series([f"P{i % 250:03d}" for i in range(rows)]),
        "isin": pl.Series(ids).sample(rows, with_replacement=True, seed=7),
        "nominal": n * 1000 % 9_999_991,
        "currency": pl.Series(["EUR", "USD", "GBP", "JPY"]).sample(rows, with_replacement=True, seed=3),
    })
    if not narrow:
        frame = frame.with_columns(
            description=pl.format("GOVT BOND {}% {}", (n % 60) / 10, 2027 + n % 30),
            price=(n % 4000) / 40 + 50, market_value=n * 997 % 99_999_989 / 100,
            maturity=pl.format("{}-{}-15", 2027 + n % 30, (n % 12 + 1).cast(pl.String).str.zfill(2)),
            coupon=(n % 60) / 10, trade_date=pl.lit("2026-11-20"),
        )
    frame.write_csv(path)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--narrow", action="store_true", help="four columns only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        db_path = tmp / "bench.db"
        with store.writer(db_path) as db:
            pipeline.refresh(db, Settings(db=db_path), "bundled")
            import_register(db, paths.ISSUERS)
        src = tmp / "holdings.csv"
        holdings(src, args.rows, args.narrow)
        conn = store.connect_readonly(db_path)  # one connection for every repeat, as a long-running screen would

        def baseline():
            pl.read_csv(src).write_csv(tmp / "copy.csv")

        def run_screen():
            frame, column = read_holdings(src, None)
            write_result(screen(conn, frame, column), tmp / "screened.csv")

        base = [timed(baseline) for _ in range(args.repeat)]
        screened = [timed(run_screen) for _ in range(args.repeat)]
        size = src.stat().st_size / 1e6
        b, s = statistics.median(base), statistics.median(screened)
        print(f"holdings: {args.rows:,} rows, {size:.1f} MB, {len(pl.read_csv(src, n_rows=1).columns)} columns")
        print(f"polars read + write: median {b:.3f} s (min {min(base):.3f})")
        print(f"sovereign screen:    median {s:.3f} s (min {min(screened):.3f})")
        print(f"ratio: {s / b:.2f}x (target <= 2.0x)")


if __name__ == "__main__":
    main()
