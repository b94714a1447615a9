"""The yearly public list, in Dutch and English, as HTML (checked in Chromium at two widths), CSV and PDF."""

from __future__ import annotations

import csv

import pytest

from sovereign import paths
from tests.conftest import Cli


def dutch_names() -> dict[str, str]:
    with open(paths.COUNTRY_NAMES, newline="", encoding="utf-8") as f:
        return {r["iso2"]: r["nl"] for r in csv.DictReader(f)}


def test_the_dutch_list_names_every_excluded_country_in_dutch(fresh_db, tmp_path):
    cli = Cli(fresh_db)
    assert cli("override", "add", "FR", "--reason", "internal: see minutes 2026-11", "--by", "RI",
               "--public-reason-nl", "Kernwapenbeleid (voorbeeld)", "--public-reason-en", "Nuclear weapons policy")[0] == 0
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
    assert "internal: see minutes" not in html and "Nuclear weapons policy" not in html
    assert "Bron: Freedom House, Freedom in the World 2026." in html and "Source:" not in html
    assert "1 maart 2026" in html and "2026-03-01" not in html
    # the bundled history was not approved by anyone on the day the database was loaded
    assert "de publicatie van Freedom in the World 2026 door Freedom House op 1 maart 2026" in html
    assert "Goedgekeurd" not in html


def test_the_english_list_as_csv_and_pdf(cli, tmp_path):
    code, _, err = cli("exclusion-list", "--lang", "en", "-o", str(tmp_path / "excluded.csv"))
    assert code == 0, err
    rows = list(csv.reader((tmp_path / "excluded.csv").open(encoding="utf-8-sig")))
    assert rows[0][:4] == ["iso2", "Country", "Freedom House status", "Basis"]
    assert len([r for r in rows[1:] if len(r) == 7]) == 59
    assert rows[-1] == ["Source: Freedom House, Freedom in the World 2026."]
    code, _, err = cli("exclusion-list", "--lang", "en", "-o", str(tmp_path / "excluded.pdf"))
    assert code == 0, err
    assert (tmp_path / "excluded.pdf").read_bytes()[:5] == b"%PDF-"
    code, _, err = cli("exclusion-list", "--lang", "de", "-o", str(tmp_path / "x.html"))
    assert code == 2


@pytest.mark.parametrize("width", [1280, 390])
def test_the_public_list_reads_in_a_browser_at_desktop_and_phone_widths(cli, browser, tmp_path, width):
    out = tmp_path / "list.html"
    assert cli("exclusion-list", "--lang", "nl", "-o", str(out))[0] == 0
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(out.as_uri())
    assert page.locator("#excluded tbody tr").count() == 59
    assert page.inner_text("#effective") == "1 maart 2026"
    assert "Freedom House" in page.inner_text("#attribution")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(tmp_path / f"list-{width}.png"), full_page=False)


def test_the_dutch_csv_opens_in_dutch_excel(fresh_db, tmp_path):
    cli = Cli(fresh_db)
    assert cli("override", "add", "FR", "--reason", "internal note", "--by", "RI",
               "--public-reason-nl", "Kernwapenbeleid; zie toelichting")[0] == 0
    out = tmp_path / "uitsluitingen.csv"
    assert cli("exclusion-list", "--lang", "nl", "-o", str(out))[0] == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads the accents right
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines(), delimiter=";"))
    assert rows[0] == ["iso2", "Land", "Status volgens Freedom House", "Grond", "Uitgesloten vanaf",
                       "Verkocht uiterlijk", "Gebaseerd op"]
    france = next(r for r in rows if r and r[0] == "FR")
    assert france[1:4] == ["Frankrijk", "Free", "Uitgesloten door onze commissie verantwoord beleggen: Kernwapenbeleid; "
                                                "zie toelichting"]
    assert "internal note" not in raw.decode("utf-8-sig")


def test_an_override_without_a_public_reason_shows_no_internal_note(fresh_db, tmp_path):
    cli = Cli(fresh_db)
    assert cli("override", "add", "HU", "--reason", "confidential: pending litigation", "--by", "RI")[0] == 0
    for lang in ("nl", "en"):
        out = tmp_path / f"list-{lang}.html"
        assert cli("exclusion-list", "--lang", lang, "-o", str(out))[0] == 0
        html = out.read_text()
        assert "confidential" not in html and 'data-iso2="HU"' in html


def test_the_public_reason_goes_through_the_api_too(fresh_db, monkeypatch, tmp_path):
    from fastapi.testclient import TestClient

    from sovereign.api import create_app
    from sovereign.settings import Settings

    monkeypatch.setenv("SOVEREIGN_ADMIN_TOKEN", "s" * 40)
    with TestClient(create_app(Settings.load(db=fresh_db))) as c:
        r = c.post("/api/v1/admin/overrides", headers={"Authorization": "Bearer " + "s" * 40},
                   json={"country": "HU", "reason": "internal", "public_reason_nl": "Rechtsstaat",
                         "public_reason_en": "Rule of law"})
        assert r.status_code == 200, r.text
    out = tmp_path / "list.html"
    assert Cli(fresh_db)("exclusion-list", "--lang", "en", "-o", str(out))[0] == 0
    assert "Excluded by our responsible-investment committee: Rule of law" in out.read_text()


def test_an_earlier_years_list_is_as_it_stood_when_it_took_effect(fresh_db, tmp_path):
    cli = Cli(fresh_db)
    assert cli("override", "add", "FR", "--reason", "x", "--by", "RI", "--public-reason-en", "Policy")[0] == 0
    out = tmp_path / "list-2025.csv"
    assert cli("exclusion-list", "--lang", "en", "--edition", "2025", "-o", str(out))[0] == 0
    rows = list(csv.reader(out.open(encoding="utf-8-sig")))
    assert "FR" not in {r[0] for r in rows if r} and "RU" in {r[0] for r in rows if r}
