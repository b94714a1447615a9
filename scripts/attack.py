"""Replays the attack cases against a scratch database, the CLI and a real server on 127.0.0.1, and prints
one line a case: held or FAILED. Exit 1 if any failed.

    .venv/bin/python scripts/attack.py [--quick]

Every case is something an attacker or an accident did to an earlier sovereign: memory exhaustion by
upload, a database replaced or edited under the service, writers racing, fail-open options, formulas in
outputs, leaks in errors. Only loopback addresses are contacted.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOVEREIGN = [sys.executable, "-m", "sovereign"]
FIW = Path(os.environ.get("SOVEREIGN_TEST_FIW") or ROOT.parent / "shared" / "fiw")
sys.path.insert(0, str(ROOT))
from tests.hostile import far_corner_xlsx, long_cell_parquet, wide_csv  # noqa: E402  the tests' own hostile files


def run(db: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*SOVEREIGN, "--db", str(db), *args], capture_output=True, text=True, input=stdin,
                          cwd=ROOT, timeout=300)


def status_kb(pid: int, field: str) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith(field + ":")).split()[1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, db: Path, env: dict | None = None):
        self.port = free_port()
        self.proc = subprocess.Popen([*SOVEREIGN, "--db", str(db), "serve", "--port", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
                                     env=os.environ | (env or {}))
        for _ in range(200):
            try:
                if self.request("GET", "/health")[0] in (200, 503):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, dict, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()

    def rss_kb(self) -> int:
        return status_kb(self.proc.pid, "VmRSS")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def cases(db: Path, tmp: Path, server: Server) -> list[tuple[str, Callable[[], bool]]]:
    def upload_20mb() -> bool:
        """Announce 20 MB and send none of it: the answer must come before the body is read."""
        before = server.rss_kb()
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            s.sendall(b"POST /api/v1/screen/file HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\n"
                      b"Content-Length: 20000000\r\n\r\n" + b"isin\n" * 1000)
            answer = s.recv(200)
        return answer.startswith(b"HTTP/1.1 413") and server.rss_kb() - before < 60_000

    def mandate_empty() -> bool:
        return run(db, "check", "NL", "--mandate", "").returncode == 2

    def tampered_list() -> bool:
        copy = tmp / "tampered.db"
        src, dst = sqlite3.connect(db), sqlite3.connect(copy)
        src.backup(dst)
        dst.execute("UPDATE list_entries SET eligible = 1 WHERE iso2 = 'TR'")
        dst.commit()
        src.close()
        dst.close()
        verify, check = run(copy, "verify"), run(copy, "check", "TR")
        return verify.returncode == 1 and check.returncode == 2 and "ELIGIBLE" not in check.stdout

    def formula() -> bool:
        book = tmp / "book.csv"
        book.write_text('isin,note\nNL0011223342,"=1+1"\n')
        out = run(db, "screen", str(book)).stdout
        return "'=1+1" in out and "\n=1+1" not in out

    def headers() -> bool:
        _, h, _ = server.request("GET", "/")
        lower = {k.lower(): v for k, v in h.items()}
        return "script-src 'self'" in lower.get("content-security-policy", "") and lower.get(
            "x-content-type-options") == "nosniff"

    def no_path_leak() -> bool:
        _, _, body = server.request("GET", "/api/v1/check/XS1234567891")
        return str(db.parent) not in body.decode()

    def no_echo() -> bool:
        status, _, body = server.request("POST", "/api/v1/screen", json.dumps({"ids": "SECRET-VALUE"}).encode(),
                                         {"content-type": "application/json"})
        return status == 422 and b"SECRET-VALUE" not in body

    def health_minimal() -> bool:
        _, _, body = server.request("GET", "/health")
        return set(json.loads(body)) <= {"status", "since"}

    def docs_off() -> bool:
        return server.request("GET", "/docs")[0] == 404

    def former_state() -> bool:
        policy = tmp / "loose.toml"
        policy.write_text('[base]\nunrated = "eligible"\n')
        done = run(db, "--policy", str(policy), "check", "SU", "--json")
        return done.returncode == 1 and json.loads(done.stdout)[0]["verdict"] == "excluded"

    def unknown_mandate_country() -> bool:
        policy = tmp / "names.toml"
        policy.write_text('[mandates.m]\nexclude_countries = ["Atlantis"]\n')
        return run(db, "--policy", str(policy), "check", "NL", "--mandate", "m").returncode == 2

    def override_newline() -> bool:
        return run(db, "override", "add", "FR", "--reason", "one\nforged line", "--by", "RI").returncode == 2

    def backdate() -> bool:
        return run(db, "override", "add", "FR", "--reason", "x", "--by", "RI", "--from", "2020-01-01").returncode == 2

    def policy_folder() -> bool:
        done = run(db, "--policy", str(tmp), "refresh")
        return done.returncode == 2 and "Traceback" not in done.stderr

    return [("20 MB upload: 413, memory flat", upload_20mb), ("--mandate '' refused", mandate_empty),
            ("edited list entries never answer", tampered_list), ("formulas neutralised in CSV", formula),
            ("security headers on /", headers), ("no file paths in API errors", no_path_leak),
            ("422 does not echo the request", no_echo), ("/health says only ok and since", health_minimal),
            ("/docs off by default", docs_off), ("former states never eligible", former_state),
            ("unknown mandate country refuses the policy", unknown_mandate_country),
            ("override reasons are one line", override_newline), ("back-dating needs a reason", backdate),
            ("a policy folder is one line", policy_folder)]


# Issue 26: uploads built to take the service down, the fetch from FH's site, and the smaller cases.

TOKEN = "attack-admin-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
XSS = "<img src=x onerror=alert(1)>"


def multipart(name: str, body: bytes) -> tuple[bytes, dict]:
    boundary = "attackboundary7c1e"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    return head + body + f"\r\n--{boundary}--\r\n".encode(), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def underdeclared_xlsx(path: Path) -> bytes:
    """A real workbook whose shared strings (one cell of 200 MB) the zip headers declare as 1,000 bytes."""
    import io
    import zipfile

    import xlsxwriter

    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf)
    book.add_worksheet().write(0, 0, "ISIN")
    book.close()
    name = "xl/sharedStrings.xml"
    strings = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.openxmlformats.org/'
               b'spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>' + b"A" * 200_000_000 + b"</t></si></sst>")
    with zipfile.ZipFile(buf) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item.filename, strings if item.filename == name else source.read(item.filename))
    data, encoded = bytearray(path.read_bytes()), name.encode()
    for signature, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        i = data.find(signature)
        while i >= 0:
            if data[i + name_at:i + name_at + len(encoded)] == encoded:
                data[i + size_at:i + size_at + 4] = (1000).to_bytes(4, "little")
            i = data.find(signature, i + 4)
    return bytes(data)


class Desk(threading.Thread):
    """Asks /api/v1/check every 50 ms (a new date each time, so each is a lookup) and samples the server's RSS."""

    def __init__(self, server: Server):
        super().__init__(daemon=True)
        self.server, self.latencies, self.peak_kb, self.errors = server, [], 0, 0
        self.stop = threading.Event()

    def run(self) -> None:
        names, i = ["NL", "France", "DE", "CN", "RU", "US0378331005", "Germany", "TR"], 0
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                status = self.server.request("GET", f"/api/v1/check/{names[i % 8]}?as_of=2025-{1 + i % 12:02d}-"
                                                    f"{1 + i // 12 % 28:02d}")[0]
                self.errors += status != 200
            except OSError:
                self.errors += 1
            self.latencies.append((time.perf_counter() - started) * 1000)
            self.peak_kb = max(self.peak_kb, self.server.rss_kb())
            i += 1
            time.sleep(0.05)


