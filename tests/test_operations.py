"""The operator's console: versions, runs, health that says when it is not ok, exit 4 for a held edition,
backup and restore while the service runs."""

from __future__ import annotations

import errno
import shutil
import sqlite3

import httpx
import pytest

from sovereign import paths
from tests.conftest import WEB_2026, Cli, india_not_free_2027
from tests.test_service import Server


def test_versions_and_runs_list_what_happened(fresh_db, tmp_path):
    cli = Cli(fresh_db)
    cli("override", "add", "FR", "--reason", "test", "--by", "RI")
    cli("issuers", "import", str(paths.ISSUERS))
    code, versions = cli.json("versions", "--format", "json")
    assert code == 0 and len(versions) == 53
    latest = versions[-1]
    assert (latest["edition"], latest["state"], latest["effective_from"]) == (2026, "published", "2026-03-01")
    assert (latest["eligible"], latest["excluded"]) == (136, 59) and latest["approved_by"] == "bundled history"
    code, runs = cli.json("runs", "--format", "json")
    assert [r["what"] for r in runs][-2:] == ["override add", "issuers import"]
    code, out, _ = cli("versions", "--format", "csv")
    assert out.splitlines()[0] == "version,edition,state,effective_from,recorded,published,approved_by,eligible," \
                                  "excluded,reason"


def test_import_exits_4_when_the_gate_holds(fresh_db, tmp_path):
    text = WEB_2026.read_text().replace("Norway,NO,country,99,Free,39,60", "Norway,NO,country,99,Not Free,39,60")
    path = tmp_path / "fiw-2027.csv"
    path.write_text(text)
    code, out, err = Cli(fresh_db)("import", str(path))
    assert code == 4 and "held" in out and "anomaly gate held" in err


def test_verify_gives_its_verdict_first(cli):
    code, out, _ = cli("verify")
    assert code == 0 and len(out.splitlines()) == 1 and out.startswith("Verify: OK")


