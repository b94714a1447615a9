"""Release day against the site as FIW.md 4a describes 2026: both scores pages, hub links, country pages as
printed, labels that run ahead of or behind the numbers, corrections, and a client that stays polite."""

from __future__ import annotations

import sqlite3

import polars as pl
import pytest

from scrapers.freedomhouse import read_workbook
from sovereign import clock
from tests.conftest import ALL_DATA, Cli, db_fingerprint, member
from tests.fhsite import FHSite, edition_2027, live_scores_page, slug

FAST = ["--min-interval", "0", "--timeout", "1"]
SCORES = "/countries/freedom-world/scores"


@pytest.fixture(scope="module")
def all_data():
    return read_workbook(ALL_DATA)


@pytest.fixture(scope="module")
def rows_2027(all_data):
    return edition_2027(all_data)


@pytest.fixture
def site():
    with FHSite() as s:
        yield s


def refresh(db, site: FHSite, *extra: str):
    return Cli(db)("refresh", "--source", "web", "--base-url", site.url, *FAST, *extra)


def stored(db, edition: int) -> dict[str, tuple]:
    rows = sqlite3.connect(db).execute("SELECT fh_name, kind, total, status_pub FROM scores WHERE edition = ?",
                                       [edition]).fetchall()
    return {r[0]: r[1:] for r in rows}


def expected(rows: list[dict]) -> dict[str, tuple]:
    return {r["fh_name"]: (r["kind"], r["total"], r["status_pub"]) for r in rows}


def in_force(db) -> tuple:
    return sqlite3.connect(db).execute(
        "SELECT MAX(id), MAX(effective_from) FROM list_versions WHERE state = 'published'").fetchone()


@pytest.mark.parametrize("territories", ["star", "label", "table"])
def test_the_live_scores_page_stores_all_208_entities(fresh_db, site, rows_2027, territories):
    site.publish_live(rows_2027, 2027, details=False, territories=territories)
    code, out, err = refresh(fresh_db, site)
    assert code == 0, err
    assert "new: 2027" in out and "Edition 2027, named by: country links" in out
    got = stored(fresh_db, 2027)
    assert got == expected(rows_2027)  # names through entities and &nbsp;, 13 territories, statuses as FH printed
    assert sum(1 for v in got.values() if v[0] == "t") == 13
    assert min(v[1] for v in got.values()) < 0  # Russian-Occupied Territories of Ukraine
    assert not site.requests_to("/country/scores")


def test_the_combined_page_with_hub_links(fresh_db, site, rows_2027):
    """The configured page is gone (404); `/country/scores` links names to hubs: three hubs name the edition."""
    site.publish_live(rows_2027, 2027, page="combined", details=False, not_covered=("Bermuda",))
    code, out, err = refresh(fresh_db, site)
    assert code == 0, err
    assert "new: 2027" in out and "country hub pages" in out
    assert "1 row(s) say FH's Freedom in the World does not cover them, skipped: Bermuda" in out
    assert stored(fresh_db, 2027) == expected(rows_2027)
    hubs = [p for p in site.requests_to("/country/") if p.count("/") == 2 and p != "/country/scores"]
    assert 1 <= len(hubs) <= 3
    conn = sqlite3.connect(fresh_db)
    assert conn.execute("SELECT uri FROM sources WHERE kind = 'web' ORDER BY id DESC").fetchone()[0].endswith(
        "/country/scores")
    code, d = Cli(fresh_db).json("diff", "--format", "json")
    assert [r["iso2"] for r in d["newly_excluded"]] == ["IN"]