def fault_site() -> tuple[str, Callable[[], None]]:
    """FH's site as an attacker would serve it: a gzip bomb, a trickle, a page of 700 MiB."""
    import zlib
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    mib = b"\0" * 2**20
    bomb = b"".join(packer.compress(mib) for _ in range(1000)) + packer.flush()  # 1 MB decoding to 1,000 MiB

    class Site(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            if self.path == "/robots.txt":
                body = b"User-agent: *\nAllow: /\n"
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.send_header("Content-Type", "text/html")
            mode = self.headers.get("User-Agent", "").rsplit(" ", 1)[-1]
            try:
                if mode == "bomb":
                    self.send_header("Content-Encoding", "gzip")
                    self.send_header("Content-Length", str(len(bomb)))
                    self.end_headers()
                    self.wfile.write(bomb)
                elif mode == "trickle":
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    for _ in range(100000):
                        self.wfile.write(b"<")
                        self.wfile.flush()
                        time.sleep(2)
                else:
                    self.send_header("Connection", "close")
                    self.end_headers()
                    chunk = b"<p>" + b"x" * 65533
                    for _ in range(700 * 16):
                        self.wfile.write(chunk)
            except OSError:
                pass

    class Quiet(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address) -> None:
            pass  # a client that hung up on purpose

    site = Quiet(("127.0.0.1", 0), Site)
    threading.Thread(target=site.serve_forever, daemon=True).start()

    def close() -> None:
        site.shutdown()
        site.server_close()

    return f"http://127.0.0.1:{site.server_address[1]}", close


def watched(args: list[str], timeout: float = 300) -> tuple[subprocess.CompletedProcess, int, float]:
    """A CLI run with its peak RSS (kB, VmHWM) and its wall time."""
    started = time.monotonic()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    peak = 0
    while proc.poll() is None and time.monotonic() - started < timeout:
        try:
            peak = max(peak, status_kb(proc.pid, "VmHWM"))
        except (OSError, StopIteration):
            pass
        time.sleep(0.05)
    if proc.poll() is None:
        proc.kill()
    out, err = proc.communicate()
    return subprocess.CompletedProcess(args, proc.returncode, out, err), peak, time.monotonic() - started


def one_line_error(done: subprocess.CompletedProcess, lines: int = 1) -> bool:
    """Exit 2, no traceback, at most `lines` lines (a refresh says it falls back to FH's other scores page, then
    names each of the two on its own)."""
    err = done.stderr.strip()
    return done.returncode == 2 and "Traceback" not in err and 1 <= len(err.splitlines()) <= lines


def copy_db(db: Path, to: Path) -> Path:
    src, dst = sqlite3.connect(db), sqlite3.connect(to)
    src.backup(dst)
    src.close()
    dst.close()
    return to


def cases_26(db: Path, tmp: Path, server: Server, figures: dict) -> list[tuple[str, Callable[[], bool]]]:
    uploads: dict[str, tuple[int, str]] = {}

    def upload(name: str, body: bytes, path: str = "/api/v1/screen/file") -> tuple[int, str]:
        payload, headers = multipart(name, body)
        status, _, answer = server.request("POST", path, payload, headers)
        detail = json.loads(answer).get("detail", "") if answer.startswith(b"{") else answer.decode()[:200]
        return status, detail if isinstance(detail, str) else json.dumps(detail)

    def heavy_uploads() -> bool:
        """Every upload built to exhaust memory or CPU, while the desk asks /api/v1/check."""
        files = [("far-corner.xlsx", far_corner_xlsx(["ISIN"], ["NL0011223342"]), "/api/v1/screen/file"),
                 ("wide.csv", wide_csv(), "/api/v1/screen/file"),
                 ("wide-impact.csv", wide_csv("isin,mv", "NL0011223342,1"), "/api/v1/impact/file?value_column=mv"),
                 ("underdeclared.xlsx", underdeclared_xlsx(tmp / "under.xlsx"), "/api/v1/screen/file"),
                 ("long-cell.parquet", long_cell_parquet(), "/api/v1/screen/file")]
        floor = Desk(server)  # the same questions with no upload running: the floor the figures compare with
        floor.start()
        time.sleep(5)
        floor.stop.set()
        floor.join()
        quiet = sorted(floor.latencies)
        desk = Desk(server)
        desk.start()
        before = server.rss_kb()
        started = time.monotonic()
        with ThreadPoolExecutor(3) as pool:
            answers = list(pool.map(lambda f: (f[0], upload(f[0], f[1], f[2])), files))
        elapsed = time.monotonic() - started
        desk.stop.set()
        desk.join()
        uploads.update(answers)
        lat = sorted(desk.latencies)
        figures.update({"server RSS before (MB)": before / 1024, "server RSS peak during uploads (MB)": desk.peak_kb / 1024,
                        "check answers during uploads": len(lat), "check p50 (ms)": lat[len(lat) // 2],
                        "check p99 (ms)": lat[int(len(lat) * 0.99)], "check max (ms)": lat[-1],
                        "upload cases wall time (s)": elapsed, "load average (1 min) after": os.getloadavg()[0],
                        "check p50 / p99 with no upload running (ms)": f"{quiet[len(quiet) // 2]:.1f} / "
                                                                       f"{quiet[int(len(quiet) * 0.99)]:.1f}",
                        "check p99 during uploads / without": lat[int(len(lat) * 0.99)] / quiet[int(len(quiet) * 0.99)]})
        for name, (status, detail) in answers:
            figures[f"upload {name}"] = f"{status} {detail[:110]}"
        return (all(status in (400, 413) and "\n" not in detail and "Traceback" not in detail
                    for _, (status, detail) in answers)
                and desk.errors == 0 and desk.peak_kb < 500 * 1024
                # 100 ms, or (on a machine already too busy for that, as the floor shows) no worse than twice the floor
                and (lat[int(len(lat) * 0.99)] < 100 or lat[int(len(lat) * 0.99)] <= 2 * quiet[int(len(quiet) * 0.99)]))

    def names_and_damage() -> bool:
        cases = [upload("a" * 296 + ".csv", b"isin\nNL0011223342\n"), upload("book\u202egpj.csv", b"isin\nNL\n"),
                 upload("damaged.parquet", b"PAR1" + b"\x00" * 64 + b"PAR1"), upload("broken.xlsx", b"PK\x03\x04junk")]
        return all(status == 400 and "\n" not in detail for status, detail in cases)

    def slow_identifier() -> bool:
        """A 20,000-character identifier must not hold up other requests (the name lookup's bound is issue 21's)."""
        result: dict = {}

        def ask() -> None:
            result["status"] = server.request("GET", "/api/v1/check/" + "Q" * 20_000)[0]

        def latency() -> tuple[int, float]:
            started = time.perf_counter()
            status = server.request("GET", "/api/v1/check/NL?as_of=2024-05-05")[0]
            return status, (time.perf_counter() - started) * 1000

        floor = max(latency()[1] for _ in range(20))  # the same question with nothing else asked: this machine's floor
        asker = threading.Thread(target=ask, daemon=True)
        asker.start()
        time.sleep(0.2)
        status, beside = latency()
        figures["check latency beside a 20,000-character identifier (ms)"] = beside
        figures["check latency alone, worst of 20 (ms)"] = floor
        asker.join(120)
        # 100 ms, or (on a machine already too busy for that, as the floor shows) no worse than twice the floor
        return status == 200 and (beside < 100 or beside <= 2 * floor)

    def as_known_on_far() -> bool:
        status, _, body = server.request("GET", "/api/v1/check/NL?as_known_on=9999-12-31")
        return status == 400 and b"has not come" in body

    def metrics_auth() -> bool:
        return (server.request("GET", "/metrics")[0] == 401
                and server.request("GET", "/metrics", headers=ADMIN)[0] == 200)

    def admin_lock() -> bool:
        holder = subprocess.Popen([sys.executable, "-c", (
            "import sqlite3, time\n"
            f"c = sqlite3.connect({str(db)!r}, isolation_level=None)\n"
            "c.execute('BEGIN IMMEDIATE'); print('held', flush=True); time.sleep(13); c.execute('COMMIT')\n")],
            stdout=subprocess.PIPE, text=True)
        holder.stdout.readline()
        started = time.monotonic()
        status, headers, body = server.request("POST", "/api/v1/admin/overrides",
                                               json.dumps({"country": "FR", "reason": "locked out"}).encode(),
                                               {**ADMIN, "content-type": "application/json"})
        figures["admin write under a held lock answered after (s)"] = time.monotonic() - started
        holder.wait(30)
        for _ in range(100):
            conn = sqlite3.connect(db)
            recorded = conn.execute("SELECT COUNT(*) FROM admin_actions WHERE outcome = 'failed'").fetchone()[0]
            conn.close()
            if recorded:
                break
            time.sleep(0.2)
        lower = {k.lower(): v for k, v in headers.items()}
        return status == 503 and lower.get("retry-after") == "30" and b"busy" in body and recorded == 1

    def refresh_from(copy: Path, site: str, mode: str, timeout: int) -> tuple[subprocess.CompletedProcess, int, float]:
        return watched([*SOVEREIGN, "--db", str(copy), "refresh", "--source", "web", "--base-url", site,
                        "--timeout", str(timeout), "--user-agent", f"attack {mode}"])

    def fetch_bomb() -> bool:
        site, close = fault_site()
        try:
            copy = copy_db(db, tmp / "fetch.db")
            done, peak, wall = refresh_from(copy, site, "bomb", 2)
            figures["refresh from a gzip bomb (1 MB -> 1,000 MiB)"] = (f"exit {done.returncode} in {wall:.1f} s, "
                                                                        f"peak RSS {peak / 1024:.0f} MB: "
                                                                        f"{done.stderr.strip()[:150]}")
            ok = one_line_error(done, 4) and "larger than the 5,000,000 bytes" in done.stderr and peak < 500 * 1024
            done, peak, wall = refresh_from(copy, site, "huge", 2)
            figures["refresh from a 700 MiB page"] = f"exit {done.returncode} in {wall:.1f} s, peak RSS {peak / 1024:.0f} MB"
            ok = ok and one_line_error(done, 4) and "larger than" in done.stderr and peak < 500 * 1024
            done, peak, wall = refresh_from(copy, site, "trickle", 3)
            figures["refresh from a server sending a byte every 2 s (--timeout 3)"] = (
                f"exit {done.returncode} after {wall:.1f} s: {done.stderr.strip()[:150]}")
            return ok and one_line_error(done, 4) and "still receiving after 12 s" in done.stderr and wall < 2 * 12 + 8
        finally:
            close()

    def edition_9999() -> bool:
        lines = [line for line in (FIW / "Aggregate_Scores_FIW06-24.csv").read_text().splitlines()]
        book = tmp / "scores-9999.csv"
        book.write_text("\n".join([lines[0], *(x.replace(",2024,", ",9999,") for x in lines[1:] if ",2024," in x)]))
        done = run(copy_db(db, tmp / "e.db"), "import", str(book))
        return done.returncode == 2 and "Traceback" not in done.stderr and "found 9999" in done.stderr

    def half_initialised() -> bool:
        half = tmp / "half.db"
        proc = subprocess.Popen([*SOVEREIGN, "--db", str(half), "refresh", "--source", "bundled"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        for _ in range(600):
            try:
                conn = sqlite3.connect(f"file:{half}?mode=ro", uri=True)
                ready = conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'runs'").fetchone()[0]
                conn.close()
                if ready:
                    break
            except sqlite3.Error:
                pass
            time.sleep(0.01)
        proc.kill()
        proc.wait()
        outs = [run(half, "verify"), run(half, "versions"), run(half, "runs")]
        return all("Traceback" not in d.stderr and len((d.stderr or d.stdout).strip().splitlines()) <= 2
                   and d.returncode in (0, 2) for d in outs)

    def register_clash() -> bool:
        copy = copy_db(db, tmp / "register.db")
        run(copy, "issuers", "import", str(ROOT / "data" / "issuers_sample.csv"))
        evil = tmp / "evil.csv"
        evil.write_text("issuer,lei,country,type,isins\nRepublic of Turkiye,,,supranational,US900123AB18\n"
                        "Turkey,,,supranational,XS2100000012\n")
        refused = run(copy, "issuers", "import", str(evil))
        check = run(copy, "check", "US900123AB18", "XS2100000012", "--json")
        return refused.returncode == 2 and all(a["verdict"] == "excluded" for a in json.loads(check.stdout))

    def withdraw_republish() -> bool:
        copy = copy_db(db, tmp / "publish.db")
        book = tmp / "fiw-2027.csv"
        book.write_text((FIW / "fiw-2026.csv").read_text().replace("India,IN,country,62,Partly Free,31,31",
                                                                   "India,IN,country,36,Not Free,5,31"))
        steps = [run(copy, "import", str(book)), run(copy, "people", "add", "RI A", "--role", "committee"),
                 run(copy, "publish", "--approved-by", "RI A", "--effective-from", "2207-03-01"),
                 run(copy, "publish", "--withdraw", "54", "--by", "RI A", "--reason", "2207 was a typo"),
                 run(copy, "publish", "--approved-by", "RI A", "--effective-from", "2027-03-01")]
        return all(s.returncode == 0 for s in steps) and "in force from 2027-03-01" in steps[-1].stdout

    def html_escaped() -> bool:
        import html.parser

        copy = copy_db(db, tmp / "html.db")
        run(copy, "import", str(tmp / "fiw-2027.csv"))
        book = tmp / "xss.csv"
        book.write_text(f'ISIN,Portfolio,MV\nNL0011223342,"{XSS}",100\n')
        page = tmp / "impact.html"
        done = run(copy, "impact", str(book), "--value-column", "MV", "--portfolio-column", "Portfolio",
                   "--format", "html", "-o", str(page))
        tags, csp = [], []

        class Parser(html.parser.HTMLParser):
            def handle_starttag(self, tag, attrs):
                tags.append(tag)
                if tag == "meta" and dict(attrs).get("http-equiv", "").lower() == "content-security-policy":
                    csp.append(dict(attrs).get("content"))

        Parser().feed(page.read_text() if page.exists() else "")
        return done.returncode == 0 and "img" not in tags and "script" not in tags and bool(csp)

    def formulas_everywhere() -> bool:
        import polars as pl

        copy = copy_db(db, tmp / "formula.db")
        register = tmp / "formula-register.csv"
        register.write_text('issuer,lei,country,type,isins\n"=HYPERLINK(""http://x"",""y"")",,NL,agency,XS2200000003\n')
        run(copy, "issuers", "import", str(register))
        book = tmp / "formula-book.csv"
        book.write_text('ISIN,Portfolio,MV\nXS2200000003,"=1+2",100\n')
        screened = run(copy, "screen", str(book)).stdout
        run(copy, "import", str(tmp / "fiw-2027.csv"))
        out = tmp / "impact.xlsx"
        run(copy, "impact", str(book), "--value-column", "MV", "--portfolio-column", "Portfolio", "--format", "xlsx",
            "-o", str(out))
        cells = [v for f in pl.read_excel(out, sheet_id=0).values() for row in f.rows() for v in row] if out.exists() else []
        return ("'=HYPERLINK" in screened and "\n=" not in screened and ",=" not in screened and "'=1+2" in cells
                and not any(isinstance(v, str) and v.startswith("=") for v in cells))

    def display_name() -> bool:
        copy = copy_db(db, tmp / "names.db")
        added = run(copy, "override", "add", "DE", "--reason", "review", "--by", "RI")
        out = tmp / "public.csv"
        run(copy, "exclusion-list", "-o", str(out), "--lang", "en")
        rows = {r[0]: r for r in csv.reader(out.read_text(encoding="utf-8-sig").splitlines()) if r} if out.exists() else {}
        since = rows.get("iso2", []).index("Excluded from") if "Excluded from" in rows.get("iso2", []) else -1
        return "Germany (DE)" in added.stdout and since > 0 and rows.get("DE", [])[since:since + 1] == [
            time.strftime("%Y-%m-%d")]

    def full_disk() -> bool:
        import resource

        def small_disk() -> None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))

        dest = tmp / "backups" / "full"
        backup = subprocess.run([*SOVEREIGN, "--db", str(db), "backup", str(dest)], capture_output=True, text=True,
                                cwd=ROOT, preexec_fn=small_disk, timeout=120)
        pdf = tmp / "public.pdf"
        printed = subprocess.run([*SOVEREIGN, "--db", str(db), "exclusion-list", "-o", str(pdf)], capture_output=True,
                                 text=True, cwd=ROOT, preexec_fn=small_disk, timeout=300)
        return (one_line_error(backup) and str(dest) in backup.stderr
                and not [p for p in dest.rglob("*") if p.is_file()]
                and printed.returncode == 2 and "Wrote" not in printed.stderr and not pdf.exists())

    def control_characters() -> bool:
        copy = copy_db(db, tmp / "control.db")
        tries = [run(copy, "override", "add", "FR", "--reason", text, "--by", "RI")
                 for text in ("\x1b[2J\x1b[Hall clear", "one\u2028two", "Anna \u202eanna")]
        tries.append(run(copy, "tokens", "add", "Mallory\u202e"))
        return all(one_line_error(t) for t in tries)

    def webhook_redacted() -> bool:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Hook(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
        threading.Thread(target=hook.serve_forever, daemon=True).start()
        secret = "services/T0/B0/s3cr3tp4th"
        try:
            done = run(copy_db(db, tmp / "hook.db"), "schedule", "--once", "--base-url", f"http://127.0.0.1:{free_port()}",
                       "--timeout", "1", "--webhook", f"http://u:pw@127.0.0.1:{hook.server_address[1]}/{secret}")
        finally:
            hook.shutdown()
            hook.server_close()
        logged = done.stdout + done.stderr
        return "webhook http://127.0.0.1:" in logged and "s3cr3t" not in logged and ":pw@" not in logged

    return [("uploads built to exhaust memory or CPU: 413/400 in one line, server < 500 MB, check p99 < 100 ms "
             "(or < 2 x the floor)",
             heavy_uploads),
            ("a 300-character or bidi file name, a damaged Parquet or XLSX: 400 in one line", names_and_damage),
            ("a 20,000-character identifier does not hold up other requests", slow_identifier),
            ("as_known_on=9999-12-31: 400", as_known_on_far),
            ("/metrics follows the admin rule of /health", metrics_auth),
            ("an admin write under a long lock: 503 + Retry-After, failure audited", admin_lock),
            ("fetch: gzip bomb, 700 MiB page, a byte every 2 s: one line each, bounded", fetch_bomb),
            ("an edition out of range (9999): rows named, no traceback", edition_9999),
            ("a database whose first refresh was killed: verify/versions/runs in one line", half_initialised),
            ("a register row with a sovereign's name never frees its ISINs", register_clash),
            ("publish on a mistyped date, withdraw, publish again", withdraw_republish),
            ("impact --format html escapes a portfolio name and carries a CSP meta tag", html_escaped),
            ("formulas neutralised from the register and in impact xlsx", formulas_everywhere),
            ("an override on DE says Germany; the public list shows its own date", display_name),
            ("a full disk: backup names its destination and cleans up; no PDF announced", full_disk),
            ("control characters refused in reasons and token holders", control_characters),
            ("a webhook URL is never logged whole", webhook_redacted)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the same cases; kept for the test suite's call")
    parser.add_argument("--only", default="", help="only the cases whose name contains this text")
    only = parser.parse_args().only
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        db = tmp / "attack.db"
        subprocess.run([*SOVEREIGN, "--db", str(db), "refresh", "--source", "bundled"], check=True,
                       capture_output=True, cwd=ROOT)
        server = Server(db, {"SOVEREIGN_ADMIN_TOKEN": TOKEN})
        held = failed = 0
        figures: dict = {}
        try:
            for name, case in [c for c in [*cases(db, tmp, server), *cases_26(db, tmp, server, figures)]
                               if only in c[0]]:
                try:
                    ok = case()
                except Exception as exc:  # a case that crashes the harness is a failure of the product's guard
                    ok, name = False, f"{name} ({exc.__class__.__name__}: {exc})"
                print(f"{'held  ' if ok else 'FAILED'}  {name}")
                held, failed = held + ok, failed + (not ok)
        finally:
            server.stop()
        for key, value in figures.items():
            print(f"  {key}: {value:.1f}" if isinstance(value, float) else f"  {key}: {value}")
        print(f"held: {held}, failed: {failed}")
        sys.exit(1 if failed else 0)


if __name__ == "__main__":
    os.environ.pop("SOVEREIGN_ADMIN_TOKEN", None)
    main()
