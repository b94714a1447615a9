"""The curated FH-name -> ISO mapping covers every FH name and never confuses territories with states."""

from __future__ import annotations

import polars as pl
import pytest

from fiw.errors import UnknownNames
from scrapers.freedomhouse import read_scores_csv, read_workbook
from sovereign.countries import load_mapping, normalise, read_errata
from tests.conftest import AGGREGATE, ALL_DATA, RATINGS, WEB_2026


@pytest.fixture(scope="module")
def every_fh_row():
    return pl.concat([
        read_workbook(RATINGS), read_workbook(AGGREGATE, errata=read_errata()), read_workbook(ALL_DATA),
        read_scores_csv(WEB_2026),
    ], how="diagonal_relaxed")


def test_every_fh_name_in_shared_fiw_is_mapped(every_fh_row):
    mapped = normalise(every_fh_row)
    assert mapped["entity"].null_count() == 0
    assert mapped.filter(pl.col("kind") == "c")["iso2"].null_count() == 0


def test_iso2_is_unique_within_each_edition(every_fh_row):
    mapped = normalise(every_fh_row).filter(pl.col("iso2").is_not_null())
    per = mapped.group_by("edition", "iso2").agg(pl.col("entity").unique()).filter(pl.col("entity").list.len() > 1)
    # One FH entity per code and edition, however the sources spell its name.
    assert per.is_empty(), per


@pytest.mark.parametrize("name,kind,iso2,iso3", [
    ("Turkey", "c", "TR", "TUR"), ("Czechia", "c", "CZ", "CZE"), ("Czech Republic", "c", "CZ", "CZE"),
    ("The Gambia", "c", "GM", "GMB"), ("Cote d\u2019Ivoire", "c", "CI", "CIV"), ("Côte d'Ivoire", "c", "CI", "CIV"),
    ("Congo (Brazzaville)", "c", "CG", "COG"), ("Republic of the Congo", "c", "CG", "COG"),
    ("Congo (Kinshasa)", "c", "CD", "COD"), ("Democratic Republic of the Congo", "c", "CD", "COD"),
    ("Micronesia", "c", "FM", "FSM"), ("Kosovo", "c", "XK", "XKX"), ("Kosovo", "t", "XK", "XKX"),
    ("Swaziland", "c", "SZ", "SWZ"), ("Macedonia", "c", "MK", "MKD"), ("Burma", "c", "MM", "MMR"),
    ("Namibia", "c", "NA", "NAM"), ("Germany, E. ", "c", "DD", "DDR"), ("USSR", "c", "SU", "SUN"),
    ("Serbia and Montenegro", "c", "CS", "SCG"), ("Czechoslovakia", "c", "CS", "CSK"), ("The Bahamas", "c", "BS", "BHS"),
    ("São Tomé and Príncipe", "c", "ST", "STP"), ("Hong Kong", "t", "HK", "HKG"), ("Indian Kashmir", "t", None, None),
])
def test_names_to_watch(name, kind, iso2, iso3):
    row = normalise(pl.DataFrame({"fh_name": [name.strip()], "kind": [kind]})).row(0, named=True)
    assert (row["iso2"], row["iso3"]) == (iso2, iso3)


def test_territories_carry_their_parent_not_its_code():
    mapping = load_mapping()
    kashmir = mapping.filter(pl.col("fh_name") == "Indian Kashmir").row(0, named=True)
    assert kashmir["iso2"] is None and kashmir["parent_iso2"] == "IN"
    assert mapping.filter((pl.col("kind") == "t") & (pl.col("iso2") == pl.col("parent_iso2"))).is_empty()


def test_namibia_code_is_not_read_as_null():
    assert load_mapping().filter(pl.col("fh_name") == "Namibia")["iso2"].to_list() == ["NA"]


def test_unknown_names_stop_the_run_and_are_all_listed():
    frame = pl.DataFrame({"fh_name": ["France", "Atlantis", "Lemuria", "Tibet"], "kind": ["c", "c", "c", "c"]})
    with pytest.raises(UnknownNames) as err:
        normalise(frame, source="x.xlsx")
    assert "'Atlantis' (country), 'Lemuria' (country), 'Tibet' (country)" in str(err.value)
    assert str(err.value).startswith("x.xlsx: 3 name(s) not in the country mapping")
