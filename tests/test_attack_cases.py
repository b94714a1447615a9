"""Issue 26's smaller cases, each refused or answered in one line: an edition out of range, a database whose
first refresh never finished, dates no record can be known on, and the service's own refusals."""

from __future__ import annotations

import pytest

from sovereign import clock
from tests.conftest import FIW, Cli, member


def no_traceback(out: str, err: str) -> None:
    assert "Traceback" not in out + err and "polars" not in err.lower()


def test_an_edition_out_of_range_is_named_not_a_traceback(fresh_db, tmp_path):
    """FH's own aggregate CSV with the 2024 rows relabelled 9999: the range check names the rows."""
    lines = (FIW / "Aggregate_Scores_FIW06-24.csv").read_text().splitlines()
    book = tmp_path / "scores.csv"
    book.write_text("\n".join([lines[0], *(line.replace(",2024,", ",9999,") for line in lines[1:] if ",2024," in line)]))
    code, out, err = Cli(fresh_db)("import", str(book))
    no_traceback(out, err)
    assert code == 2 and "column 'edition': expected an edition year, found 9999" in err
    code, out, err = Cli(fresh_db)("check", "NL", "--edition", "9999")
    assert code == 2 and "9999 is not in the range" in err


def test_a_database_whose_first_refresh_never_finished_says_so(tmp_path):
    """What a first refresh killed after creating the schema leaves: tables, no scores, no versions."""
    from sovereign import store

    db = tmp_path / "half.db"
    with store.writer(db):
        pass
    cli = Cli(db)
    code, out, err = cli("verify")
    no_traceback(out, err)
    assert code == 2 and "no scores are stored" in err and len(err.strip().splitlines()) == 1
    code, out, err = cli("versions")
    assert code == 0 and out.strip() == ("No list versions yet: no refresh or import has finished (see `sovereign "
                                         "runs`); run `sovereign refresh`.")
    code, out, err = cli("runs")  # the only run: the new database's key, made when the schema was
    no_traceback(out, err)
    assert code == 0 and "a new database: its digests are keyed from the start" in out
    code, out, err = cli("versions", "--format", "json")
    assert code == 0 and out.strip() == "[]"
    code, out, err = cli("check", "NL")
    no_traceback(out, err)
    assert code == 2 and "nothing was published yet" in err


def test_as_known_on_a_day_that_has_not_come_is_refused(fresh_db):
    from fastapi.testclient import TestClient

    from sovereign.api import create_app
    from sovereign.settings import Settings

    with TestClient(create_app(Settings.load(db=fresh_db))) as c:
        r = c.get("/api/v1/check/NL", params={"as_known_on": "9999-12-31"})
        assert r.status_code == 400 and r.json()["detail"] == ("as known on 9999-12-31: that day has not come; give "
                                                             "today or an earlier date")
        assert c.get("/api/v1/check/NL", params={"as_of": "9999-12-31"}).status_code == 200
    code, out, err = Cli(fresh_db)("check", "NL", "--as-known-on", "9999-12-31")
    assert code == 2 and "that day has not come" in err


def test_an_admin_write_that_meets_a_long_lock_is_a_503_and_recorded(fresh_db, monkeypatch):
    """Another process holds the write lock past the busy timeout: 503 with Retry-After, one line, and the
    failure in admin_actions and the audit trail once the lock is free."""
    import sqlite3
    import time

    from fastapi.testclient import TestClient

    from sovereign.api import create_app
    from sovereign.api.routers import admin
    from sovereign.settings import Settings
    from sovereign.store import schema
    from tests.test_hardening import hold_write_lock

    monkeypatch.setattr(schema, "BUSY_TIMEOUT_MS", 1000)
    monkeypatch.setattr(admin, "RECORD_PAUSE", 0.2)
    monkeypatch.setenv("SOVEREIGN_ADMIN_TOKEN", "s3cret")
    holder = hold_write_lock(fresh_db)
    with TestClient(create_app(Settings.load(db=fresh_db)), raise_server_exceptions=False) as c:
        r = c.post("/api/v1/admin/overrides", json={"country": "FR", "reason": "locked out"},
                   headers={"Authorization": "Bearer s3cret"})
    assert r.status_code == 503 and r.headers["retry-after"] == "30"
    assert r.json() == {"detail": "another process kept the database busy for longer than 1 s; try again"}
    holder.wait(10)
    for _ in range(50):
        with sqlite3.connect(fresh_db) as conn:
            actions = conn.execute("SELECT action, outcome FROM admin_actions").fetchall()
            trail = [str(row) for row in conn.execute("SELECT * FROM audit WHERE action = 'api override add'")]
        if actions:
            break
        time.sleep(0.1)
    assert actions == [("override add", "failed")] and len(trail) == 1 and "locked out" in trail[0] and "failed" in trail[0]
    assert "FR" not in {row[0] for row in sqlite3.connect(fresh_db).execute("SELECT iso2 FROM overrides")}


