"""The console's sign-in rules without a browser: people get an e-mail and a role, a session cookie cannot be forged
or outlive its token, a redirect never leaves the console, the language follows Accept-Language."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from sovereign.api.routers.console_session import Sessions, language, safe_next
from sovereign.settings import Settings
from tests.conftest import Cli


def test_people_add_gives_a_token_holder_the_email_and_role_they_lack(fresh_db):
    cli = Cli(fresh_db)
    code, token, err = cli("tokens", "add", "Carla Smit")
    assert code == 0, err
    code, out, err = cli("people", "add", "carla smit ", "--email", "carla@example.org", "--role", "committee")
    assert code == 0, err
    assert out.strip() == "Gave Carla Smit their email carla@example.org and role committee."
    code, people = cli.json("people", "list", "--format", "json")
    assert [(p["name"], p["email"], p["role"], p["tokens"]) for p in people] == [
        ("Carla Smit", "carla@example.org", "committee", 1)]
    code, trail = cli.json("audit", "--format", "json")
    assert trail[-1]["action"] == "person update" and trail[-1]["subject"] == "Carla Smit"
    # nothing left to fill in, or another role: the register is not rewritten
    code, _, err = cli("people", "add", "Carla Smit", "--role", "desk")
    assert code == 2 and "already in the register" in err and "--role 'committee'" in err
    code, _, err = cli("people", "add", "Carla Smit")
    assert code == 2 and "already in the register" in err
    # an e-mail names one person: the console signs people in by it
    code, _, err = cli("people", "add", "Someone Else", "--email", "CARLA@example.org")
    assert code == 2 and "already Carla Smit's" in err


@pytest.fixture
def client(fresh_db):
    from sovereign.api import create_app

    cli = Cli(fresh_db)
    assert cli("people", "add", "Anna de Vries", "--email", "anna@example.org", "--role", "committee")[0] == 0
    code, token, _ = cli("tokens", "add", "Anna de Vries")
    app = create_app(Settings.load(db=fresh_db, trusted_proxies="10.0.0.5", session_secret="s" * 32))
    with TestClient(app, base_url="http://testserver") as c:
        yield c, token.strip(), cli


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', html).group(1)


def test_a_token_session_is_signed_and_ends_with_its_token(client):
    c, token, cli = client
    page = c.get("/console/sign-in")
    assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
    cookie = page.cookies.get("sovereign_session")
    assert cookie and "httponly" in page.headers["set-cookie"].lower()
    assert "samesite=strict" in page.headers["set-cookie"].lower()
    signed = c.post("/console/sign-in", data={"token": token, "csrf": csrf_of(page.text), "next": "//evil.example/x"},
                    follow_redirects=False)
    assert signed.status_code == 303 and signed.headers["location"] == "/console"
    assert c.get("/console/versions").status_code == 200
    # a tampered cookie is nobody
    value = c.cookies.get("sovereign_session")
    c.cookies.set("sovereign_session", value[:-2] + ("00" if not value.endswith("00") else "11"))
    assert c.get("/console/versions", follow_redirects=False).status_code == 303
    c.cookies.set("sovereign_session", value)
    assert c.get("/console/versions", follow_redirects=False).status_code == 200
    assert cli("tokens", "revoke", "Anna de Vries")[0] == 0
    assert c.get("/console/versions", follow_redirects=False).status_code == 303


def test_the_shared_admin_token_signs_no_one_in(client, monkeypatch):
    c, _, _ = client
    monkeypatch.setenv("SOVEREIGN_ADMIN_TOKEN", "shared-secret-token")
    page = c.get("/console/sign-in")
    refused = c.post("/console/sign-in", data={"token": "shared-secret-token", "csrf": csrf_of(page.text)})
    assert refused.status_code == 401 and 'data-problem="bad_token"' in refused.text


def test_the_proxy_header_is_ignored_from_an_untrusted_peer(client):
    c, _, _ = client  # the test client's peer is "testclient", not 10.0.0.5
    page = c.get("/console/proposals", headers={"X-Forwarded-Email": "anna@example.org"})
    assert page.url.path == "/console/sign-in" and 'data-problem="untrusted_proxy"' in page.text


def test_sessions_refuse_forged_and_expired_cookies():
    sessions = Sessions(Settings(session_secret="k" * 32, trusted_proxies="10.0.0.0/8, ::1"))
    _, value = sessions.new_session("hash")
    assert sessions.unsign(value)["t"] == "hash"
    other = Sessions(Settings(session_secret="x" * 32))
    assert other.unsign(value) is None
    expired = sessions.sign({"n": "n", "t": "hash", "e": 1})
    assert sessions.unsign(expired) is None
    assert sessions.trusted("10.1.2.3") and sessions.trusted("::1") and not sessions.trusted("11.0.0.1")
    assert not sessions.trusted("testclient")
    from fiw.errors import UserError

    with pytest.raises(UserError, match="SOVEREIGN_TRUSTED_PROXIES"):
        Sessions(Settings(trusted_proxies="10.0.0.300"))
    with pytest.raises(UserError, match="SOVEREIGN_SESSION_SECRET: at least 16"):
        Sessions(Settings(session_secret="secret"))


@pytest.mark.parametrize(("target", "expected"), [
    ("/console/audit?from=2026-01-01", "/console/audit?from=2026-01-01"), ("//evil.example", "/console"),
    ("https://evil.example/console", "/console"), ("/console\\@evil", "/console"), (None, "/console"),
    ("/api/v1/admin/publish", "/console")])
def test_a_redirect_stays_in_the_console(target, expected):
    assert safe_next(target) == expected


@pytest.mark.parametrize(("header", "cookie", "expected"), [
    ("nl-NL,nl;q=0.9,en;q=0.8", None, "nl"), ("en-GB,en;q=0.9,nl;q=0.8", None, "en"), ("de-DE,nl;q=0.5", None, "nl"),
    ("fr-FR", None, "en"), ("nl;q=bad, en", None, "en"), ("nl-BE", "en", "en"), ("", "nl", "nl")])
def test_the_language_is_the_remembered_choice_else_the_browsers(header, cookie, expected):
    class Fake:
        headers = {"accept-language": header}
        cookies = {"sovereign_lang": cookie} if cookie else {}

    assert language(Fake()) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "lang", "expected"), [
    ("active, revoked from 2027-03-01", "nl", "actief, ingetrokken vanaf 1 maart 2027"),
    ("revoked from its first day", "nl", "ingetrokken vanaf de eerste dag"),
    ("coming: from 2026-12-15", "en", "coming: from 15 December 2026"),
    ("ended 2026-01-31", "nl", "beëindigd 31 januari 2026"), ("would re-admit", "nl", "zou weer toelaten"),
    ("held", "nl", "aangehouden")])
def test_the_products_state_words_in_the_pages_language(text, lang, expected):
    from sovereign.api.routers.console_text import said

    assert said(text, lang) == expected


def test_every_word_is_in_both_languages():
    from sovereign.api.routers.console_text import TEXT

    assert TEXT["nl"].keys() == TEXT["en"].keys()
    for key, english in TEXT["en"].items():
        assert re.findall(r"{\w*}", english) == re.findall(r"{\w*}", TEXT["nl"][key]), key


def test_the_console_is_not_part_of_the_api_contract(client):
    c, _, _ = client
    paths = c.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith(("/console", "/static"))]


def test_a_held_list_is_approved_only_after_its_review_is_ticked(fresh_db, tmp_path):
    from sovereign import paths
    from sovereign.api import create_app
    from tests.conftest import india_not_free_2027

    policy = tmp_path / "policy.toml"
    policy.write_text(paths.POLICY.read_text().replace("max_status_change_share = 0.10", "max_status_change_share = 0.001"))
    cli = Cli(fresh_db)
    assert cli("people", "add", "Anna de Vries", "--email", "anna@example.org", "--role", "committee")[0] == 0
    token = cli("tokens", "add", "Anna de Vries")[1].strip()
    code, _, err = cli("--policy", str(policy), "import", str(india_not_free_2027(tmp_path)))
    assert code == 4, err  # held by the anomaly gate
    app = create_app(Settings.load(db=fresh_db, policy_path=policy, session_secret="s" * 32))
    with TestClient(app) as c:
        page = c.get("/console/sign-in")
        c.post("/console/sign-in", data={"token": token, "csrf": csrf_of(page.text), "next": "/console/proposals"})
        page = c.get("/console/proposals")
        assert 'class="state held"' in page.text and 'name="accept_held"' in page.text
        version = re.search(r'data-version="(\d+)"', page.text).group(1)
        day = "2099-01-01"
        refused = c.post(f"/console/proposals/{version}/approve", data={"csrf": csrf_of(page.text), "effective_from": day})
        assert refused.status_code == 400 and f"List version {version} was held (" in refused.text
        done = c.post(f"/console/proposals/{version}/approve",
                      data={"csrf": csrf_of(page.text), "effective_from": day, "accept_held": "1"})
        assert done.status_code == 200 and f"List version {version} is in force from 1 January 2099" in done.text
    code, versions = cli.json("versions", "--format", "json")
    row = next(v for v in versions if str(v["version"]) == version)
    assert row["state"] == "published" and row["effective_from"] == day


PAGES = ["/console", "/console/proposals", "/console/overrides", "/console/overrides?on=2026-01-01", "/console/versions",
         "/console/versions?format=csv", "/console/runs", "/console/audit?who=anna&from=2026-01-01", "/console/public",
         "/console/desk", "/console/desk?q=TR", "/console/desk?q=XS0000000000", "/console/batch", "/console/upload",
         "/console/country/TR", "/console/country/Serbia", "/console/pack/53", "/console/public/nl", "/console/public/en"]


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_page_in_both_languages_with_the_security_headers(client, lang):
    c, token, cli = client
    assert cli("override", "add", "FR", "--reason", "internal", "--by", "Anna de Vries",
               "--public-reason-nl", "Kernwapenbeleid", "--public-reason-en", "Nuclear weapons policy")[0] == 0
    page = c.get("/console/sign-in")
    c.post("/console/sign-in", data={"token": token, "csrf": csrf_of(page.text)})
    c.cookies.set("sovereign_lang", lang)
    for path in PAGES:
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 200, (path, r.text[:300])
        assert "script-src 'self'" in r.headers["content-security-policy"], path
        assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store", path
        if r.headers["content-type"].startswith("text/html") and not path.startswith(("/console/pack", "/console/public/")):
            assert f'<html lang="{lang}">' in r.text, path
            assert "<script>" not in r.text and "onclick" not in r.text.lower(), path
    dutch = c.get("/console/overrides").text
    if lang == "nl":
        assert "Uitsluitingen door de commissie" in dutch and "actief" in dutch
        assert "Bron: Freedom House" in dutch and "Source:" not in dutch
    else:
        assert "Overrides" in dutch and "active" in dutch


@pytest.mark.pure
def test_the_products_reasons_and_refusals_read_in_dutch():
    """The sentences the product writes (a committee exclusion, a mandate's rule, an ISIN outside the register, a
    back-dated decision refused) in Dutch on a Dutch page; an English page keeps them as written."""
    from datetime import date

    from fiw.errors import UserError
    from sovereign import decisions, identifiers
    from sovereign.api.routers.console_text import reason
    from sovereign.eligibility import override_reason

    with pytest.raises(UserError) as refused:
        decisions.check_backdate("--effective-from", date(2020, 1, 1), None)
    assert reason(str(refused.value), "en") == str(refused.value)
    said = reason(str(refused.value), "nl")
    assert said.startswith("1 januari 2020 ligt vóór vandaag (") and said.endswith("terugwerkende kracht in")
    excluded = override_reason({"id": 3, "decided_by": "Anna de Vries", "valid_from": "2027-03-01",
                                "valid_to": "2027-12-31", "reason": "sancties"})
    assert reason(excluded, "nl") == ("Uitgesloten door de commissie: uitsluiting 3 (Anna de Vries, vanaf 1 maart 2027 "
                                      "tot en met 31 december 2027): sancties")
    note = identifiers.prefix_note("US0378331005", "United States")
    assert reason(f"ISIN US0378331005 is not in the issuer register; {note}", "nl") == (
        "ISIN US0378331005 staat niet in het register van uitgevende instellingen; het voorvoegsel US is het land van "
        "het nummeringsbureau (United States), niet noodzakelijk dat van de uitgevende instelling")
