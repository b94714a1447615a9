"""The yearly public list, in Dutch and English, as HTML (checked in Chromium at two widths), CSV and PDF."""

from __future__ import annotations

import csv

import pytest

from sovereign import paths
from tests.conftest import Cli
from tests.test_report_browser import CHROMIUM, FLAGS


def dutch_names() -> dict[str, str]:
    with open(paths.COUNTRY_NAMES, newline="", encoding="utf-8") as f:
        return {r["iso2"]: r["nl"] for r in csv.DictReader(f)}


def test_the_dutch_list_names_every_excluded_country_in_dutch(fresh_db, tmp_path):
    cli = Cli(fresh_db)
    assert cli("override", "add", "FR", "--reason", "Kernwapenbeleid (voorbeeld)", "--by", "RI")[0] == 0
    out = tmp_path / "uitsluitingen.html"
    code, _, err = cli("exclusion-list", "--lang", "nl", "-o", str(out))
    assert code == 0, err
    html = out.read_text()
    code, excluded = cli.json("list", "--excluded", "--format", "json")
    countries = {r["iso2"] for r in excluded if r["kind"] == "country"}
    assert "FR" in countries and len(countries) == 60
    names = dutch_names()
    assert all(names[iso2] in html for iso2 in countries)
    assert "Rusland" in html and "Turkije" in html and "Frankrijk" in html and "Not Free" in html
    assert "Uitgesloten door onze commissie verantwoord beleggen: Kernwapenbeleid (voorbeeld)" in html
    assert "Source: Freedom House, Freedom in the World 2026" in html and "2026-03-01" in html


def test_the_english_list_as_csv_and_pdf(cli, tmp_path):
    code, _, err = cli("exclusion-list", "--lang", "en", "-o", str(tmp_path / "excluded.csv"))
    assert code == 0, err
    rows = list(csv.reader((tmp_path / "excluded.csv").open(encoding="utf-8")))
    assert rows[0][:3] == ["iso2", "Country", "Basis"] and len([r for r in rows[1:] if len(r) == 5]) == 59
    assert rows[-1] == ["Source: Freedom House, Freedom in the World 2026"]
    code, _, err = cli("exclusion-list", "--lang", "en", "-o", str(tmp_path / "excluded.pdf"))
    assert code == 0, err
    assert (tmp_path / "excluded.pdf").read_bytes()[:5] == b"%PDF-"
    code, _, err = cli("exclusion-list", "--lang", "de", "-o", str(tmp_path / "x.html"))
    assert code == 2


@pytest.mark.parametrize("width", [1280, 390])
def test_the_public_list_reads_in_a_browser_at_desktop_and_phone_widths(cli, tmp_path, width):
    from playwright.sync_api import sync_playwright

    out = tmp_path / "list.html"
    assert cli("exclusion-list", "--lang", "nl", "-o", str(out))[0] == 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(out.as_uri())
        assert page.locator("#excluded tbody tr").count() == 59
        assert page.inner_text("#effective") == "2026-03-01"
        assert "Freedom House" in page.inner_text("#attribution")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=str(tmp_path / f"list-{width}.png"), full_page=False)
        browser.close()
