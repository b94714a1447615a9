"""The formula rule, applied column-wise as outputs are written, gives exactly what it gives cell by cell."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from sovereign.cells import TRIGGERS, neutral, neutral_frame

# Triggers, and the characters that sort next to them (".", digits, "<", ">", "?", "A"), where a cheap
# test that only compares cells with bounds would go wrong first; a space, a quote and text beyond ASCII.
ALPHABET = [*TRIGGERS, ",", ".", "/", "0", "9", ":", "<", ">", "?", "A", "a", " ", '"', "'", "é", "\u00a0", "€"]
# A column draws from a few characters of its own, so a single trigger can sit among cells that are all clean.
COLUMN = st.lists(st.sampled_from(ALPHABET), min_size=1, max_size=3, unique=True).flatmap(
    lambda chars: st.lists(st.one_of(st.none(), st.text(st.sampled_from(chars), max_size=4)), min_size=1, max_size=6))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(columns=st.lists(COLUMN, min_size=1, max_size=4), data=st.data())
def test_the_frame_rule_is_the_cell_rule(columns, data):
    height = min(len(c) for c in columns)
    frame = pl.DataFrame({f"c{i}": pl.Series(c[:height], dtype=pl.String) for i, c in enumerate(columns)})
    ours = tuple(data.draw(st.lists(st.sampled_from(frame.columns), unique=True, max_size=1)))
    got = neutral_frame(frame, ours)
    expected = {c: frame[c].to_list() if c in ours else [neutral(v) for v in frame[c].to_list()]
                for c in frame.columns}
    assert got.to_dict(as_series=False) == expected


def test_a_column_of_amounts_dates_and_names_is_left_as_it_is():
    frame = pl.DataFrame({"amount": ["1000000", "-12.5", "+3"], "date": ["2031-07-15", "15-07-2031", None],
                          "name": ["Republic of Turkey", "=1+2", "@SUM(A1)"], "code": ["XS2100000012", "", "NL"]})
    got = neutral_frame(frame)
    assert got["amount"].to_list() == ["1000000", "-12.5", "+3"] and got["date"].equals(frame["date"])
    assert got["name"].to_list() == ["Republic of Turkey", "'=1+2", "'@SUM(A1)"] and got["code"].equals(frame["code"])
