"""The screen in Spark (local mode): every row as `sovereign screen --as-of` its date gives it."""

from __future__ import annotations

import random
import shutil
import time
from datetime import date, timedelta

import polars as pl
import pytest
from stdnum import isin as stdnum_isin

from sovereign import clock, screen, store
from sovereign.export import export_answers, export_register
from sovereign.settings import Settings
from tests.conftest import india_not_free_2027, member

QUARTER_ENDS = [date(2023, 12, 31), date(2024, 3, 31), date(2024, 6, 30), date(2024, 9, 30), date(2024, 12, 31),
                date(2025, 3, 31), date(2025, 6, 30), date(2025, 9, 30), date(2025, 12, 31), date(2026, 3, 31),
                date(2026, 6, 30), date(2026, 9, 30)]
ROWS = 200_000
ALL_COLUMNS = ("verdict", "eligible", "iso2", "country", "issuer", "status", "reason", "no_new_buys_from",
               "divest_by", "list_version", "edition")
UNKNOWN_COLUMNS = ("verdict", "eligible", "iso2", "country", "issuer", "list_version", "edition")


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    if shutil.which("java") is None:  # scripts/test installs Debian's openjdk-17-jre-headless; never skipped
        raise RuntimeError("Spark needs Java: apt-get install openjdk-17-jre-headless (scripts/test does)")
    session = (SparkSession.builder.master("local[2]").appName("sovereign-test")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
               .config("spark.driver.memory", "1g").config("spark.sql.session.timeZone", "UTC").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _book(conn, seed: int = 25) -> pl.DataFrame:
    """A desk's book: ISINs and LEIs from the register, a few ISO codes, ISINs nobody registered, blank cells."""
    rng = random.Random(seed)
    register = [r["identifier"] for r in store.reads.register_identifiers(conn)]
    strangers = [stdnum_isin.validate(p + stdnum_isin.calc_check_digit(p)) for p in ("XS000000001", "DE000000002")]
    ids = register * 20 + ["NL", "TR", "in"] * 5 + strangers * 3 + [" "]
    return pl.DataFrame({
        "position": range(ROWS),
        "ISIN": [rng.choice(ids) for _ in range(ROWS)],
        "Portfolio": [f"P{rng.randrange(40)}" for _ in range(ROWS)],
        "Market Value": [round(rng.uniform(1e4, 1e7), 2) for _ in range(ROWS)],
        "As of": [rng.choice(QUARTER_ENDS) for _ in range(ROWS)],
    })


@pytest.mark.slow
def test_spark_screen_equals_sovereign_screen_on_every_quarter_end(spark, desk, tmp_path):
    from sovereign.spark import screen_dataframe

    today = clock.today()
    assert desk("override", "add", "BR", "--reason", "note", "--by", "RI", "--from", "2025-05-01", "--until",
                "2025-12-31", "--backdate-reason", "minutes")[0] == 0
    assert desk("import", str(india_not_free_2027(tmp_path)))[0] == 0
    assert desk("publish", "--approved-by", member(desk), "--effective-from", (today + timedelta(days=30)).isoformat())[0] == 0
    policy = Settings.load().policy
    out = tmp_path / "lake"
    export_answers(desk.db, out, "parquet", policy)
    export_register(desk.db, out, "parquet")
    with store.reader(desk.db) as conn:
        book = _book(conn)
        expected = pl.concat([screen.screen(conn, book.filter(pl.col("As of") == d), "ISIN", as_of=d)
                              for d in QUARTER_ENDS]).sort("position")
    book.write_parquet(tmp_path / "book.parquet")

    started = time.perf_counter()
    result = screen_dataframe(spark.read.parquet(str(tmp_path / "book.parquet")),
                              spark.read.parquet(str(out / "answers.parquet")),
                              spark.read.parquet(str(out / "register.parquet")),
                              id_columns=["ISIN"], date_column="As of")
    result.write.mode("overwrite").parquet(str(tmp_path / "screened"))
    seconds = time.perf_counter() - started
    got = pl.read_parquet(tmp_path / "screened" / "*.parquet").sort("position")
    print(f"spark local[2]: {ROWS:,} positions in {seconds:.1f} s, {ROWS / seconds:,.0f} rows/s")

    assert got.columns == expected.columns and got.height == expected.height == ROWS
    assert got.select(book.columns).equals(book.sort("position"))
    known = pl.col("verdict") != "unknown"
    assert got.filter(known).select(ALL_COLUMNS).equals(expected.filter(known).select(ALL_COLUMNS))
    assert got.select(UNKNOWN_COLUMNS).equals(expected.select(UNKNOWN_COLUMNS))
    # the command itself, on one quarter-end's rows as the desk exports them
    day = QUARTER_ENDS[-1]
    book.filter(pl.col("As of") == day).write_csv(tmp_path / "q.csv")
    code, _, err = desk("screen", str(tmp_path / "q.csv"), "--column", "ISIN", "--as-of", day.isoformat(),
                        "-o", str(tmp_path / "q.parquet"))
    assert code == 1, err
    by_command = pl.read_parquet(tmp_path / "q.parquet").sort("position")
    mine = expected.filter(pl.col("As of") == day).select("position", *ALL_COLUMNS)
    theirs = by_command.select("position", *ALL_COLUMNS).cast(dict(mine.schema))  # CSV in, Parquet out: types as read
    assert theirs.height == mine.height
    assert theirs.join(mine, how="anti", on=["position", *ALL_COLUMNS], nulls_equal=True).is_empty()
    counts = dict(expected.group_by("verdict").len().iter_rows())
    assert counts.get("excluded", 0) > 10_000 and counts.get("unknown", 0) > 500
    staged = expected.filter(pl.col("eligible") & pl.col("no_new_buys_from").is_not_null())
    assert {"IN", "BR"} <= set(staged["iso2"])  # a list and an override published for a later date: on the book already