def test_a_register_row_with_a_sovereigns_name_never_frees_its_bonds(desk, tmp_path):
    """Rows that reuse Turkey's names as a supranational, an agency elsewhere, or with no country, and rows
    that move Turkey's ISINs to another issuer: refused, and the ISINs stay Turkey's (not eligible)."""
    header = "issuer,short name,lei,country,type,isins\n"
    rows = ["Republic of Turkiye,,,,supranational,US900123AB18", "Turkey,,,,supranational,XS2100000012",
            "Republic of Turkiye,,,NL,agency,US900123AB18", "Turkey,,,TR,agency,",
            "Turkiye Wealth Fund,,,TR,agency,US900123AB18", "Eurofima,,,,supranational,XS2100000012"]
    for row in rows:
        book = tmp_path / "register.csv"
        book.write_text(header + row + "\n")
        code, out, err = desk("issuers", "import", str(book))
        assert code == 2 and ("is the name of the sovereign of TR" in err or "is registered to Republic of Turkiye"
                              in err), (row, err)
    book.write_text(header + "Republic of Turkiye,,TRHAZINESMPL00000012,TR,sovereign,US900123AB18\n"
                    "Republic of Turkiye,,529900T8BM49AURSDO55,,supranational,\n")
    code, out, err = desk("issuers", "import", str(book), "--replace")
    assert code == 2 and "is the name of the sovereign of TR" in err
    code, out, err = desk("issuers", "add", "Turkey", "--type", "supranational", "--isin", "US900123AB18")
    assert code == 2 and "is the name of the sovereign of TR" in err
    code, answers = desk.json("check", "US900123AB18", "XS2100000012", "--json")
    assert [(a["verdict"], a["iso2"]) for a in answers] == [("excluded", "TR"), ("excluded", "TR")]
    book.write_text(header + "Eurofima,,,,supranational,XS2200000003\n")  # a supranational of its own is fine
    assert desk("issuers", "import", str(book))[0] == 0


def test_a_withdrawn_mistyped_publish_leaves_the_edition_publishable(fresh_db, tmp_path):
    from tests.conftest import india_not_free_2027

    cli = Cli(fresh_db)
    assert cli("import", str(india_not_free_2027(tmp_path)))[0] == 0
    assert cli("publish", "--approved-by", member(cli, "RI A"), "--effective-from", "2207-03-01")[0] == 0  # 2027 mistyped
    code, out, err = cli("publish", "--withdraw", "54", "--by", "RI A", "--reason", "2207 was a typo for 2027")
    assert code == 0 and "proposed again as version 55" in out
    code, out, err = cli("publish", "--approved-by", "RI A", "--effective-from", "2027-03-01")
    assert code == 0 and "Published list version 55 (Freedom in the World 2027), in force from 2027-03-01" in out
    code, [india] = cli.json("check", "IN", "--json")
    assert india["upcoming"]["list_version"] == 55 and india["upcoming"]["effective_from"] == "2027-03-01"
    assert india["upcoming"]["verdict"] == "excluded" and india["upcoming"]["no_new_buys_from"] == "2027-03-01"
    code, out, err = cli("verify")
    assert code == 0, out


def elements(html: str) -> tuple[list[str], list[str]]:
    """The start tags and the CSP meta contents of an HTML page, as a browser's parser sees them."""
    from html.parser import HTMLParser

    tags: list[str] = []
    csp: list[str] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append(tag)
            found = dict(attrs)
            if tag == "meta" and (found.get("http-equiv") or "").lower() == "content-security-policy":
                csp.append(found.get("content") or "")

    Parser().feed(html)
    return tags, csp


def test_html_we_write_escapes_user_text_and_carries_a_csp(fresh_db, tmp_path):
    from tests.conftest import india_not_free_2027

    cli = Cli(fresh_db)
    assert cli("import", str(india_not_free_2027(tmp_path)))[0] == 0
    book = tmp_path / "book.csv"
    book.write_text('ISIN,Portfolio,Market value\nNL0011223342,"<img src=x onerror=alert(1)>",100\n'
                    'IN0020230010,"<script>alert(2)</script>",50\n')
    out = tmp_path / "impact.html"
    code, _, err = cli("impact", str(book), "--value-column", "Market value", "--portfolio-column", "Portfolio",
                       "--format", "html", "-o", str(out))
    assert code == 0, err
    report = tmp_path / "pack.html"
    code, _, err = cli("report", "-o", str(report), "--holdings", str(book), "--value-column", "Market value",
                       "--portfolio-column", "Portfolio")
    assert code == 0, err
    public = tmp_path / "public.html"
    assert cli("exclusion-list", "-o", str(public))[0] == 0
    for page in (out, report, public):
        text = page.read_text()
        tags, csp = elements(text)
        assert "img" not in tags and "script" not in tags, page.name
        assert csp == ["default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
                       "form-action 'none'"], page.name
    assert "&lt;img src=x onerror=alert(1)&gt;" in out.read_text()


