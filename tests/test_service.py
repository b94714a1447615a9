"""The running service: a real uvicorn process, the lookup page in Chromium, readers during writes,
SIGKILL at random points, the scheduler, and schemathesis over the OpenAPI schema."""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from scrapers.freedomhouse import read_workbook
from sovereign import clock
from tests.conftest import ALL_DATA, Cli, india_not_free_2027, member
from tests.fhsite import FHSite, edition_2027

SOVEREIGN = [sys.executable, "-m", "sovereign"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`sovereign serve` in its own process on a free port, waited for until it says it listens on that port and
    /health answers. Another process (a parallel test worker) may take the port between our choosing and the
    server's binding: then the server exits and a new port is tried, and /health is never asked of a stranger."""

    def __init__(self, db: Path, *args: str, env: dict | None = None):
        for _ in range(5):
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            self.log = tempfile.TemporaryFile()  # a pipe nobody reads would fill with the access log and stall it
            self.proc = subprocess.Popen([*SOVEREIGN, "--db", str(db), "serve", "--port", str(self.port), *args],
                                         env=os.environ | (env or {}), stdout=subprocess.DEVNULL, stderr=self.log)
            if self._listening(time.monotonic() + 20):
                return
            if not self._taken():
                break
        self.stop()
        raise RuntimeError("the server did not start: " + self.said()[-2000:])

    def said(self) -> str:
        """What the server wrote so far, read without moving the offset it writes at."""
        fd = self.log.fileno()
        return os.pread(fd, os.fstat(fd).st_size, 0).decode(errors="replace")

    def _taken(self) -> bool:
        return "address already in use" in self.said()

    def _listening(self, deadline: float) -> bool:
        while time.monotonic() < deadline and self.proc.poll() is None:
            if f"running on {self.url}" in self.said():
                try:
                    if httpx.get(self.url + "/health", timeout=1).status_code in (200, 503):
                        return True
                except httpx.HTTPError:
                    pass
            time.sleep(0.05)
        return False

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture
def server(fresh_db):
    s = Server(fresh_db)
    yield s
    s.stop()


def test_fresh_service_answers_health_and_check(server):
    health = httpx.get(server.url + "/health").json()
    assert health == {"status": "ok", "since": "2026-03-01"}
    tr = httpx.get(server.url + "/api/v1/check/TR").json()
    assert tr["eligible"] is False and tr["status"] == "NF" and (tr["pr"], tr["cl"]) == (16, 16)


def test_lookup_page_in_a_real_browser(server, browser):
    page = browser.new_page(viewport={"width": 900, "height": 700})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "404" not in m.text else None)
    page.goto(server.url + "/")
    page.fill("#q", "Türkiye")
    page.click("#go")
    page.wait_for_selector("#card.no")
    assert page.inner_text("#verdict") == "Not eligible"
    assert "Turkey (TR)" in page.inner_text("#title") and page.inner_text("#status") == "Not Free"
    assert "PR 16/40, CL 16/60" in page.inner_text("#scores")
    page.fill("#q", "India")
    page.select_option("#mandate", "strict_pf")
    page.click("#go")
    page.locator("#title", has_text="India").wait_for()
    assert page.inner_text("#verdict") == "Not eligible" and "mandate strict_pf" in page.inner_text("#reasons")
    page.select_option("#mandate", "")
    page.fill("#as_of", "2025-02-01")
    page.fill("#q", "Thailand")
    page.click("#go")
    page.wait_for_selector("#card.ok")
    assert "2024" in page.inner_text("#list")
    page.fill("#q", "Narnia")
    page.click("#go")
    page.wait_for_selector("#card.err")
    assert "no country or territory" in page.inner_text("#title")
    ARTIFACTS.mkdir(exist_ok=True)
    page.fill("#as_of", "")
    page.fill("#q", "XS2100000012")
    page.click("#go")
    page.wait_for_selector("#card.unknown")
    assert page.inner_text("#status") == "unknown issuer"  # this database has no issuer register
    assert page.inner_text("#verdict") == "Unknown: not eligible" and "issuer register" in page.inner_text("#todo")
    page.screenshot(path=str(ARTIFACTS / "lookup.png"), full_page=True)
    assert errors == []


