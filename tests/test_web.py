"""`refresh --source web` against a real HTTP server on 127.0.0.1 serving FH-like pages, with faults."""

from __future__ import annotations

import sqlite3

import pytest

from scrapers.freedomhouse import read_workbook
from tests.conftest import ALL_DATA, Cli, db_fingerprint
from tests.fhsite import FHSite, edition_2027, scores_page

FAST = ["--min-interval", "0", "--timeout", "1", "--user-agent", "sovereign/0.2 (contact: ops@asset-manager.nl)"]


@pytest.fixture(scope="module")
def rows_2027():
    return edition_2027(read_workbook(ALL_DATA))


@pytest.fixture
def site(rows_2027):
    with FHSite() as s:
        s.publish(rows_2027, 2027)
        yield s


def refresh(cli: Cli, site: FHSite, *extra: str):
    return cli("refresh", "--source", "web", "--base-url", site.url, *FAST, *extra)


def test_a_new_edition_is_stored_scored_and_proposed(fresh_db, site):
    cli = Cli(fresh_db)
    code, out, err = refresh(cli, site)
    assert code == 0, err
    assert "new: 2027" in out and "proposed" in out
    conn = sqlite3.connect(fresh_db)
    assert conn.execute("SELECT COUNT(*) FROM scores WHERE edition = 2027").fetchone()[0] == 208
    india = conn.execute("SELECT pr, cl, status_pub, status_calc, pr_rating FROM scores "
                         "WHERE edition = 2027 AND iso2 = 'IN'").fetchone()
    assert india[2] == india[3] == "NF" and india[4] == 7
    source = conn.execute("SELECT kind, uri, sha256, path FROM sources WHERE kind = 'web'").fetchone()
    assert source[1] == site.url + "/countries/freedom-world/scores" and len(source[2]) == 64
    # proposed, not in force: the desk still gets 2026; the diff shows what publishing would do
    code, answers = cli.json("check", "IN", "--json")
    assert answers[0]["edition"] == 2026 and answers[0]["eligible"]
    code, d = cli.json("diff", "--format", "json")
    assert d["to"]["edition"] == 2027 and d["to"]["state"] == "proposed"
    assert [r["iso2"] for r in d["newly_excluded"]] == ["IN"]
    headers = site.log[-1][2]
    assert headers["User-Agent"].startswith("sovereign/") and "contact" in headers["User-Agent"]
    assert site.requests_to("/robots.txt")


def test_unchanged_site_costs_a_304_and_changes_nothing(fresh_db, site):
    cli = Cli(fresh_db)
    assert refresh(cli, site)[0] == 0
    before = db_fingerprint(fresh_db)
    code, out, _ = refresh(cli, site)
    assert code == 0 and "HTTP 304" in out and "nothing changed" in out
    assert "If-None-Match" in site.log[-1][2]
    assert db_fingerprint(fresh_db) == before


def test_a_republished_edition_is_a_revision_with_what_changed(fresh_db, site, rows_2027):
    cli = Cli(fresh_db)
    refresh(cli, site)
    revised = [dict(r) for r in rows_2027]
    ghana = next(r for r in revised if r["fh_name"] == "Ghana")
    ghana["cl"] -= 1
    ghana["total"] -= 1
    site.publish(revised, 2027, details=False)
    code, out, err = refresh(cli, site)
    assert code == 0 and "revised: 2027" in out, err
    changes = sqlite3.connect(fresh_db).execute(
        "SELECT changes FROM edition_revisions WHERE edition = 2027 ORDER BY revision DESC LIMIT 1").fetchone()[0]
    assert '"fh_name": "Ghana"' in changes and '"field": "cl"' in changes


