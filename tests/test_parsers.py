"""FH's workbooks and the scores-table CSV, parsed from the real files and from broken copies."""

from __future__ import annotations

import polars as pl
import pytest

from fiw.errors import SourceError
from scrapers.freedomhouse import read_scores_csv, read_workbook
from sovereign.countries import read_errata
from tests.conftest import AGGREGATE, ALL_DATA, FIW, RATINGS, WEB_2026, sheet_frame, write_workbook

ALL_DATA_ROWS = {2013: 209, 2014: 209, 2015: 210, 2016: 210, 2017: 209, 2018: 209, 2019: 209,
                 2020: 210, 2021: 210, 2022: 210, 2023: 210, 2024: 210, 2025: 208}


def test_all_data_rows_and_countries_per_edition():
    frame = read_workbook(ALL_DATA)
    assert dict(frame.group_by("edition").len().iter_rows()) == ALL_DATA_ROWS
    countries = frame.filter(pl.col("kind") == "c").group_by("edition").len()
    assert set(countries["len"]) == {195}
    assert frame.filter(pl.col("edition") > 2017)["add_a"].is_null().all()


def test_ratings_workbook_matches_the_long_reshape():
    frame = read_workbook(RATINGS)
    long = pl.read_csv(FIW / "FIW_ratings_statuses_1973-2024_long.csv", infer_schema_length=0)
    assert frame.height == long.height == 9757
    # Edition and year under review are taken from FH's rows: "1983-84" -> 1983; 1982 covers Jan 1981-Aug 1982.
    labels = frame.select("edition_label", "edition", "year_under_review").unique()
    assert ("1983-84", 1983, 1983) in labels.rows()
    assert ("1982", 1982, 1982) in labels.rows()
    assert 2002 not in frame["edition"].to_list() and 1981 not in frame["year_under_review"].to_list()
    mine = frame.select(
        pl.col("fh_name"), pl.col("edition").cast(pl.String), pl.col("pr_rating_pub").cast(pl.String),
        pl.col("cl_rating_pub").cast(pl.String), pl.col("status_pub"),
    ).sort(pl.all())
    theirs = long.filter(pl.col("country") != "South Africa").select(
        pl.col("country").str.strip_chars().alias("fh_name"), "edition", "pr", "cl", "status").sort(pl.all())
    assert mine.filter(pl.col("fh_name") != "South Africa").rows() == theirs.rows()


def test_south_africa_1973_is_rated_as_a_whole_country_and_the_split_kept_in_the_note():
    frame = read_workbook(RATINGS)
    za = frame.filter((pl.col("fh_name") == "South Africa") & (pl.col("edition") == 1973)).row(0, named=True)
    assert (za["pr_rating_pub"], za["cl_rating_pub"], za["status_pub"]) == (5, 6, "NF")
    assert "2(5)" in za["note"] and "F (NF)" in za["note"] and "the majority's" in za["note"]


def test_germany_east_trailing_space_and_curly_apostrophe_are_cleaned():
    names = set(read_workbook(RATINGS)["fh_name"]) | set(read_workbook(AGGREGATE, errata=read_errata())["fh_name"])
    assert "Germany, E." in names
    assert "Cote d'Ivoire" in names and not any("\u2019" in n for n in names)


def test_aggregate_workbook_both_sheets():
    frame = read_workbook(AGGREGATE, errata=read_errata())
    wide = frame.filter(pl.col("status_pub").is_null())
    assert sorted(wide["edition"].unique()) == [2003, 2004, 2005]
    assert frame.filter(pl.col("status_pub").is_not_null()).height == 3969
    # "-" is missing: Serbia and Montenegro has no 2003 scores, Yugoslavia only 2003.
    assert wide.filter(pl.col("fh_name") == "Serbia and Montenegro")["edition"].to_list() == [2004, 2005]


def test_fh_arithmetic_errors_are_refused_unless_listed_as_errata():
    with pytest.raises(SourceError) as err:
        read_workbook(AGGREGATE)
    text = str(err.value)
    assert "Aggregate_Category_and_Subcategory_Scores_FIW_2003-2024.xlsx: sheet 'FIW06-24', row" in text
    assert "column 'pr': expected PR = A + B + C - Add Q + Add A, found 11" in text
    frame = read_workbook(AGGREGATE, errata=read_errata())
    kosovo = frame.filter((pl.col("fh_name") == "Kosovo") & (pl.col("edition") == 2007)).row(0, named=True)
    assert "known erratum" in kosovo["note"]


def test_web_scores_csv():
    frame = read_scores_csv(WEB_2026)
    assert frame.height == 207 and set(frame["edition"]) == {2026}
    assert dict(frame.group_by("kind").len().iter_rows()) == {"c": 195, "t": 12}
    tr = frame.filter(pl.col("fh_name") == "Turkey").row(0, named=True)
    assert (tr["pr"], tr["cl"], tr["total"], tr["status_pub"]) == (16, 16, 32, "NF")


