"""Books as desks export them: the same book from an OMS (XLSX, CSV in three dialects), a data pipeline
(Parquet) and Bloomberg screens the same way, with its totals rows kept and left out of the tallies; every
output is read back with a reader of its own (openpyxl, the csv module, pyarrow)."""

from __future__ import annotations

import csv
import io
import json
import os
import time
from datetime import date, datetime
from pathlib import Path

import openpyxl
import polars as pl
import pyarrow.parquet as pq
import pytest

from sovereign.screen import OUT_COLUMNS
from tests.conftest import member
from tests.hostile import far_corner_xlsx, long_cell_parquet, packed_csv, zeros_parquet

HEADER = ["Portfolio", "ISIN", "Country", "Issuer", "Status", "Market Value", "Maturity"]
# Two portfolios, a labelled subtotal, an unlabelled one (its value is the sum of B's rows), a blank row and a
# grand total: what an order-management export carries at the bottom of each block.
ROWS: list[tuple] = [
    ("A", "NL0011223342", "Netherlands", "Kingdom of the Netherlands", "Settled", 1_000_000.5, date(2031, 7, 15)),
    ("A", "XS2100000012", "Turkey", "Republic of Turkey", "Settled", 250_000.25, date(2029, 1, 21)),
    ("Subtotal A", None, None, None, None, 1_250_000.75, None),
    ("B", "IN0020230010", "India", "Republic of India", "Pending", 2_000_000.0, date(2039, 1, 21)),
    ("B", "XS0000000000", None, None, "Settled", 5.0, date(2030, 5, 5)),
    ("B", None, None, None, None, 2_000_005.0, None),
    (None, None, None, None, None, None, None),
    ("Total", None, None, None, None, 3_250_005.75, None),
]
EXPECTED = {"eligible": (2, 3_000_000.5), "excluded": (1, 250_000.25), "unknown": (1, 5.0)}


def _text(v, comma: bool = False, day_first: bool = False) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        text = f"{v:,.2f}"
        return text.replace(",", "X").replace(".", ",").replace("X", ".") if comma else text.replace(",", "")
    if isinstance(v, date):
        return v.strftime("%d-%m-%Y") if day_first else v.isoformat()
    return str(v)


def write_csv(path: Path, sep: str = ",", comma: bool = False, encoding: str = "utf-8", newline: str = "\n",
              bom: bool = False) -> Path:
    lines = [sep.join(HEADER)] + [sep.join(_text(v, comma, comma) for v in row) for row in ROWS]
    data = newline.join(lines) + newline
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data.replace("Turkey", "Türkiye").encode(encoding))
    return path


def write_xlsx(path: Path) -> Path:
    """As an OMS writes it: a hidden lookup sheet first, a merged title row, then the header; numbers and
    dates typed."""
    import xlsxwriter

    with xlsxwriter.Workbook(str(path)) as wb:
        lookup = wb.add_worksheet("Lookup")
        lookup.write_row(0, 0, ["Country", "ISIN"])
        lookup.hide()
        sheet = wb.add_worksheet("Positions")
        sheet.activate()
        sheet.merge_range(0, 0, 0, 6, "Sovereign positions as of 30 September 2026")
        sheet.write_row(1, 0, HEADER)
        when = wb.add_format({"num_format": "dd-mm-yyyy"})
        for r, row in enumerate(ROWS, start=2):
            for c, v in enumerate(row):
                if isinstance(v, date):
                    sheet.write_datetime(r, c, datetime(v.year, v.month, v.day), when)
                elif v is not None:
                    sheet.write(r, c, v)
    return path


def write_parquet(path: Path) -> Path:
    pl.DataFrame(ROWS, schema=dict(zip(HEADER, [pl.String] * 5 + [pl.Float64, pl.Date], strict=True)),
                 orient="row").write_parquet(path)
    return path


def write_bloomberg(path: Path) -> Path:
    """A Bloomberg portfolio export (PORT, exported as CSV): preamble lines; `Security` as Bloomberg describes a
    bond, by ticker, coupon, maturity and yellow key (`NETHER 0 1/4 07/15/31 Govt`), or by the ISIN it was
    loaded with (`NL0011223342 Govt`) where `ID_ISIN` is empty; `Cntry of Risk`; amounts with thousands
    separators; dates month first."""
    head = ["Portfolio", "Security", "ID_ISIN", "Cntry of Risk", "Market Value", "Maturity"]
    tickers = {"XS2100000012": "TURKEY 5 1/4 01/21/29 Govt", "IN0020230010": "INDIGB 7.1 01/21/39 Govt",
               "XS0000000000": "ACME 5 05/05/30 Corp"}
    body = []
    for p, isin, country, _, _, mv, mat in ROWS:
        iso = {"Netherlands": "NL", "Turkey": "TR", "India": "IN"}.get(country or "", "")
        if isin == "NL0011223342":
            security, isin = f"{isin} Govt", ""
        else:
            security = tickers.get(isin or "", "")
        body.append([p or "", security, isin or "", iso, f"{mv:,.2f}" if mv is not None else "",
                     mat.strftime("%m/%d/%Y") if mat else ""])
    out = io.StringIO()
    out.write("Portfolio Holdings Report\nAs of Date: 09/30/2026\n\n")
    csv.writer(out, lineterminator="\n").writerows([head, *body])
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


FORMATS = {
    "xlsx": lambda d: write_xlsx(d / "book.xlsx"),
    "csv": lambda d: write_csv(d / "book.csv"),
    "csv-semicolon": lambda d: write_csv(d / "boek.csv", ";", comma=True),
    "csv-cp1252-crlf": lambda d: write_csv(d / "boek.csv", ";", comma=True, encoding="cp1252", newline="\r\n"),
    "csv-bom": lambda d: write_csv(d / "book.csv", bom=True),
    "parquet": lambda d: write_parquet(d / "book.parquet"),
    "bloomberg": lambda d: write_bloomberg(d / "bloomberg.csv"),
}


def read_back(path: Path, encoding: str = "utf-8") -> tuple[list[str], list[dict]]:
    """The output through a reader that is not ours."""
    if path.suffix == ".xlsx":
        wb = openpyxl.load_workbook(path)
        ws = wb.worksheets[0]
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        return [str(h) for h in rows[0]], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        return table.column_names, table.to_pylist()
    text = path.read_bytes().decode(encoding).lstrip("\ufeff")
    sep = ";" if text.split("\n")[0].count(";") else ","
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    return rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


