"""FH's rules, checked exhaustively and against every published rating and status 1973-2026."""

from __future__ import annotations

import polars as pl
import pytest

from fiw import methodology as m
from scrapers.freedomhouse import read_workbook
from tests.conftest import ALL_DATA, RATINGS

# FIW.md's tables, written out as ranges (an independent statement of the same bands).
PR_TABLE = {1: range(36, 41), 2: range(30, 36), 3: range(24, 30), 4: range(18, 24), 5: range(12, 18), 6: range(6, 12),
            7: range(-4, 6)}
CL_TABLE = {1: range(53, 61), 2: range(44, 53), 3: range(35, 44), 4: range(26, 35), 5: range(17, 26), 6: range(8, 17),
            7: range(0, 8)}


@pytest.mark.pure
@pytest.mark.parametrize("table,fn,expr", [(PR_TABLE, m.pr_rating, m.pr_rating_expr), (CL_TABLE, m.cl_rating, m.cl_rating_expr)])
def test_every_aggregate_maps_to_fh_rating(table, fn, expr):
    scores = [s for r in table.values() for s in r]
    expected = [rating for rating, r in table.items() for _ in r]
    assert [fn(s) for s in scores] == expected
    frame = pl.DataFrame({"x": scores}, schema={"x": pl.Int16})
    assert frame.select(expr("x")).to_series().to_list() == expected


@pytest.mark.pure
def test_negative_pr_is_rating_7():
    assert [m.pr_rating(v) for v in (-4, -1, 0, 5)] == [7, 7, 7, 7]
    assert m.pr_rating(6) == 6


@pytest.mark.pure
def test_status_from_freedom_rating_all_49_pairs():
    for pr in range(1, 8):
        for cl in range(1, 8):
            fr = (pr + cl) / 2
            want = "F" if fr <= 2.5 else "PF" if fr <= 5.0 else "NF"
            assert m.status(pr, cl) == want
            got = pl.DataFrame({"p": [pr], "c": [cl]}).select(m.status_expr("p", "c")).item()
            assert got == want


@pytest.mark.pure
def test_status_is_not_a_function_of_total():
    """FIW.md: NF totals reach 36 and PF goes down to 29, so no total threshold can replace the rule."""
    assert m.status(m.pr_rating(16), m.cl_rating(16)) == "NF"  # Turkey 2026, total 32
    assert m.status(m.pr_rating(17), m.cl_rating(17)) == "PF"   # total 34


@pytest.mark.pure
def test_electoral_democracy_adds_cl_test_from_2018():
    assert m.electoral_democracy(2017, a=7, pr=20, cl=10)
    assert not m.electoral_democracy(2018, a=7, pr=20, cl=29)
    assert m.electoral_democracy(2018, a=7, pr=20, cl=30)
    assert not m.electoral_democracy(2013, a=6, pr=30, cl=50)


def test_all_data_ratings_and_status_reproduced_2013_2025():
    frame = m.score(read_workbook(ALL_DATA))
    assert frame.height == 2723
    assert frame.filter(pl.col("pr_rating_calc") != pl.col("pr_rating_pub")).is_empty()
    assert frame.filter(pl.col("cl_rating_calc") != pl.col("cl_rating_pub")).is_empty()
    assert frame.filter(pl.col("status_calc") != pl.col("status_pub")).is_empty()
    assert frame["pr"].min() < 0  # negative PR aggregates are valid and present


def test_historical_statuses_follow_the_rule_from_2004_and_not_before():
    frame = m.score(read_workbook(RATINGS))
    diff = frame.filter(pl.col("status_calc") != pl.col("status_pub"))
    assert diff.filter(pl.col("edition") >= 2004).is_empty()
    before = diff.filter(pl.col("edition") < 2004)
    assert before.height == 195
    fr55_pf = before.filter((pl.col("pr_rating_pub") + pl.col("cl_rating_pub") == 11) & (pl.col("status_pub") == "PF"))
    assert fr55_pf.height == 181
    mali = before.filter((pl.col("fh_name") == "Mali") & pl.col("edition").is_in([1997, 1998]))
    assert mali.select("pr_rating_pub", "cl_rating_pub", "status_pub", "status_calc").rows() == [(3, 3, "F", "PF")] * 2
    # Before 2004 the product uses FH's published status; from 2004 the rule (identical there).
    assert (before["status"] == before["status_pub"]).all()
