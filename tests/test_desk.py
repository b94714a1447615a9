"""The desk's questions: ISINs, LEIs, spellings, mandates, dates, overrides, publishing, screening."""

from __future__ import annotations

import sqlite3

import polars as pl
import pytest

from sovereign import clock
from tests.conftest import db_fingerprint, india_not_free_2027, member


@pytest.mark.parametrize("typed,iso2", [
    ("Türkiye", "TR"), ("Turkiye", "TR"), ("turkey", "TR"), ("Ivory Coast", "CI"), ("DRC", "CD"),
    ("Congo-Kinshasa", "CD"), ("Congo (Brazzaville)", "CG"), ("Czechia", "CZ"), ("Burma", "MM"), ("Swaziland", "SZ"),
    ("South Korea", "KR"), ("USA", "US"), ("UK", "GB"), ("Russian Federation", "RU"), ("nld", "NL"), ("NA", "NA"),
    ("Kosovo", "XK"), ("XKX", "XK"),
])
def test_spellings_people_type(cli, typed, iso2):
    code, answers = cli.json("check", typed, "--edition", "2026", "--json")
    assert answers[0]["iso2"] == iso2


def test_real_countries_2026(cli):
    code, answers = cli.json("check", "NL", "DE", "US", "IN", "MX", "TR", "RU", "CN", "TH", "KW", "VE", "--json")
    eligible = {a["iso2"]: a["eligible"] for a in answers}
    assert eligible == {"NL": True, "DE": True, "US": True, "IN": True, "MX": True, "TR": False, "RU": False,
                        "CN": False, "TH": False, "KW": False, "VE": False}
    assert code == 1


def test_isin_in_register_answers_for_the_issuer_country(desk):
    code, answers = desk.json("check", "XS2100000012", "NL0011223342", "--json")
    tr, nl = answers
    assert tr["iso2"] == "TR" and not tr["eligible"] and tr["issuer"]["name"] == "Republic of Turkiye"
    assert "XS2100000012: issued by Republic of Turkiye (sovereign, TR)" in tr["reasons"][0]
    assert nl["eligible"] and code == 1


def test_isin_not_in_register_is_an_answer_not_an_error(desk):
    code, answers = desk.json("check", "NL0000000008", "--json")
    assert code == 3 and not answers[0]["eligible"] and answers[0]["verdict"] == "unknown"
    assert "not in the issuer register" in answers[0]["reasons"][0]
    assert "prefix NL is the numbering agency's country (Netherlands)" in answers[0]["reasons"][0]
    code, answers = desk.json("check", "XS1234567896", "--json")
    assert "XS is international" in answers[0]["reasons"][0]


def test_bad_checksums_are_errors(desk):
    code, _, err = desk("check", "XS1234567891")
    assert code == 2 and "not a valid ISIN" in err
    code, _, err = desk("check", "NLDSTASMPL0000000056")
    assert code == 2 and "not a valid LEI" in err


def test_lei_and_supranational(desk):
    code, answers = desk.json("check", "NLDSTASMPL0000000055", "XS1900000016", "--json")
    assert answers[0]["iso2"] == "NL" and answers[0]["eligible"]
    assert answers[1]["kind"] == "supranational" and answers[1]["eligible"]
    assert "out of scope of the Freedom House country rule" in answers[1]["reasons"][0]


def test_thailand_either_side_of_the_2025_edition(cli):
    """FH published the 2025 edition on 26 February 2025 (data/releases.csv): not a day before."""
    code, answers = cli.json("check", "Thailand", "--as-of", "2025-02-25", "--json")
    assert code == 0 and answers[0]["edition"] == 2024 and answers[0]["status"] == "PF"
    code, answers = cli.json("check", "Thailand", "--as-of", "2025-02-26", "--json")
    assert code == 1 and answers[0]["edition"] == 2025
    assert answers[0]["no_new_buys_from"] == "2025-02-26"


def test_mandates(cli):
    code, answers = cli.json("check", "IN", "NL", "--mandate", "strict_pf", "--json")
    india, nl = answers
    assert not india["eligible"] and india["mandate"] == "strict_pf" and nl["eligible"]
    assert any("mandate strict_pf: Partly Free" in r for r in india["reasons"])
    code, answers = cli.json("check", "BR", "--mandate", "min_score_60", "--edition", "2026", "--json")
    assert answers[0]["total"] >= 60 and answers[0]["eligible"]
    code, answers = cli.json("check", "MX", "--mandate", "min_score_60", "--edition", "2026", "--json")
    assert not answers[0]["eligible"] and any("below the minimum of 60" in r for r in answers[0]["reasons"])
    code, _, err = cli("check", "NL", "--mandate", "nope")
    assert code == 2 and "unknown mandate 'nope'" in err


