"""The HTTP API through FastAPI's TestClient: same answers as the CLI, JSON errors, admin behind a token."""

from __future__ import annotations

import sqlite3

import pytest
from fastapi.testclient import TestClient

from sovereign.api import create_app
from sovereign.settings import Settings
from tests.conftest import Cli, db_fingerprint


@pytest.fixture(scope="module")
def client(loaded_db):
    with TestClient(create_app(Settings.load(db=loaded_db))) as c:
        yield c


def test_check_matches_the_cli(client, cli):
    body = client.get("/api/v1/check/TR").json()
    _, answers = cli.json("check", "TR", "--json")
    assert body == answers[0]
    assert body["status"] == "NF" and body["eligible"] is False and body["pr"] == 16


def test_check_with_mandate_and_date(client):
    assert client.get("/api/v1/check/IN", params={"mandate": "strict_pf"}).json()["eligible"] is False
    thai = client.get("/api/v1/check/Thailand", params={"as_of": "2025-02-01"}).json()
    assert thai["edition"] == 2024 and thai["eligible"] is True


@pytest.mark.parametrize("path,status,text", [
    ("/api/v1/check/Narnia", 404, "no country or territory"),
    ("/api/v1/check/XS1234567891", 400, "not a valid ISIN"),
    ("/api/v1/check/NL?mandate=nope", 422, "strict_pf"),
    ("/api/v1/check/NL?as_of=1960-01-01", 404, "no list was in force"),
    ("/api/v1/check/NL?as_of=yesterday", 422, ""),
    ("/api/v1/lists/2002", 404, "no published list for edition 2002"),
    ("/api/v1/countries/QQ/history", 404, "no country has the ISO code QQ"),
    ("/api/v1/diff?from=junk", 422, "pattern"),
])
def test_errors_are_json_with_the_right_4xx(client, path, status, text):
    response = client.get(path)
    assert response.status_code == status
    assert text in str(response.json()["detail"])


def test_lists_history_diff_health(client):
    current = client.get("/api/v1/lists/current").json()
    assert current["edition"] == 2026 and len(current["entries"]) == 208  # FH's 207 and Puerto Rico in the US report
    assert [e["covered_by"] for e in current["entries"] if e["iso2"] == "PR"] == ["US"]
    assert "Freedom House" in current["attribution"]
    strict = client.get("/api/v1/lists/2026", params={"mandate": "strict_pf"}).json()
    assert sum(e["eligible"] for e in strict["entries"]) < sum(e["eligible"] for e in current["entries"])
    history = client.get("/api/v1/countries/TH/history").json()
    assert [h["eligible"] for h in history if h["edition"] in (2024, 2025)] == [True, False]
    d = client.get("/api/v1/diff", params={"from": "2024", "to": "2025"}).json()
    assert sorted(r["name"] for r in d["newly_excluded"]) == ["Kuwait", "Niger", "Tanzania", "Thailand"]
    assert client.get("/health").json() == {"status": "ok", "since": "2026-03-01"}  # nothing more without a token


def test_screen_json_and_upload(client, tmp_path):
    rows = client.post("/api/v1/screen", json={"ids": ["NL", "TR", "Narnia", ""]}).json()
    assert [r["eligible"] for r in rows] == [True, False, False, False]
    assert "no country or territory of that name" in rows[2]["reason"]
    files = {"file": ("h.csv", b"portfolio,country\nA,Netherlands\nB,India\n", "text/csv")}
    rows = client.post("/api/v1/screen/file", files=files, params={"mandate": "strict_pf"}).json()
    assert [(r["portfolio"], r["eligible"]) for r in rows] == [("A", True), ("B", False)]
    bad = client.post("/api/v1/screen/file", files={"file": ("h.csv", b"foo\n1\n", "text/csv")})
    assert bad.status_code == 400 and "no identifier column" in bad.json()["detail"]


def test_report_and_page(client):
    page = client.get("/reports/2025")
    assert page.status_code == 200 and "Thailand" in page.text and "Freedom House" in page.text
    home = client.get("/")
    assert home.status_code == 200 and 'id="q"' in home.text and "strict_pf" in home.text


