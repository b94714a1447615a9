"""The console as its users meet it: Debian's Chromium against a real `sovereign serve` (uvicorn) at desk and phone
widths. Sign-in through a single-sign-on proxy's header (believed from a trusted address only) and with a token;
two committee members approving a proposed list in turn; a desk user and a form without its CSRF token refused;
an override added and revoked through the page, found in `audit` under the person's name; 200 pasted identifiers
in one table; a country's chart; Dutch and English. Every page keeps the security headers and logs no error."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest

from sovereign import clock
from tests.conftest import Cli, copy_db, india_not_free_2027
from tests.test_report_browser import ARTIFACTS
from tests.test_service import Server

WIDTHS = [1280, 390]
EMAIL = "X-Forwarded-Email"
ANNA, BERT, DIRK = "anna@example.org", "Bert.Jansen@Example.org", "dirk@example.org"
EFFECTIVE = clock.today() + timedelta(days=7)


def dutch(d: date) -> str:
    months = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
              "november", "december")
    return f"{d.day} {months[d.month - 1]} {d.year}"


def english(d: date) -> str:
    return f"{d.day} {d.strftime('%B')} {d.year}"


def console_db(where: Path, loaded_db: Path) -> tuple[Path, Path, str]:
    """A database with a proposed 2027 list (India Not Free), three people with e-mails and roles, a token for
    Anna, and a policy that asks for two different approvers."""
    db = copy_db(loaded_db, where / "sovereign.db")
    cli = Cli(db)
    for name, email, role in (("Anna de Vries", ANNA, "committee"), ("Bert Jansen", "bert.jansen@example.org",
                                                                      "committee"), ("Dirk Desk", DIRK, "desk")):
        code, _, err = cli("people", "add", name, "--email", email, "--role", role)
        assert code == 0, err
    code, token, err = cli("tokens", "add", "Anna de Vries")
    assert code == 0, err
    code, _, err = cli("import", str(india_not_free_2027(where)))
    assert code == 0, err
    policy = where / "policy.toml"
    from sovereign import paths

    text = paths.POLICY.read_text()
    assert "approvals_required = 1" in text
    policy.write_text(text.replace("approvals_required = 1", "approvals_required = 2", 1))
    return db, policy, token.strip()


@pytest.fixture(scope="module")
def shared(tmp_path_factory, loaded_db):
    """One server for the tests that only read: trusts the proxy at 127.0.0.1."""
    db, policy, token = console_db(tmp_path_factory.mktemp("console"), loaded_db)
    server = Server(db, env={"SOVEREIGN_POLICY": str(policy), "SOVEREIGN_TRUSTED_PROXIES": "127.0.0.1"})
    yield server, token
    server.stop()


@pytest.fixture
def writable(tmp_path, loaded_db):
    """A server of its own, for a test that decides."""
    db, policy, token = console_db(tmp_path, loaded_db)
    server = Server(db, env={"SOVEREIGN_POLICY": str(policy), "SOVEREIGN_TRUSTED_PROXIES": "127.0.0.1/32, ::1"})
    yield server, Cli(db), db
    server.stop()


class Watched:
    """A browser context as one person, failing the test on a console error, a page error, or a page of ours
    served without the security headers."""

    def __init__(self, browser, width: int, email: str | None = None, locale: str = "en-GB"):
        headers = {EMAIL: email} if email else {}
        self.context = browser.new_context(viewport={"width": width, "height": 900}, extra_http_headers=headers,
                                           locale=locale)
        self.problems: list[str] = []
        self.allowed: set[int] = set()  # statuses a test expects a page to be answered with (a refusal shown)
        self.page = self.context.new_page()
        self.page.on("console", self.console)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("response", self.headers)
        self.width = width

    def console(self, message) -> None:
        """Any error, except Chromium's note that a page the test expects to be refused was refused."""
        import re

        status = re.search(r"status of (\d{3})", message.text)
        if message.type == "error" and not (status and int(status.group(1)) in self.allowed):
            self.problems.append(f"console {message.type}: {message.text}")

    def headers(self, response) -> None:
        h = response.headers
        if "/console" in response.url or "/static/" in response.url or "/api/" in response.url:
            csp = h.get("content-security-policy", "")
            script = next((p for p in csp.split(";") if p.strip().startswith("script-src")), "")
            if "'self'" not in script or "unsafe-inline" in script or h.get("x-frame-options") != "DENY" \
                    or h.get("x-content-type-options") != "nosniff":
                self.problems.append(f"{response.url}: security headers missing ({csp!r})")

    def close(self) -> None:
        self.context.close()
        assert self.problems == []

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"console-{name}-{self.width}.png"), full_page=False)

    def fits(self) -> bool:
        """Measured once the page has loaded: a click's navigation can be read before its stylesheet applies."""
        self.page.wait_for_load_state("load")
        return self.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("width", WIDTHS)
