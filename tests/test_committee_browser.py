"""The committee's override as a reader sees it: the approval pack and the Dutch public list opened in Chromium
at desk and phone widths, the override row's status and divest date read off the page."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from sovereign import clock
from tests.conftest import Cli, copy_db
from tests.test_report_browser import ARTIFACTS

TODAY = clock.today()
DIVEST = TODAY + timedelta(days=90)
MAANDEN = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
           "november", "december")


def dutch(d: date) -> str:
    return f"{d.day} {MAANDEN[d.month - 1]} {d.year}"


@pytest.fixture(scope="module")
def pages(tmp_path_factory, loaded_db):
    """A database with a committee exclusion of France (rated Free) and Bosnia and Herzegovina (a long name), the
    pack and the Dutch list written from it."""
    where = tmp_path_factory.mktemp("committee")
    db = copy_db(loaded_db, where / "sovereign.db")
    cli = Cli(db)
    assert cli("people", "add", "Anna de Vries", "--role", "committee")[0] == 0
    assert cli("override", "add", "FR", "--reason", "internal note", "--by", "Anna de Vries",
               "--public-reason-nl", "Kernwapenbeleid", "--public-reason-en", "Nuclear weapons policy")[0] == 0
    assert cli("override", "add", "BA", "--reason", "internal", "--by", "Anna de Vries",
               "--public-reason-nl", "Rechtsstaat")[0] == 0
    pack, public = where / "pack.html", where / "uitsluitingen.html"
    code, _, err = cli("report", "-o", str(pack))
    assert code == 0, err
    code, _, err = cli("exclusion-list", "--lang", "nl", "-o", str(public))
    assert code == 0, err
    return pack, public


@pytest.mark.parametrize("width", [1280, 390])
def test_the_pack_shows_the_override_with_its_status_and_divest_date(pages, browser, width):
    pack, _ = pages
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    page.goto(pack.as_uri())
    # in force today already: no change on the list's effective date (impact reads the same rule), so it is among
    # the committee's exclusions, in force, and in the full list with its status and divest date
    assert page.locator('#newly-excluded tr[data-iso2="FR"]').count() == 0
    assert page.locator('#overrides tr[data-iso2="FR"] td').last.inner_text() == "yes"
    full = page.locator('#full-list tr[data-iso2="FR"]')
    assert full.locator("td.status").inner_text() == "Free"  # not "not rated"
    assert full.locator("td.verdict").inner_text() == "excluded"
    assert full.locator("td.divest").inner_text() == DIVEST.isoformat()
    assert page.inner_text("#excluded-committee") == "2"
    assert "Anna de Vries" in page.inner_text("#sign-off") or "No decision is open" in page.inner_text("#sign-off")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"pack-override-{width}.png"), full_page=False)
    page.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_dutch_list_shows_the_override_row_and_breaks_no_name(pages, browser, width):
    _, public = pages
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(public.as_uri())
    row = page.locator('#excluded tr[data-iso2="FR"]')
    assert row.locator("td.country").inner_text() == "Frankrijk"
    assert row.locator("td.status").inner_text().endswith("Free")
    assert row.locator("td.divest").inner_text().endswith(dutch(DIVEST))
    assert "Kernwapenbeleid" in row.locator("td.basis").inner_text()
    assert "internal" not in page.content()
    assert page.inner_text("#effective") == "1 maart 2026"
    assert page.inner_text("#attribution").startswith("Bron: Freedom House")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    broken = page.evaluate("""() => {
        const out = [];
        for (const td of document.querySelectorAll('#excluded td.country')) {
            const text = td.firstChild; if (!text) continue;
            let at = 0;
            for (const word of text.textContent.split(/([ -])/)) {
                if (word.trim() && word !== '-') {
                    const range = document.createRange();
                    range.setStart(text, at); range.setEnd(text, at + word.length);
                    const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
                    if (lines.size > 1) out.push(word);
                }
                at += word.length;
            }
        }
        return out;
    }""")
    assert broken == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"lijst-{width}.png"), full_page=False)
    page.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_lookup_page_announces_a_future_committee_exclusion(fresh_db, browser, width):
    from tests.test_service import Server

    start = (TODAY + timedelta(days=12)).isoformat()
    assert Cli(fresh_db)("override", "add", "IN", "--reason", "x", "--by", "RI", "--from", start)[0] == 0
    server = Server(fresh_db)
    try:
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(server.url + "/")
        page.fill("#q", "India")
        page.click("#go")
        page.wait_for_selector("#card.ok")
        assert page.inner_text("#upcoming").startswith(f"Excluded by the committee from {start} (override 1)")
        page.close()
    finally:
        server.stop()