@pytest.mark.parametrize("kind", list(FORMATS))
def test_the_same_book_in_every_format_screens_the_same(desk, tmp_path, kind):
    src = FORMATS[kind](tmp_path)
    out = tmp_path / f"screened{src.suffix}"
    summary = tmp_path / "summary.json"
    code, _, err = desk("screen", str(src), "-o", str(out), "--value-column", "market value",
                        "--portfolio-column", "portfolio", "--summary-json", str(summary))
    assert code == 1, err
    assert "Warning" not in err and "warn" not in err.lower()
    assert "4 summary row(s)" in err and "2 eligible, 1 excluded, 1 unknown" in err
    s = json.loads(summary.read_text())
    for verdict, (positions, value) in EXPECTED.items():
        assert s["overall"][verdict]["positions"] == positions
        assert s["overall"][verdict]["value"] == pytest.approx(value)
    assert s["overall"]["value"] == pytest.approx(3_250_005.75)  # not doubled by the totals
    assert s["summary_rows"] == 4
    names, rows = read_back(out, "cp1252" if kind == "csv-cp1252-crlf" else "utf-8")
    assert len({n.lower() for n in names}) == len(names)  # unique ignoring case
    assert len(rows) == len(ROWS)  # every row, summary rows too
    verdict = next(n for n in names if n == "verdict")
    assert [r[verdict] for r in rows] == ["eligible", "excluded", "summary", "eligible", "unknown", "summary",
                                         "summary", "summary"]
    assert {"sovereign_country", "sovereign_issuer", "sovereign_status"} <= set(names) or kind == "bloomberg"
    if out.suffix in (".xlsx", ".parquet"):  # numbers and dates typed, ours too
        assert isinstance(rows[0]["Market Value"], float)
        assert isinstance(rows[0]["Maturity"], (date, datetime))
    if out.suffix == ".parquet":
        assert str(pq.read_schema(out).field("no_new_buys_from").type) == "date32[day]"


def test_csv_comes_back_in_its_own_encoding_line_ending_and_bom(desk, tmp_path):
    src = write_csv(tmp_path / "boek.csv", ";", comma=True, encoding="cp1252", newline="\r\n")
    out = tmp_path / "uit.csv"
    code, _, err = desk("screen", str(src), "-o", str(out))
    assert code == 1, err
    raw = out.read_bytes()
    assert "Türkiye".encode("cp1252") in raw and raw.count(b"\r\n") == len(ROWS) + 1
    assert b"1.000.000,50" in raw  # the book's own text, exactly
    src = write_csv(tmp_path / "book.csv", bom=True)
    desk("screen", str(src), "-o", str(out))
    assert out.read_bytes().startswith(b"\xef\xbb\xbfPortfolio,") and b"\r\n" not in out.read_bytes()