def test_hub_pages_that_disagree_stop_the_run(fresh_db, site, rows_2027):
    from tests.fhsite import hub_page

    site.publish_live(rows_2027, 2027, page="combined", details=False)
    for r in rows_2027[len(rows_2027) // 2:]:
        site.pages[f"/country/{slug(r['fh_name'])}"] = ("text/html", hub_page(r["fh_name"], 2026).encode())
    before = db_fingerprint(fresh_db)
    code, out, err = refresh(fresh_db, site)
    assert code == 2 and "country hub pages name several editions" in err
    assert db_fingerprint(fresh_db) == before


@pytest.mark.slow
def test_country_pages_as_printed(fresh_db, site, rows_2027):
    site.publish_live(rows_2027, 2027)
    code, out, err = refresh(fresh_db, site, "--with-details")
    assert code == 0, err
    assert "208 country pages" in out and "disagrees" not in out and "skipped" not in out
    conn = sqlite3.connect(fresh_db)
    by_name = {r["fh_name"]: r for r in rows_2027}
    for name, a1, g4, add_q in conn.execute("SELECT fh_name, A1, G4, add_q FROM scores WHERE edition = 2027"):
        assert (a1, g4, add_q or 0) == (by_name[name]["A1"], by_name[name]["G4"], by_name[name]["add_q"] or 0), name
    assert conn.execute("SELECT COUNT(*) FROM scores WHERE edition = 2027 AND add_q > 0").fetchone()[0] >= 1


@pytest.mark.slow
def test_the_combined_page_takes_pr_and_cl_from_the_country_pages(fresh_db, site, rows_2027):
    site.publish_live(rows_2027, 2027, page="combined", pr_cl=False)  # a layout that prints only the total
    code, out, err = refresh(fresh_db, site, "--with-details")
    assert code == 0, err
    pr = dict(sqlite3.connect(fresh_db).execute("SELECT fh_name, pr FROM scores WHERE edition = 2027"))
    assert pr == {r["fh_name"]: r["pr"] for r in rows_2027}


@pytest.mark.slow
def test_a_misread_country_page_is_skipped_and_the_table_stored(fresh_db, site, rows_2027):
    site.publish_live(rows_2027, 2027)
    site.pages["/country/norway/freedom-world/2027"] = ("text/html", b"<html><body>We are updating this page</body></html>")
    code, out, err = refresh(fresh_db, site, "--with-details")
    assert code == 0, err
    assert "1 country page(s) skipped" in out and "Norway: " in out and "layout changed" in out
    assert len(stored(fresh_db, 2027)) == 208


def test_links_a_year_ahead_over_last_years_numbers_never_propose_a_list(fresh_db, site, rows_2027):
    conn = sqlite3.connect(fresh_db)
    cols = ("fh_name", "kind", "total", "status_pub", "pr", "cl")
    rows_2026 = [dict(zip(cols, r, strict=True))
                 for r in conn.execute(f"SELECT {', '.join(cols)} FROM scores WHERE edition = 2026")]
    before = in_force(fresh_db)
    site.publish_live(rows_2026, 2027, details=False)
    code, out, err = refresh(fresh_db, site)
    assert code == 4, (out, err)
    assert "HELD, not stored" in out and "equal the stored edition 2026" in err
    assert not stored(fresh_db, 2027)
    assert conn.execute("SELECT COUNT(*) FROM list_versions WHERE edition = 2027").fetchone()[0] == 0
    assert in_force(fresh_db) == before
    run = conn.execute("SELECT outcome, message FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    assert run[0] == "held" and "2026" in run[1]
    # the real 2027 arrives: it is stored, proposed and, once published, in force with India excluded
    site.publish_live(rows_2027, 2027, details=False)
    code, out, err = refresh(fresh_db, site)
    assert code == 0 and "new: 2027" in out, err
    today = clock.today().isoformat()
    code, out, err = Cli(fresh_db)("publish", "--approved-by", member(Cli(fresh_db)), "--effective-from", today)
    assert code == 0, err
    code, answers = Cli(fresh_db).json("check", "IN", "--json")
    assert answers[0]["edition"] == 2027 and answers[0]["verdict"] == "excluded"


def test_links_a_year_behind_over_new_numbers_are_held_not_compared(fresh_db, site, rows_2027):
    before = stored(fresh_db, 2026)
    versions = sqlite3.connect(fresh_db).execute("SELECT COUNT(*) FROM list_versions").fetchone()
    site.publish_live([dict(r, edition=2026) for r in rows_2027], 2026, details=False)
    code, out, err = refresh(fresh_db, site)
    assert code == 4, (out, err)
    assert "suspected mislabel" in err and "not stored" in err
    assert stored(fresh_db, 2026) == before
    assert sqlite3.connect(fresh_db).execute("SELECT COUNT(*) FROM list_versions").fetchone() == versions


def test_a_heading_that_names_another_edition_stops_the_run(fresh_db, site, rows_2027):
    site.pages[SCORES] = ("text/html", live_scores_page(rows_2027, 2027, heading=2026).encode())
    code, out, err = refresh(fresh_db, site)
    assert code == 2
    assert "the signals for the edition disagree: country links say 2027; page heading say 2026" in err


def _wrong_first_load(rows_2027: list[dict], all_data: pl.DataFrame) -> list[dict]:
    """2027 as first published, before FH corrected India (still Partly Free)."""
    india_2025 = all_data.filter((pl.col("edition") == 2025) & (pl.col("fh_name") == "India")).to_dicts()[0]
    return [dict(india_2025, edition=2027) if r["fh_name"] == "India" else r for r in rows_2027]


@pytest.mark.slow
def test_a_correction_replaces_the_proposed_list(fresh_db, site, rows_2027, all_data):
    conn = sqlite3.connect(fresh_db)
    site.publish_live(_wrong_first_load(rows_2027, all_data), 2027, details=False)
    assert refresh(fresh_db, site)[0] == 0
    first = conn.execute("SELECT id FROM list_versions WHERE edition = 2027 AND state = 'proposed'").fetchone()[0]
    site.publish_live(rows_2027, 2027, details=False)
    code, out, err = refresh(fresh_db, site)
    assert code == 0, err
    assert "revised: 2027" in out and "revision of edition 2027: 1 entities changed, 1 eligibility change" in out
    assert f"It replaces version {first} (proposed, now withdrawn); eligibility changes: IN" in out
    assert conn.execute("SELECT reason FROM withdrawals WHERE version_id = ?", [first]).fetchone()[0].startswith(
        "replaced by list version")
    code, out, err = Cli(fresh_db)("publish", "--approved-by", member(Cli(fresh_db)), "--effective-from",
                                   clock.today().isoformat())
    assert code == 0, err
    code, answers = Cli(fresh_db).json("check", "IN", "--json")
    assert answers[0]["verdict"] == "excluded" and answers[0]["list_version"] != first
    code, out, _ = Cli(fresh_db)("verify")
    assert code == 0 and out.startswith("Verify: OK")


@pytest.mark.slow
def test_a_correction_after_publication_proposes_a_revision_and_verify_checks_the_lists(fresh_db, site, rows_2027,
                                                                                         all_data):
    conn = sqlite3.connect(fresh_db)
    site.publish_live(_wrong_first_load(rows_2027, all_data), 2027, details=False)
    assert refresh(fresh_db, site)[0] == 0
    today = clock.today().isoformat()
    assert Cli(fresh_db)("publish", "--approved-by", member(Cli(fresh_db)), "--effective-from", today)[0] == 0
    published = in_force(fresh_db)[0]
    site.publish_live(rows_2027, 2027, details=False)
    code, out, err = refresh(fresh_db, site)
    assert code == 0, err
    assert "proposed. Why: revision of edition 2027: 1 entities changed, 1 eligibility change" in out
    assert "stays as recorded until the new one is published" in out
    assert in_force(fresh_db)[0] == published  # the desk's list is never edited; the committee decides
    revised = conn.execute("SELECT MAX(id) FROM list_versions WHERE state = 'proposed'").fetchone()[0]
    code, out, _ = Cli(fresh_db)("verify")  # the list in force no longer agrees with its corrected edition
    assert code == 1, out
    assert (f"list version {published} (published, in force) does not agree with the stored scores of edition 2027 "
            f"(IND): FH's correction is in list version {revised} (proposed), not yet published") in out
    assert Cli(fresh_db)("publish", "--approved-by", member(Cli(fresh_db)), "--effective-from", today)[0] == 0
    code, out, _ = Cli(fresh_db)("verify")
    assert code == 0, out
    # a list whose scores changed under it, outside any refresh, is caught
    conn.execute("UPDATE scores SET status = 'F', status_pub = 'F', status_calc = 'F' WHERE edition = 2027 AND "
                 "fh_name = 'China'")
    conn.commit()
    code, out, _ = Cli(fresh_db)("verify")
    assert code == 1 and "does not agree with the stored scores of edition 2027 (CHN)" in out


def test_a_gate_held_revision_stays_held(fresh_db, site, rows_2027):
    site.publish_live(rows_2027, 2027, details=False)
    assert refresh(fresh_db, site)[0] == 0
    odd = [dict(r, status_pub="NF") if r["fh_name"] in ("Norway", "Sweden") else r for r in rows_2027]
    site.publish_live(odd, 2027, details=False)
    code, out, err = refresh(fresh_db, site)
    assert code == 4 and "held. Held because: revision of edition 2027" in out and "Norway" in out


# ---- the polite client ----------------------------------------------------------------------------------------

def _client(**kw):
    from scrapers.http import PoliteClient

    now, slept = [1000.0], []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    return PoliteClient(user_agent="sovereign-test", clock=lambda: now[0], sleep=sleep, **kw), slept


def test_crawl_delay_is_honoured_when_longer_than_ours(site):
    site.pages[SCORES] = ("text/html", b"<html></html>")
    site.robots = "User-agent: *\nCrawl-delay: 7\nAllow: /\n"
    client, slept = _client(min_interval=1.0)
    for _ in range(3):
        client.get(site.url + SCORES)
    assert slept == [pytest.approx(7.0)] * 3


def test_redirects_are_followed_to_a_host_whose_robots_txt_is_asked(site, rows_2027):
    from scrapers.http import FetchError

    with FHSite() as other:
        other.pages[SCORES] = ("text/html", b"<html>moved</html>")
        site.redirects[SCORES] = other.url + SCORES
        client, _ = _client(min_interval=0)
        got = client.get(site.url + SCORES)
        assert got.url == other.url + SCORES and got.content == b"<html>moved</html>"  # the final URL is recorded
        assert other.requests_to("/robots.txt")
        other.robots = "User-agent: *\nDisallow: /\n"
        client, _ = _client(min_interval=0)
        with pytest.raises(FetchError, match="robots.txt of 127.0.0.1:.* disallows it .*redirected from"):
            client.get(site.url + SCORES)


def test_a_trickling_server_is_cut_off_at_the_deadline(site, rows_2027):
    from scrapers.http import FetchError

    site.pages[SCORES] = ("text/html", live_scores_page(rows_2027, 2027).encode())
    site.faults[SCORES] = ["trickle"]
    client, _ = _client(min_interval=0, deadline=1.0, retries=0)
    with pytest.raises(FetchError, match="still receiving after 1 s"):
        client.get(site.url + SCORES)


@pytest.mark.slow
def test_a_read_timeout_is_called_one(fresh_db, site, rows_2027):
    site.publish_live(rows_2027, 2027, details=False)
    site.faults[SCORES] = ["slow"] * 10
    code, out, err = refresh(fresh_db, site)
    assert code == 2 and "no answer within 1 s (read timeout)" in err and "connection failed" not in err


@pytest.mark.parametrize("fault", ["cf403", "cf200"])
def test_a_bot_challenge_is_named(fresh_db, site, rows_2027, fault):
    site.publish_live(rows_2027, 2027, details=False)
    site.faults[SCORES] = [fault]
    site.faults["/country/scores"] = [fault]
    before = db_fingerprint(fresh_db)
    code, out, err = refresh(fresh_db, site)
    assert code == 2 and "blocked by a bot challenge" in err and "layout changed" not in err
    assert db_fingerprint(fresh_db) == before


def test_the_configured_user_agent_reaches_the_scheduler(fresh_db, site, rows_2027):
    from sovereign.schedule import poll
    from sovereign.settings import Settings

    site.publish_live(rows_2027, 2027, details=False)
    agent = "sovereign/0.1 (bond desk; contact: ops@asset-manager.example)"
    settings = Settings.load(db=fresh_db, base_url=site.url, user_agent=agent, min_interval=0, timeout=1,
                             reports=fresh_db.parent / "reports")
    assert poll(settings)["outcome"] == "new edition"
    assert {h["User-Agent"] for _, _, h in site.log} == {agent}


# ---- workbooks on the data page -------------------------------------------------------------------------------

def _workbook(sheet: str) -> bytes:
    import io

    buf = io.BytesIO()
    pl.DataFrame({"Country": ["Norway"], "Electoral democracy": ["Yes"]}).write_excel(buf, worksheet=sheet)
    return buf.getvalue()


def test_workbooks_that_are_not_score_files_and_links_to_a_request_form_are_noted(fresh_db, site):
    site.pages["/report/freedom-world"] = ("text/html", (
        b'<html><body><a href="/sites/default/files/2026-02/List_of_Electoral_Democracies_FIW26.xlsx">ED</a>'
        b'<a href="/sites/default/files/2026-02/All_data_FIW_2013-2026.xlsx">All data</a>'
        b'<a href="/sites/default/files/2025-02/All_data_FIW_2013-2024.xlsx">All data</a></body></html>'))
    site.pages["/sites/default/files/2026-02/List_of_Electoral_Democracies_FIW26.xlsx"] = (
        "application/octet-stream", _workbook("Electoral Democracies"))
    site.redirects["/sites/default/files/2026-02/All_data_FIW_2013-2026.xlsx"] = "/data-request"
    site.pages["/data-request"] = ("text/html", b"<html><body><form>Request the data</form></body></html>")
    site.pages["/sites/default/files/2025-02/All_data_FIW_2013-2024.xlsx"] = ("application/octet-stream",
                                                                             ALL_DATA.read_bytes())
    code, out, err = Cli(fresh_db)("refresh", "--source", "workbooks", "--base-url", site.url, *FAST)
    assert code == 0, err
    assert "unchanged: 2013-2025" in out
    assert "List_of_Electoral_Democracies_FIW26.xlsx: not a Freedom in the World score workbook" in out
    assert "All_data_FIW_2013-2026.xlsx: answered a web page" in out and "data is on request" in out


def test_a_data_page_with_no_score_workbooks_says_to_import_by_hand(fresh_db, site):
    site.pages["/report/freedom-world"] = ("text/html", b"<html><body><p>Data available on request.</p></body></html>")
    code, out, err = Cli(fresh_db)("refresh", "--source", "workbooks", "--base-url", site.url, *FAST)
    assert code == 2 and "sovereign import FILE" in err and "Traceback" not in err


def test_the_scheduler_announces_a_held_table(fresh_db, site, rows_2027, tmp_path):
    """Links a year behind over new numbers: nothing stored, and operations hear of it."""
    from sovereign.schedule import poll
    from sovereign.settings import Settings

    site.publish_live([dict(r, edition=2026) for r in rows_2027], 2026, details=False)
    notices = tmp_path / "notices.txt"
    settings = Settings.load(db=fresh_db, base_url=site.url, min_interval=0, timeout=1, reports=tmp_path / "reports",
                             notify_command=f"echo \"$SOVEREIGN_MESSAGE\" >> {notices}")
    assert poll(settings)["outcome"] == "held"
    text = notices.read_text()
    assert "HELD" in text and "suspected mislabel" in text and "the list in force stays in force" in text


def test_a_promotion_naming_an_older_report_is_not_an_edition_signal(rows_2027):
    from scrapers.freedomhouse.scores_page import parse_scores_page

    html = live_scores_page(rows_2027, 2027).replace(
        "<body>", "<body><aside><h2>Freedom in the World 2025: The Uphill Battle</h2></aside>")
    page = parse_scores_page(html, "https://freedomhouse.org/countries/freedom-world/scores")
    assert page.edition == 2027 and page.signals == {"country links": 2027}
    assert page.frame.height == 208


def test_health_is_not_ok_after_a_held_table(fresh_db, site, rows_2027, monkeypatch):
    from fastapi.testclient import TestClient

    from sovereign.api import create_app
    from sovereign.settings import Settings

    site.publish_live([dict(r, edition=2026) for r in rows_2027], 2026, details=False)
    assert refresh(fresh_db, site)[0] == 4
    with TestClient(create_app(Settings.load(db=fresh_db))) as client:
        answer = client.get("/health")
        assert answer.status_code == 503 and answer.json()["status"] == "not ok"
        monkeypatch.setenv("SOVEREIGN_ADMIN_TOKEN", "s3cret")
        assert "sovereign_last_run_ok 0.0" in client.get("/metrics", headers={"Authorization": "Bearer s3cret"}).text


@pytest.mark.parametrize("headers", [
    ("Country or Territory", "Global Freedom Score", "Internet Freedom Score", "Democracy Percentage"),
    ("Country", "Total Score and Status (out of 100)", "Political Rights (0-40)", "Civil Liberties (0-60)"),
])
def test_header_words_around_the_known_ones(rows_2027, headers):
    from scrapers.freedomhouse.scores_page import read_table
    from tests.fhsite import _total_cell

    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join(
        f'<tr><td><a href="/country/{slug(r["fh_name"])}/freedom-world/2027">{r["fh_name"]}</a></td>'
        f'{_total_cell(r, "#")}<td>{r["pr"] if "Political" in headers[2] else "Not covered"}</td>'
        f'<td>{r["cl"] if "Civil" in headers[3] else "Not covered"}</td></tr>' for r in rows_2027[:5])
    table = read_table(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>", "x")
    assert [r["total"] for r in table.records] == [str(r["total"]) for r in rows_2027[:5]]
    assert (table.records[0]["pr"] is None) == ("Political" not in headers[2])


def test_a_tab_of_internet_freedom_scores_beside_the_fiw_table_is_not_read(fresh_db, site, rows_2027):
    html = live_scores_page(rows_2027, 2027).replace("</body>", (
        '<div id="block-fotn-scores"><h2>Internet Freedom Scores</h2><table><thead><tr><th>Country</th>'
        '<th>Total Score and Status</th></tr></thead><tbody><tr><td><a href="/country/india/freedom-net/2026">India'
        '</a></td><td>50 Partly Free</td></tr></tbody></table></div></body>'))
    site.pages[SCORES] = ("text/html", html.encode())
    code, out, err = refresh(fresh_db, site)
    assert code == 0, err
    assert stored(fresh_db, 2027) == expected(rows_2027)


def test_a_hub_page_that_fails_is_passed_over(fresh_db, site, rows_2027):
    site.publish_live(rows_2027, 2027, page="combined", details=False)
    first = sorted(r["fh_name"] for r in rows_2027)[0]
    site.faults[f"/country/{slug(first)}"] = ["500"] * 10
    code, out, err = refresh(fresh_db, site)
    assert code == 0, err
    assert "new: 2027" in out and "country hub pages" in out


def test_a_menu_word_is_not_taken_for_the_status(rows_2027):
    from scrapers.freedomhouse.country_page import parse_country_page
    from tests.fhsite import live_country_page

    india = next(r for r in rows_2027 if r["fh_name"] == "India")
    html = live_country_page(india, 2027).replace("<body>", "<body><nav><a>Free Expression</a></nav>")
    assert parse_country_page(html, "x")["status_pub"] == "NF"
