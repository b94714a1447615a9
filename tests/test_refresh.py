"""`refresh`, `verify`, `list`, `check` and `import` through the CLI, on the real bundled data."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sovereign import clock
from tests.conftest import AGGREGATE, ALL_DATA, Cli, db_fingerprint, india_not_free_2027, sheet_frame, write_workbook

FH_COUNTS = {2013: (90, 58, 47), 2024: (83, 56, 56), 2025: (85, 51, 59), 2026: (88, 48, 59)}


def test_refresh_twice_changes_nothing_and_says_so(fresh_db):
    before = db_fingerprint(fresh_db)
    code, out, _ = Cli(fresh_db)("refresh", "--source", "bundled")
    assert code == 0
    assert "Nothing changed: all 53 editions" in out
    assert db_fingerprint(fresh_db) == before
    runs = sqlite3.connect(fresh_db).execute("SELECT outcome FROM runs ORDER BY id").fetchall()
    assert [r[0] for r in runs] == ["ok", "unchanged"]


def test_refresh_summary(tmp_path):
    code, out, _ = Cli(tmp_path / "s.db")("refresh")
    assert code == 0
    assert "53 editions (1973-2026)" in out
    assert "Freedom in the World 2026" in out and "136 countries eligible, 59 excluded" in out
    assert "Verify: OK: 0 mismatch(es) from edition 2004 on" in out


def test_every_row_has_a_source(loaded_db):
    conn = sqlite3.connect(loaded_db)
    for table in ("scores", "editions", "conflicts"):
        orphans = conn.execute(f"SELECT COUNT(*) FROM {table} t LEFT JOIN sources s ON s.id = t.source_id "
                               "WHERE s.id IS NULL").fetchone()[0]
        assert orphans == 0, table
    path, sha = conn.execute("SELECT path, sha256 FROM sources").fetchone()
    import hashlib
    from pathlib import Path

    assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == sha
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_status_counts_match_fh(loaded_db):
    conn = sqlite3.connect(loaded_db)
    for edition, expected in FH_COUNTS.items():
        counts = dict(conn.execute("SELECT status, COUNT(*) FROM scores WHERE edition = ? AND kind = 'c' GROUP BY 1",
                                   [edition]).fetchall())
        assert (counts["F"], counts["PF"], counts["NF"]) == expected
    per = conn.execute("SELECT edition, COUNT(*) FROM scores WHERE kind = 'c' AND edition >= 2013 GROUP BY 1").fetchall()
    assert {n for _, n in per} == {195} and len(per) == 14


def test_one_published_version_per_edition_from_the_day_fh_published_it(loaded_db):
    from sovereign.releases import releases

    conn = sqlite3.connect(loaded_db)
    rows = conn.execute("SELECT edition, effective_from, state FROM list_versions ORDER BY edition").fetchall()
    assert len(rows) == 53 and {state for _, _, state in rows} == {"published"}
    assert {e: eff for e, eff, _ in rows} == {e: r.published.isoformat() for e, r in releases().items()}
    effective = [eff for _, eff, _ in rows]
    assert effective == sorted(effective)  # each edition follows the one before it
    labels = dict(conn.execute("SELECT edition, label FROM editions").fetchall())
    assert all(labels[e] == r.label for e, r in releases().items())  # the table and FH's files agree


def test_verify(cli):
    code, report = cli.json("verify", "--json")
    assert code == 0 and report["ok"]
    assert all(e["errors"] == 0 for e in report["editions"] if e["edition"] >= 2004)
    expected = report["expected"]
    assert sum(1 for r in expected if r["field"] == "status_pub") == 195
    assert (len(report["overlap"]), len(report["exceptions"])) == (181, 16)
    assert {(r["edition"], r["fh_name"]) for r in report["exceptions"] if r["fh_name"] == "Mali"} == {
        (1997, "Mali"), (1998, "Mali"), (1999, "Mali")}
    assert all(r["pr_rating_pub"] + r["cl_rating_pub"] == 11 for r in report["overlap"])
    assert all(r["edition"] < 2004 for r in expected)
    assert {(r["edition"], r["fh_name"]) for r in report["known_errata"]} == {(2005, "Transnistria")}
    code, out, _ = cli("verify")
    assert out.startswith("Verify: OK") and "1997  Mali" not in out  # the verdict; details with -v
    code, out, _ = cli("verify", "-v")
    assert "1997  Mali" in out and "published F" in out


def test_verify_fails_on_a_2004_mismatch(fresh_db):
    conn = sqlite3.connect(fresh_db)
    with conn:
        conn.execute("UPDATE scores SET status_pub = 'PF' WHERE edition = 2025 AND fh_name = 'Thailand'")
    code, report = Cli(fresh_db).json("verify", "--json")
    assert code == 1 and not report["ok"]
    assert [(r["edition"], r["fh_name"], r["published"], r["recomputed"]) for r in report["errors"]] == [
        (2025, "Thailand", "PF", "NF")]


def test_check_turkey_2026(cli):
    code, answers = cli.json("check", "TR", "--edition", "2026", "--json")
    assert code == 1
    tr = answers[0]
    assert (tr["eligible"], tr["status"], tr["pr"], tr["cl"], tr["total"]) == (False, "NF", 16, 16, 32)
    assert (tr["pr_rating"], tr["cl_rating"], tr["iso2"], tr["kind"], tr["edition"]) == (5, 6, "TR", "country", 2026)
    assert "Not Free in Freedom in the World 2026: PR 16/40, CL 16/60" in tr["reasons"][0]
    for key in ("query", "name", "list_version"):
        assert key in tr


def test_check_india_is_untouched_by_indian_kashmir(cli):
    for edition in range(2003, 2027):
        code, answers = cli.json("check", "IN", "Indian Kashmir", "--edition", str(edition), "--json")
        india, kashmir = answers
        assert india["status"] != "NF" and india["eligible"], edition
        assert kashmir["kind"] == "territory" and not kashmir["eligible"]
        assert code == 1
    code, answers = cli.json("check", "IN", "IND", "India", "--edition", "2026", "--json")
    assert code == 0 and {a["status"] for a in answers} == {"PF"}


def test_check_names_and_codes(cli):
    code, answers = cli.json("check", "Czech Republic", "cote d\u2019ivoire", "NAM", "Hong Kong", "--edition", "2026", "--json")
    assert [a["iso2"] for a in answers] == ["CZ", "CI", "NA", "HK"]
    hk = answers[3]
    assert hk["kind"] == "territory" and hk["status"] == "PF" and hk["eligible"]


def test_check_unrated_country_is_not_eligible(cli):
    code, answers = cli.json("check", "GL", "--edition", "2026", "--json")
    assert code == 1 and answers[0]["reasons"] == ["Not rated in Freedom in the World 2026"]


@pytest.mark.parametrize("args,message", [
    (["check", "XX"], "'XX': no country has the ISO code XX"),
    (["check", "Swedn"], "did you mean Sweden?"),
    (["check", "NL", "Narnia"], "'Narnia': no country or territory"),
    (["check", "NL", "--edition", "2002"], "no published list for edition 2002"),
    (["check", "NL", "--as-of", "1960-01-01"], "no list was in force on 1960-01-01: the first took effect on 1973-02-28"),
    (["check", "NL", "--as-of", "2026-13-01"], "that day does not exist: there is no month 13"),
    (["list", "--edition", "1900"], "no published list for edition 1900"),
])
def test_bad_lookups_exit_2_without_traceback(cli, args, message):
    code, out, err = cli(*args)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_check_as_of_across_an_edition_change(cli):
    code, answers = cli.json("check", "TH", "--as-of", "2025-02-25", "--json")
    assert code == 0 and answers[0]["edition"] == 2024
    assert answers[0]["upcoming"]["verdict"] == "excluded" and answers[0]["upcoming"]["divest_by"] == "2025-05-27"
    code, answers = cli.json("check", "TH", "--as-of", "2025-02-26", "--json")
    assert code == 1 and answers[0]["edition"] == 2025 and answers[0]["status"] == "NF"
    assert answers[0]["no_new_buys_from"] == "2025-02-26" and answers[0]["divest_by"] == "2025-05-27"


def test_list_formats(cli):
    code, rows = cli.json("list", "--edition", "2026", "--format", "json")
    assert code == 0 and len(rows) == 208  # FH's 207 entities and Puerto Rico, answered in the US report
    assert {"iso2", "name", "kind", "status", "eligible", "pr", "cl", "total"} <= set(rows[0])
    assert sum(r["eligible"] for r in rows if r["kind"] == "country") == 136
    code, out, _ = cli("list", "--edition", "2026", "--excluded", "--format", "csv")
    lines = out.strip().splitlines()
    assert lines[0].startswith("iso2,name,kind,status,verdict,eligible") and len(lines) == 1 + 59 + 12 - 1
    code, out, _ = cli("list", "--edition", "1990")
    assert "Source: Freedom House, Freedom in the World 1990-91" in out


# ---- import: new editions, revisions, and bad files leave the database exactly as it was ----

def test_import_of_unchanged_fh_files_changes_nothing_but_records_the_payload(fresh_db):
    before = db_fingerprint(fresh_db, skip=("runs", "audit", "sources"))
    code, out, _ = Cli(fresh_db)("import", str(ALL_DATA))
    assert code == 0 and "unchanged: 2013-2025" in out
    assert db_fingerprint(fresh_db, skip=("runs", "audit", "sources")) == before
    sources = sqlite3.connect(fresh_db).execute("SELECT kind, uri FROM sources ORDER BY id").fetchall()
    assert sources == [("bundled", "data/fiw_scores.csv"), ("file", ALL_DATA.name)]
    Cli(fresh_db)("import", str(ALL_DATA))
    assert len(sqlite3.connect(fresh_db).execute("SELECT id FROM sources").fetchall()) == 2


def test_import_a_new_edition_proposes_a_list(fresh_db, tmp_path):
    sheet = sheet_frame(ALL_DATA, "FIW13-25")
    col = sheet.columns[3]
    new = sheet.slice(2).filter(sheet.slice(2)[col] == "2025").with_columns(**{col: __import__("polars").lit("2027")})
    path = write_workbook(tmp_path / "All_data_FIW_2013-2027.xlsx",
                          {"FIW13-27": __import__("polars").concat([sheet.head(2), new])})
    cli = Cli(fresh_db)
    code, out, _ = cli("import", str(path))
    assert code == 0 and "new: 2027" in out and "proposed" in out
    conn = sqlite3.connect(fresh_db)
    assert conn.execute("SELECT COUNT(*) FROM scores WHERE edition = 2027").fetchone()[0] == 208
    # A proposed list is not in force: the desk still gets 2026.
    code, answers = cli.json("check", "NL", "--json")
    assert answers[0]["edition"] == 2026


def _broken_all_data(tmp_path, change):
    import polars as pl

    sheet = sheet_frame(ALL_DATA, "FIW13-25")
    return write_workbook(tmp_path / "All_data_FIW_2013-2025.xlsx", {"FIW13-25": change(sheet, pl)})


@pytest.mark.parametrize("change,message", [
    (lambda s, pl: s.drop(s.columns[11]), "expected column(s) ['B1']"),
    (lambda s, pl: s.with_columns(pl.when(pl.int_range(pl.len()) == 7).then(pl.lit("9")).otherwise(pl.col(s.columns[7]))
                                  .alias(s.columns[7])), "row 8, column 'A1': expected 0 to 4, found 9"),
    (lambda s, pl: pl.concat([s, s.slice(9, 1)]), "appears more than once in edition 2025"),
    (lambda s, pl: s.with_columns(pl.when(pl.int_range(pl.len()) == 2).then(pl.lit("Atlantis")).otherwise(pl.col(s.columns[0]))
                                  .alias(s.columns[0])), "'Atlantis' (territory)"),
])
def test_bad_workbooks_exit_2_and_leave_the_database_as_it_was(fresh_db, tmp_path, change, message):
    path = _broken_all_data(tmp_path, change)
    before = db_fingerprint(fresh_db)
    code, out, err = Cli(fresh_db)("import", str(path))
    assert code == 2, out
    assert message in err and "All_data_FIW_2013-2025.xlsx" in err and "Traceback" not in err
    assert db_fingerprint(fresh_db) == before


def test_not_a_workbook_exit_2(fresh_db, tmp_path):
    path = tmp_path / "Aggregate_Category_and_Subcategory_Scores_FIW_2003-2026.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not really a zip")
    before = db_fingerprint(fresh_db)
    code, _, err = Cli(fresh_db)("import", str(path))
    assert code == 2 and "not an Excel workbook" in err
    assert db_fingerprint(fresh_db) == before


def test_import_of_aggregate_workbook_keeps_richer_data(fresh_db):
    code, out, _ = Cli(fresh_db)("import", str(AGGREGATE))
    assert code == 0
    conn = sqlite3.connect(fresh_db)
    # FIW03-05 has no ratings; the stored 2003-2005 ratings survive.
    assert conn.execute("SELECT COUNT(*) FROM scores WHERE edition = 2004 AND pr_rating_pub IS NULL").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM scores WHERE edition = 2020 AND A1 IS NULL AND kind = 'c'").fetchone()[0] == 0
    code, report = Cli(fresh_db).json("verify", "--json")
    assert code == 0 and {(r["edition"], r["fh_name"]) for r in report["known_errata"]} >= {(2006, "Kosovo"), (2007, "Kosovo")}


def version_1_database(folder: Path) -> Path:
    """A database as the first sovereign made it: the first migration step alone, schema 1."""
    from sovereign import store

    path = folder / "old.db"
    conn = sqlite3.connect(path)
    for statement in store.schema.statements(store.MIGRATIONS[0]):
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    return path


def test_a_version_1_database_is_migrated_in_place(tmp_path):
    from sovereign import store

    db = store.open_db(version_1_database(tmp_path))
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(store.MIGRATIONS)
    assert {"overrides", "issuers", "securities"} <= set(db.table_names())
    db.close()


def test_lookups_on_an_older_schema_say_how_to_migrate(tmp_path):
    code, _, err = Cli(version_1_database(tmp_path))("check", "NL")
    assert code == 2 and "older sovereign (schema 1 of" in err and "to migrate it" in err


def test_an_unwritable_database_folder_is_a_clear_error():
    code, _, err = Cli("/proc/no-such-folder/sovereign.db")("refresh")
    assert code == 2 and "cannot create the database folder /proc/no-such-folder" in err


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("not a database, just notes\n" * 100)
    code, _, err = Cli(path)("check", "NL")
    assert code == 2 and "not a sovereign database" in err
    code, _, err = Cli(tmp_path / "missing.db")("check", "NL")
    assert code == 2 and "run `sovereign refresh --source bundled` first" in err


def test_auto_publish_puts_a_clean_edition_in_force_from_the_day_it_arrives(fresh_db, tmp_path):

    policy = tmp_path / "policy.toml"
    policy.write_text('[base]\nauto_publish = true\n')
    path = india_not_free_2027(tmp_path)
    cli = Cli(fresh_db)
    code, out, err = cli("--policy", str(policy), "import", str(path))
    assert code == 0 and "List version 54 for edition 2027: published." in out, err
    row = sqlite3.connect(fresh_db).execute(
        "SELECT state, approved_by, effective_from FROM list_versions WHERE id = 54").fetchone()
    assert row == ("published", "auto_publish", clock.today().isoformat())
    code, answers = cli.json("check", "IN", "--json")
    assert answers[0]["edition"] == 2027 and answers[0]["verdict"] == "excluded"


def test_a_file_where_the_archive_folder_goes_is_one_line_not_a_traceback(tmp_path):
    (tmp_path / "archive").write_text("not a folder")
    code, out, err = Cli(tmp_path / "sovereign.db")("refresh", "--source", "bundled")
    assert code == 2 and "Traceback" not in err
    assert err.startswith(f"error: cannot keep the raw payload in {tmp_path / 'archive'}")
    assert sqlite3.connect(tmp_path / "sovereign.db").execute("SELECT COUNT(*) FROM scores").fetchone()[0] == 0


def test_a_database_of_a_newer_schema_is_named_by_its_path(fresh_db):
    conn = sqlite3.connect(fresh_db)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    code, _, err = Cli(fresh_db)("override", "add", "IN", "--reason", "x", "--by", "y")
    assert code == 2 and f"{fresh_db} was written by a newer sovereign (schema 99)" in err
