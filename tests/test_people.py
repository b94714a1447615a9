"""People, not strings: one person however their name is typed or looked alike, tokens that belong to people,
the shared token that is nobody, loosening that needs the same approvals as publishing, and decisions logged."""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from sovereign import clock, paths, people
from sovereign.api import create_app
from sovereign.settings import Settings
from tests.conftest import Cli, india_not_free_2027

TODAY = clock.today()
CYRILLIC_ANNA = "\u0410nna de Vries"  # a Cyrillic А
SHARED = "s" * 40


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


@pytest.fixture
def two(fresh_db, tmp_path):
    """A database whose policy asks for two approvers, a proposed 2027 list, and Anna and Bram in the register."""
    policy = tmp_path / "policy.toml"
    policy.write_text(paths.POLICY.read_text().replace("approvals_required = 1", "approvals_required = 2"))
    cli = Cli(fresh_db)

    def run(*args, env=None):
        return cli("--policy", str(policy), *args, env=env)

    run.db, run.policy = fresh_db, policy  # type: ignore[attr-defined]
    assert run("import", str(india_not_free_2027(tmp_path)))[0] == 0
    assert run("people", "add", "Anna de Vries", "--role", "committee", "--email", "anna@example.org")[0] == 0
    assert run("people", "add", "Bram Jansen", "--role", "committee")[0] == 0
    return run


@pytest.mark.pure
@given(st.sampled_from(["Anna de Vries", "anna de vries ", "  ANNA   DE VRIES", CYRILLIC_ANNA, "Аnnа dе Vriеs",
                        "Ａｎｎａ ｄｅ Ｖｒｉｅｓ"]))
@settings(derandomize=True, max_examples=20)
def test_spellings_of_one_person_share_one_key(name):
    assert people.key(name) == people.key("Anna de Vries")


@pytest.mark.pure
def test_different_people_keep_different_keys():
    assert people.key("Anna de Vries") != people.key("Anne de Vries")
    assert people.key("Renée") != people.key("Renee")  # an accent is part of a name, not a look-alike


def test_one_person_however_typed_is_one_approver(two):
    code, out, err = two("publish", "--approved-by", "Anna de Vries", "--effective-from", day(30), "--minutes", "RI-12")
    assert code == 0 and "1 of 2" in out and "OS user" in out, err
    for again in ("anna de vries ", CYRILLIC_ANNA):  # the same person again, the same date: refused, said so
        code, out, err = two("publish", "--approved-by", again, "--effective-from", day(30))
        assert code == 2 and f"Anna de Vries has already approved list version 54 for {day(30)}" in err, err
    code, _, err = two("publish", "--approved-by", "Mallory", "--effective-from", day(30))
    assert code == 2 and "not in the register of people" in err
    code, _, err = two("publish", "--approved-by", "admin (shared token)", "--effective-from", day(30))
    assert code == 2 and "shared admin token is nobody in particular and cannot approve" in err
    code, out, err = two("publish", "--approved-by", "bram jansen", "--effective-from", day(30), "--minutes", "RI-12")
    assert code == 0 and "approved by Anna de Vries and Bram Jansen" in out, err
    rows = sqlite3.connect(two.db).execute("SELECT approved_by, os_user, minutes FROM approvals WHERE version_id = 54 "
                                           "ORDER BY id").fetchall()
    assert [r[0] for r in rows] == ["Anna de Vries", "Bram Jansen"] and all(r[1] for r in rows)
    assert sqlite3.connect(two.db).execute("SELECT minutes FROM list_versions WHERE id = 54").fetchone() == ("RI-12",)