def screened_to_xlsx(desk, tmp_path: Path, book: str) -> list[dict]:
    """The CSV `book` screened to XLSX, its rows read back with openpyxl (header -> cell value)."""
    src, out = tmp_path / "book.csv", tmp_path / "out.xlsx"
    src.write_text(book)
    code, _, err = desk("screen", str(src), "-o", str(out))
    assert code == 1, err
    rows = list(openpyxl.load_workbook(out).worksheets[0].iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def test_a_csv_book_is_typed_in_xlsx(desk, tmp_path):
    rows = screened_to_xlsx(desk, tmp_path, "Portefeuille;ISIN;Nominaal;Marktwaarde;Vervaldatum;Rekening\n"
                            "A;XS2100000012;10000000;9.952.800,07;21-01-2039;00123\n"
                            "A;NL0011223342;500;1,5;01-02-2030;00124\n")
    row = rows[0]
    assert row["Nominaal"] == 10_000_000 and row["Marktwaarde"] == pytest.approx(9_952_800.07)
    assert row["Vervaldatum"] == datetime(2039, 1, 21) and row["Rekening"] == "00123"  # a code stays text
    assert all(isinstance(r["divest_by"], datetime) for r in rows if r["divest_by"])


def test_dates_a_british_or_american_book_could_mean_either_way_stay_as_written(desk, tmp_path):
    """A point-decimal book (London or New York) with slashed dates whose days are all 12 or less: 03/04/2031
    is 3 April or 4 March, so it stays text; one date past the 12th settles the order for the column."""
    rows = screened_to_xlsx(desk, tmp_path, "ISIN,Market Value,Maturity,Settled\n"
                            "XS2100000012,\"1,000,000.50\",03/04/2031,03/04/2026\n"
                            "NL0011223342,250.25,11/12/2030,25/11/2026\n")
    assert [r["Maturity"] for r in rows] == ["03/04/2031", "11/12/2030"]
    assert [r["Settled"] for r in rows] == [datetime(2026, 4, 3), datetime(2026, 11, 25)]
    assert [r["Market Value"] for r in rows] == [pytest.approx(1_000_000.5), pytest.approx(250.25)]


def test_a_bloomberg_export_is_typed_in_xlsx(desk, tmp_path):
    """Month-first dates (every maturity past the 12th or not, the column settles it), amounts with thousands
    separators, and the bond's description left as Bloomberg wrote it; the ISIN found in `Security` only where
    `ID_ISIN` is empty."""
    src, out = write_bloomberg(tmp_path / "bloomberg.csv"), tmp_path / "out.xlsx"
    code, _, err = desk("screen", str(src), "-o", str(out), "--value-column", "Market Value")
    assert code == 1 and "header on row 4" in err, err
    sheet = list(openpyxl.load_workbook(out).worksheets[0].iter_rows(values_only=True))
    rows = [dict(zip(sheet[0], r, strict=True)) for r in sheet[1:]]
    assert [r["Maturity"] for r in rows[:2]] == [datetime(2031, 7, 15), datetime(2029, 1, 21)]
    assert rows[0]["Market Value"] == pytest.approx(1_000_000.5) and rows[7]["Market Value"] == pytest.approx(3_250_005.75)
    assert [r["Security"] for r in rows[:2]] == ["NL0011223342 Govt", "TURKEY 5 1/4 01/21/29 Govt"]
    assert [r["iso2"] for r in rows[:5]] == ["NL", "TR", None, "IN", None]


@pytest.mark.parametrize("streamed", [False, True])
def test_a_security_string_gives_its_isin_only_when_the_check_digit_passes(desk, tmp_path, monkeypatch, streamed):
    """`Security` first, `Cntry of Risk` after: a word of an ISIN's shape that is none (`GOVTBOND2030`, an ISIN
    with a digit mistyped) passes the row on to the country of risk instead of making it unknown; a valid ISIN
    answers for its issuer whatever the country column says; two valid ISINs in one string name no one."""
    from sovereign import holdings

    monkeypatch.setattr(holdings, "STREAM_CSV_FROM", 0 if streamed else holdings.STREAM_CSV_FROM)
    src, summary = tmp_path / "bloomberg.csv", tmp_path / "s.json"
    src.write_text("Portfolio Holdings Report\n\nSecurity,ID_ISIN,Cntry of Risk,Market Value\n"
                   "GOVTBOND2030 Govt,,NL,100\n"
                   "XS2100000013 Govt,,NL,200\n"  # Turkey's ISIN with its last digit mistyped
                   "xs2100000012 govt,,NL,400\n"
                   "NL0011223342 XS2100000012,,,800\n"
                   "TURKEY 5 1/4 01/21/29 Govt,,TR,1600\n")
    code, _, err = desk("screen", str(src), "-o", str(tmp_path / "out.csv"), "--value-column", "Market Value",
                        "--summary-json", str(summary))
    assert code == 1, err
    _, rows = read_back(tmp_path / "out.csv")
    assert [(r["iso2"], r["verdict"]) for r in rows] == [("NL", "eligible"), ("NL", "eligible"), ("TR", "excluded"),
                                                         ("", "unknown"), ("TR", "excluded")]
    overall = json.loads(summary.read_text())["overall"]
    assert overall["eligible"]["value"] == 300 and overall["excluded"]["value"] == 2000


@pytest.mark.parametrize("suffix", [".xlsx", ".csv", ".parquet"])
def test_book_columns_named_like_ours_in_another_case(desk, tmp_path, suffix):
    src, out = tmp_path / "oms.csv", tmp_path / f"out{suffix}"
    names = ["ISIN", "Country", "Status", "Issuer", "Verdict", "Eligible", "ISO2", "Reason", "Sovereign_Country"]
    src.write_text(",".join(names) + "\nNL0011223342,Netherlands,Settled,NL govt,x,y,NL,r,s\n"
                   "XS2100000012,Turkey,Settled,TR govt,x,y,TR,r,s\n")
    code, _, err = desk("screen", str(src), "-o", str(out), "--column", "ISIN")
    assert code == 1 and err.startswith("Screened 2 rows"), err
    got, rows = read_back(out)
    assert len({n.lower() for n in got}) == len(got) == len(names) + len(OUT_COLUMNS)
    assert got[:len(names)] == names and len(rows) == 2
    assert "sovereign_country_2" in got and rows[1]["sovereign_verdict"] == "excluded" and rows[1]["Verdict"] == "x"


def test_totals_are_not_positions_in_impact_and_pai(desk, tmp_path):
    src = write_csv(tmp_path / "holdings-2026-09-30.csv")
    code, r = desk.json("impact", str(src), "--value-column", "Market Value", "--version",
                        str(_in_force(desk)), "--format", "json")
    assert code == 0 and r["total"]["value"] == pytest.approx(3_250_005.75) and r["summary_rows"] == 4
    code, p = desk.json("pai", str(src), "--value-column", "Market Value", "--format", "json")
    assert code == 0
    snap = p["snapshots"][0]
    assert snap["value"] == pytest.approx(3_250_000.75) and snap["unknown"]["value"] == pytest.approx(5.0)
    assert snap["unknown_share"] == pytest.approx(5.0 / 3_250_005.75)


def test_pai_names_not_free_countries_behind_unknown_identifiers(desk, tmp_path):
    src = tmp_path / "holdings-2026-09-30.csv"
    src.write_text("ISIN,Country,MV\nNL0011223342,Netherlands,100\nXS0000000000,Venezuela,50\n")
    code, out, err = desk("pai", str(src), "--value-column", "MV", "--format", "md")
    assert code == 0, err
    assert "33.3% of the sovereign book could not be judged" in out and "Not Free Venezuela" in out


def test_report_holdings_takes_the_book_options_and_stages_from_the_banners_date(desk, tmp_path):
    from tests.conftest import india_not_free_2027

    code, _, err = desk("import", str(india_not_free_2027(tmp_path)))
    assert code == 0, err
    src = write_csv(tmp_path / "boek.csv", ";", comma=True, encoding="cp1252", newline="\r\n")
    pack = tmp_path / "pack.html"
    code, _, err = desk("report", "-o", str(pack), "--holdings", str(src), "--value-column", "Market Value",
                        "--sep", ";", "--decimal-comma", "--column", "ISIN", "--effective-from", "2027-03-01")
    assert code == 0, err
    summary = pl.read_excel(pack.with_suffix(".xlsx"), sheet_name="Book Summary")
    whole = summary.filter(pl.col("What") == "The whole book")
    assert whole["Value"].item() == pytest.approx(3_250_005.75)  # the totals are not positions
    moving = pl.read_excel(pack.with_suffix(".xlsx"), sheet_name="Book Countries moving")
    assert moving["Country"].to_list() == ["India"] and moving["No new buys from"].to_list() == ["2027-03-01"]
    code, _, err = desk("report", "-o", str(pack), "--sep", ";")
    assert code == 2 and "give --holdings FILE" in err


def _in_force(desk) -> int:
    import sqlite3

    return sqlite3.connect(desk.db).execute(
        "SELECT MAX(id) FROM list_versions WHERE state = 'published'").fetchone()[0]


# ---- the readers' bounds ----

def test_an_xlsx_reaching_the_last_cell_is_refused_before_it_is_read(cli, tmp_path):
    src = tmp_path / "far.xlsx"
    src.write_bytes(far_corner_xlsx(["ISIN"]))
    assert src.stat().st_size < 10_000
    start = time.monotonic()
    code, _, err = cli("screen", str(src))
    assert code == 2 and "reaches row 1,048,576, column 16,384" in err and len(err.strip().splitlines()) == 1
    assert time.monotonic() - start < 5


def test_an_xlsx_whose_zip_understates_its_size_is_counted_as_it_inflates(tmp_path):
    import struct
    import zipfile

    from fiw.errors import UserError
    from sovereign.bounds import Limits, check_xlsx

    src = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"<worksheet>" + b" " * 3_000_000 + b"</worksheet>")
    raw = bytearray(src.read_bytes())
    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # declared size: 100 bytes
        at = raw.find(sig)
        raw[at + offset:at + offset + 4] = struct.pack("<I", 100)
    src.write_bytes(bytes(raw))
    with pytest.raises(UserError, match="more than 1,000,000 bytes"):
        check_xlsx(src, Limits(unpacked=1_000_000))


def test_a_csv_of_a_million_columns_is_refused_at_its_header(cli, tmp_path):
    src = tmp_path / "wide.csv"
    src.write_text("ISIN" + "," * 1_000_000 + "\n")
    start = time.monotonic()
    code, _, err = cli("screen", str(src))
    assert code == 2 and "columns, more than the 1,000 read" in err and time.monotonic() - start < 5