@pytest.mark.slow
def test_with_details_reads_every_country_page_and_resumes(fresh_db, site):
    cli = Cli(fresh_db)
    code, out, err = refresh(cli, site, "--with-details")
    assert code == 0, err
    assert "208 country pages" in out
    conn = sqlite3.connect(fresh_db)
    a1 = conn.execute("SELECT A1, A, pr FROM scores WHERE edition = 2027 AND fh_name = 'Norway'").fetchone()
    assert a1[0] is not None and a1[1] is not None
    pages_before = len(site.requests_to("/country/"))
    assert pages_before == 208
    code, out, err = refresh(cli, site, "--with-details")
    assert code == 0 and len(site.requests_to("/country/")) == pages_before  # taken from the archive


@pytest.mark.slow
def test_a_failing_country_page_is_skipped_and_fetched_again_next_time(fresh_db, site):
    cli = Cli(fresh_db)
    page = "/country/kenya/freedom-world/2027"
    site.faults[page] = ["500"] * 4  # the first try and its three retries
    code, out, err = refresh(cli, site, "--with-details")
    assert code == 0, err  # one page that fails is reported and skipped; the table is stored
    assert "1 country page(s) skipped" in out and "Kenya: " in out and "HTTP 500" in out
    fetched = len(site.requests_to("/country/"))
    code, out, err = refresh(cli, site, "--with-details")
    assert code == 0, err
    again = [p for p in site.requests_to("/country/")[fetched:]]
    assert again == [page]  # only what was not fetched before
    a1 = sqlite3.connect(fresh_db).execute("SELECT A1 FROM scores WHERE edition = 2027 AND fh_name = 'Kenya'").fetchone()
    assert a1[0] is not None


@pytest.mark.slow
def test_a_disagreeing_country_page_is_reported(fresh_db, site, rows_2027):
    from tests.fhsite import country_page, slug

    chile = dict(next(r for r in rows_2027 if r["fh_name"] == "Chile"))
    chile["pr"] -= 1
    chile["A1"] -= 1  # the page adds up; it disagrees with the table
    site.pages[f"/country/{slug('Chile')}/freedom-world/2027"] = ("text/html", country_page(chile, 2027).encode())
    code, out, err = refresh(Cli(fresh_db), site, "--with-details")
    assert code == 0, err
    assert "country page disagrees with the table: Chile pr" in out