def test_the_register_refuses_a_second_spelling_and_control_characters(two):
    code, _, err = two("people", "add", CYRILLIC_ANNA)
    assert code == 2 and "already in the register as 'Anna de Vries'" in err
    code, _, err = two("people", "add", "Eve\u202eseirV")
    assert code == 2 and "U+202E" in err
    code, _, err = two("tokens", "add", "Admin (Shared Token)")
    assert code == 2 and "shared admin token's label" in err
    code, out, _ = two("people", "list", "--format", "json")
    assert [p["name"] for p in json.loads(out)] == ["Anna de Vries", "Bram Jansen"]
    assert two("people", "remove", "anna de vries")[0] == 0
    code, _, err = two("publish", "--approved-by", "Anna de Vries", "--effective-from", day(30))
    assert code == 2 and "not in the register" in err


def test_two_tokens_of_one_person_and_the_shared_token_are_not_two_approvers(two, monkeypatch):
    anna = two("tokens", "add", "Anna de Vries")[1].strip()
    anna_again = two("tokens", "add", "anna  de vries")[1].strip()
    bram = two("tokens", "add", "Bram Jansen")[1].strip()
    monkeypatch.setenv("SOVEREIGN_ADMIN_TOKEN", SHARED)
    with TestClient(create_app(Settings.load(db=two.db, policy_path=two.policy))) as c:
        body = {"effective_from": day(30)}
        r = c.post("/api/v1/admin/publish", json=body, headers={"Authorization": f"Bearer {anna}"})
        assert r.status_code == 200 and r.json()["approvers"] == ["Anna de Vries"]
        r = c.post("/api/v1/admin/publish", json=body, headers={"Authorization": f"Bearer {anna_again}"})
        assert r.status_code == 409 and "Anna de Vries has already approved list version 54" in r.json()["detail"]
        r = c.post("/api/v1/admin/publish", json={"effective_from": day(31)}, headers={"Authorization": f"Bearer {anna}"})
        assert r.json()["moved_from"] == day(30) and r.json()["in_force"] is False
        r = c.post("/api/v1/admin/publish", json=body, headers={"Authorization": f"Bearer {anna}"})
        assert r.json()["moved_from"] == day(31)  # and back: each move is recorded, none silent
        r = c.post("/api/v1/admin/publish", json=body, headers={"Authorization": f"Bearer {SHARED}"})
        assert r.status_code == 400 and "shared admin token" in r.json()["detail"]
        r = c.post("/api/v1/admin/publish", json=body, headers={"Authorization": f"Bearer {bram}"})
        assert r.json()["in_force"] is True and r.json()["approvers"] == ["Anna de Vries", "Bram Jansen"]
        listed = c.get("/api/v1/admin/people", headers={"Authorization": f"Bearer {bram}"}).json()
        assert [(p["name"], p["tokens"]) for p in listed] == [("Anna de Vries", 2), ("Bram Jansen", 1)]


def test_an_approval_for_another_date_replaces_the_earlier_one_visibly(two, tmp_path):
    assert two("publish", "--approved-by", "Anna de Vries", "--effective-from", day(30), "--minutes", "RI-11")[0] == 0
    code, out, _ = two("publish", "--approved-by", "Anna de Vries", "--effective-from", day(31), "--minutes", "RI-12")
    assert f"Anna de Vries's approval of list version 54 moved from {day(30)} to {day(31)}" in out and "1 of 2" in out
    code, out, _ = two("publish", "--approved-by", "Bram Jansen", "--effective-from", day(30))
    assert "1 of 2" in out  # Anna no longer approves day 30
    pack = tmp_path / "pack.html"
    assert two("report", "--version", "54", "-o", str(pack))[0] == 0
    html = pack.read_text()
    assert "RI-11" in html and "RI-12" in html and "replaced" in html and 'id="sign-off"' in html
    assert "Anna de Vries, Bram Jansen" in html and "sovereign publish --edition 2027 --approved-by NAME" in html
    code, out, _ = two("diff", "--to", "v54", "--format", "md")
    assert "## Sign-off" in out and "| Anna de Vries |" in out and "RI-12" in out


