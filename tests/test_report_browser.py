"""The committee report opened in a real browser (Debian's Chromium via Playwright), offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from sovereign import paths
from tests.conftest import Cli, india_not_free_2027

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def test_report_opens_offline_with_its_content(cli, browser, tmp_path):
    out = tmp_path / "report.html"
    code, _, err = cli("report", "--edition", "2025", "-o", str(out))
    assert code == 0, err
    assert out.exists() and out.with_suffix(".xlsx").exists()
    code, d = cli.json("diff", "--to", "2025", "--format", "json")

    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors, requests = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    page.goto(out.as_uri())
    assert errors == []
    assert all(u.startswith("file:") for u in requests), requests  # nothing fetched from a network

    assert page.inner_text("#eligible-after") == str(d["summary"]["after"]["eligible"])
    assert page.inner_text("#excluded-after") == str(d["summary"]["after"]["excluded"])
    assert page.inner_text("#count-out") == "4" and page.inner_text("#count-in") == "1"
    for mover in d["newly_excluded"]:
        row = page.locator(f'#newly-excluded tr[data-iso2="{mover["iso2"]}"]')
        assert row.count() == 1 and mover["name"] in row.inner_text()
    assert "Jordan" in page.inner_text("#newly-eligible")
    assert page.locator("#watchlist tr").count() == len(d["watchlist"]) + 1
    assert page.locator("#chart-scatter svg").count() == 1 and page.locator("#chart-moves svg").count() == 1
    assert "Not Free" in page.inner_text("#chart-scatter")
    assert "Source: Freedom House, Freedom in the World 2025" in page.inner_text("#attribution")
    assert "OK" in page.inner_text("#provenance")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    page.emulate_media(media="print")
    page.pdf(path=str(ARTIFACTS / "report.pdf")) if hasattr(page, "pdf") else None
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000
    page.close()


def _open(browser, path: Path, width: int):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    page.goto(path.as_uri())
    return page


def _fits(page) -> None:
    """No sideways scroll of the page, and the chart drawn wide enough to read."""
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")
    width = page.evaluate("document.querySelector('#chart-scatter svg').getBoundingClientRect().width")
    viewport = page.viewport_size["width"]
    assert width >= min(0.8 * (viewport - 40), 400), width


@pytest.mark.slow
def test_the_approval_pack_of_a_proposed_list_at_desk_and_phone_width(fresh_db, browser, tmp_path):
    cli = Cli(fresh_db)
    assert cli("issuers", "import", str(paths.ISSUERS))[0] == 0
    india_not_free_2027(tmp_path)
    assert cli("import", str(tmp_path / "fiw-2027.csv"))[0] == 0
    assert cli("override", "add", "Hungary", "--reason", "rule of law concerns", "--by", "RI committee",
               "--from", "2099-01-01")[0] == 0
    out = tmp_path / "pack.pdf"
    code, _, err = cli("report", "-o", str(out), "--effective-from", "2099-03-01")
    assert code == 0, err
    assert out.read_bytes()[:5] == b"%PDF-" and out.stat().st_size > 20_000  # printed to A4 by the project
    for width in (1280, 390):
        page = _open(browser, out.with_suffix(".html"), width)
        banner = page.inner_text("#decision")
        assert "Decision required" in banner and "2099-03-01" in banner and "divested by" in banner
        row = page.locator('#newly-excluded tr[data-iso2="IN"]')
        assert "2099-03-01" in row.inner_text() and "Republic of India (IN0020230010)" in row.inner_text()
        assert "(out)" in page.inner_text("#chart-scatter") and "India" in page.inner_text("#chart-scatter")
        assert "rule of law concerns" in page.inner_text("#overrides")
        assert page.locator("#full-list tbody tr").count() == 208  # FH's 207 and Puerto Rico, in the US report
        assert "strict_pf" in page.inner_text("#mandates-in-force")
        _fits(page)
        page.screenshot(path=str(ARTIFACTS / f"pack-proposed-{width}.png"), full_page=True)
        page.close()


def test_the_approval_record_of_a_published_list_names_its_approver(fresh_db, browser, tmp_path):

    cli = Cli(fresh_db)
    india_not_free_2027(tmp_path)
    assert cli("import", str(tmp_path / "fiw-2027.csv"))[0] == 0
    assert cli("people", "add", "Anna de Vries", "--role", "committee")[0] == 0
    code, _, err = cli("publish", "--approved-by", "Anna de Vries", "--effective-from", "2099-03-01",
                       "--minutes", "RIC 2099/04 item 3")
    assert code == 0, err
    out = tmp_path / "pack.html"
    assert cli("report", "-o", str(out))[0] == 0
    for width in (1280, 390):
        page = _open(browser, out, width)
        assert page.inner_text("#approved-by") == "Anna de Vries"
        assert page.inner_text("#minutes") == "RIC 2099/04 item 3" and "2099-03-01" in page.inner_text("#approval-record")
        assert page.locator("#decision").count() == 0
        _fits(page)
        page.close()


def test_the_impact_and_pai_pages_at_desk_and_phone_width(fresh_db, browser, tmp_path):
    cli = Cli(fresh_db)
    assert cli("issuers", "import", str(paths.ISSUERS))[0] == 0
    india_not_free_2027(tmp_path)
    assert cli("import", str(tmp_path / "fiw-2027.csv"))[0] == 0
    book = tmp_path / "holdings-2026-09-30.csv"
    book.write_text("portfolio,isin,mv\nA,IN0020230010,100.5\nB,NL0011223342,1000\nB,XS2100000012,50\n")
    impact, pai = tmp_path / "impact.html", tmp_path / "pai.html"
    assert cli("impact", str(book), "--value-column", "mv", "--portfolio-column", "portfolio", "--format", "html",
               "-o", str(impact))[0] == 0
    assert cli("pai", str(book), "--value-column", "mv", "--format", "html", "-o", str(pai))[0] == 0
    for width in (1280, 390):
        page = _open(browser, impact, width)
        assert "India" in page.inner_text("body") and "Source: Freedom House" in page.inner_text("body")
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")
        page.close()
        page = _open(browser, pai, width)
        body = page.inner_text("body")
        assert "PAI 16" in body and "Supranational issuers are out of scope" in body
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")
        page.close()
