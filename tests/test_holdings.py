"""The desk's book: screened and returned intact, totals by value, the impact of a proposed list, SFDR PAI 16."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from datetime import date

import polars as pl
import pytest

from sovereign import clock
from tests.conftest import india_not_free_2027


@pytest.fixture
def proposed(desk, tmp_path) -> int:
    """2027 = FH's 2026 table with India's political rights collapsed (Not Free): proposed, not in force."""
    path = india_not_free_2027(tmp_path)
    code, out, err = desk("import", str(path))
    assert code == 0 and "proposed" in out, err
    return sqlite3.connect(desk.db).execute("SELECT MAX(id) FROM list_versions WHERE state = 'proposed'").fetchone()[0]


def _xlsx_book(path, title_row: bool = True):
    import xlsxwriter

    with xlsxwriter.Workbook(str(path)) as wb:
        cover = wb.add_worksheet("Cover")
        cover.write(0, 0, "Sovereign book, custody export")
        sheet = wb.add_worksheet("Positions")
        money = wb.add_format({"num_format": "#,##0.00"})
        when = wb.add_format({"num_format": "yyyy-mm-dd"})
        first = 0
        if title_row:
            sheet.write(0, 0, "Positions as of 30 September 2026")
            first = 1
        for c, h in enumerate(["Portfolio", "ISIN", "Issuer Country", "Nominal", "Market Value", "Maturity"]):
            sheet.write(first, c, h)
        rows = [("A", "NL0011223342", "", 25_000_000, 33375318.46, date(2031, 7, 15)),
                ("A", "", "Turkey", 1_000_000, 950000.5, date(2029, 1, 15)),
                ("B", "IN0020230010", "", 2_000_000, 2100000.25, date(2033, 3, 1)),
                ("B", "XS9999999999", "Hungary", 500_000, 499999.99, date(2030, 5, 5))]
        for r, row in enumerate(rows, start=first + 1):
            for c, v in enumerate(row):
                if isinstance(v, date):
                    sheet.write_datetime(r, c, __import__("datetime").datetime(v.year, v.month, v.day), when)
                elif isinstance(v, float):
                    sheet.write_number(r, c, v, money)
                elif isinstance(v, int):
                    sheet.write_number(r, c, v)
                else:
                    sheet.write(r, c, v)


def test_an_xlsx_book_comes_back_intact(desk, tmp_path):
    src, out = tmp_path / "book.xlsx", tmp_path / "screened.xlsx"
    _xlsx_book(src)
    code, _, err = desk("screen", str(src), "-o", str(out), "--value-column", "market value",
                        "--portfolio-column", "PORTFOLIO")
    assert code == 1, err
    assert "sheet 'Positions'" in err and "header on row 2" in err and "on 'ISIN' then 'Issuer Country'" in err
    assert "2 eligible, 1 excluded, 1 unknown (not eligible)" in err
    result = pl.read_excel(out, sheet_name="Positions")
    assert result["Market Value"].dtype == pl.Float64 and result["Market Value"].to_list() == [
        33375318.46, 950000.5, 2100000.25, 499999.99]
    assert result["Nominal"].dtype.is_numeric() and result["Maturity"].dtype in (pl.Date, pl.Datetime)
    assert result["verdict"].to_list() == ["eligible", "excluded", "eligible", "unknown"]  # Turkey by its country
    assert result["country"].to_list()[:3] == ["Netherlands", "Turkey", "India"]
    assert result["issuer"].to_list()[0] == "Kingdom of the Netherlands"
    assert set(result["edition"].to_list()) == {2026} and result["list_version"].null_count() == 0
    parts = zipfile.ZipFile(out)
    sheet = parts.read("xl/worksheets/sheet1.xml").decode()
    assert 'ySplit="1"' in sheet and 'state="frozen"' in sheet and "<cols>" in sheet  # frozen header, widths
    assert "<autoFilter" in parts.read("xl/tables/table1.xml").decode()


def test_a_dutch_csv_with_decimal_commas_is_read_and_totalled(desk, tmp_path):
    src, out, summary = tmp_path / "boek.csv", tmp_path / "uit.csv", tmp_path / "summary.json"
    src.write_text("Portefeuille;ISIN;Marktwaarde\nA;NL0011223342;1.234.567,89\nA;XS2100000012;10.000,01\n"
                   "B;NL0011223359;99,5\nB;XS0000000000;5,00\n", encoding="utf-8")
    code, _, err = desk("screen", str(src), "-o", str(out), "--value-column", "marktwaarde",
                        "--portfolio-column", "portefeuille", "--summary-json", str(summary))
    assert code == 1, err
    text = out.read_text()
    assert text.splitlines()[0].startswith("Portefeuille;ISIN;Marktwaarde;verdict")
    assert ";1.234.567,89;" in text  # the book's own text, exactly
    s = json.loads(summary.read_text())
    assert s["overall"]["eligible"]["value"] == pytest.approx(1234567.89 + 99.5)
    assert s["overall"]["excluded"]["value"] == pytest.approx(10000.01)
    assert s["overall"]["unknown"] == {"positions": 1, "value": pytest.approx(5.0)}
    assert [p["portfolio"] for p in s["by_portfolio"]] == ["A", "B"]
    assert s["by_portfolio"][0]["excluded"] == {"positions": 1, "value": pytest.approx(10000.01)}
    assert "Source: Freedom House" in s["attribution"]


def test_an_oms_export_is_answered_on_every_row(desk, tmp_path):
    src = tmp_path / "oms.csv"
    src.write_text("ISIN,Issuer Country,MV\nNL0011223342,Netherlands,1\n,India,2\n,Turkey,3\n,,4\n")
    code, out, err = desk("screen", str(src), "--column", "isin", "--column", "ISSUER COUNTRY")
    assert code == 1, err
    result = pl.read_csv(__import__("io").StringIO(out))
    assert result["verdict"].to_list() == ["eligible", "eligible", "excluded", "unknown"]
    assert result["Issuer Country"].to_list()[:3] == ["Netherlands", "India", "Turkey"]  # the book's own column


def test_impact_of_a_proposed_list_on_the_book(desk, proposed, tmp_path):
    src = tmp_path / "book.csv"
    src.write_text("portfolio,isin,mv\nA,IN0020230010,100.5\nB,IN0020230010,50\nA,NL0011223342,1000\n"
                   "B,XS2100000012,7\nC,XS0000000000,3\n")
    code, result = desk.json("impact", str(src), "--value-column", "mv", "--portfolio-column", "portfolio",
                             "--format", "json")
    assert code == 0
    assert result["to_version"] == proposed and result["to"]["state"] == "proposed"
    assert result["from_version"] == result["from"]["list_version"] and result["from"]["state"] == "published"
    out = result["newly_excluded"]
    assert out["positions"] == 2 and out["value"] == pytest.approx(150.5)
    assert [c["iso2"] for c in out["countries"]] == ["IN"] and out["countries"][0]["issuers"] == ["Republic of India"]
    assert out["countries"][0]["no_new_buys_from"] == clock.today().isoformat()
    assert result["newly_eligible"] == {"positions": 0, "value": 0.0, "countries": [], "share_of_book": 0.0,
                                        "share_of_sovereign": 0.0}
    assert out["share_of_book"] == pytest.approx(150.5 / 1160.5)  # the move as a share of the whole book
    assert out["share_of_sovereign"] == pytest.approx(150.5 / 1157.5)  # and of what has an issuer country
    assert (result["unknown"]["positions"], result["unknown"]["value"]) == (1, pytest.approx(3.0))
    by = {p["portfolio"]: p for p in result["by_portfolio"]}
    assert (by["A"]["newly_excluded_positions"], by["A"]["newly_excluded_value"]) == (1, pytest.approx(100.5))
    assert (by["B"]["newly_excluded_positions"], by["B"]["newly_excluded_value"]) == (1, pytest.approx(50.0))
    assert by["C"]["newly_excluded_positions"] == 0 and by["C"]["unknown_value"] == pytest.approx(3.0)
    code, md, _ = desk("impact", str(src), "--value-column", "mv", "--format", "md")
    assert "| India (IN) | 2 | 150.50 | Republic of India |" in md and "Source: Freedom House" in md
    xlsx = tmp_path / "impact.xlsx"
    code, _, err = desk("impact", str(src), "--value-column", "mv", "--format", "xlsx", "-o", str(xlsx))
    assert code == 0 and "Newly excluded: 2 position(s), value 150.50" in err
    assert pl.read_excel(xlsx, sheet_name="Countries moving")["Country"].to_list() == ["India"]


def test_impact_needs_a_proposed_list_or_a_version(desk, tmp_path):
    src = tmp_path / "book.csv"
    src.write_text("isin,mv\nNL0011223342,1\n")
    code, _, err = desk("impact", str(src), "--value-column", "mv")
    assert code == 2 and "no proposed list" in err


def test_pai_16_over_four_quarter_ends(desk, tmp_path):
    """NL, Turkey and India held all year, the EIB too (out of scope); the committee excludes India from
    1 June 2026. Turkey is Not Free in both editions the year spans."""
    code, _, err = desk("override", "add", "India", "--reason", "committee decision", "--by", "RI committee",
                        "--from", "2026-06-01", "--backdate-reason", "minutes of 28 May")
    assert code == 0, err
    files = []
    for day in ("2025-12-31", "2026-03-31", "2026-06-30", "2026-09-30"):
        f = tmp_path / f"holdings-{day}.csv"
        f.write_text("isin,mv\nNL0011223342,600\nXS2100000012,100\nIN0020230010,300\nXS1900000016,1000\n")
        files.append(str(f))
    code, r = desk.json("pai", *files, "--value-column", "mv", "--format", "json")
    assert code == 0
    counts = [s["pai16_count"] for s in r["snapshots"]]
    assert counts == [1, 1, 2, 2] and [s["investee_countries"] for s in r["snapshots"]] == [3] * 4
    assert r["pai16_count"] == pytest.approx(1.5) and r["pai16_share"] == pytest.approx(0.5)
    assert [s["edition"] for s in r["snapshots"]] == [2025, 2026, 2026, 2026]
    assert r["snapshots"][0]["supranational"] == {"positions": 1, "value": 1000.0}
    conn = sqlite3.connect(desk.db)
    totals = {iso: t for iso, t in conn.execute("SELECT iso2, total FROM scores WHERE edition = 2026 AND iso2 IN "
                                                "('NL', 'TR', 'IN')")}
    expected = (600 * totals["NL"] + 100 * totals["TR"] + 300 * totals["IN"]) / 1000
    assert r["snapshots"][3]["fh_total_weighted"] == pytest.approx(expected)
    assert r["snapshots"][3]["fh_total_coverage"] == pytest.approx(1.0)
    assert "Supranational issuers are out of scope" in r["methodology"]
    code, md, _ = desk("pai", *files, "--value-column", "mv", "--format", "md")
    assert "PAI 16, investee countries subject to social violations: 1.50 of 3.00 investee countries (50.0%)" in md


def test_pai_by_a_date_column(desk, tmp_path):
    f = tmp_path / "book.csv"
    f.write_text("date,isin,mv\n2026-03-31,XS2100000012,1\n2026-03-31,NL0011223342,1\n2026-09-30,NL0011223342,2\n")
    code, r = desk.json("pai", str(f), "--value-column", "mv", "--date-column", "date", "--format", "json")
    assert code == 0 and [s["date"] for s in r["snapshots"]] == ["2026-03-31", "2026-09-30"]
    assert [s["pai16_share"] for s in r["snapshots"]] == [0.5, 0.0] and r["pai16_share"] == pytest.approx(0.25)
    code, _, err = desk("pai", str(f), "--value-column", "mv")
    assert code == 2 and "no date in the file name" in err


def test_the_committee_report_says_what_a_list_means_for_the_book(desk, proposed, tmp_path):
    src = tmp_path / "book.csv"
    src.write_text("portfolio,isin,mv\nA,IN0020230010,100.5\nB,NL0011223342,1000\n")
    out = tmp_path / "report.html"
    code, _, err = desk("report", "-o", str(out), "--holdings", str(src), "--value-column", "mv",
                        "--portfolio-column", "portfolio")
    assert code == 0, err
    page = out.read_text()
    assert "What it means for our book" in page and "India (IN)" in page and "100.50" in page
    sheets = pl.read_excel(out.with_suffix(".xlsx"), sheet_id=0)
    assert sheets["Book Countries moving"]["Country"].drop_nulls().to_list() == ["India"]
    code, _, err = desk("report", "-o", str(out), "--holdings", str(src))
    assert code == 2 and "--value-column" in err


def test_the_api_serves_the_impact_of_a_proposed_list(desk, proposed):
    from fastapi.testclient import TestClient

    from sovereign.api import create_app
    from sovereign.settings import Settings

    book = b"portfolio,isin,mv\nA,IN0020230010,100.5\nB,IN0020230010,50\nA,NL0011223342,1000\n"
    with TestClient(create_app(Settings.load(db=desk.db))) as client:
        answer = client.post("/api/v1/impact/file", files={"file": ("book.csv", book, "text/csv")},
                             params={"value_column": "mv", "portfolio_column": "portfolio"})
        assert answer.status_code == 200, answer.text
        r = answer.json()
        assert r["to_version"] == proposed and r["newly_excluded"]["value"] == pytest.approx(150.5)
        assert [p["newly_excluded_value"] for p in r["by_portfolio"]] == [pytest.approx(100.5), pytest.approx(50)]
        bad = client.post("/api/v1/impact/file", files={"file": ("book.csv", book, "text/csv")})
        assert bad.status_code == 422 and "value_column" in bad.text  # required by the schema itself


def test_a_title_row_above_a_header_the_desk_names(desk, tmp_path):
    src = tmp_path / "export.csv"
    src.write_text("Custody export 30/09/2026,,\n,,\nAccount,ISIN Code,Value\nA,NL0011223342,1\nA,XS2100000012,2\n")
    code, out, err = desk("screen", str(src), "--column", "isin code")
    assert code == 1 and "header on row 3" in err and "on 'ISIN Code'" in err, err
    assert out.splitlines()[0].startswith("Account,ISIN Code,Value,verdict")


def test_pai_reads_day_first_dates_and_excel_dates(desk, tmp_path):
    import xlsxwriter

    f = tmp_path / "snapshots.csv"
    f.write_text("datum;isin;waarde\n31-03-2026;XS2100000012;1\n31-03-2026;NL0011223342;1\n30-09-2026;NL0011223342;2\n")
    code, r = desk.json("pai", str(f), "--value-column", "waarde", "--date-column", "datum", "--format", "json")
    assert code == 0 and [s["date"] for s in r["snapshots"]] == ["2026-03-31", "2026-09-30"]
    x = tmp_path / "snapshots.xlsx"
    with xlsxwriter.Workbook(str(x)) as wb:
        ws, fmt = wb.add_worksheet("Book"), wb.add_format({"num_format": "yyyy-mm-dd"})
        for c, h in enumerate(["Date", "ISIN", "MV"]):
            ws.write(0, c, h)
        ws.write_datetime(1, 0, __import__("datetime").datetime(2026, 6, 30), fmt)
        ws.write(1, 1, "XS2100000012")
        ws.write_number(1, 2, 5)
    code, r = desk.json("pai", str(x), "--value-column", "mv", "--date-column", "date", "--format", "json")
    assert code == 0 and r["snapshots"][0]["date"] == "2026-06-30" and r["pai16_share"] == 1.0