def test_sign_in_through_the_proxy_header_from_a_trusted_address(shared, browser, width):
    server, _ = shared
    anna = Watched(browser, width, ANNA)
    anna.page.goto(server.url + "/console")
    assert "Anna de Vries" in anna.page.inner_text("#who") and "single sign-on" in anna.page.inner_text("#who")
    assert "India" not in anna.page.inner_text("#awaiting") and "2027" in anna.page.inner_text("#awaiting")
    assert anna.fits()
    # an e-mail spelled with other capitals is the same person; an unknown one is nobody
    bert = Watched(browser, width, BERT)
    bert.page.goto(server.url + "/console/proposals")
    assert "Bert Jansen" in bert.page.inner_text("#who")
    stranger = Watched(browser, width, "mallory@example.org")
    stranger.page.goto(server.url + "/console/proposals")
    assert stranger.page.url.startswith(server.url + "/console/sign-in")
    assert stranger.page.get_attribute("#problem", "data-problem") == "unknown_email"
    anna.shot("signed-in")
    for who in (anna, bert, stranger):
        who.close()


def test_the_proxy_header_from_another_address_is_refused(tmp_path, loaded_db, browser):
    """The same header through a server that trusts only 192.0.2.1: the request from 127.0.0.1 signs no one in."""
    db, policy, _ = console_db(tmp_path, loaded_db)
    server = Server(db, env={"SOVEREIGN_POLICY": str(policy), "SOVEREIGN_TRUSTED_PROXIES": "192.0.2.1"})
    try:
        anna = Watched(browser, 1280, ANNA)
        anna.page.goto(server.url + "/console/proposals")
        assert anna.page.url.startswith(server.url + "/console/sign-in")
        assert anna.page.get_attribute("#problem", "data-problem") == "untrusted_proxy"
        assert anna.page.locator("#who").count() == 0
        response = anna.page.request.post(server.url + "/console/proposals/54/approve",
                                          form={"effective_from": EFFECTIVE.isoformat()})
        assert response.status == 403
        anna.close()
    finally:
        server.stop()