def test_a_long_cell_is_named_by_row_and_column(cli, tmp_path):
    src = tmp_path / "long.csv"
    src.write_text("ISIN,Note\nNL0011223342,ok\nNL0011223342," + "x" * 5000 + "\n")
    code, _, err = cli("screen", str(src))
    assert code == 2 and "row 3, column 'Note': 5,000 characters" in err


def test_a_damaged_parquet_file_is_one_line(cli, tmp_path):
    src = write_parquet(tmp_path / "book.parquet")
    src.write_bytes(src.read_bytes()[:200] + b"\0" * 50 + src.read_bytes()[-60:])
    code, _, err = cli("screen", str(src))
    assert code == 2 and "book.parquet" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_parquet_rows_are_counted_from_its_metadata(tmp_path):
    from fiw.errors import UserError
    from sovereign.bounds import UPLOAD
    from sovereign.holdings import read_book

    src = tmp_path / "many.parquet"
    pl.DataFrame({"ISIN": ["NL0011223342"] * 250_000}).write_parquet(src)
    with pytest.raises(UserError, match="250,000 rows, more than the 200,000"):
        read_book(src, limits=UPLOAD)


def test_uploads_go_through_the_same_bounds(loaded_db, tmp_path):
    from fastapi.testclient import TestClient

    from sovereign.api import create_app
    from sovereign.settings import Settings

    src = write_parquet(tmp_path / "book.parquet")
    damaged = src.read_bytes()[:100] + src.read_bytes()[-40:]
    with TestClient(create_app(Settings.load(db=loaded_db))) as client:
        bad = client.post("/api/v1/screen/file", files={"file": ("b.parquet", damaged, "application/octet-stream")})
        assert bad.status_code == 400 and "Parquet" in bad.json()["detail"]
        wide = client.post("/api/v1/screen/file", files={"file": ("w.csv", b"ISIN" + b"," * 5000 + b"\n", "text/csv")})
        assert wide.status_code == 400 and "more than the 1,000" in wide.json()["detail"]
        book = write_csv(tmp_path / "book.csv").read_bytes()
        rows = client.post("/api/v1/screen/file", files={"file": ("book.csv", book, "text/csv")}).json()
        assert len(rows) == len(ROWS) and all(len({k.lower() for k in r}) == len(r) for r in rows)
        # no value column here: the labelled subtotal, the blank row and the total are known by sight alone
        assert [r["verdict"] for r in rows].count("summary") == 3
        valued = client.post("/api/v1/screen/file", files={"file": ("book.csv", book, "text/csv")},
                             params={"value_column": "market value"}).json()  # as `screen --value-column`: 4
        assert [i for i, r in enumerate(valued) if r["verdict"] == "summary"] == [2, 5, 6, 7]
        missing = client.post("/api/v1/screen/file", files={"file": ("book.csv", book, "text/csv")},
                              params={"value_column": "Marktwaarde"})
        assert missing.status_code == 400 and "the `value_column` parameter 'Marktwaarde'" in missing.json()["detail"]
        zeros = client.post("/api/v1/screen/file", files={"file": ("z.parquet", zeros_parquet(), "application/x-parquet")})
        assert zeros.status_code == 400 and "its rows decode to 1,599,200,000 bytes, more than the 200,000,000" in \
            zeros.json()["detail"]
        packed = client.post("/api/v1/screen/file", files={"file": ("book.csv", packed_csv(), "text/csv")})
        assert packed.status_code == 400 and "compressed (gzip), not a CSV" in packed.json()["detail"]
        long_name = client.post("/api/v1/screen/file", files={"file": ("b." + "x" * 250, book, "text/csv")})  # a suffix
        assert long_name.status_code == 200 and len(long_name.json()) == len(ROWS)
        files = {"file": ("book.csv", book, "text/csv")}
        wrong = client.post("/api/v1/impact/file", files=files, params={"value_column": "Marktwaarde", "edition": 2026})
        assert wrong.status_code == 400 and "the `value_column` parameter" in wrong.json()["detail"]
        assert "--" not in wrong.json()["detail"]  # no option the API lacks


# ---- a property over random books ----

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

OTHER_NAMES = ["Country", "COUNTRY", "country", "Verdict", "verdict", "ELIGIBLE", "iso2", "Iso2", "Reason", "Status",
               "STATUS", "Issuer", "issuer", "Sovereign_Country", "SOVEREIGN_VERDICT", "Edition", "LIST_VERSION",
               "divest_by", "No_New_Buys_From", "Notes"]
POOL = ["NL0011223342", "XS2100000012", "IN0020230010", "NL0011223359", "XS0000000000", "NL", "Turkey"]
piece = st.one_of(
    st.tuples(st.just("row"), st.sampled_from(POOL), st.integers(-10**9, 10**11)),
    st.tuples(st.just("total"), st.sampled_from(["Total", "TOTAAL", "Subtotal", "Grand total", ""]), st.just(0)),
    st.tuples(st.just("blank"), st.just(""), st.just(0)))


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(others=st.lists(st.sampled_from(OTHER_NAMES), max_size=6, unique_by=str.lower),
       pieces=st.lists(piece, min_size=1, max_size=25), sep=st.sampled_from([",", ";"]))
def test_every_output_holds_every_row_and_the_totals_of_the_data_rows(desk, others, pieces, sep):
    import tempfile

    from sovereign import store
    from sovereign.holdings import read_book
    from sovereign.screen import screen_book, write_book

    header = ["ISIN", *others, "MV"]
    lines, data, segment, counted = [header], [], 0, 0
    for kind, text, cents in pieces:
        if kind == "row":
            lines.append([text, *["x"] * len(others), f"{cents / 100:.2f}"])
            data.append(cents)
            segment, counted = segment + cents, counted + 1
        elif kind == "total":  # labelled, or only its value (the sum of the rows since the last total) says so
            lines.append([text or ("" if counted else "Total"), *[""] * len(others), f"{segment / 100:.2f}"])
            segment, counted = 0, 0
        else:
            lines.append(["", *[""] * len(others), ""])
    if not data:
        return
    conn = store.connect_readonly(desk.db)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "book.csv"
        src.write_text("\n".join(sep.join(line) for line in lines) + "\n")
        for suffix in (".xlsx", ".csv", ".parquet"):
            book = read_book(src, ("ISIN",), separator=sep, decimal_comma=False)
            screened = screen_book(conn, book, value="MV")
            out = Path(tmp) / f"out{suffix}"
            write_book(screened, book, out)
            names, rows = read_back(out)
            assert len(rows) == len(lines) - 1
            assert len({n.lower() for n in names}) == len(names) == len(header) + len(OUT_COLUMNS)
            overall = screened.summary()["overall"]
            assert overall["positions"] == len(data)
            assert overall["value"] == pytest.approx(sum(data) / 100, abs=0.01)