def test_revoking_an_override_needs_as_many_approvals_as_publishing(two, monkeypatch):
    code, out, _ = two("override", "add", "FR", "--reason", "x", "--by", "anna  DE vries", "--from", day(10))
    assert code == 0 and "by Anna de Vries" in out  # recorded as the register spells her
    code, out, err = two("override", "revoke", "1", "--by", "Anna de Vries", "--reason", "withdrawn by the committee")
    assert code == 0 and "1 of 2" in out, err
    code, [france] = Cli(two.db).json("check", "FR", "--as-of", day(12), "--json")
    assert france["verdict"] == "excluded"  # one approver does not re-admit a country
    code, _, err = two("override", "revoke", "1", "--by", "anna de vries", "--reason", "again")
    assert code == 2 and f"Anna de Vries has already approved revoking override 1 for {day(10)}" in err
    code, out, err = two("override", "revoke", "1", "--by", "Bram Jansen", "--reason", "withdrawn by the committee")
    assert code == 0 and "revoked by Anna de Vries and Bram Jansen" in out, err
    code, [france] = Cli(two.db).json("check", "FR", "--as-of", day(12), "--json")
    assert france["verdict"] == "eligible"
    # through the API: the shared token cannot be the second approver of a revocation either
    assert two("override", "add", "HU", "--reason", "x", "--by", "RI")[0] == 0
    anna, bram = two("tokens", "add", "Anna de Vries")[1].strip(), two("tokens", "add", "Bram Jansen")[1].strip()
    monkeypatch.setenv("SOVEREIGN_ADMIN_TOKEN", SHARED)
    with TestClient(create_app(Settings.load(db=two.db, policy_path=two.policy))) as c:
        body = {"reason": "decided again"}
        r = c.post("/api/v1/admin/overrides/2/revoke", json=body, headers={"Authorization": f"Bearer {anna}"})
        assert r.status_code == 200 and r.json()["in_force"] is False
        r = c.post("/api/v1/admin/overrides/2/revoke", json=body, headers={"Authorization": f"Bearer {SHARED}"})
        assert r.status_code == 400
        r = c.post("/api/v1/admin/overrides/2/revoke", json=body, headers={"Authorization": f"Bearer {bram}"})
        assert r.json()["in_force"] is True
        listed = c.get("/api/v1/admin/overrides", headers={"Authorization": f"Bearer {anna}"}).json()
        assert [o["state"] for o in listed] == ["revoked from its first day"] * 2


def test_entered_in_error_removes_an_override_from_its_first_day(desk):
    assert desk("people", "add", "RI", "--role", "committee")[0] == 0
    assert desk("override", "add", "FR", "--reason", "typo: meant FI", "--by", "RI", "--from", day(-20),
                "--backdate-reason", "decided earlier")[0] == 0
    code, [before] = desk.json("check", "FR", "--as-of", day(-10), "--json")
    assert before["verdict"] == "excluded"
    code, _, err = desk("override", "revoke", "1", "--by", "RI", "--reason", "entered in error", "--entered-in-error",
                        "--from", day(-1))
    assert code == 2 and "give no --from" in err
    code, out, err = desk("override", "revoke", "1", "--by", "RI", "--reason", "entered in error", "--entered-in-error")
    assert code == 0 and "removed from its first day" in out, err
    for offset in (-20, -10, 0):
        code, [fr] = desk.json("check", "FR", "--as-of", day(offset), "--json")
        assert fr["verdict"] == "eligible", offset
    code, out, _ = desk("override", "list")
    assert "revoked from its first day" in out and "(entered in error: never applied)" in out
    code, rows = desk.json("override", "list", "--json")
    assert rows[0]["revoke_kind"] == "error" and rows[0]["revoked_from"] == day(-20)