# ---- broken copies: every one names file, sheet, row and column ----

@pytest.fixture(scope="module")
def all_data_sheet():
    return sheet_frame(ALL_DATA, "FIW13-25")


def _cell(frame: pl.DataFrame, row: int, header: str, value) -> pl.DataFrame:
    col = frame.columns[list(frame.row(1)).index(header)]
    return frame.with_columns(pl.when(pl.int_range(pl.len()) == row).then(pl.lit(value)).otherwise(pl.col(col)).alias(col))


def test_new_year_sheet_name_just_works(tmp_path, all_data_sheet):
    path = write_workbook(tmp_path / "odd name .xlsx", {"FIW13-27": all_data_sheet.head(12)})
    assert read_workbook(path).height == 10


def test_missing_column(tmp_path, all_data_sheet):
    broken = all_data_sheet.drop(all_data_sheet.columns[list(all_data_sheet.row(1)).index("B3")])
    path = write_workbook(tmp_path / "x.xlsx", {"FIW13-25": broken})
    with pytest.raises(SourceError, match=r"x.xlsx: sheet 'FIW13-25', header row 2: expected column\(s\) \['B3'\]"):
        read_workbook(path)


def test_indicator_out_of_range(tmp_path, all_data_sheet):
    path = write_workbook(tmp_path / "x.xlsx", {"FIW13-25": _cell(all_data_sheet, 4, "A1", "7")})
    with pytest.raises(SourceError) as err:
        read_workbook(path)
    assert "sheet 'FIW13-25', row 5, column 'A1': expected 0 to 4, found 7" in str(err.value)
    assert "row 5, column 'A': expected A = A1 + A2 + A3" in str(err.value)


def test_text_in_a_score(tmp_path, all_data_sheet):
    path = write_workbook(tmp_path / "x.xlsx", {"FIW13-25": _cell(all_data_sheet, 3, "CL", "n.a.x")})
    with pytest.raises(SourceError, match=r"row 4, column 'cl': expected a whole number, found 'n.a.x'"):
        read_workbook(path)


def test_duplicated_edition_and_name(tmp_path, all_data_sheet):
    path = write_workbook(tmp_path / "x.xlsx", {"FIW13-25": pl.concat([all_data_sheet.head(5), all_data_sheet.slice(4, 1)])})
    with pytest.raises(SourceError, match=r"rows 5, 6: 'Albania' appears more than once in edition 2025"):
        read_workbook(path)


def test_status_and_rating_out_of_range(tmp_path, all_data_sheet):
    broken = _cell(_cell(all_data_sheet, 2, "Status", "Partially Free"), 3, "PR rating", "8")
    with pytest.raises(SourceError) as err:
        read_workbook(write_workbook(tmp_path / "x.xlsx", {"FIW13-25": broken}))
    assert "row 3, column 'status_pub': expected F, PF or NF, found 'Partially Free'" in str(err.value)
    assert "row 4, column 'pr_rating_pub': expected 1 to 7, found 8" in str(err.value)


def test_not_a_workbook(tmp_path):
    path = tmp_path / "scores.xlsx"
    path.write_text("<html>Freedom House</html>")
    with pytest.raises(SourceError, match="scores.xlsx: not an Excel workbook"):
        read_workbook(path)


def test_workbook_without_fiw_sheets(tmp_path, all_data_sheet):
    path = write_workbook(tmp_path / "x.xlsx", {"Sheet1": all_data_sheet.head(3)})
    with pytest.raises(SourceError, match=r"no Freedom in the World sheet found .*sheets are \['Sheet1'\]"):
        read_workbook(path)


def test_scores_csv_bad_status_and_missing_column(tmp_path):
    text = WEB_2026.read_text().replace("Turkey,TR,country,32,Not Free", "Turkey,TR,country,32,Unfree")
    (tmp_path / "fiw-2026.csv").write_text(text)
    with pytest.raises(SourceError, match=r"line \d+, column 'status': expected Free, Partly Free or Not Free, found 'Unfree'"):
        read_scores_csv(tmp_path / "fiw-2026.csv")
    (tmp_path / "s.csv").write_text("country,score,status\nX,1,Free\n")
    with pytest.raises(SourceError, match=r"expected column\(s\) pr .*cl "):
        read_scores_csv(tmp_path / "s.csv", edition=2026)


def test_scores_csv_total_must_be_pr_plus_cl(tmp_path):
    text = WEB_2026.read_text().replace("Turkey,TR,country,32,", "Turkey,TR,country,33,")
    (tmp_path / "fiw-2026.csv").write_text(text)
    with pytest.raises(SourceError, match=r"column 'total': expected Total = PR \+ CL, found 33"):
        read_scores_csv(tmp_path / "fiw-2026.csv")