def test_screen_counts_eligible_positions_a_published_later_list_excludes(desk, tmp_path):
    from tests.conftest import india_not_free_2027

    assert desk("import", str(india_not_free_2027(tmp_path)))[0] == 0
    code, _, err = desk("publish", "--approved-by", member(desk), "--effective-from", "2099-03-01")
    assert code == 0, err
    src, summary = write_csv(tmp_path / "book.csv"), tmp_path / "s.json"
    code, _, err = desk("screen", str(src), "-o", str(tmp_path / "out.csv"), "--value-column", "Market Value",
                        "--summary-json", str(summary))
    assert "1 eligible position(s) are excluded by a list already published for a later date" in err
    later = json.loads(summary.read_text())["overall"]["eligible_excluded_later"]
    assert later == {"positions": 1, "value": pytest.approx(2_000_000.0)}


@pytest.mark.parametrize("text", [
    "Portefeuille;Uitgevende instelling;Land;Marktwaarde\nA;Staat der Nederlanden;Nederland;1.000,00\n"
    "A;Republiek Turkije;Turkije;250,00\nTotaal;;;1.250,00\n",
    "Portfolio;Emittent;Land des Emittenten;Marktwert\nA;Bund;Niederlande;1.000,00\nA;Türkei;Türkei;250,00\n"
    "Gesamtsumme;;;1.250,00\n",
    "Portefeuille;Émetteur;Pays;Valeur\nA;État néerlandais;Pays-Bas;1 000,00\nA;Turquie;Turquie;250,00\n"
    "Total;;;1 250,00\n"])
def test_dutch_german_and_french_headers(desk, tmp_path, text):
    src = tmp_path / "book.csv"
    src.write_text(text, encoding="utf-8")
    value = text.split("\n")[0].split(";")[-1]
    code, _, err = desk("screen", str(src), "-o", str(tmp_path / "out.csv"), "--value-column", value)
    assert code == 1 and "1 eligible, 1 excluded, 0 unknown" in err and "1 summary row(s)" in err, err
    assert "eligible 1,000.00, excluded 250.00, unknown 0.00 of 1,250.00" in err


def test_parquet_decoded_size_is_read_from_the_footer_as_pyarrow_reads_it(tmp_path):
    from fiw.errors import UserError
    from sovereign.bounds import Limits, check_parquet, parquet_decoded_size

    src = tmp_path / "plain.parquet"
    pq.write_table(pl.DataFrame({"ISIN": [f"NL{i:010d}" + "x" * 300 for i in range(30_000)]}).to_arrow(), src,
                   use_dictionary=False, row_group_size=7_000)
    meta = pq.ParquetFile(src).metadata
    assert parquet_decoded_size(src) == sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    with pytest.raises(UserError, match="decodes to 9,"):
        check_parquet(src, Limits(decoded=1_000_000))
    src.write_bytes(src.read_bytes()[:-40] + b"\xff" * 32 + src.read_bytes()[-8:])
    with pytest.raises(UserError, match="not a readable Parquet file"):
        check_parquet(src, Limits())


def test_an_output_that_does_not_read_back_is_not_put_in_place(desk, tmp_path, monkeypatch):
    from fiw.errors import UserError
    from sovereign import screen as screen_module
    from sovereign import store
    from sovereign.holdings import read_book

    src, out = write_csv(tmp_path / "book.csv"), tmp_path / "out.csv"
    real = screen_module._write_csv
    monkeypatch.setattr(screen_module, "_write_csv", lambda frame, path, book: real(frame.head(-1), path, book))
    book = read_book(src)
    screened = screen_module.screen_book(store.connect_readonly(desk.db), book, value="Market Value")
    with pytest.raises(UserError, match="read back 7 rows and 18 columns, expected 8"):
        screen_module.write_book(screened, book, out)
    assert not out.exists() and not list(tmp_path.glob(".*partial"))


def test_a_lost_row_is_not_hidden_by_a_line_break_inside_a_cell(desk, tmp_path, monkeypatch):
    """A line end inside a quoted cell makes up for a record that went missing: the line ends alone would
    number as many as expected, so a file that quotes a cell is counted by records, never by lines."""
    from fiw.errors import UserError
    from sovereign import screen as screen_module
    from sovereign import store
    from sovereign.holdings import read_book

    src, out = tmp_path / "book.csv", tmp_path / "out.csv"
    src.write_text('ISIN,Note,MV\nNL0011223342,"two\nlines",1\nXS2100000012,plain,2\n')
    real = screen_module._write_csv
    monkeypatch.setattr(screen_module, "_write_csv", lambda frame, path, book: real(frame.head(-1), path, book))
    book = read_book(src)
    screened = screen_module.screen_book(store.connect_readonly(desk.db), book)
    with pytest.raises(UserError, match="read back 1 rows and 14 columns, expected 2"):
        screen_module.write_book(screened, book, out)
    assert not out.exists()


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_an_output_that_lost_its_tail_is_not_put_in_place(desk, tmp_path, monkeypatch, newline):
    """The last record cut short (a disk that filled, a writer that stopped): the records still number as
    many as expected, but the file does not end with its line end, so the last one is not counted."""
    from fiw.errors import UserError
    from sovereign import screen as screen_module
    from sovereign import store
    from sovereign.holdings import read_book

    src, out = write_csv(tmp_path / "book.csv", newline=newline), tmp_path / "out.csv"
    real = screen_module._write_csv

    def cut(frame, path, book):
        real(frame, path, book)
        path.write_bytes(path.read_bytes()[:-1])

    monkeypatch.setattr(screen_module, "_write_csv", cut)
    book = read_book(src)
    screened = screen_module.screen_book(store.connect_readonly(desk.db), book, value="Market Value")
    with pytest.raises(UserError, match="read back 7 rows and 18 columns, expected 8"):
        screen_module.write_book(screened, book, out)
    assert not out.exists() and not list(tmp_path.glob(".*partial"))


def test_a_header_wider_than_the_first_read_comes_back_whole(desk, tmp_path):
    """Long column names (a pipeline's descriptive headers) make a header longer than one read of the file."""
    names = ["ISIN", *(f"{'note ' * 200}{i}" for i in range(80)), "MV"]
    src, out = tmp_path / "book.csv", tmp_path / "out.csv"
    src.write_text(",".join(names) + "\n" + ",".join(["NL0011223342", *"x" * 80, "1"]) + "\n")
    assert src.stat().st_size > 65_536
    code, _, err = desk("screen", str(src), "-o", str(out))
    assert code == 0, err
    got, rows = read_back(out)
    assert got == [*names, *OUT_COLUMNS] and len(rows) == 1