def test_openapi_is_served(client):
    spec = client.get("/openapi.json").json()
    assert "/api/v1/check/{identifier}" in spec["paths"] and "/health" in spec["paths"]
    assert client.get("/docs").status_code == 404  # Swagger UI loads from a CDN: off unless asked for


def test_docs_when_asked_for(loaded_db):
    with TestClient(create_app(Settings.load(db=loaded_db, api_docs=True))) as c:
        assert c.get("/docs").status_code == 200


# ---- admin ----

@pytest.fixture
def admin(fresh_db, monkeypatch):
    monkeypatch.setenv("SOVEREIGN_ADMIN_TOKEN", "s3cret-token")
    with TestClient(create_app(Settings.load(db=fresh_db))) as c:
        yield c, fresh_db


def test_admin_is_off_without_a_token(fresh_db, monkeypatch):
    monkeypatch.delenv("SOVEREIGN_ADMIN_TOKEN", raising=False)
    with TestClient(create_app(Settings.load(db=fresh_db))) as c:
        r = c.post("/api/v1/admin/overrides", json={"country": "IN", "reason": "x", "decided_by": "y"},
                   headers={"Authorization": "Bearer anything"})
        assert r.status_code == 403 and "off" in r.json()["detail"]


def test_admin_refuses_a_wrong_or_missing_token_and_writes_nothing(admin):
    c, db = admin
    before = db_fingerprint(db)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-token-and-more"}):
        r = c.post("/api/v1/admin/overrides", json={"country": "IN", "reason": "x", "decided_by": "y"}, headers=headers)
        assert r.status_code == 401
    assert db_fingerprint(db) == before


def test_admin_actions_work_and_are_recorded(admin):
    c, db = admin
    auth = {"Authorization": "Bearer s3cret-token"}
    r = c.post("/api/v1/admin/overrides", json={"country": "India", "reason": "committee", "decided_by": "RI committee"},
               headers=auth)
    assert r.status_code == 200 and r.json()["iso2"] == "IN"
    assert c.get("/api/v1/check/IN").json()["eligible"] is False
    r = c.post(f"/api/v1/admin/overrides/{r.json()['id']}/revoke",
               json={"revoked_by": "RI committee", "reason": "decided again"}, headers=auth)
    assert r.status_code == 400 and "shared admin token is nobody in particular" in r.json()["detail"]
    assert c.get("/api/v1/check/IN").json()["eligible"] is False  # re-admitting needs a person's approval
    r = c.post("/api/v1/admin/publish", json={"approved_by": "RI", "effective_from": "2099-12-01"}, headers=auth)
    assert r.status_code == 400 and "nothing to publish" in r.json()["detail"]
    r = c.post("/api/v1/admin/refresh", json={"actor": "ops", "source": "bundled"}, headers=auth)
    assert r.status_code == 200 and set(r.json()["editions"].values()) == {"unchanged"}
    actions = sqlite3.connect(db).execute("SELECT actor, action, outcome FROM admin_actions ORDER BY id").fetchall()
    shared = "admin (shared token)"  # the shared token names nobody: per-person tokens do (test_tokens_name_people)
    assert actions == [(shared, "override add", "ok"), (shared, "override revoke", "refused"), (shared, "publish", "refused"),
                       (shared, "refresh", "ok")]


def test_serve_refuses_a_missing_database(tmp_path):
    code, _, err = Cli(tmp_path / "none.db")("serve")
    assert code == 2 and "run `sovereign refresh --source bundled` first" in err


def test_an_admin_action_that_fails_unexpectedly_is_still_recorded(fresh_db, monkeypatch):
    from sovereign import pipeline

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setenv("SOVEREIGN_ADMIN_TOKEN", "s3cret-token")
    monkeypatch.setattr(pipeline, "publish", broken)
    with TestClient(create_app(Settings.load(db=fresh_db)), raise_server_exceptions=False) as c:
        r = c.post("/api/v1/admin/publish", json={"approved_by": "RI", "effective_from": "2099-12-01"},
                   headers={"Authorization": "Bearer s3cret-token"})
    assert r.status_code == 500
    row = sqlite3.connect(fresh_db).execute("SELECT actor, action, outcome, message FROM admin_actions").fetchone()
    assert row == ("admin (shared token)", "publish", "failed", "RuntimeError: disk on fire")