def test_entered_in_error_through_the_api(fresh_db, monkeypatch):
    monkeypatch.setenv("SOVEREIGN_ADMIN_TOKEN", SHARED)
    auth = {"Authorization": f"Bearer {Cli(fresh_db)('tokens', 'add', 'Anna de Vries')[1].strip()}"}
    with TestClient(create_app(Settings.load(db=fresh_db))) as c:
        r = c.post("/api/v1/admin/overrides", headers=auth,
                   json={"country": "FR", "reason": "typo", "valid_from": day(-5), "backdate_reason": "late"})
        assert r.status_code == 200, r.text
        r = c.post("/api/v1/admin/overrides/1/revoke", headers=auth, json={"reason": "typo", "entered_in_error": True})
        assert r.status_code == 200 and r.json()["revoked_from"] == day(-5) and r.json()["kind"] == "error"
        assert c.get("/api/v1/check/FR", params={"as_of": day(-3)}).json()["verdict"] == "eligible"


def test_the_override_list_says_when_a_future_one_starts(desk):
    assert desk("override", "add", "IN", "--reason", "x", "--by", "RI", "--from", day(12))[0] == 0
    assert desk("people", "add", "Bob")[0] == 0
    code, out, _ = desk("override", "list")
    assert f"coming: from {day(12)}" in out and "active" not in out
    assert desk("override", "revoke", "1", "--by", "Bob", "--reason", "reconsidered", "--from", day(12))[0] == 0
    code, out, _ = desk("override", "list")
    assert f"revoked by Bob on {TODAY.isoformat()}, from {day(12)}: reconsidered" in out
    assert "decided by RI" in out


def test_decisions_and_refreshes_are_logged_to_the_log_file(fresh_db, tmp_path):
    log = tmp_path / "sovereign.log"
    cli = Cli(fresh_db)
    assert cli("--log-file", str(log), "override", "add", "FR", "--reason", "x", "--by", "RI")[0] == 0
    assert cli("people", "add", "Anna de Vries", "--role", "committee")[0] == 0
    assert cli("--log-file", str(log), "override", "revoke", "1", "--by", "Anna de Vries", "--reason", "y")[0] == 0
    assert cli("--log-file", str(log), "import", str(india_not_free_2027(tmp_path)))[0] == 0
    assert cli("--log-file", str(log), "publish", "--approved-by", "Anna de Vries", "--effective-from", day(3))[0] == 0
    text = log.read_text()
    for needle in ("INFO sovereign.decisions: override add by", "override revoke by", "import by", "publish by"):
        assert needle in text, needle
    logging.getLogger().handlers.clear()


def test_serve_keeps_an_access_log_of_who_asked_what(fresh_db, monkeypatch, caplog):
    token = Cli(fresh_db)("tokens", "add", "Anna de Vries")[1].strip()
    with caplog.at_level(logging.INFO, logger="sovereign.access"), \
            TestClient(create_app(Settings.load(db=fresh_db))) as c:
        c.get("/api/v1/check/TR")
        c.get("/api/v1/admin/overrides", headers={"Authorization": f"Bearer {token}"})
    lines = [r.getMessage() for r in caplog.records if r.name == "sovereign.access"]
    assert any("GET /api/v1/check/TR 200" in x and "by anonymous" in x for x in lines)
    assert any("/api/v1/admin/overrides 200" in x and "by Anna de Vries" in x for x in lines)
    assert token not in " ".join(lines)
    caplog.clear()
    monkeypatch.setenv("SOVEREIGN_ACCESS_LOG", "off")
    with caplog.at_level(logging.INFO, logger="sovereign.access"), \
            TestClient(create_app(Settings.load(db=fresh_db))) as c:
        c.get("/api/v1/check/TR")
    assert not [r for r in caplog.records if r.name == "sovereign.access"]


@pytest.mark.pure
@given(st.text(max_size=40))
@settings(derandomize=True, max_examples=300)
def test_the_key_is_stable_under_case_spacing_and_itself(name):
    k = people.key(name)
    assert people.key(k) == k
    assert people.key(f"  {name.upper()}  ") == people.key(name.upper())
    assert people.key(name.casefold()) == people.key(name.casefold().upper().casefold())