def test_a_streamed_csv_book_keeps_and_marks_its_totals_too(desk, tmp_path, monkeypatch):
    from sovereign import holdings, store
    from sovereign.screen import screen_book, write_book

    monkeypatch.setattr(holdings, "STREAM_CSV_FROM", 0)  # as a file over 1 GB is read: scanned twice, never held
    src, out = write_csv(tmp_path / "book.csv"), tmp_path / "out.csv"
    book = holdings.read_book(src)
    assert book.streamed
    screened = screen_book(store.connect_readonly(desk.db), book, value="Market Value", portfolio="Portfolio")
    write_book(screened, book, out)
    summary = screened.summary()
    assert summary["summary_rows"] == 4 and summary["overall"]["value"] == pytest.approx(3_250_005.75)
    names, rows = read_back(out)
    assert [r["verdict"] for r in rows].count("summary") == 4 and len(rows) == len(ROWS)


def test_the_issuer_register_goes_through_the_same_bounds(desk, tmp_path):
    src = tmp_path / "register.xlsx"
    src.write_bytes(far_corner_xlsx(["issuer", "country", "type", "isins"]))
    code, _, err = desk("issuers", "import", str(src))
    assert code == 2 and "reaches row 1,048,576, column 16,384" in err
    wide = tmp_path / "register.csv"
    wide.write_text("issuer,country,type,isins" + "," * 2_000 + "\n")
    code, _, err = desk("issuers", "import", str(wide))
    assert code == 2 and "more than the 1,000 read" in err


def test_a_cell_with_a_line_break_is_one_record_when_read_back(desk, tmp_path):
    src, out = tmp_path / "book.csv", tmp_path / "out.csv"
    src.write_text('ISIN,Note,MV\nNL0011223342,"two\nlines",1\nXS2100000012,"a ""quoted""\r\nnote",2\n')
    code, _, err = desk("screen", str(src), "-o", str(out))
    assert code == 1, err
    names, rows = read_back(out)
    assert [r["Note"] for r in rows] == ["two\nlines", 'a "quoted"\r\nnote'] and len(rows) == 2


def test_a_total_in_the_country_column_is_a_summary_row(desk, tmp_path):
    src, summary = tmp_path / "book.csv", tmp_path / "s.json"
    src.write_text("Portfolio,Country,MV\nA,Netherlands,100\nA,Turkey,50\nA,Total,150\nB,India,7\n")
    code, _, err = desk("screen", str(src), "-o", str(tmp_path / "o.csv"), "--value-column", "MV",
                        "--summary-json", str(summary))
    assert code == 1 and "1 summary row(s)" in err, err
    assert json.loads(summary.read_text())["overall"]["value"] == pytest.approx(157.0)
    assert "summary row (Total)" in (tmp_path / "o.csv").read_text()


# ---- when a CSV's line ends can stand for its records ----

cell = st.one_of(st.sampled_from(["", "x", "a,b", 'say "hi"', " padded ", "=1+1", "-12.5", "Total"]),
                 st.sampled_from(["two\nlines", "crlf\r\ninside", "cr\ronly", "\n"]))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(cells=st.lists(st.lists(cell, min_size=2, max_size=2), min_size=1, max_size=12),
       title=st.lists(st.sampled_from(["Positions as of 30-11-2026", "Fund A, EUR", '"quoted, title"',
                                       "Fund A\u2028EUR", "Fund A\x0cEUR", "Fund A\rEUR", "Fund A\nEUR"]),
                      max_size=3),
       newline=st.sampled_from(["\n", "\r\n"]), last=st.booleans(), blank=st.booleans(),
       header_note=st.sampled_from(["Note", "Note\n(free text)"]))
def test_a_csv_is_one_line_per_row_only_when_no_cell_holds_a_line_end(cells, title, newline, last, blank,
                                                                      header_note):
    """Written as Excel and OMS exports write CSV (the csv module, quoting only where needed): title rows above the
    header (one pasted with a line separator, form feed or carriage return in it), either line ending, with or
    without a last line end, a blank line, a line end inside a quoted cell or the header. The header is found
    where it is (a title with U+2028 in it put it one line down). Where the book says its lines are its rows, no
    cell or name of what was read holds a line end; where none does and nothing was passed over, it says so
    (the fast read-back is taken)."""
    import csv
    import io
    import tempfile

    from sovereign.holdings import read_book

    text = io.StringIO()
    writer = csv.writer(text, lineterminator=newline)
    writer.writerows([[t] for t in title])
    writer.writerow(["ISIN", header_note])
    rows = [["NL0011223342", *r[:1]] for r in cells]
    writer.writerows(rows[:1])
    if blank:
        text.write(newline)
    writer.writerows(rows[1:])
    data = text.getvalue()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "book.csv"
        src.write_text(data if last else data.removesuffix(newline), newline="")
        book = read_book(src)
        frame = book.frame.collect()
        assert frame.columns == ["ISIN", header_note] and len(rows) <= frame.height <= len(rows) + blank
        breaks = any("\n" in name for name in frame.columns) or any(
            "\n" in (v or "") for column in frame.columns for v in frame[column].cast(pl.String).to_list())
        if book.one_line_per_row():
            assert not breaks
        elif not breaks and not blank:
            raise AssertionError(f"a clean book was not taken as one line per row: {data!r}")


@pytest.mark.parametrize("kind", ["gzip", "zstd", "zlib"])
def test_a_compressed_file_named_csv_is_refused_before_it_is_unpacked(desk, tmp_path, kind):
    """polars unpacks a compressed CSV by itself: every bound (and screen's line count) would be taken from the
    packed bytes. A book and a register, packed by the real tools' libraries, are refused whatever their name,
    with a BOM in front or not."""
    import zlib

    import pyarrow as pa

    plain = b"ISIN,MV\n" + b"NL0011223342,1\n" * 1000
    data = {"gzip": packed_csv(), "zstd": pa.compress(plain, codec="zstd", asbytes=True),
            "zlib": zlib.compress(plain)}[kind]
    for name, body in (("book.csv", data), ("bom.csv", b"\xef\xbb\xbf" + data), ("book.csv.gz", data)):
        src = tmp_path / name
        src.write_bytes(body)
        code, _, err = desk("screen", str(src), "-o", str(tmp_path / "out.csv"))
        assert code == 2 and f"{name}: the file is compressed ({kind}), not a CSV; unpack it first" in err, err
        code, _, err = desk("issuers", "import", str(src))
        assert code == 2 and f"the file is compressed ({kind})" in err, err
    assert not (tmp_path / "out.csv").exists()