def test_formulas_are_neutralised_from_every_source(desk, tmp_path):
    """A formula in the register's issuer name reaches the screened book through the issuer and reason columns;
    one in a portfolio's name reaches the impact workbook. Both carry the apostrophe, as the book's own do."""
    import polars as pl

    from tests.conftest import india_not_free_2027

    assert desk("import", str(india_not_free_2027(tmp_path)))[0] == 0
    register = tmp_path / "register.csv"
    register.write_text('issuer,lei,country,type,isins\n"=HYPERLINK(""http://x"",""y"")",,NL,agency,XS2200000003\n')
    assert desk("issuers", "import", str(register))[0] == 0
    book = tmp_path / "book.csv"
    book.write_text('ISIN,Portfolio,MV\nXS2200000003,"=1+2",100\nIN0020230010,"@SUM(A1)",50\n')
    for suffix in (".csv", ".xlsx"):
        out = tmp_path / f"screened{suffix}"
        code, _, err = desk("screen", str(book), "-o", str(out))
        assert code == 0, err
        rows = (pl.read_csv(out, infer_schema_length=0) if suffix == ".csv" else pl.read_excel(out)).row(0, named=True)
        assert rows["issuer"] == "'=HYPERLINK(\"http://x\",\"y\")" and rows["Portfolio"] == "'=1+2", rows
    out = tmp_path / "impact.xlsx"
    code, _, err = desk("impact", str(book), "--value-column", "MV", "--portfolio-column", "Portfolio",
                        "--format", "xlsx", "-o", str(out))
    assert code == 0, err
    cells = [v for frame in pl.read_excel(out, sheet_id=0).values() for row in frame.rows() for v in row]
    assert "'=1+2" in cells and "'@SUM(A1)" in cells
    assert not [v for v in cells if isinstance(v, str) and v.startswith(("=", "@", "+"))]


def test_text_a_person_reads_refuses_control_characters(fresh_db, monkeypatch):
    """ANSI escapes, U+2028 and bidi overrides in reasons, names and token holders: refused, nothing recorded;
    the joiners that scripts need still pass."""
    import sqlite3

    cli = Cli(fresh_db)
    for text in ("\x1b[2J\x1b[Hall clear", "one\u2028two", "Anna \u202eanna", "tab\there", "nul\x00"):
        for args in (("override", "add", "FR", "--reason", text, "--by", "RI"),
                     ("override", "add", "FR", "--reason", "sanctions", "--by", text),
                     ("tokens", "add", text)):
            code, out, err = cli(*args)
            assert code == 2 and "which a reader would not see" in err and "Traceback" not in err, (args, err)
            assert "\x1b" not in err and "\u202e" not in err
    assert sqlite3.connect(fresh_db).execute("SELECT COUNT(*) FROM overrides").fetchone() == (0,)
    code, out, err = cli("override", "add", "FR", "--reason", "مراجعه\u200cی کمیته", "--by", "RI")  # ZWNJ: Persian
    assert code == 0, err
    from fastapi.testclient import TestClient

    from sovereign.api import create_app
    from sovereign.settings import Settings

    monkeypatch.setenv("SOVEREIGN_ADMIN_TOKEN", "s3cret")
    with TestClient(create_app(Settings.load(db=fresh_db))) as c:
        r = c.post("/api/v1/admin/overrides", json={"country": "DE", "reason": "ok\u202e"},
                   headers={"Authorization": "Bearer s3cret"})
        assert r.status_code == 400 and "U+202E" in r.json()["detail"]


