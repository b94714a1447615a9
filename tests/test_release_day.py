"""Release day, third pass, against the stand-in site: the combined page read whole, each failure of the first
scores page said before the fallback, the CDN's beacon on every page, names in changed forms, held runs, a
conditional GET after a redirect."""

from __future__ import annotations

import json
import sqlite3

import pytest

from scrapers.freedomhouse import read_workbook
from sovereign import clock
from tests.conftest import ALL_DATA, Cli, db_fingerprint, member
from tests.fhsite import FHSite, combined_scores_page, edition_2027, live_scores_page, slug

FAST = ["--min-interval", "0", "--timeout", "1"]
SCORES = "/countries/freedom-world/scores"
COMBINED = "/country/scores"


@pytest.fixture(scope="module")
def rows_2027():
    return edition_2027(read_workbook(ALL_DATA))


@pytest.fixture
def site():
    with FHSite() as s:
        yield s


def refresh(db, site: FHSite, *extra: str, env: dict | None = None):
    return Cli(db)("refresh", "--source", "web", "--base-url", site.url, *FAST, *extra, env=env)


def stored(db, edition: int = 2027) -> dict[str, tuple]:
    rows = sqlite3.connect(db).execute("SELECT fh_name, kind, total, status_pub, pr, cl, status_calc FROM scores "
                                       "WHERE edition = ?", [edition]).fetchall()
    return {r[0]: r[1:] for r in rows}


def expected(rows: list[dict]) -> dict[str, tuple]:
    return {r["fh_name"]: (r["kind"], r["total"], r["status_pub"], r["pr"], r["cl"], r["status_pub"]) for r in rows}