@pytest.mark.parametrize("width", WIDTHS)
def test_sign_in_with_a_token_once_for_a_session_cookie(shared, browser, width):
    server, token = shared
    anna = Watched(browser, width)
    anna.page.goto(server.url + "/console/audit")
    assert anna.page.url.startswith(server.url + "/console/sign-in")
    anna.allowed.add(401)
    anna.page.fill("#token", "not-a-token")
    anna.page.click("#sign-in button")
    assert anna.page.get_attribute("#problem", "data-problem") == "bad_token"
    anna.page.fill("#token", token)
    anna.page.click("#sign-in button")
    assert anna.page.url == server.url + "/console/audit"
    assert "Anna de Vries" in anna.page.inner_text("#who") and "token" in anna.page.inner_text("#who")
    cookie = next(c for c in anna.context.cookies() if c["name"] == "sovereign_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and not cookie["secure"]  # no TLS here
    assert token not in cookie["value"]
    anna.page.click("#sign-out")
    assert anna.page.url.startswith(server.url + "/console/sign-in") and anna.page.locator("#who").count() == 0
    anna.close()


@pytest.mark.slow
def test_two_committee_members_approve_in_turn_and_the_list_is_in_force(writable, browser):
    server, cli, _ = writable
    day = EFFECTIVE.isoformat()
    anna = Watched(browser, 1280, ANNA)
    anna.page.goto(server.url + "/console/proposals")
    proposal = anna.page.locator("section.proposal").first
    version = proposal.get_attribute("data-version")
    assert proposal.locator("a.pack").get_attribute("href") == f"/console/pack/{version}"
    proposal.locator("input[name=effective_from]").fill(day)
    proposal.locator("input[name=minutes]").fill("RI committee 2026-12, item 3")
    proposal.locator("form.approve button").click()
    assert "1 more needed" in anna.page.inner_text("#message")
    assert anna.page.inner_text(f"#proposal-{version} td.approver") == "Anna de Vries"
    assert "Bert Jansen" in anna.page.inner_text(f"#needed-{version}")
    # the same person again is refused, and counts once
    anna.allowed.add(409)
    anna.page.locator(f"#proposal-{version} input[name=effective_from]").fill(day)
    anna.page.locator(f"#proposal-{version} form.approve button").click()
    assert "already approved" in anna.page.inner_text("#error")
    assert anna.page.locator(f"#proposal-{version} td.approver").count() == 1
    # the pack is the report's HTML, staged from the date approved
    assert anna.page.get_attribute(f"#proposal-{version} a.pack", "href") == f"/console/pack/{version}?effective_from={day}"
    pack = anna.context.request.get(server.url + f"/console/pack/{version}?effective_from={day}")
    assert pack.status == 200 and 'id="sign-off"' in pack.text() and "Anna de Vries" in pack.text()

    # a desk user sees no form, and a posted approval is refused
    dirk = Watched(browser, 390, DIRK)
    dirk.page.goto(server.url + "/console/proposals")
    assert dirk.page.locator("form.approve").count() == 0 and dirk.page.locator("#read-only").count() == 1
    dirk.page.goto(server.url + "/console/batch")  # a form of theirs, for their CSRF token
    token = dirk.page.locator("#batch input[name=csrf]").get_attribute("value")
    refused = dirk.context.request.post(server.url + f"/console/proposals/{version}/approve",
                                        form={"csrf": token or "", "effective_from": day})
    assert refused.status == 403 and "only committee members decide" in refused.text()

    # the second, different member at phone width puts it in force
    bert = Watched(browser, 390, BERT)
    bert.page.goto(server.url + "/console/proposals")
    bert.page.locator(f"#proposal-{version} input[name=effective_from]").fill(day)
    bert.page.locator(f"#proposal-{version} form.approve button").click()
    message = bert.page.inner_text("#message")
    assert f"is in force from {english(EFFECTIVE)}" in message and "Anna de Vries & Bert Jansen" in message
    assert bert.page.locator(f"#proposal-{version}").count() == 0
    assert bert.page.inner_text(f'#recent tr[data-version="{version}"] td.approved-by') == "Anna de Vries and Bert Jansen"
    assert bert.fits()
    bert.shot("approved")
    code, answers = cli.json("check", "IN", "--json", "--as-of", day)
    assert code == 1 and answers[0]["list_version"] == int(version) and answers[0]["verdict"] == "excluded"

    # the desk's card now leads with what is coming, in the warning colour, at the top on a phone
    dirk.page.goto(server.url + "/console/desk?q=India")
    card = dirk.page.locator("#card")
    assert "warn" in (card.get_attribute("class") or "")
    headline = dirk.page.inner_text("#headline")
    assert headline.startswith(f"Eligible until {english(EFFECTIVE - timedelta(days=1))} — excluded from "
                               f"{english(EFFECTIVE)}, no new buys from then, divest by ")
    assert dirk.page.locator("#headline").bounding_box()["y"] < 900
    colour = dirk.page.eval_on_selector("#card", "e => getComputedStyle(e).borderLeftColor")
    assert colour == "rgb(230, 81, 0)"
    dirk.shot("desk-card")
    dirk.page.goto(server.url + "/console/desk?q=Narnia")
    assert dirk.page.inner_text("#headline") == "Cannot answer" and "Narnia" in dirk.page.inner_text("#error")
    for who in (anna, dirk, bert):
        who.close()
    code, trail = cli.json("audit", "--format", "json")
    publish = [r for r in trail if r["action"] == "publish"]
    assert publish and publish[-1]["actor"] == "Bert Jansen"
    log = server.said()
    assert re.search(rf"POST /console/proposals/{version}/approve 200 \d+ms by Anna de Vries", log)
    assert re.search(rf"POST /console/proposals/{version}/approve 403 \d+ms by Dirk Desk", log)


def test_a_form_without_its_csrf_token_is_refused(writable, browser):
    server, cli, db = writable
    anna = Watched(browser, 1280, ANNA)
    anna.page.goto(server.url + "/console/overrides")
    good = anna.page.locator("#add-override input[name=csrf]").get_attribute("value")
    for form in ({}, {"csrf": "0" * 40}):
        response = anna.context.request.post(server.url + "/console/overrides",
                                             form=form | {"country": "FR", "note": "x"})
        assert response.status == 403 and "CSRF" in response.text()
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
    before = sqlite3.connect(db).execute("SELECT COUNT(*) FROM overrides").fetchone()[0]
    assert before == 0
    # another browser's token is not this one's
    other = Watched(browser, 1280, ANNA)
    other.page.goto(server.url + "/console/overrides")
    theirs = other.page.locator("#add-override input[name=csrf]").get_attribute("value")
    assert theirs != good
    response = anna.context.request.post(server.url + "/console/overrides",
                                         form={"csrf": theirs, "country": "FR", "note": "x"})
    assert response.status == 403
    anna.close()
    other.close()


def test_an_override_added_and_revoked_through_the_page_is_in_the_audit_trail(writable, browser):
    server, cli, _ = writable
    anna = Watched(browser, 1280, ANNA)
    anna.page.goto(server.url + "/console/overrides")
    anna.page.fill("#add-override input[name=country]", "France")
    anna.page.fill("#add-override input[name=note]", "internal: nuclear policy review")
    anna.page.fill("#add-override input[name=public_nl]", "Kernwapenbeleid")
    anna.page.fill("#add-override input[name=public_en]", "Nuclear weapons policy")
    anna.page.click("#add-override button")
    assert anna.page.inner_text("#message").startswith("Override 1 recorded: France excluded from")
    row = anna.page.locator('#overrides tr[data-iso2="FR"]')
    assert row.locator("td.state").inner_text().startswith("active")
    # revoking re-admits France: two different people, as for publishing
    end = (clock.today() + timedelta(days=3)).isoformat()
    row.locator("input[name=reason]").fill("review concluded")
    row.locator("input[name=revoked_from]").fill(end)
    row.locator("form.revoke button").click()
    assert "1 more needed" in anna.page.inner_text("#message")
    bert = Watched(browser, 390, BERT)
    bert.page.goto(server.url + "/console/overrides")
    row = bert.page.locator('#overrides tr[data-iso2="FR"]')
    assert "Anna de Vries" in row.locator("td.state").inner_text()
    row.locator("input[name=reason]").fill("review concluded")
    row.locator("input[name=revoked_from]").fill(end)
    row.locator("form.revoke button").click()
    assert bert.page.inner_text("#message").startswith("Override 1 revoked from")
    state = bert.page.locator('#overrides tr[data-iso2="FR"] td.state').inner_text()
    assert state == f"active, revoked from {english(date.fromisoformat(end))}"
    # the state on another date is read off the same page
    bert.page.fill("input[name=on]", (clock.today() + timedelta(days=4)).isoformat())
    bert.page.click("form.row button")
    assert bert.page.locator('#overrides tr[data-iso2="FR"] td.state').inner_text() == "revoked"
    assert bert.fits()
    bert.shot("overrides")
    bert.page.goto(server.url + f"/console/overrides?on={(clock.today() - timedelta(days=1)).isoformat()}")
    assert bert.page.locator('#overrides tr[data-iso2="FR"] td.state').inner_text().startswith("coming")
    code, trail = cli.json("audit", "--format", "json")
    assert code == 0
    added = next(r for r in trail if r["action"] == "override add")
    revoked = next(r for r in trail if r["action"] == "override revoke")
    assert added["actor"] == "Anna de Vries" and revoked["actor"] == "Bert Jansen"
    # and in the console's own audit table, filtered, with its CSV
    bert.page.goto(server.url + "/console/audit?action=override")
    actors = bert.page.locator("#table td.actor").all_inner_texts()
    assert "Anna de Vries" in actors and "Bert Jansen" in actors
    with bert.page.expect_download() as got:
        bert.page.click("#csv")
    rows = list(csv.DictReader(io.StringIO(Path(got.value.path()).read_text(encoding="utf-8-sig"))))
    assert {r["actor"] for r in rows} >= {"Anna de Vries", "Bert Jansen"}
    assert all("override" in r["action"] for r in rows)
    anna.close()
    bert.close()


def two_hundred(db: Path) -> list[str]:
    """A column as a desk pastes it: ISO codes, country names as people write them, and a few that are nobody."""
    conn = sqlite3.connect(db)
    codes = [r[0] for r in conn.execute("SELECT DISTINCT iso2 FROM list_entries WHERE iso2 IS NOT NULL AND kind = 'c' "
                                        "ORDER BY iso2 LIMIT 190")]
    assert len(codes) == 190
    return [*codes, "Türkiye", "Côte d'Ivoire", "the Netherlands", "Narnia", "XS0000000000", "india", "Russia",
            "United States", "=HYPERLINK(\"http://x\")", "Belarus"]


@pytest.mark.parametrize("width", WIDTHS)
def test_a_pasted_batch_of_200_identifiers_answers_in_one_table(shared, browser, width, loaded_db):
    server, _ = shared
    ids = two_hundred(loaded_db)
    assert len(ids) == 200
    dirk = Watched(browser, width, DIRK)
    dirk.page.goto(server.url + "/console/batch")
    dirk.page.fill("#ids", "\r\n".join(ids) + "\r\n")
    dirk.page.click("#answer")
    rows = dirk.page.locator("#answers tbody tr")
    assert rows.count() == 200
    verdicts = dirk.page.eval_on_selector_all("#answers tbody tr", "rows => rows.map(r => r.dataset.verdict)")
    assert verdicts.count("excluded") >= 20 and verdicts.count("eligible") >= 100 and verdicts.count("unknown") >= 2
    tr = dirk.page.locator("#answers tbody tr", has_text="Türkiye").first
    assert tr.get_attribute("data-verdict") == "excluded" and "no" in (tr.get_attribute("class") or "")
    colour = tr.locator("td.verdict").evaluate("e => getComputedStyle(e).color")
    assert colour == "rgb(198, 40, 40)"
    india = dirk.page.locator("#answers tbody tr", has_text="india").first
    assert "would exclude" in india.inner_text()  # the proposal under review
    assert dirk.fits()
    dirk.shot("batch")
    with dirk.page.expect_download() as got:
        dirk.page.click("#csv")
    table = list(csv.DictReader(io.StringIO(Path(got.value.path()).read_text(encoding="utf-8-sig"))))
    assert len(table) == 200 and table[0]["query"] == ids[0]
    assert next(r for r in table if r["query"].startswith("'=")), "a formula is neutralised in the download"
    with dirk.page.expect_download() as got:
        dirk.page.click("#xlsx")
    import fastexcel

    sheet = fastexcel.read_excel(got.value.path()).load_sheet(0).to_polars()
    assert sheet.height == 200 and sheet["verdict"].to_list() == [r["verdict"] for r in table]
    dirk.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_country_page_draws_its_chart(shared, browser, width):
    server, _ = shared
    dirk = Watched(browser, width, DIRK)
    dirk.page.goto(server.url + "/console/country/TR")
    chart = dirk.page.locator("svg#chart")
    assert chart.is_visible()
    box = chart.bounding_box()
    assert box["width"] <= width and box["height"] > 150
    points = dirk.page.get_attribute("polyline.series-total", "points").split()
    assert len(points) >= 10  # one point an edition, 2013 onwards at least
    assert dirk.page.locator("svg#chart circle").count() >= 10
    assert dirk.page.inner_text("#status") == "Not Free"
    assert "List version" in dirk.page.inner_text("#excluding")
    assert dirk.fits()
    dirk.shot("country")
    dirk.page.goto(server.url + "/console/country/RS")  # Serbia succeeded Serbia and Montenegro
    assert "Serbia and Montenegro" in dirk.page.inner_text("#predecessors")
    dirk.close()


def test_dutch_and_english_with_a_switch_that_remembers(shared, browser):
    server, _ = shared
    anna = Watched(browser, 390, ANNA, locale="nl-NL")
    anna.page.set_extra_http_headers({EMAIL: ANNA, "Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"})
    anna.page.goto(server.url + "/console/proposals")
    assert anna.page.get_attribute("html", "lang") == "nl"
    assert anna.page.inner_text("h1") == "Voorstellen" and "Ingelogd als" in anna.page.inner_text("#who")
    assert dutch(date(2026, 3, 1)) in anna.page.inner_text("#recent")
    anna.page.click("#lang-en")
    assert anna.page.url == server.url + "/console/proposals" and anna.page.inner_text("h1") == "Proposals"
    anna.page.goto(server.url + "/console/country/TR")  # remembered on the next page, whatever the browser says
    assert anna.page.get_attribute("html", "lang") == "en" and "history" in anna.page.inner_text("h1")
    anna.page.click("#lang-nl")
    assert "geschiedenis" in anna.page.inner_text("h1")
    assert anna.page.inner_text("#status") == "Not Free"  # FH's words stay FH's
    anna.page.goto(server.url + "/console/desk?q=India")
    assert anna.page.inner_text("#verdict") == "Toegestaan" and anna.page.inner_text("#status") == "Partly Free"
    assert anna.page.inner_text("#pending").startswith("voorgesteld lijstversie ")
    assert anna.page.inner_text("#pending").endswith(": zou uitsluiten")
    assert anna.page.inner_text("#list").endswith(dutch(date(2026, 3, 1)))
    anna.page.goto(server.url + "/console/public")
    assert "Turkije" in anna.page.inner_text("#public-nl") and "Türkiye" in anna.page.inner_text("#public-en")
    anna.close()


def test_a_book_is_screened_through_the_bounded_upload(shared, browser, tmp_path):
    server, _ = shared
    book = tmp_path / "book.csv"
    book.write_text("Holdings export 2026-12-01\nCountry,Nominal\nTurkey,1000000\nNetherlands,250000\nIndia,50\n"
                    "Total,1250050\n", encoding="utf-8")
    dirk = Watched(browser, 390, DIRK)
    dirk.page.goto(server.url + "/console/upload")
    dirk.page.set_input_files("#file", str(book))
    dirk.page.click("#screen")
    dirk.page.wait_for_selector("#result:not([hidden]), #error:not([hidden])")
    assert dirk.page.locator("#error").is_hidden(), dirk.page.inner_text("#error")
    verdicts = dirk.page.eval_on_selector_all("#screened td.verdict", "cells => cells.map(c => c.textContent)")
    assert "excluded" in verdicts and "eligible" in verdicts
    assert dirk.page.locator('#summary li[data-verdict="excluded"]').inner_text() == "excluded: 1"
    with dirk.page.expect_download() as got:
        dirk.page.click("#download")
    assert "Turkey" in Path(got.value.path()).read_text(encoding="utf-8-sig")
    dirk.close()


# Words of English that have no place on a Dutch page (Dutch words spelled alike, such as "in", "is", "of", "register", "desk" and
# "token", are left out). FH's status words and report title are FH's and stay: they are taken out first.
ENGLISH = {"the", "and", "from", "by", "not", "eligible", "excluded", "approved", "approval", "committee",
           "published", "proposed", "held", "withdrawn", "revoked", "active", "coming", "ended", "version", "trail",
           "head", "digest", "check", "row", "runs", "manual", "history", "bundled", "override", "never", "today",
           "until", "source", "none", "unknown", "mandate", "below", "minimum", "ceased", "successor",
           "prefix", "issuer", "valid", "match", "rated", "country", "list", "with", "are", "was", "ok", "refused",
           "failed", "publish", "import", "person", "add", "remove", "reason", "state", "why", "answer", "days"}
FH_WORDS = ("Freedom in the World", "Freedom House", "Not Free", "Partly Free", "Free")
# Text a page quotes rather than says: another language's section, recorded texts (a reason, a run's message),
# commands. The rest is the page's own words.
OWN_TEXT = """() => {
  const skip = '[lang]:not([lang="nl"]), .record, code, [translate="no"], script, style';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const out = [];
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.parentElement.closest(skip)) out.push(node.textContent);
  }
  for (const el of document.querySelectorAll('[placeholder], [title], [aria-label]')) {
    out.push(el.getAttribute('placeholder') || '', el.getAttribute('title') || '', el.getAttribute('aria-label') || '');
  }
  return out.join(' ');
}"""


def english_words(text: str) -> set[str]:
    for words in FH_WORDS:
        text = text.replace(words, " ")
    return {w for w in re.findall(r"[A-Za-z]+", text) if w.casefold() in ENGLISH}


@pytest.mark.parametrize("width", WIDTHS)
def test_nothing_english_on_a_dutch_page(shared, browser, width):
    """Every console page and the public list in Dutch, as a committee member and the desk read them: the page's own
    words, answers and refusals in Dutch (the approval pack is an English document, linked as such)."""
    server, _ = shared
    anna = Watched(browser, width, ANNA, locale="nl-NL")
    anna.page.set_extra_http_headers({EMAIL: ANNA, "Accept-Language": "nl-NL,nl;q=0.9"})
    pages = ["/console", "/console/proposals", "/console/overrides", "/console/versions", "/console/runs",
             "/console/audit", "/console/public", "/console/public/nl", "/console/batch", "/console/upload",
             "/console/country/IN", "/console/country/RU", "/console/desk?q=France", "/console/desk?q=TR",
             "/console/desk?q=India&mandate=strict_pf", "/console/desk?q=US0378331005",
             "/console/desk?q=XS0000000000", "/console/desk?q=SU&as_of=1992-06-01",
             f"/console/desk?q=IN&as_of={EFFECTIVE.isoformat()}"]
    found = {}
    for path in pages:
        anna.page.goto(server.url + path)
        assert anna.page.get_attribute("html", "lang") == "nl", path
        leaked = english_words(anna.page.evaluate(OWN_TEXT))
        if leaked:
            found[path] = sorted(leaked)
    assert found == {}
    anna.page.goto(server.url + "/console/public/nl")
    anchor = anna.page.inner_text("#anchor")
    assert anchor.startswith("Kop van het auditspoor ") and "Controleer met: sovereign audit verify --head" in anchor
    anna.close()