def _new_edition_csv(tmp_path: Path) -> Path:
    path = india_not_free_2027(tmp_path)
    return path


@pytest.mark.slow
def test_readers_keep_getting_consistent_answers_while_a_refresh_writes(fresh_db, server, tmp_path):
    stop, published, failures, seen = threading.Event(), threading.Event(), [], set()

    def reader():
        with httpx.Client(base_url=server.url) as c:
            while not stop.is_set():
                r = c.get("/api/v1/check/IN")
                if r.status_code != 200:
                    failures.append(r.text)
                    continue
                a = r.json()
                seen.add((a["edition"], a["list_version"], a["eligible"]))
                if a["edition"] == 2027:
                    published.set()
                # one snapshot: the 2026 list has India eligible, the 2027 list (once published) does not
                if (a["edition"] == 2027) == a["eligible"]:
                    failures.append(a)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    cli = Cli(fresh_db)
    for _ in range(2):
        assert cli("import", str(_new_edition_csv(tmp_path)))[0] == 0
        assert cli("refresh", "--source", "bundled")[0] == 0
    code, out, err = cli("publish", "--approved-by", member(cli), "--effective-from", clock.today().isoformat())
    assert code == 0, err
    published.wait(10)  # until a reader has seen the published list, not a guessed pause
    stop.set()
    for t in threads:
        t.join()
    assert failures == []
    assert {e for e, _, _ in seen} == {2026, 2027}


@pytest.mark.slow
def test_sigkill_at_random_points_never_breaks_the_database(fresh_db, tmp_path):
    csv = _new_edition_csv(tmp_path)
    rng = random.Random(7)
    conn = sqlite3.connect(fresh_db)
    in_force = conn.execute("SELECT MAX(id) FROM list_versions WHERE state = 'published'").fetchone()[0]
    conn.close()
    outcomes = []
    for i in range(16):
        args = ["import", str(csv)] if i % 2 == 0 else ["refresh", "--source", "bundled"]
        proc = subprocess.Popen([*SOVEREIGN, "--db", str(fresh_db), *args], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, 1.6))
        proc.send_signal(signal.SIGKILL)
        outcomes.append(proc.wait())
        conn = sqlite3.connect(fresh_db)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("SELECT MAX(id) FROM list_versions WHERE state = 'published'").fetchone()[0] == in_force
        editions = {r[0] for r in conn.execute("SELECT DISTINCT edition FROM scores")}
        assert editions in ({*range(1973, 2002), *range(2003, 2027)}, {*range(1973, 2002), *range(2003, 2028)})
        conn.close()
    assert -signal.SIGKILL in outcomes  # at least some runs were really killed mid-way
    code, answers = Cli(fresh_db).json("check", "IN", "--json")
    assert answers[0]["edition"] == 2026


# ---- the scheduler ----

def test_schedule_calendar_with_a_controlled_clock():
    from sovereign.schedule import missed, previous_poll

    utc = UTC
    assert previous_poll(datetime(2026, 2, 10, 12, tzinfo=utc)) == datetime(2026, 2, 9, 6, tzinfo=utc)   # weekly, Mon
    assert previous_poll(datetime(2026, 3, 2, 5, tzinfo=utc)) == datetime(2026, 2, 23, 6, tzinfo=utc)
    assert previous_poll(datetime(2026, 5, 20, tzinfo=utc)) == datetime(2026, 5, 1, 6, tzinfo=utc)       # monthly
    assert previous_poll(datetime(2026, 1, 1, 5, tzinfo=utc)) == datetime(2025, 12, 1, 6, tzinfo=utc)
    assert missed(None, datetime(2026, 2, 10, tzinfo=utc))
    assert missed(datetime(2026, 2, 2, 6, 1, tzinfo=utc), datetime(2026, 2, 10, tzinfo=utc))    # down over 9 Feb
    assert not missed(datetime(2026, 2, 9, 6, 0, 5, tzinfo=utc), datetime(2026, 2, 10, tzinfo=utc))
    assert not missed(datetime(2026, 6, 1, 6, 1, tzinfo=utc), datetime(2026, 6, 30, tzinfo=utc))


