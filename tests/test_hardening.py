"""Hardening: bounded inputs, the database as one thing, writers that wait, a list that proves itself, no
fail-open path, outputs that do not execute, and one line instead of a traceback."""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import httpx
import polars as pl
import pytest

from sovereign import clock, paths
from tests.conftest import Cli, db_fingerprint, india_not_free_2027, member
from tests.test_service import SOVEREIGN, Server

FUTURE = (clock.today() + timedelta(days=30)).isoformat()


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def hold_write_lock(db: Path, seconds: float = 3) -> subprocess.Popen:
    """Another process that takes the database's write lock, has said so when this returns, and keeps it for
    `seconds`, as a second writer (an operator's sqlite3 shell, a long import) does."""
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys, time\n"
        f"c = sqlite3.connect({str(db)!r}, isolation_level=None)\n"
        f"c.execute('BEGIN IMMEDIATE'); print('held', flush=True); time.sleep({seconds}); c.execute('COMMIT')\n")],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def bomb(tmp_path: Path, unpacked: int) -> Path:
    """An XLSX-shaped zip whose shared strings unpack to `unpacked` bytes: one enormous cell."""
    path = tmp_path / "book.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as f:
            chunk = b"A" * 1_000_000
            for _ in range(unpacked // len(chunk)):
                f.write(chunk)
    return path


def test_big_uploads_are_refused_before_they_are_read(fresh_db, tmp_path):
    server = Server(fresh_db)
    try:
        before = rss_kb(server.proc.pid)
        body = b"isin\n" + b"XS2100000012\n" * 1_600_000  # about 20 MB
        r = httpx.post(server.url + "/api/v1/screen/file", files={"file": ("book.csv", body, "text/csv")}, timeout=30)
        assert r.status_code == 413 and "larger than 5000000 bytes" in r.json()["detail"]

        def chunks():
            for _ in range(40):
                yield b"x" * 500_000

        r = httpx.post(server.url + "/api/v1/screen", content=chunks(), timeout=30,
                       headers={"content-type": "application/json"})
        assert r.status_code == 413
        r = httpx.post(server.url + "/api/v1/screen/file", timeout=60,
                       files={"file": ("book.xlsx", bomb(tmp_path, 200_000_000).read_bytes(), "application/zip")})
        assert r.status_code == 400 and "unpacks to more than 50,000,000 bytes" in r.json()["detail"]
        assert rss_kb(server.proc.pid) - before < 60_000  # the server's memory stays flat (kB)
        r = httpx.post(server.url + "/api/v1/screen", json={"ids": ["NL"] * 10_001}, timeout=30)
        assert r.status_code == 422 and "NL" not in r.text  # no echo of the request
    finally:
        server.stop()


def test_security_headers_and_no_leaks(fresh_db, monkeypatch):
    from fastapi.testclient import TestClient

    from sovereign.api import create_app
    from sovereign.settings import Settings

    monkeypatch.setenv("SOVEREIGN_ADMIN_TOKEN", "s3cret")
    with TestClient(create_app(Settings.load(db=fresh_db))) as c:
        for path in ("/", "/reports/2026", "/api/v1/check/NL", "/static/lookup.js"):
            r = c.get(path)
            assert r.status_code == 200, path
            assert "script-src 'self'" in r.headers["content-security-policy"]
            assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
            assert r.headers["x-content-type-options"] == "nosniff" and r.headers["referrer-policy"] == "no-referrer"
        assert "<script>" not in c.get("/").text
        health = c.get("/health", headers={"Authorization": "Bearer s3cret"}).json()
        assert health["edition"] == 2026 and health["last_refresh"]["outcome"] == "ok"
        r = c.post("/api/v1/admin/refresh", json={"actor": "ops", "base_url": "http://169.254.169.254"},
                   headers={"Authorization": "Bearer s3cret"})
        assert r.status_code == 400 and "only from its configured site" in r.json()["detail"]
        r = c.get("/api/v1/check/XS1234567891")
        assert str(fresh_db.parent) not in r.text
    row = sqlite3.connect(fresh_db).execute("SELECT action, outcome FROM admin_actions").fetchone()
    assert row == ("refresh", "refused")


def test_a_replaced_database_is_answered_from_the_new_file(fresh_db, tmp_path):
    replacement = tmp_path / "replacement.db"
    src, dst = sqlite3.connect(fresh_db), sqlite3.connect(replacement)
    src.backup(dst)
    src.close()
    dst.close()
    assert Cli(replacement)("override", "add", "IN", "--reason", "test", "--by", "RI")[0] == 0
    with sqlite3.connect(replacement) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    server = Server(fresh_db)
    try:
        assert httpx.get(server.url + "/api/v1/check/IN").json()["verdict"] == "eligible"
        os.replace(replacement, fresh_db)
        for suffix in ("-wal", "-shm"):
            Path(str(fresh_db) + suffix).unlink(missing_ok=True)
        assert httpx.get(server.url + "/api/v1/check/IN").json()["verdict"] == "excluded"
        os.unlink(fresh_db)
        r = httpx.get(server.url + "/api/v1/check/NL")
        assert r.status_code == 503 and str(fresh_db) not in r.text
    finally:
        server.stop()


def test_a_writer_waits_for_another_and_two_publishes_make_one(fresh_db, tmp_path):
    holder = hold_write_lock(fresh_db)
    started = time.monotonic()
    code, out, err = Cli(fresh_db)("override", "add", "FR", "--reason", "waited", "--by", "RI")
    assert code == 0, err
    assert time.monotonic() - started > 1.5  # it waited for the other writer instead of failing
    holder.wait(10)
    india_not_free_2027(tmp_path)
    assert Cli(fresh_db)("import", str(tmp_path / "fiw-2027.csv"))[0] == 0
    for i in range(2):
        member(Cli(fresh_db), f"Ria de Boer {i}")
    runs = [subprocess.Popen([*SOVEREIGN, "--db", str(fresh_db), "publish", "--approved-by", f"Ria de Boer {i}",
                              "--effective-from", FUTURE], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for i in range(2)]
    results = [(r.wait(60), r.stderr.read()) for r in runs]
    assert sorted(code for code, _ in results) == [0, 2]
    loser = next(err for code, err in results if code == 2)
    assert "published or withdrawn meanwhile" in loser or "nothing to publish" in loser
    assert "Traceback" not in loser


def test_a_list_changed_under_the_product_is_never_an_answer(fresh_db):
    cli = Cli(fresh_db)
    conn = sqlite3.connect(fresh_db)
    with conn:
        conn.execute("UPDATE list_entries SET eligible = 1 WHERE iso2 IN ('TR', 'CN', 'RU') AND version_id = 53")
    code, report = cli.json("verify", "--json")
    assert code == 1 and [v["list_version"] for v in report["tampered_versions"]] == [53]
    code, out, err = cli("verify")
    assert code == 1 and "list version(s) 53 do not match their recorded digest" in out
    code, out, err = cli("check", "TR")
    assert code == 2 and "ELIGIBLE" not in out and "list version 53" in err and "does not match" in err


def test_no_fail_open_path(fresh_db, tmp_path):
    cli = Cli(fresh_db)
    assert cli("check", "NL", "--mandate", "")[0] == 2
    policy = tmp_path / "policy.toml"
    policy.write_text('[base]\nunrated = "eligible"\n')
    code, answers = cli.json("--policy", str(policy), "check", "SU", "YUG", "--json")
    assert code == 1 and {a["verdict"] for a in answers} == {"excluded"}
    assert "USSR ceased to exist on 1991-12-26" in answers[0]["reasons"][-1]
    policy.write_text('[mandates.m]\nexclude_countries = ["Turkey", "Atlantis"]\n')
    code, _, err = cli("--policy", str(policy), "check", "NL", "--mandate", "m")
    assert code == 2 and "['Atlantis'] name no country we know" in err
    register = tmp_path / "register.csv"
    register.write_text("issuer,lei,country,type,isins\nTurkish Development Bank,TRHAZINESMPL00000012,TR,"
                        "supranational,XS2100000012\n")
    code, _, err = cli("issuers", "import", str(register))
    assert code == 2 and "a supranational issuer has no country" in err
    from sovereign import store
    from sovereign.store import writes

    with store.writer(fresh_db) as db, db.atomic():  # written past the register's check: still Turkey's debt
        writes.put_issuer(db, {"name": "Turkish Development Bank", "lei": "TRHAZINESMPL00000012", "iso2": "TR",
                               "type": "supranational"}, ["XS2100000012"], None)
    code, [bond] = cli.json("check", "XS2100000012", "--json")
    assert code == 1 and bond["verdict"] == "excluded" and bond["iso2"] == "TR"
    db = sqlite3.connect(fresh_db)  # written with SQL alone (no key): no answer at all
    with db:
        db.execute("INSERT INTO issuers (name, lei, iso2, type) VALUES ('Deutsche Finanzagentur', "
                   "'529900000000000000A1', 'DE', 'sovereign')")
        db.execute("UPDATE securities SET issuer_id = last_insert_rowid() WHERE isin = 'XS2100000012'")
    code, out, err = cli("check", "XS2100000012")
    assert code == 2 and "ELIGIBLE" not in out.upper() and "changed outside sovereign" in err


def test_a_mistyped_future_date_can_be_withdrawn(fresh_db, tmp_path):
    cli = Cli(fresh_db)
    india_not_free_2027(tmp_path)
    cli("import", str(tmp_path / "fiw-2027.csv"))
    assert cli("publish", "--approved-by", member(cli), "--effective-from", "2062-03-01")[0] == 0
    code, _, err = cli("publish", "--withdraw", "54", "--by", "RI")
    assert code == 2 and "one-line --reason" in err
    code, out, _ = cli("publish", "--withdraw", "54", "--by", "RI", "--reason", "2062 was a typo for 2026")
    assert code == 0 and "Withdrew list version 54" in out
    code, [india] = cli.json("check", "IN", "--json")
    assert india["upcoming"] is None and india["edition"] == 2026
    code, _, err = cli("publish", "--withdraw", "53", "--by", "RI", "--reason", "x")
    assert code == 2 and "publish its successor instead" in err


def test_outputs_do_not_execute(fresh_db, tmp_path):
    cli = Cli(fresh_db)
    book = tmp_path / "book.csv"
    book.write_text('isin,note,amount\nNL0011223342,"=HYPERLINK(""http://x"")",-12.5\nNL0011223342,@SUM(A1),10\n'
                    "NL0011223342,+31 20 555,-3\n")
    assert cli("issuers", "import", str(paths.ISSUERS))[0] == 0
    out = tmp_path / "out.csv"
    code, _, err = cli("screen", str(book), "-o", str(out))
    assert code == 0, err
    rows = pl.read_csv(out, infer_schema_length=0)
    assert rows["note"].to_list() == ["'=HYPERLINK(\"http://x\")", "'@SUM(A1)", "'+31 20 555"]
    assert rows["amount"].to_list() == ["-12.5", "10", "-3"]  # numbers untouched
    assert not any(str(v).startswith(("=", "+", "@")) for row in rows.iter_rows() for v in row if v)
    code, _, err = cli("screen", str(book), "-o", str(tmp_path / "missing" / "out.xlsx"))
    assert code == 2 and "cannot write" in err and "Traceback" not in err
    assert not list(tmp_path.glob("**/*.partial"))


def test_bad_files_are_one_line(fresh_db, tmp_path):
    cli = Cli(fresh_db)
    latin = tmp_path / "policy.toml"
    latin.write_bytes('# beleid für Hongarije\n[base]\ndivest_days = 90\n'.encode("latin-1"))
    code, _, err = cli("--policy", str(latin), "refresh")
    assert code == 2 and "not UTF-8" in err
    code, _, err = cli("--policy", str(tmp_path), "refresh")
    assert code == 2 and "cannot read the policy file" in err and "Traceback" not in err
    nested = tmp_path / "book.parquet"
    pl.DataFrame({"isin": ["NL0011223342"], "tags": [["a", "b"]]}).write_parquet(nested)
    code, _, err = cli("screen", str(nested))
    assert code == 2 and "hold lists or records" in err
    register = tmp_path / "register.csv"
    register.write_bytes("issuer,lei,country,type,isins\nRépublique française,FRTRESORSMPL00000007,FR,sovereign,\n"
                         .encode("cp1252"))
    code, out, err = cli("issuers", "import", str(register))
    assert code == 0, err
    assert "République française" in cli("issuers", "list")[1]


def test_an_unfinished_run_is_marked_on_the_next_start(fresh_db):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    conn = sqlite3.connect(fresh_db)
    with conn:
        conn.execute("INSERT INTO runs (trigger, command, started_at, pid) VALUES ('manual', 'refresh', "
                     "'2026-01-01T00:00:00+00:00', ?)", [int(dead.stdout)])
    Cli(fresh_db)("override", "add", "FR", "--reason", "x", "--by", "RI")
    row = conn.execute("SELECT outcome, finished_at IS NOT NULL FROM runs WHERE command = 'refresh' "
                       "AND trigger = 'manual' ORDER BY id DESC LIMIT 1").fetchone()
    assert row == ("interrupted", 1)


def test_a_read_only_database_serves_lookups_and_refuses_writes(fresh_db, monkeypatch):
    from sovereign.store import schema

    before = db_fingerprint(fresh_db)
    real = os.access
    monkeypatch.setattr(schema.os, "access", lambda p, mode: False if mode == os.W_OK else real(p, mode))
    cli = Cli(fresh_db)
    code, [nl] = cli.json("check", "NL", "--json")
    assert code == 0 and nl["verdict"] == "eligible"
    code, _, err = cli("override", "add", "FR", "--reason", "x", "--by", "RI")
    assert code == 2 and "is read-only: lookups work" in err and "Traceback" not in err
    assert db_fingerprint(fresh_db) == before


def test_a_newer_schema_is_refused_by_readers_too(fresh_db):
    conn = sqlite3.connect(fresh_db)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    code, _, err = Cli(fresh_db)("check", "NL")
    assert code == 2 and "written by a newer sovereign (schema 99)" in err


@pytest.mark.slow
def test_the_attack_harness_holds(tmp_path):
    done = subprocess.run([sys.executable, "scripts/attack.py", "--quick"], cwd=Path(__file__).resolve().parents[1],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "failed: 0" in done.stdout


def test_a_damaged_file_is_one_line_and_verify_says_so(fresh_db):
    with sqlite3.connect(fresh_db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    data = bytearray(fresh_db.read_bytes())
    size = len(data) // pages
    rng = random.Random(28)  # the same scribbles every run
    for page in range(pages // 2, pages // 2 + 40):  # scribble over pages in the middle of the file
        data[page * size + 8: page * size + 200] = rng.randbytes(192)
    fresh_db.write_bytes(bytes(data))
    cli = Cli(fresh_db)
    for args in (("check", "TR"), ("verify",), ("list", "--excluded")):
        code, out, err = cli(*args)
        assert code in (0, 1, 2) and "Traceback" not in err, args
        assert ") ELIGIBLE" not in out, args  # Turkey answers excluded (its entries prove intact) or not at all
    code, out, err = cli("verify")
    assert code != 0 and ("damaged" in out + err or "not a sovereign database" in err or "cannot use" in err)
