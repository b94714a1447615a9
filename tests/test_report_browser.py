"""The committee report opened in a real browser (Debian's Chromium via Playwright), offline."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


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