def test_overrides_exclude_from_their_dates_and_are_append_only(desk):
    code, out, _ = desk("override", "add", "India", "--reason", "committee decision", "--by", "RI committee",
                        "--from", "2026-06-01", "--until", "2026-08-31", "--backdate-reason", "minutes of 1 June")
    assert code == 0 and "Override 1: India (IN)" in out
    code, answers = desk.json("check", "IN", "--as-of", "2026-07-01", "--json")
    assert not answers[0]["eligible"] and "committee override 1" in answers[0]["reasons"][-1]
    code, answers = desk.json("check", "IN", "--as-of", "2026-05-31", "--json")
    assert answers[0]["eligible"]
    code, answers = desk.json("check", "IN", "--as-of", "2026-07-01", "--mandate", "strict_pf", "--json")
    assert not answers[0]["eligible"]
    code, rows = desk.json("list", "--as-of", "2026-07-01", "--excluded", "--format", "json")
    assert "IN" in {r["iso2"] for r in rows}
    desk("override", "add", "IN", "--reason", "second", "--by", "RI")
    code, out, _ = desk("override", "revoke", "2", "--by", member(desk), "--reason", "decided again")
    assert code == 0
    code, answers = desk.json("check", "IN", "--json")
    assert answers[0]["eligible"]
    conn = sqlite3.connect(desk.db)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM overrides")
    assert conn.execute("SELECT COUNT(*) FROM overrides").fetchone()[0] == 2


@pytest.mark.parametrize("args,message", [
    (["override", "add", "Narnia", "--reason", "x", "--by", "y"], "'Narnia': no country"),
    (["override", "add", "IN", "--reason", "x", "--by", "y", "--from", "2026-02-30"], "February 2026 has 28 days"),
    (["override", "add", "IN", "--reason", "x", "--by", "y", "--from", "2026-05-01", "--until", "2026-04-01"], "is before"),
    (["override", "revoke", "99", "--by", "y", "--reason", "z"], "no override 99"),
    (["override", "revoke", "1", "--by", "y", "--reason", ""], "a revocation needs a reason"),
    (["override", "add", "IN", "--reason", "first\nsecond", "--by", "y"], "an override needs a one-line reason"),
    (["override", "add", "IN", "--reason", "x", "--by", "y", "--from", "2026-01-01"], "give --backdate-reason"),
    (["publish", "--approved-by", "x", "--effective-from", "2099-03-01"], "nothing to publish"),
])
def test_bad_desk_input_exit_2_and_writes_nothing(desk, args, message):
    before = db_fingerprint(desk.db)
    code, _, err = desk(*args)
    assert code == 2 and message in err and "Traceback" not in err
    assert db_fingerprint(desk.db) == before


def test_propose_publish_and_stage_a_new_edition(desk, tmp_path):
    path = india_not_free_2027(tmp_path)
    code, out, err = desk("import", str(path))
    assert code == 0 and "proposed" in out, err
    code, answers = desk.json("check", "IN", "--json")
    assert answers[0]["eligible"] and answers[0]["edition"] == 2026  # proposed is not in force
    code, _, err = desk("publish", "--approved-by", member(desk), "--effective-from", "2025-01-01")
    assert code == 2 and "give --backdate-reason" in err
    code, _, err = desk("publish", "--approved-by", member(desk), "--effective-from", "2025-01-01",
                        "--backdate-reason", "test")
    assert code == 2 and "before the list in force" in err
    code, out, _ = desk("publish", "--approved-by", member(desk), "--effective-from", "2026-11-01",
                        "--backdate-reason", "approved on 1 November, recorded late")
    assert code == 0 and "1 newly excluded" in out
    code, answers = desk.json("check", "IN", "--as-of", "2026-11-02", "--json")
    india = answers[0]
    assert not india["eligible"] and india["edition"] == 2027 and india["status"] == "NF"
    assert (india["no_new_buys_from"], india["divest_by"]) == ("2026-11-01", "2027-01-30")
    code, answers = desk.json("check", "IN", "--as-of", "2026-10-31", "--json")
    assert answers[0]["eligible"] and answers[0]["edition"] == 2026
    row = sqlite3.connect(desk.db).execute("SELECT approved_by, state FROM list_versions ORDER BY id DESC LIMIT 1").fetchone()
    assert row == ("Ria de Boer", "published")


def test_screen_csv_parquet_xlsx(desk, tmp_path):
    rows = pl.DataFrame({
        "portfolio": ["A", "A", "B", "B", "B", "C", "C"],
        "isin": ["NL0011223342", "XS2100000012", "XS1900000016", "XS1234567896", "XS1234567891", None, "HK0000123452"],
        "nominal": [100, 50, 10, 5, 5, 1, 7],
    })
    for suffix, write in ((".csv", rows.write_csv), (".parquet", rows.write_parquet), (".xlsx", rows.write_excel)):
        src = tmp_path / f"holdings{suffix}"
        write(src)
        out = tmp_path / f"out{suffix}"
        code, _, err = desk("screen", str(src), "-o", str(out))
        assert code == 1 and "7 rows" in err and "3 eligible, 1 excluded, 3 unknown (not eligible)" in err
        result = {".csv": pl.read_csv, ".parquet": pl.read_parquet, ".xlsx": pl.read_excel}[suffix](out)
        assert result.columns == ["portfolio", "isin", "nominal", "verdict", "eligible", "iso2", "country", "issuer",
                                  "status", "reason", "no_new_buys_from", "divest_by", "list_version", "edition"]
        assert result["nominal"].dtype.is_integer() and result["nominal"].to_list() == [100, 50, 10, 5, 5, 1, 7]
        assert set(result["list_version"].to_list()) == {result["list_version"][0]} and result["edition"][0] == 2026
        assert result["verdict"].to_list() == ["eligible", "excluded", "eligible", "unknown", "unknown", "unknown",
                                               "eligible"]
        assert result["eligible"].to_list() == [True, False, True, False, False, False, True]
        assert result["iso2"].to_list()[:3] == ["NL", "TR", None]
        reasons = result["reason"].to_list()
        assert "not in the issuer register" in reasons[3] and "not a valid ISIN" in reasons[4]
        assert "no identifier" in reasons[5]