def test_a_parquet_file_whose_metadata_understates_its_cells_is_refused_as_they_stream(desk, tmp_path):
    """270 bytes whose dictionary page holds one 200 KB identifier that 20,000 rows repeat: within every bound its
    metadata states. `screen` read it and wrote 4 GB (and held as much); now the cells are measured as they pass,
    in a fraction of a second, before anything is answered or written."""
    import resource

    src, out = tmp_path / "long.parquet", tmp_path / "out.csv"
    src.write_bytes(long_cell_parquet())
    started = time.monotonic()
    code, _, err = desk("screen", str(src), "-o", str(out))
    assert code == 2 and "long.parquet: row 2, column 'isin': 200,000 characters, more than the 1,000 a cell" in err
    assert time.monotonic() - started < 5 and not out.exists()
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 2_000_000  # kB: never near the 4 GB
    code, _, err = desk("issuers", "import", str(src))
    assert code == 2 and "200,000 characters" in err


def test_a_book_rewritten_after_it_was_read_is_asked_cell_by_cell(desk, tmp_path):
    """The line count is taken from the file beside the write, not when it was read: a file changed in between
    (the OMS exporting again) says nothing about the rows in memory, so the cells are asked."""
    from sovereign import screen as screen_module
    from sovereign import store
    from sovereign.holdings import read_book

    src = write_csv(tmp_path / "book.csv")
    book = read_book(src)
    assert book.one_line_per_row()
    screened = screen_module.screen_book(store.connect_readonly(desk.db), book)
    src.write_text(src.read_text() + "NL0011223342,x\n")  # exported again, a row longer
    assert not book.one_line_per_row()
    src.write_bytes(b'ISIN,Note\nNL0011223342,"two\nlines"\n')
    book = read_book(src)
    was = src.stat()
    with src.open("r+b") as f:  # rewritten in place, its line end gone and its time put back (cp -p, rsync -t)
        f.write(src.read_bytes().replace(b"two\nlines", b"two lines"))
    os.utime(src, ns=(was.st_atime_ns, was.st_mtime_ns))
    assert src.stat().st_size == was.st_size and src.stat().st_mtime_ns == was.st_mtime_ns
    assert not book.one_line_per_row()  # the rows in memory still hold "two\nlines"
    src.unlink()
    assert not book.one_line_per_row()
    screen_module.write_book(screened, book, tmp_path / "out.csv")
    assert len(read_back(tmp_path / "out.csv")[1]) == len(ROWS)


# ---- what a second reading as the desk found: never a wrong eligible, never a position dropped ----

def test_a_missing_value_in_a_column_of_codes_is_no_country(desk, tmp_path):
    """R writes NA for a missing ISIN; an OMS exports its position number as `ID`. Neither is a country: NA was
    Namibia and 528 the Netherlands (both eligible) for Turkish and Chinese bonds; the country column answers."""
    src, out = tmp_path / "r.csv", tmp_path / "out.csv"
    src.write_text('"","ISIN","Country","MarketValue"\n"1","NL0011223342","Netherlands",100\n"2",NA,"Turkey",200\n'
                   '"3",no,"China",300\n')
    assert desk("screen", str(src), "-o", str(out))[0] == 1
    assert [(r["iso2"], r["verdict"]) for r in read_back(out)[1]] == [("NL", "eligible"), ("TR", "excluded"),
                                                                     ("CN", "excluded")]
    src.write_text("ID,ISIN,Issuer Country,Market Value\n528,,TR,1000\n840,,CN,2000\n101,XS2100000012,TR,10\n")
    assert desk("screen", str(src), "-o", str(out))[0] == 1
    assert [r["iso2"] for r in read_back(out)[1]] == ["TR", "CN", "TR"]
    src.write_text("ISIN,MV\nNL0011223342,1\nNA,2\n")  # the only column: unknown, not Namibia
    code, _, err = desk("screen", str(src), "-o", str(out))
    assert code == 3 and "1 unknown" in err, err
    assert "'NA' is neither an ISIN nor an LEI" in read_back(out)[1][1]["reason"]


def test_a_workbook_with_more_than_one_sheet_of_positions_names_them(desk, tmp_path):
    """One fund per sheet, or a cover sheet with a country table: the first was screened alone ("all eligible"
    while the second held Turkey). Now the command names the sheets and asks for one."""
    import xlsxwriter

    src = tmp_path / "funds.xlsx"
    with xlsxwriter.Workbook(str(src)) as wb:
        a = wb.add_worksheet("Fund A")
        a.write_row(0, 0, ["ISIN", "Market Value"])
        a.write_row(1, 0, ["NL0011223342", 100])
        b = wb.add_worksheet("Fund B")
        b.write_row(0, 0, ["ISIN", "Market Value"])
        b.write_row(1, 0, ["XS2100000012", 900])
    code, _, err = desk("screen", str(src), "-o", str(tmp_path / "out.csv"))
    assert code == 2 and "the sheets ['Fund A', 'Fund B'] each have an identifier column" in err and "--sheet" in err
    code, _, err = desk("screen", str(src), "--sheet", "fund b", "-o", str(tmp_path / "out.csv"))
    assert code == 1 and "1 excluded" in err, err


def test_a_position_is_not_taken_for_a_total_of_one_row_or_for_its_issuers_name(desk, tmp_path):
    """A new issue without an ISIN yet, for the same nominal as the row above, and issuers whose names start with
    a label word: positions (unknown), never summary rows left out of every count."""
    src, out = tmp_path / "book.csv", tmp_path / "out.csv"
    src.write_text("ISIN,Description,Nominal\nNL0011223342,DSL 0.5 2030,1000000\n"
                   ",TURKEY 5 1/4 01/21/29 (new issue - ISIN pending),1000000\nDE0001101236,BUND 2031,2000000\n")
    code, _, err = desk("screen", str(src), "-o", str(out), "--value-column", "Nominal")
    assert code == 3 and "unknown 1,000,000.00" in err, err
    src.write_text("ISIN,Issuer,Market Value\nNL0011223342,Kingdom of the Netherlands,100\n"
                   ",Total Capital International,250\n,Total Play Telecomunicaciones,80\n,Total,430\n")
    code, _, err = desk("screen", str(src), "-o", str(out), "--value-column", "Market Value")
    assert code == 3, err
    assert [r["verdict"] for r in read_back(out)[1]] == ["eligible", "unknown", "unknown", "summary"]