def test_a_webhook_url_is_never_logged_whole(tmp_path, caplog):
    """The hook answers 500, then is gone (connection refused): the log names host and port, never the path
    or the credentials that make it a secret."""
    import logging
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from sovereign.schedule import notify
    from sovereign.settings import Settings

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    secret = "services/T000/B000/XXXXsecretXXXX"
    try:
        with caplog.at_level(logging.INFO):
            for url in (f"http://user:pa55@127.0.0.1:{port}/{secret}?token=abc", f"http://127.0.0.1:{port}/{secret}"):
                notify(Settings(db=tmp_path / "x.db", webhook=url), {"notice": "failure", "message": "boom"})
    finally:
        server.shutdown()
        server.server_close()
    with caplog.at_level(logging.INFO):
        notify(Settings(db=tmp_path / "x.db", webhook=f"http://127.0.0.1:{port}/{secret}"),
               {"notice": "failure", "message": "boom"})
    logged = caplog.text
    assert f"webhook http://127.0.0.1:{port}/... failed: HTTP 500" in logged
    assert f"webhook http://127.0.0.1:{port}/... failed: ConnectionError" in logged
    assert "secret" not in logged and "pa55" not in logged and "token=abc" not in logged


def test_a_full_disk_is_a_failure_never_wrote(fresh_db, tmp_path):
    """Files cannot grow past 64 KB (RLIMIT_FSIZE, as a full disk would stop them): the backup names its
    destination and leaves nothing half-written; a PDF cut short (Chromium says nothing) is read back and refused."""
    import resource
    import subprocess
    import sys

    from fiw.errors import UserError
    from sovereign.exclusion_list import whole_pdf

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))

    dest = tmp_path / "backups" / "today"
    done = subprocess.run([sys.executable, "-m", "sovereign", "--db", str(fresh_db), "backup", str(dest)],
                          capture_output=True, text=True, preexec_fn=small_disk, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"cannot write the backup to {dest}" in done.stderr and "the partial copy was removed" in done.stderr
    assert not [p for p in dest.rglob("*") if p.is_file()]
    out = tmp_path / "report.html"
    done = subprocess.run([sys.executable, "-m", "sovereign", "--db", str(fresh_db), "report", "-o", str(out)],
                          capture_output=True, text=True, preexec_fn=small_disk, timeout=120)
    assert done.returncode == 2 and "Wrote" not in done.stderr and f"cannot write {out}" in done.stderr
    assert not list(tmp_path.glob("*.partial")) and not list(tmp_path.glob(".*.partial"))
    pdf = tmp_path / "list.pdf"
    code, _, err = Cli(fresh_db)("exclusion-list", "-o", str(pdf))
    assert code == 0, err
    whole_pdf(pdf)
    pdf.write_bytes(pdf.read_bytes()[:65536])  # what a full disk left of Chromium's file
    with pytest.raises(UserError, match="incomplete .*65,536 bytes.* the disk may be full"):
        whole_pdf(pdf)


def test_an_override_names_the_country_in_force_and_its_own_date(fresh_db, tmp_path):
    """DE was FH's "Germany, W." until 1990: an override today names Germany; the public list shows the
    override's own date, not the list's."""

    from sovereign.exclusion_list import long_date

    cli = Cli(fresh_db)
    code, out, err = cli("override", "add", "DE", "--reason", "sanctions review", "--by", "RI")
    today = clock.today().isoformat()
    assert code == 0 and out.startswith(f"Override 1: Germany (DE) excluded from {today}"), out
    csv_out = tmp_path / "list.csv"
    assert cli("exclusion-list", "-o", str(csv_out), "--lang", "en")[0] == 0
    import csv

    rows = {r[0]: r for r in csv.reader(csv_out.read_text(encoding="utf-8-sig").splitlines()) if r}
    since = rows["iso2"].index("Excluded from")
    assert rows["DE"][1] == "Germany" and rows["DE"][since] == today
    assert rows["AF"][since] != today  # Not Free: in force with the list (its staging dates), not from the override's day
    html = tmp_path / "list.html"
    assert cli("exclusion-list", "-o", str(html), "--lang", "en")[0] == 0
    de = next(line for line in html.read_text().splitlines() if 'data-iso2="DE"' in line)
    assert long_date(today, "en") in de


def test_a_fault_of_ours_is_a_500_with_the_security_headers(fresh_db, monkeypatch):
    from fastapi.testclient import TestClient

    from sovereign.api import create_app
    from sovereign.api.routers import health
    from sovereign.settings import Settings

    def broken(*args, **kwargs):
        raise RuntimeError("/srv/secret/path went away")

    monkeypatch.setattr(health.reads, "version_in_force", broken)
    with TestClient(create_app(Settings.load(db=fresh_db)), raise_server_exceptions=False) as c:
        r = c.get("/health")
    assert r.status_code == 500 and r.json() == {"detail": "internal error; the server's log has the details"}
    assert "script-src 'self'" in r.headers["content-security-policy"] and r.headers["x-content-type-options"] == "nosniff"
    assert "secret" not in r.text