def test_screen_by_country_column_and_mandate(desk, tmp_path):
    src = tmp_path / "h.csv"
    src.write_text("name,country\nx,Netherlands\ny,India\nz,Türkiye\nw,Atlantis\n")
    code, out, err = desk("screen", str(src), "--mandate", "strict_pf")
    result = pl.read_csv(__import__("io").StringIO(out))
    assert result["eligible"].to_list() == [True, False, False, False]
    assert "Screened 4 rows of h.csv on 'country' for mandate strict_pf" in err


@pytest.mark.parametrize("content,args,message", [
    ("isin\nNL0011223342\n", ["-o", "/proc/no-such-folder/out.csv"], "cannot write /proc/no-such-folder/out.csv"),
    ("isin\n", [], "no holdings rows"),
    ("foo,bar\n1,2\n", [], "no identifier column found"),
    ("isin\nNL0011223342\n", ["--column", "ISIN_CODE"], "--column 'ISIN_CODE': no such column"),
])
def test_screen_bad_files(desk, tmp_path, content, args, message):
    src = tmp_path / "h.csv"
    src.write_text(content)
    code, _, err = desk("screen", str(src), *args)
    assert code == 2 and message in err


def test_issuer_register_rejects_bad_rows_and_keeps_the_old_one(desk, tmp_path):
    src = tmp_path / "reg.csv"
    src.write_text("issuer,lei,country,type,isins\nX,NLDSTASMPL0000000056,NL,sovereign,NL0011223342\n"
                   "Y,DEKFWSMPL00000000005,QQ,bank,XS1234567891\n")
    before = db_fingerprint(desk.db)
    code, _, err = desk("issuers", "import", str(src))
    assert code == 2
    assert "line 2, column 'lei'" in err and "line 3, column 'type'" in err and "line 3, column 'country'" in err
    assert "line 3, column 'isins': 'XS1234567891' is not a valid ISIN" in err
    assert db_fingerprint(desk.db) == before


def test_history(cli):
    code, rows = cli.json("history", "Thailand", "--json")
    by = {r["edition"]: r for r in rows}
    assert by[2024]["eligible"] and not by[2025]["eligible"] and by[2025]["status"] == "NF"
    assert len(rows) == 53
    code, out, _ = cli("history", "Mali")
    assert "1997  1997-98   effective 1998-01-31  F " in out  # FH's label; its published status stands before 2004


def test_check_stays_light(loaded_db):
    """The desk's `check` must start fast: none of the heavy libraries may load on its path."""
    import subprocess
    import sys

    code = ("import sys\nfrom sovereign.cli import main\n"
            f"try:\n    main(['--db', {str(loaded_db)!r}, 'check', 'NL'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('polars', 'sqlite_utils', 'numpy', 'fastapi', 'pycountry', 'matplotlib') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_a_committee_exclusion_of_a_parent_reaches_the_place_fh_covers_in_its_report(fresh_db, tmp_path):
    """Puerto Rico is answered from FH's United States report since 2017: an override on the US excludes it too,
    in check and in screen, never an eligible Puerto Rico beside an excluded United States."""
    from datetime import timedelta

    from tests.conftest import Cli

    cli = Cli(fresh_db)
    start, day = (clock.today() + timedelta(days=1)).isoformat(), (clock.today() + timedelta(days=2)).isoformat()
    assert cli("override", "add", "US", "--reason", "test", "--by", "RI committee", "--from", start)[0] == 0
    code, answers = cli.json("check", "PR", "Puerto Rico", "US", "--as-of", day, "--json")
    assert [a["verdict"] for a in answers] == ["excluded"] * 3
    assert all(a["by_committee"] for a in answers) and "override" in answers[0]["reasons"][-1]
    book = tmp_path / "book.csv"
    book.write_text("Country,Market Value\nPuerto Rico,100\nUnited States,200\n", encoding="utf-8")
    out = tmp_path / "screened.csv"
    assert cli("screen", str(book), "--as-of", day, "-o", str(out))[0] in (0, 1)
    assert pl.read_csv(out)["verdict"].to_list() == ["excluded", "excluded"]