def test_values_as_accountants_and_parquet_writers_leave_them(desk, tmp_path):
    """Negatives in parentheses, NaN in a float column, a Nordic "Totalt": each was a wrong total (a positive
    1,000, a NaN total with no row said to lack a value, a total counted as a position)."""
    import pyarrow as pa

    src, summary = tmp_path / "book.csv", tmp_path / "s.json"
    src.write_text('ISIN,Market Value\nXS2100000012,"(1,000.00)"\nNL0011223342,"2,500.50"\n')
    assert desk("screen", str(src), "-o", str(tmp_path / "o.csv"), "--value-column", "Market Value",
                "--summary-json", str(summary))[0] == 1
    assert json.loads(summary.read_text())["overall"]["excluded"]["value"] == -1000.0
    src.write_text("ISIN;Marknadsvärde\nXS2100000012;100,50\nNL0011223342;200,25\nTotalt;300,75\n")
    code, _, err = desk("screen", str(src), "-o", str(tmp_path / "o.csv"), "--value-column", "Marknadsvärde",
                        "--summary-json", str(summary))
    assert code == 1 and "1 summary row(s)" in err, err
    assert json.loads(summary.read_text())["overall"]["value"] == pytest.approx(300.75)
    book = tmp_path / "book.parquet"
    pq.write_table(pa.table({"ISIN": ["XS2100000012", "NL0011223342"], "MV": [float("nan"), 5.0]}), book)
    assert desk("screen", str(book), "-o", str(tmp_path / "o.parquet"), "--value-column", "MV",
                "--summary-json", str(summary))[0] == 1
    overall = json.loads(summary.read_text())["overall"]  # valid JSON: no bare NaN
    assert overall["value"] == 5.0 and overall["rows_without_value"] == 1


def test_excel_subtotals_by_country_are_summary_rows(desk, tmp_path):
    """Data > Subtotal grouped on the country column writes "Turkey Total" under each group and "Grand Total" at
    the bottom, in the country column itself: they were unknown positions, and the book's value doubled."""
    src, summary = tmp_path / "book.csv", tmp_path / "s.json"
    src.write_text("Country,ISIN,Market Value\nTurkey,XS2100000012,100\nTurkey,US900123AB18,50\nTurkey Total,,150\n"
                   "Netherlands,NL0011223342,200\nNetherlands Total,,200\nGrand Total,,350\n")
    code, _, err = desk("screen", str(src), "-o", str(tmp_path / "o.csv"), "--value-column", "Market Value",
                        "--summary-json", str(summary))
    assert code == 1 and "3 summary row(s)" in err, err
    overall = json.loads(summary.read_text())["overall"]
    assert overall["positions"] == 3 and overall["value"] == 350.0 and overall["excluded"]["value"] == 150.0


def test_a_book_with_spacer_columns_screens_to_a_workbook(desk, tmp_path):
    """Empty header cells between the columns (an export laid out for reading): the workbook's table names them
    Column2, as Excel does, and the read-back took that for a lost column ("read back 2 rows and 16 columns,
    expected 2 and 16"). A real difference names the column."""
    src, out = tmp_path / "book.csv", tmp_path / "out.xlsx"
    src.write_text("ISIN,,Market Value,,\nNL0011223342,,100,,\nXS2100000012,,200,,\n")
    code, _, err = desk("screen", str(src), "-o", str(out))
    assert code == 1, err
    rows = list(openpyxl.load_workbook(out).worksheets[0].iter_rows(values_only=True))
    assert rows[0][:3] == ("ISIN", "Column2", "Market Value") and [r[0] for r in rows[1:]] == ["NL0011223342",
                                                                                               "XS2100000012"]


def test_a_column_that_reads_back_otherwise_is_named(desk, tmp_path, monkeypatch):
    from fiw.errors import UserError
    from sovereign import screen as screen_module
    from sovereign import store
    from sovereign.holdings import read_book

    src, out = write_csv(tmp_path / "book.csv"), tmp_path / "out.csv"
    real = screen_module._write_csv
    monkeypatch.setattr(screen_module, "_write_csv",
                        lambda frame, path, book: real(frame.rename({"Issuer": "Issuer "}), path, book))
    book = read_book(src)
    screened = screen_module.screen_book(store.connect_readonly(desk.db), book)
    with pytest.raises(UserError, match=r"^out.csv: column 4 read back as 'Issuer ', written as 'Issuer'; nothing"):
        screen_module.write_book(screened, book, out)
    assert not out.exists()


def test_an_uploaded_book_keeps_its_column_of_codes(loaded_db):
    """The child reads the upload, the service answers it: "NA" in an uploaded ISIN column is no Namibia either."""
    from fastapi.testclient import TestClient

    from sovereign.api import create_app
    from sovereign.settings import Settings

    book = b'"ISIN","Country","MV"\n"XS2100000012","Turkey",1\nNA,"Turkey",2\nNA,,3\n'
    with TestClient(create_app(Settings.load(db=loaded_db))) as client:
        rows = client.post("/api/v1/screen/file", files={"file": ("r.csv", book, "text/csv")}).json()
        assert [(r["iso2"], r["verdict"]) for r in rows[1:]] == [("TR", "excluded"), (None, "unknown")]
        single = client.post("/api/v1/screen/file", files={"file": ("r.csv", b"ISIN\nNA\n", "text/csv")}).json()
        assert single[0]["verdict"] == "unknown" and "neither an ISIN nor an LEI" in single[0]["reason"]


def test_decimal_comma_reaches_numbers_a_workbook_holds_as_text(desk, tmp_path):
    """Amounts typed as text in a Dutch workbook ("1.234,56"): `--decimal-comma` was ignored for XLSX, and the
    values came out 1.23, 2,505 and nothing."""
    import xlsxwriter

    src, summary = tmp_path / "boek.xlsx", tmp_path / "s.json"
    with xlsxwriter.Workbook(str(src)) as wb:
        sheet = wb.add_worksheet("Posities")
        sheet.write_row(0, 0, ["ISIN", "Marktwaarde"])
        for r, (isin, value) in enumerate([("XS2100000012", "1.234,56"), ("NL0011223342", "250,5"),
                                           ("IN0020230010", "1.000.000,00")], start=1):
            sheet.write_string(r, 0, isin)
            sheet.write_string(r, 1, value)
    code, _, err = desk("screen", str(src), "-o", str(tmp_path / "o.xlsx"), "--value-column", "Marktwaarde",
                        "--decimal-comma", "--summary-json", str(summary))
    assert code == 1, err
    overall = json.loads(summary.read_text())["overall"]
    assert overall["value"] == pytest.approx(1_001_485.06) and overall["rows_without_value"] == 0