def test_schedule_once_with_a_new_edition_proposes_and_writes_the_report(fresh_db, tmp_path):
    rows = edition_2027(read_workbook(ALL_DATA))
    notes = tmp_path / "notified.txt"
    with FHSite() as site:
        site.publish(rows, 2027, details=False)
        code, out, err = Cli(fresh_db)("schedule", "--once", "--base-url", site.url, "--min-interval", "0",
                                       "--reports", str(tmp_path / "reports"),
                                       "--notify-command", f"echo $SOVEREIGN_EDITION $SOVEREIGN_STATE > {notes}; "
                                                           f"echo $SOVEREIGN_MESSAGE > {notes}.text")
    assert code == 0, err
    conn = sqlite3.connect(fresh_db)
    assert conn.execute("SELECT state FROM list_versions WHERE edition = 2027").fetchone()[0] == "proposed"
    reports = sorted(p.name for p in (tmp_path / "reports").iterdir())
    assert reports == ["report-2027-v54.html", "report-2027-v54.xlsx"]
    assert "India" in (tmp_path / "reports" / "report-2027-v54.html").read_text()
    assert notes.read_text().split() == ["2027", "proposed"]
    head = conn.execute("SELECT hash FROM audit WHERE id = (SELECT MAX(id) FROM audit) - 1").fetchone()[0]
    assert f"Audit trail head {head}" in (tmp_path / "notified.txt.text").read_text()  # anchored outside
    run = conn.execute("SELECT trigger, outcome, edition_found FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    assert run == ("manual", "ok", 2027)


def test_a_second_scheduler_exits_with_a_message(fresh_db, tmp_path):
    from sovereign.schedule import Lock

    with Lock(fresh_db.with_name(fresh_db.name + ".schedule.lock")):
        code, _, err = Cli(fresh_db)("schedule", "--once", "--base-url", "http://127.0.0.1:9")
    assert code == 2 and "already running" in err


def test_the_daemon_catches_up_a_missed_poll_and_records_it(fresh_db, tmp_path):
    rows = edition_2027(read_workbook(ALL_DATA))
    with FHSite() as site:
        site.publish(rows, 2027, details=False)
        proc = subprocess.Popen([*SOVEREIGN, "--db", str(fresh_db), "schedule", "--base-url", site.url,
                                 "--min-interval", "0", "--reports", str(tmp_path / "r")],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with sqlite3.connect(fresh_db) as conn:
                row = conn.execute("SELECT outcome FROM runs WHERE trigger = 'catch-up'").fetchone()
            if row and row[0]:
                break
            time.sleep(0.2)
        second = subprocess.run([*SOVEREIGN, "--db", str(fresh_db), "schedule", "--once"], capture_output=True, text=True)
        proc.terminate()
        output = proc.communicate(timeout=10)[0]
    assert row == ("ok",), output
    assert second.returncode == 2 and "already running" in second.stderr
    assert "scheduler started" in output


# ---- the OpenAPI document is the contract ----

CONTRACT = """
# An uploaded book's bytes must parse as CSV, XLSX or Parquet, which no schema can say: a schema-valid
# upload of other bytes is rightly a 400 naming the file. Every other check applies everywhere.
[[operations]]
include-path-regex = "/file$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400"]
"""


@pytest.mark.slow
def test_schemathesis_finds_the_running_service_true_to_its_openapi_document(fresh_db, tmp_path):
    """Every operation, admin and the HTML report included, against uvicorn: `--checks all` (no 5xx, every
    status, content type, header and body as documented, schema-valid requests accepted, invalid ones
    refused), positive and negative cases, a fixed number of examples each, generated deterministically."""
    assert Cli(fresh_db)("tokens", "add", "Anna de Vries")[0] == 0  # so admin routes answer 401, as documented
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONTRACT)
    server = Server(fresh_db)
    try:
        run = subprocess.run([str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(config), "run",
                              f"{server.url}/openapi.json", "--checks", "all", "--max-examples", "10",
                              "--generation-deterministic", "--no-color"],
                             capture_output=True, text=True, timeout=300, cwd=tmp_path)
    finally:
        server.stop()
    tally = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    assert run.returncode == 0 and tally and tally[1] == tally[2], run.stdout[-6000:]
    selected, tested = re.search(r"Selected: (\d+)/(\d+)", run.stdout), re.search(r"Tested: (\d+)", run.stdout)
    assert selected and tested and selected[1] == selected[2] == tested[1], run.stdout[-3000:]
    assert int(tally[1]) > 40 * int(tested[1]), run.stdout[-3000:]


def test_a_report_that_cannot_be_written_fails_the_run_and_keeps_the_edition(fresh_db, tmp_path):
    rows = edition_2027(read_workbook(ALL_DATA))
    with FHSite() as site:
        site.publish(rows, 2027, details=False)
        code, _, err = Cli(fresh_db)("schedule", "--once", "--base-url", site.url, "--min-interval", "0",
                                     "--reports", "/proc/no-such-folder/reports")
    assert code == 2 and "the poll failed" in err
    conn = sqlite3.connect(fresh_db)
    run = conn.execute("SELECT outcome, finished_at, message FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    assert run[0] == "failed" and run[1] is not None and "no-such-folder" in run[2]
    # the refresh itself had committed: the proposed list is there for the committee
    assert conn.execute("SELECT state FROM list_versions WHERE edition = 2027").fetchone()[0] == "proposed"


def test_lookup_page_shows_what_is_coming_at_desktop_and_phone_widths(fresh_db, browser, tmp_path):
    from datetime import timedelta

    cli = Cli(fresh_db)
    assert cli("import", str(_new_edition_csv(tmp_path)))[0] == 0
    effective = (clock.today() + timedelta(days=6)).isoformat()
    assert cli("publish", "--approved-by", member(cli), "--effective-from", effective)[0] == 0
    server = Server(fresh_db)
    try:
        for width, height in ((1280, 800), (390, 844)):
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(server.url + "/")
            page.fill("#q", "India")
            page.click("#go")
            page.wait_for_selector("#card.ok")
            coming = page.inner_text("#upcoming")
            assert f"From {effective}, list version 54" in coming and "Not eligible" in coming
            assert f"no new buys from {effective}" in coming
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"lookup-upcoming-{width}.png"), full_page=True)
            page.close()
    finally:
        server.stop()