def last_run(db) -> tuple[str, dict | str]:
    outcome, message = sqlite3.connect(db).execute(
        "SELECT outcome, message FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    try:
        return outcome, json.loads(message)
    except ValueError:
        return outcome, message


# ---- 1. the combined page, PR and CL in data-group cells ---------------------------------------------------------

@pytest.mark.parametrize("header", ["flat", "grouped", "two-row"])
def test_the_combined_page_keeps_pr_and_cl_in_data_group_cells(fresh_db, site, rows_2027, header):
    site.publish_live(rows_2027, 2027, page="combined", details=False, header=header, not_covered=("Bermuda",))
    code, out, err = refresh(fresh_db, site)
    assert code == 0, err
    assert stored(fresh_db) == expected(rows_2027)  # PR, CL and the recomputed status for all 208
    assert "stored without PR and CL" not in out + err
    # the configured page is missing: said in one line before the fallback, and in the run's record
    said = [line for line in err.splitlines() if SCORES in line]
    assert len(said) == 1 and "HTTP 404" in said[0] and f"trying {site.url}{COMBINED} instead" in said[0]
    assert f"First scores page failed: {site.url}{SCORES}: HTTP 404" in out
    outcome, message = last_run(fresh_db)
    assert outcome == "ok" and "HTTP 404" in message["first_page_failure"]


def test_a_row_whose_cells_all_say_fiw_does_not_override_the_header(rows_2027):
    """The 2026 layout that stored 208 rows without PR and CL: every FIW cell `data-group="fiw"`."""
    from scrapers.freedomhouse.scores_page import read_table

    table = read_table(combined_scores_page(rows_2027, header="flat"), "x")
    assert table.columns == ("country", "total", "pr", "cl")
    assert [(r["pr"], r["cl"]) for r in table.records] == [(str(r["pr"]), str(r["cl"])) for r in rows_2027]


@pytest.mark.parametrize("header", ["flat", "grouped", "two-row"])
def test_a_title_row_over_the_whole_table_names_no_column(rows_2027, header):
    """A caption-like first header row naming all three products does not make every column another product's."""
    from scrapers.freedomhouse.scores_page import read_table

    html = combined_scores_page(rows_2027, header=header).replace(
        "<thead>", '<thead><tr><th colspan="6">Global Freedom, Internet Freedom and Democracy Scores</th></tr>')
    table = read_table(html, "x")
    assert table.columns == ("country", "total", "pr", "cl") and len(table.records) == 208


def test_without_pr_and_cl_after_the_first_page_failed_nothing_is_stored(fresh_db, site, rows_2027):
    site.publish_live(rows_2027, 2027, page="combined", details=False, pr_cl=False)
    before = db_fingerprint(fresh_db)
    code, out, err = refresh(fresh_db, site)
    assert code == 2, (out, err)
    assert f"{SCORES}: HTTP 404" in err and "prints no PR and CL" in err and "--with-details" in err
    assert db_fingerprint(fresh_db) == before
    outcome, message = last_run(fresh_db)
    assert outcome == "failed" and "HTTP 404" in message


def test_an_edition_stored_without_pr_and_cl_says_so_everywhere_and_is_held(fresh_db, site, rows_2027, monkeypatch):
    """The combined page configured as the scores page, printing no PR and CL: stored (FH's published statuses),
    but the run, `runs`, /health and `diff` say the status was not recomputed, and the gate holds the list."""
    from fastapi.testclient import TestClient

    from sovereign.api import create_app
    from sovereign.settings import Settings

    site.publish_live(rows_2027, 2027, page="combined", details=False, pr_cl=False)
    code, out, err = refresh(fresh_db, site, env={"SOVEREIGN_SCORES_PATH": COMBINED})
    assert code == 4, (out, err)
    assert "status not recomputed for 208 of 208 entities: stored without PR and CL" in out
    assert "held. Held because: status not recomputed" in out
    got = stored(fresh_db)
    assert len(got) == 208 and all(v[3] is None and v[5] is None for v in got.values())
    outcome, message = last_run(fresh_db)
    assert outcome == "held" and "status not recomputed" in message["gate_held"][0]
    assert "stored without PR and CL" in message["notes"][0]
    monkeypatch.setenv("SOVEREIGN_ADMIN_TOKEN", "s3cret-token")
    with TestClient(create_app(Settings.load(db=fresh_db))) as client:
        answer = client.get("/health", headers={"Authorization": "Bearer s3cret-token"})
        assert answer.status_code == 503
        problems = " ".join(answer.json().get("problems", []))
        assert "was held" in problems and "status not recomputed" in problems
        assert "Freedom in the World 2027 is stored without PR and CL for 208 entities" in problems
    code, out, err = Cli(fresh_db)("diff", "--format", "json")
    d = json.loads(out)
    assert "208 entities of Freedom in the World 2027 are stored without PR and CL" in d["not_recomputed"]
    assert "not recomputed" in err
    reasons = [r["reason"] for r in d["newly_excluded"] + d["status_changes"]]
    assert reasons and not any("None" in r for r in reasons)
    assert all("not recomputed" in r or " -> " in r.split(":", 1)[1] for r in reasons)


@pytest.mark.slow
def test_with_details_the_combined_page_without_pr_and_cl_is_completed(fresh_db, site, rows_2027):
    site.beacon = True  # and every page, country pages and hubs included, carries the CDN's beacon
    site.publish_live(rows_2027, 2027, page="combined", pr_cl=False)
    code, out, err = refresh(fresh_db, site, "--with-details")
    assert code == 0, err
    assert "208 country pages" in out and "skipped" not in out and "challenge" not in out + err
    assert stored(fresh_db) == expected(rows_2027)


# ---- 2. each failure of the first page, then the fallback --------------------------------------------------------

def _js_rendered(rows, edition):
    return '<html><body><div id="block-countryscorestable"><div id="app" data-src="/api/scores"></div></div></body></html>'


def _renamed_header(rows, edition):
    return live_scores_page(rows, edition).replace("Total Score and Status</a>", "Score</a>")


def _status_icon(rows, edition):
    html = live_scores_page(rows, edition)
    for word in ("Not Free", "Partly Free", "Free"):
        html = html.replace(f'<span class="status">{word}</span>', '<img src="/themes/fh/dot.svg" alt="">')
    return html


def _csv_link(rows, edition):
    return ('<html><body><div id="block-countryscorestable"><p>Download the scores: '
            '<a href="/sites/default/files/2027-02/scores.csv">CSV</a></p></div></body></html>')


@pytest.mark.parametrize("page,said", [
    (_js_rendered, "layout changed"), (_renamed_header, "layout changed"),
    (_status_icon, "expected a score and a status"), (_csv_link, "layout changed"),
    pytest.param("slow", "read timeout", marks=pytest.mark.slow),
    ("robots", "robots.txt of"), ("cf1020", "Cloudflare error 1020, Access denied"),
    ("waf202", "a WAF's challenge (x-amzn-waf-action: challenge)")])
def test_each_first_page_failure_is_said_then_the_combined_page_is_read(fresh_db, site, rows_2027, page, said):
    site.publish_live(rows_2027, 2027, page="combined", details=False)
    if page == "slow":
        site.pages[SCORES] = ("text/html", live_scores_page(rows_2027, 2027).encode())
        site.faults[SCORES] = ["slow"] * 4
    elif page == "robots":
        with FHSite() as other:  # moved to a host that refuses us
            other.robots = "User-agent: *\nDisallow: /\n"
            site.redirects[SCORES] = other.url + SCORES
            code, out, err = refresh(fresh_db, site)
    elif page in ("cf1020", "waf202"):
        site.pages[SCORES] = ("text/html", live_scores_page(rows_2027, 2027).encode())
        site.faults[SCORES] = [page]
    else:
        site.pages[SCORES] = ("text/html", page(rows_2027, 2027).encode())
    if page != "robots":
        code, out, err = refresh(fresh_db, site)
    assert code == 0, err
    first = [line for line in err.splitlines() if f"trying {site.url}{COMBINED} instead" in line]
    assert len(first) == 1 and said in first[0], err
    assert "First scores page failed" in out and said in out
    assert stored(fresh_db) == expected(rows_2027)
    assert last_run(fresh_db)[1]["first_page_failure"] == first[0].split("; trying")[0]


def test_a_status_in_its_own_column_is_read(rows_2027):
    from scrapers.freedomhouse.scores_page import read_table

    head = "<tr><th>Country</th><th>Total Score</th><th>Status</th><th>Political Rights</th><th>Civil Liberties</th></tr>"
    body = "".join(f'<tr><td><a href="/country/{slug(r["fh_name"])}/freedom-world/2027">{r["fh_name"]}</a></td>'
                   f'<td>{r["total"]}</td><td>{ {"F": "Free", "PF": "Partly Free", "NF": "Not Free"}[r["status_pub"]]}'
                   f'</td><td>{r["pr"]}</td><td>{r["cl"]}</td></tr>' for r in rows_2027[:20])
    table = read_table(f"<table><thead>{head}</thead><tbody>{body}</tbody></table>", "x")
    assert [(r["total"], r["status_pub"], r["pr"]) for r in table.records] == [
        (str(r["total"]), r["status_pub"], str(r["pr"])) for r in rows_2027[:20]]


# ---- 3. the CDN's beacon is not a challenge ----------------------------------------------------------------------

def test_every_page_carrying_the_beacon_is_read(fresh_db, site, rows_2027):
    """Hub pages, country pages (with details) and the data page: all short, no table, all carrying the beacon."""
    site.beacon = True
    site.publish_live(rows_2027, 2027, details=False)
    site.pages[SCORES] = ("text/html", live_scores_page(rows_2027, 2027).replace(
        "<body>", "<body><p>Short page.</p>").encode())
    site.pages["/report/freedom-world"] = ("text/html", b"<html><body><p>Data on request.</p></body></html>")
    code, out, err = Cli(fresh_db)("refresh", "--source", "workbooks", "--base-url", site.url, *FAST)
    assert code == 2 and "sovereign import FILE" in err and "challenge" not in err
    code, out, err = refresh(fresh_db, site)
    assert code == 0 and "challenge" not in out + err, err


@pytest.mark.parametrize("fault,said", [
    ("cf403", "blocked by a bot challenge (HTTP 403, cf-mitigated: challenge)"),
    ("cf200", "blocked by a bot challenge (HTTP 200 carrying a challenge script"),
    ("cf1020", "Cloudflare error 1020, Access denied: a firewall rule of the site refuses our client"),
    ("waf202", "blocked by a bot challenge (HTTP 202, a WAF's challenge")])
def test_challenges_and_refusals_are_named_on_both_pages(fresh_db, site, rows_2027, fault, said):
    site.beacon = True
    site.publish_live(rows_2027, 2027, details=False)
    site.pages[COMBINED] = ("text/html", combined_scores_page(rows_2027).encode())
    site.faults[SCORES] = [fault]
    site.faults[COMBINED] = [fault]
    before = db_fingerprint(fresh_db)
    code, out, err = refresh(fresh_db, site)
    assert code == 2 and err.count(said) == 3 and "layout changed" not in err, err  # before the fallback, then both
    assert ("waiting will not help" in err) == (fault == "cf1020")
    assert db_fingerprint(fresh_db) == before


def test_a_challenge_is_judged_by_what_the_page_is():
    import requests

    from scrapers.http import challenge
    from tests.fhsite import BEACON

    def page(body: bytes, status: int = 200) -> requests.Response:
        r = requests.Response()
        r.status_code, r._content, r.headers["Server"] = status, body, "cloudflare"
        return r

    assert challenge(page(b"<html><body><h1>Norway</h1><p>Hub.</p>" + BEACON + b"</body></html>")) is None
    assert challenge(page(b"<html><body>" + BEACON + b"</body></html>", 403)) is None  # a plain 403 stays a 403
    assert challenge(page(b"<html><head><title>Just a moment...</title></head><body>" + BEACON + b"</body></html>"))
    long_page = b"<html><body>" + b"<p>Freedom in the World report text.</p>" * 100 + b"Just a moment..." + BEACON
    assert challenge(page(long_page + b"</body></html>")) is None


# ---- 4. names in changed forms --------------------------------------------------------------------------------

def test_daggers_soft_hyphens_and_decomposed_accents_are_the_known_names(fresh_db, site, rows_2027):
    import unicodedata

    html = live_scores_page(rows_2027, 2027)
    html = html.replace("*</a>", "\u2020</a>")  # territories marked by a dagger
    html = html.replace("Bosnia and Herzegovina", "Bosnia and Herze\u00adgovina").replace(
        "Guinea-Bissau", "Guinea-\u00adBissau").replace("North Macedonia", "North\u00a0Mace\u200bdonia")
    html = html.replace("Príncipe", unicodedata.normalize("NFD", "Príncipe"))
    site.pages[SCORES] = ("text/html", html.encode())
    code, out, err = refresh(fresh_db, site)
    assert code == 0, err
    got = stored(fresh_db)
    assert got == expected(rows_2027)
    assert sum(1 for v in got.values() if v[0] == "t") == 13


def test_territories_that_lost_their_mark_say_the_page_changed(fresh_db, site, rows_2027):
    site.pages[SCORES] = ("text/html", live_scores_page(rows_2027, 2027).replace("*</a>", "</a>").encode())
    before = db_fingerprint(fresh_db)
    code, out, err = refresh(fresh_db, site)
    assert code == 2, (out, err)
    assert "the page changed" in err and "'Hong Kong' (territory in the mapping)" in err
    assert "Do not add these to the mapping" in err and "Add each to the mapping" not in err
    assert db_fingerprint(fresh_db) == before


def test_many_unknown_names_at_once_say_the_page_changed(fresh_db, site, rows_2027):
    odd = [dict(r, fh_name=f"{r['fh_name']} (FIW)") for r in rows_2027]
    site.publish_live(odd, 2027, details=False)
    code, out, err = refresh(fresh_db, site)
    assert code == 2 and "the page changed: 208 names at once are not in the country mapping" in err, err


# ---- 5. held runs, a conditional GET after a redirect, the User-Agent placeholder ---------------------------

def test_a_redirected_page_is_asked_conditionally_the_next_time(fresh_db, site, rows_2027):
    site.publish_live(rows_2027, 2027, details=False)
    site.pages["/en/countries/freedom-world/scores"] = site.pages.pop(SCORES)
    site.redirects[SCORES] = "/en/countries/freedom-world/scores"
    assert refresh(fresh_db, site)[0] == 0
    code, out, err = refresh(fresh_db, site)
    assert code == 0 and "HTTP 304" in out and "Not modified since the last refresh" in out, out
    final = [h for _, p, h in site.log if p == "/en/countries/freedom-world/scores"]
    assert "If-None-Match" not in final[0] and final[1].get("If-None-Match")


def test_the_placeholder_user_agent_warns_until_a_contact_is_configured(fresh_db, site, rows_2027):
    site.publish_live(rows_2027, 2027, details=False)
    code, out, err = refresh(fresh_db, site)
    assert code == 0 and "warning: the User-Agent still names the placeholder contact" in err
    assert "placeholder" in " ".join(last_run(fresh_db)[1]["warnings"])
    code, out, err = refresh(fresh_db, site, "--user-agent", "sovereign/0.1 (ops@asset-manager.nl)")
    assert code == 0 and "placeholder" not in err


def _rows_2026(db) -> list[dict]:
    cols = ("fh_name", "kind", "total", "status_pub", "pr", "cl")
    return [dict(zip(cols, r, strict=True)) for r in sqlite3.connect(db).execute(
        f"SELECT {', '.join(cols)} FROM scores WHERE edition = 2026")]


def test_a_held_table_is_accepted_after_review(fresh_db, site, rows_2027):
    """Links a year behind over new numbers: held, and the run says how to accept it; the operator, having
    checked the page, stores it as the edition it really is."""

    site.publish_live([dict(r, edition=2026) for r in rows_2027], 2026, details=False)
    code, out, err = refresh(fresh_db, site)
    assert code == 4 and "suspected mislabel" in err
    run = sqlite3.connect(fresh_db).execute("SELECT MAX(id) FROM runs").fetchone()[0]
    assert f"sovereign refresh --accept-held {run}" in err
    assert last_run(fresh_db)[0] == "held"
    code, out, err = Cli(fresh_db)("refresh", "--accept-held", str(run - 1))
    assert code == 2 and "it held no table of FH's" in err
    code, out, err = Cli(fresh_db)("refresh", "--accept-held", str(run), "--edition", "2027")
    assert code == 0, err
    assert "new: 2027" in out and "List version" in out and "proposed" in out
    assert {k: v[:3] for k, v in stored(fresh_db).items()} == {k: v[:3] for k, v in expected(rows_2027).items()}
    assert Cli(fresh_db)("publish", "--approved-by", member(Cli(fresh_db)), "--effective-from",
                         clock.today().isoformat())[0] == 0
    code, answers = Cli(fresh_db).json("check", "IN", "--json")
    assert answers[0]["edition"] == 2027 and answers[0]["verdict"] == "excluded"


def test_the_archived_page_of_a_held_run_can_be_imported(fresh_db, site):
    rows_2026 = _rows_2026(fresh_db)
    site.publish_live(rows_2026, 2027, details=False)  # a "new" edition repeating last year's numbers
    code, out, err = refresh(fresh_db, site)
    assert code == 4 and "equal the stored edition 2026" in err
    sha = last_run(fresh_db)[1]["held"][0]["sha256"]
    archived = next((fresh_db.parent / "archive").glob(f"{sha}.html"))
    code, out, err = Cli(fresh_db)("import", str(archived), "--edition", "2027")
    assert code == 0, err
    assert "new: 2027" in out and "Note: Freedom in the World 2027: its numbers equal the stored edition 2026" in out
    assert len(stored(fresh_db)) == len(rows_2026)


# ---- names: every known name survives what page markup does to it -----------------------------------------

def _mapping_names() -> list[str]:
    import csv

    from sovereign import paths

    with open(paths.COUNTRIES, newline="", encoding="utf-8") as f:
        return sorted({r["fh_name"] for r in csv.DictReader(f)})


@pytest.mark.pure
def test_markup_inside_a_known_name_folds_back_to_it():
    import unicodedata

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from fiw.names import clean_name

    invisible = st.sampled_from(["\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"])

    @settings(max_examples=300, derandomize=True, deadline=None)
    @given(st.sampled_from(_mapping_names()), st.lists(st.tuples(st.integers(0, 60), invisible), max_size=4),
           st.booleans(), st.booleans(), st.sampled_from(["", "*", "\u2020", " *", "\u2021"]))
    def check(name, inserts, nbsp, decomposed, mark):
        text = name
        for at, char in inserts:
            at = min(at, len(text))
            text = text[:at] + char + text[at:]
        if nbsp:
            text = text.replace(" ", "\u00a0")
        if decomposed:
            text = unicodedata.normalize("NFD", text)
        assert clean_name(text + mark) == clean_name(name)

    check()


def test_any_column_order_of_the_combined_page_is_read(rows_2027):
    """The combined page's columns in any order, with or without `data-group` on the header: each value is read
    from the column the header names."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from scrapers.freedomhouse.scores_page import read_table
    from tests.fhsite import WORDS

    rows = rows_2027[:12]
    specs = {"country": ("Country", "country_name"), "total": ("Global Freedom", "fiw"),
             "pr": ("Political Rights", "fiw"), "cl": ("Civil Liberties", "fiw"),
             "fotn": ("Internet Freedom", "fotn"), "nit": ("Democracy", "nit")}

    def cell(column: str, r: dict) -> str:
        return {"country": f'<a href="/country/{slug(r["fh_name"])}">{r["fh_name"]}</a>',
                "total": f'<span class="score">{r["total"]}</span> <span>{WORDS[r["status_pub"]]}</span>',
                "pr": f'<span class="score">{r["pr"]}</span>', "cl": f'<span class="score">{r["cl"]}</span>',
                "fotn": '<span class="score">71</span>', "nit": "Not covered"}[column]

    @settings(max_examples=60, derandomize=True, deadline=None)
    @given(st.permutations(list(specs)), st.booleans())
    def check(order, grouped_header):
        head = "".join(f'<th{f" data-group={chr(34)}{specs[c][1]}{chr(34)}" if grouped_header else ""}>{specs[c][0]}</th>'
                       for c in order)
        body = "".join("<tr>" + "".join(f'<td data-group="{specs[c][1]}">{cell(c, r)}</td>' for c in order) + "</tr>"
                       for r in rows)
        table = read_table(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>", "x")
        assert [(rec["fh_name"], rec["total"], rec["pr"], rec["cl"]) for rec in table.records] == [
            (r["fh_name"], str(r["total"]), str(r["pr"]), str(r["cl"])) for r in rows]

    check()