def test_polite_interval_between_requests(site):
    """The client's own clock and sleeps, not the server's receive times: nothing here can jitter."""
    from scrapers.http import PoliteClient

    now, slept = [1000.0], []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    client = PoliteClient(user_agent="sovereign-test", min_interval=0.3, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        client.get(site.url + "/countries/freedom-world/scores")
    assert client.requests_made == 4  # robots.txt, then the page three times, all to one host
    assert slept == [pytest.approx(0.3)] * 3
    now[0] += 5  # a caller that took longer than the interval itself is not made to wait again
    client.get(site.url + "/countries/freedom-world/scores")
    assert len(slept) == 3


@pytest.mark.parametrize("faults", [["500"], ["429"], ["slow"], ["reset"], ["500", "429"]])
def test_transient_faults_recover(fresh_db, site, faults):
    site.faults["/countries/freedom-world/scores"] = list(faults)
    code, out, err = refresh(Cli(fresh_db), site)
    assert code == 0, err
    assert "new: 2027" in out


def _fails_cleanly(db, site, expected: str, *extra):
    before = db_fingerprint(db)
    in_force = sqlite3.connect(db).execute("SELECT MAX(id) FROM list_versions WHERE state = 'published'").fetchone()
    code, out, err = refresh(Cli(db), site, *extra)
    assert code == 2, out
    assert "\nerror: " in "\n" + err and expected in err and "Traceback" not in err  # after the fallback's line
    assert db_fingerprint(db) == before
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT MAX(id) FROM list_versions WHERE state = 'published'").fetchone() == in_force
    run = conn.execute("SELECT outcome, message FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    assert run[0] == "failed" and expected in run[1]


SCORES = "/countries/freedom-world/scores"


@pytest.mark.parametrize("fault,expected", [
    (["500"] * 10, "HTTP 500"),
    (["truncate"], "the body was cut off"),
    (["reset"] * 10, "connection failed"),
    (["json"], "expected text/html, got application/json"),
])
def test_persistent_faults_fail_cleanly(fresh_db, site, fault, expected):
    site.faults[SCORES] = fault
    _fails_cleanly(fresh_db, site, expected)


def test_robots_disallow(fresh_db, site):
    site.robots = "User-agent: *\nDisallow: /countries/\n"
    _fails_cleanly(fresh_db, site, "robots.txt of 127.0.0.1")
    assert not site.requests_to(SCORES)


@pytest.mark.parametrize("change,expected", [
    (lambda rows: scores_page(rows, 2027, headers=("Country", "Score", "Political Rights", "Civil Liberties")),
     "the page's layout changed: expected a table with the headers"),
    (lambda rows: scores_page(rows, 2027, headers=("Country", "Total Score and Status", "Political Rights")),
     "the page's layout changed"),
    (lambda rows: scores_page([], 2027), "the scores table has no rows"),
    (lambda rows: scores_page(rows + rows[:2], 2027), "appears more than once in edition 2027"),
    (lambda rows: scores_page(rows[:150], 2027), "only 14"),
    (lambda rows: scores_page([dict(rows[0], fh_name="Atlantis", kind="c")] + rows[1:], 2027),
     "'Atlantis' (country)"),
    (lambda rows: scores_page([dict(rows[3], total=rows[3]["total"] + 5)] + rows[4:], 2027),
     "expected Total = PR + CL"),
])
def test_bad_pages_fail_cleanly(fresh_db, site, rows_2027, change, expected):
    site.pages[SCORES] = ("text/html", change(rows_2027).encode())
    _fails_cleanly(fresh_db, site, expected)


def test_a_suspicious_edition_is_held_not_proposed(fresh_db, site, rows_2027):
    # FH's published status no longer follows from the scores for two countries: the gate holds the list.
    odd = [dict(r, status_pub="NF") if r["fh_name"] in ("Norway", "Sweden") else r for r in rows_2027]
    site.publish(odd, 2027, details=False)
    code, out, err = refresh(Cli(fresh_db), site)
    assert code == 4 and "anomaly gate held the new edition" in err, err
    assert "held" in out and "Norway" in out and "differ from the recomputed one" in out
    code, _, err = Cli(fresh_db)("publish", "--approved-by", "x", "--effective-from", "2099-12-01")
    assert code == 2 and "held" in err and "--accept-held" in err


def test_workbooks_are_found_on_the_data_page_and_read_by_their_sheets(fresh_db, site):
    from tests.conftest import AGGREGATE

    site.pages["/report/freedom-world"] = ("text/html", (
        b'<html><body><a href="/sites/default/files/2025-02/All_data_FIW_2013-2024%20.xlsx">All data</a>'
        b'<a href="/sites/default/files/2024-02/Aggregate_Category_and_Subcategory_Scores_FIW_2003-2024.xlsx">Agg</a>'
        b'<a href="/report/other">not a workbook</a></body></html>'))
    site.pages["/sites/default/files/2025-02/All_data_FIW_2013-2024%20.xlsx"] = (
        "application/octet-stream", ALL_DATA.read_bytes())
    site.pages["/sites/default/files/2024-02/Aggregate_Category_and_Subcategory_Scores_FIW_2003-2024.xlsx"] = (
        "application/octet-stream", AGGREGATE.read_bytes())
    code, out, err = Cli(fresh_db)("refresh", "--source", "workbooks", "--base-url", site.url, *FAST)
    assert code == 0, err
    assert "unchanged: 2013-2025" in out  # the file is named 2013-2024 but holds 2025: the sheet decides
    assert "4 request(s)" in out or "5 request(s)" in out


def test_refresh_from_a_file(fresh_db):
    code, out, err = Cli(fresh_db)("refresh", "--source", str(ALL_DATA))
    assert code == 0 and "unchanged: 2013-2025" in out
    code, _, err = Cli(fresh_db)("refresh", "--source", "nowhere.xlsx")
    assert code == 2 and "expected bundled, web, workbooks or an existing file" in err