def test_a_long_running_service_proves_a_list_again_after_anything_wrote_to_the_database(fresh_db, tmp_path):
    """The proof that a list matches its digest is remembered per process only while the database stands as it was:
    a new list, a restore and an UPDATE made outside sovereign are each seen by the running service at once."""
    cli = Cli(fresh_db)
    backup = tmp_path / "backup"
    assert cli("backup", str(backup))[0] == 0
    s = Server(fresh_db)
    try:
        def india():
            return httpx.get(s.url + "/api/v1/check/IN", timeout=10)

        assert india().json()["list_version"] == 53
        assert cli("import", str(india_not_free_2027(tmp_path)))[0] == 0
        code, out, err = cli("publish", "--approved-by", member(cli), "--effective-from", clock.today().isoformat())
        assert code == 0, err
        assert (india().json()["list_version"], india().json()["verdict"]) == (54, "excluded")  # the new list
        assert cli("restore", str(backup), "--yes")[0] == 0
        assert (india().json()["list_version"], india().json()["verdict"]) == (53, "eligible")  # the restored one
        with sqlite3.connect(fresh_db) as conn:  # changed under the product's nose, in place
            conn.execute("UPDATE list_entries SET eligible = 1, status = 'F' WHERE version_id = 53 AND iso2 = 'CN'")
        china = httpx.get(s.url + "/api/v1/check/CN", timeout=10)
        assert china.status_code == 503 and "does not match the digest recorded with it" in china.text
    finally:
        s.stop()