def test_health_is_503_after_a_failed_refresh_and_names_what_awaits_approval(fresh_db, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from sovereign.api import create_app
    from sovereign.settings import Settings

    cli = Cli(fresh_db)
    india_not_free_2027(tmp_path)
    cli("import", str(tmp_path / "fiw-2027.csv"))
    (tmp_path / "broken.csv").write_text("not,a,scores,file\n")
    assert cli("import", str(tmp_path / "broken.csv"))[0] == 2  # recorded as a failed run
    monkeypatch.setenv("SOVEREIGN_ADMIN_TOKEN", "s3cret")
    with TestClient(create_app(Settings.load(db=fresh_db))) as c:
        r = c.get("/health")
        assert r.status_code == 503 and r.json()["status"] == "not ok" and set(r.json()) == {"status", "since"}
        detail = c.get("/health", headers={"Authorization": "Bearer s3cret"}).json()
        assert any("the last refresh failed" in p for p in detail["problems"])
        assert detail["awaiting_approval"] == {"list_version": 54, "edition": 2027, "state": "proposed"}


@pytest.mark.slow
def test_a_backup_taken_while_the_service_runs_holds_the_latest_override(fresh_db, tmp_path):
    cli = Cli(fresh_db)
    assert cli("refresh")[0] == 0  # the bundled payload archived beside this database
    server = Server(fresh_db)
    try:
        assert cli("override", "add", "IN", "--reason", "latest decision", "--by", "RI")[0] == 0
        assert httpx.get(server.url + "/api/v1/check/IN").json()["verdict"] == "excluded"
        code, out, err = cli("backup", str(tmp_path / "backup"))
        assert code == 0, err
        copy = sqlite3.connect(tmp_path / "backup" / "sovereign.db")
        assert copy.execute("SELECT reason FROM overrides").fetchall() == [("latest decision",)]
        assert list((tmp_path / "backup" / "archive").iterdir())  # the raw payloads came along
        restored = tmp_path / "restored" / "sovereign.db"
        restored.parent.mkdir()
        shutil.copy2(fresh_db.parent / "sovereign.key", restored.parent / "sovereign.key")  # kept apart from backups
        code, out, err = Cli(restored)("restore", str(tmp_path / "backup"))
        assert code == 0, err
        code, [india] = Cli(restored).json("check", "IN", "--json")
        assert india["verdict"] == "excluded"
        code, _, err = cli("restore", str(tmp_path / "backup"))
        assert code == 2 and "give --yes" in err
        (tmp_path / "backup" / "backup.json").write_text('{"sha256": "trunc', encoding="utf-8")
        elsewhere = Cli(tmp_path / "elsewhere" / "sovereign.db")
        code, _, err = elsewhere("restore", str(tmp_path / "backup"))
        assert code == 2 and "backup.json: not readable JSON" in err and "Traceback" not in err
        assert not (tmp_path / "elsewhere" / "sovereign.db").exists()
    finally:
        server.stop()


def test_logs_go_to_a_file_as_json(fresh_db, tmp_path):
    import json
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here: the poll fails
    log = tmp_path / "sovereign.log"
    done = subprocess.run([sys.executable, "-m", "sovereign", "--db", str(fresh_db), "--log-file", str(log),
                           "--log-format", "json", "schedule", "--once", "--base-url", f"http://127.0.0.1:{port}",
                           "--min-interval", "0", "--timeout", "1"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "the poll failed" in done.stderr
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    failed = [e for e in entries if "scheduled refresh failed" in e["message"]]
    assert failed and failed[0]["level"] == "ERROR" and failed[0]["logger"] == "sovereign.schedule"
    with sqlite3.connect(fresh_db) as conn:
        assert conn.execute("SELECT outcome FROM runs ORDER BY id DESC LIMIT 1").fetchone()[0] == "failed"


def test_notices_by_mail_name_the_movers_and_link_the_report(fresh_db, tmp_path):
    from aiosmtpd.controller import Controller

    from scrapers.freedomhouse import read_workbook
    from tests.conftest import ALL_DATA
    from tests.fhsite import FHSite, edition_2027
    from tests.test_service import free_port

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append((envelope.rcpt_tos, envelope.content.decode()))
            return "250 OK"

    for _ in range(5):  # a parallel worker may take the port between choosing and binding: choose again
        controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
        try:
            controller.start()
            break
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
    try:
        with FHSite() as site:
            site.publish(edition_2027(read_workbook(ALL_DATA)), 2027, details=False)
            code, out, err = Cli(fresh_db)("schedule", "--once", "--base-url", site.url, "--min-interval", "0",
                                           "--reports", str(tmp_path / "reports"),
                                           "--smtp", f"smtp://127.0.0.1:{controller.port}",
                                           "--mail-to", "ops@example.org", "--public-url", "https://sov.example")
        assert code == 0, err
    finally:
        controller.stop()
    import email

    [(to, raw)] = received
    message = email.message_from_string(raw)
    body = message.get_payload(decode=True).decode()
    assert to == ["ops@example.org"] and message["Subject"] == "sovereign: new edition"
    assert "Would move out: India" in body and "https://sov.example/reports/2027" in body
    assert str(tmp_path / "reports") in body  # an absolute path to the report


def test_a_failed_poll_is_announced_and_retried_within_hours(fresh_db, tmp_path, monkeypatch):
    from datetime import UTC, datetime, timedelta

    from sovereign import schedule
    from sovereign.settings import Settings

    now = datetime(2026, 5, 4, 6, tzinfo=UTC)
    assert [schedule.retry_at(a, now) - now for a in range(3)] == [timedelta(hours=1), timedelta(hours=2),
                                                                   timedelta(hours=4)]
    assert schedule.retry_at(3, now) is None  # then the next scheduled poll
    notes = tmp_path / "notice.txt"
    conf = Settings.load(db=fresh_db, base_url="http://127.0.0.1:9", min_interval=0.0, timeout=1.0,
                         notify_command=f"echo $SOVEREIGN_NOTICE > {notes}")
    planned = []

    class Scheduler:
        def add_job(self, func, trigger, run_date, args, id, replace_existing):
            planned.append((trigger, run_date, args[2], id))

    result = schedule.scheduled_poll(conf, Scheduler())
    assert result["outcome"] == "failed" and notes.read_text().strip() == "failure"
    [(trigger, run_date, attempt, job)] = planned
    assert trigger == "date" and attempt == 1 and job == "retry-1"
    assert timedelta(minutes=59) < run_date - datetime.now(UTC) <= timedelta(hours=1)


def test_metrics_in_prometheus_format(fresh_db, monkeypatch):
    from fastapi.testclient import TestClient
    from prometheus_client.parser import text_string_to_metric_families

    from sovereign.api import create_app
    from sovereign.settings import Settings

    with TestClient(create_app(Settings.load(db=fresh_db))) as c:
        assert c.get("/metrics").status_code == 403  # no tokens: off, as the admin view of /health is
        monkeypatch.setenv("SOVEREIGN_ADMIN_TOKEN", "s3cret")
        assert c.get("/metrics").status_code == 401 and c.get("/health").json().keys() == {"status", "since"}
        c.get("/api/v1/check/NL")
        c.get("/api/v1/check/Narnia")
        r = c.get("/metrics", headers={"Authorization": "Bearer s3cret"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(r.text) for s in family.samples}
    assert samples[("sovereign_list_version", ())] == 53 and samples[("sovereign_list_edition", ())] == 2026
    assert samples[("sovereign_last_run_ok", ())] == 1 and samples[("sovereign_pending_versions", ())] == 0
    assert samples[("sovereign_http_requests_total", (("method", "GET"), ("status", "200")))] >= 1
    assert samples[("sovereign_http_requests_total", (("method", "GET"), ("status", "404")))] == 1
    assert samples[("sovereign_http_requests_total", (("method", "GET"), ("status", "401")))] == 1


def test_tokens_name_people_and_two_approvers_put_a_list_in_force(fresh_db, tmp_path):
    from fastapi.testclient import TestClient

    from sovereign.api import create_app
    from sovereign.settings import Settings

    policy = tmp_path / "policy.toml"
    policy.write_text(paths.POLICY.read_text().replace("approvals_required = 1", "approvals_required = 2"))
    cli = Cli(fresh_db)
    india_not_free_2027(tmp_path)
    assert cli("--policy", str(policy), "import", str(tmp_path / "fiw-2027.csv"))[0] == 0
    anna = cli("tokens", "add", "Anna")[1].strip()
    bram = cli("tokens", "add", "Bram")[1].strip()
    assert len(anna) > 30 and anna != bram
    with TestClient(create_app(Settings.load(db=fresh_db, policy_path=policy))) as c:
        body = {"effective_from": "2099-06-01", "approved_by": "Someone Else"}  # the body's name is ignored
        r = c.post("/api/v1/admin/publish", json=body, headers={"Authorization": f"Bearer {anna}"})
        assert r.status_code == 200 and r.json()["in_force"] is False and r.json()["approvers"] == ["Anna"]
        r = c.post("/api/v1/admin/publish", json=body, headers={"Authorization": f"Bearer {anna}"})
        assert r.status_code == 409 and "Anna has already approved" in r.json()["detail"]  # still one approver
        r = c.post("/api/v1/admin/publish", json=body, headers={"Authorization": f"Bearer {bram}"})
        assert r.json()["in_force"] is True and r.json()["approvers"] == ["Anna", "Bram"]
        r = c.post("/api/v1/admin/overrides", json={"country": "FR", "reason": "x", "decided_by": "Mallory"},
                   headers={"Authorization": f"Bearer {anna}"})
        assert r.json()["decided_by"] == "Anna"
    assert cli("tokens", "revoke", "Anna")[0] == 0
    with TestClient(create_app(Settings.load(db=fresh_db, policy_path=policy))) as c:
        r = c.post("/api/v1/admin/overrides", json={"country": "FR", "reason": "x"},
                   headers={"Authorization": f"Bearer {anna}"})
        assert r.status_code == 401
    row = sqlite3.connect(fresh_db).execute("SELECT approved_by, state FROM list_versions WHERE id = 54").fetchone()
    assert row == ("Anna and Bram", "published")
    code, tokens = cli.json("tokens", "list", "--format", "json")
    assert "hash" not in tokens[0] and {t["person"] for t in tokens} == {"Anna", "Bram"}
