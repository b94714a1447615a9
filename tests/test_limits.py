"""The service's own limits (issue 26): uploads read in a child with a memory and a time limit, lookups off the
event loop, one line for every refusal; measured against a real server on 127.0.0.1."""

from __future__ import annotations

import io
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.hostile import far_corner_xlsx, long_cell_parquet, wide_csv
from tests.test_hardening import rss_kb
from tests.test_service import Server


def one_line(response: httpx.Response) -> str:
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and "Traceback" not in detail
    return detail


@pytest.mark.slow
def test_uploads_built_to_exhaust_memory_cost_a_child_not_the_server(fresh_db):
    server = Server(fresh_db)
    try:
        assert httpx.get(f"{server.url}/api/v1/check/NL", timeout=30).status_code == 200  # warm: not what is timed
        before = rss_kb(server.proc.pid)
        latencies: list[float] = []
        done = threading.Event()

        def desk() -> None:
            names = ["NL", "France", "DE", "Netherlands", "CN", "RU", "US0378331005", "Germany"]
            i = 0
            while not done.is_set():
                started = time.perf_counter()
                assert httpx.get(f"{server.url}/api/v1/check/{names[i % len(names)]}?as_of=2026-0{1 + i % 9}-01",
                                 timeout=10).status_code == 200
                latencies.append(time.perf_counter() - started)
                i += 1
                time.sleep(0.02)

        # built before the desk's clock starts
        cases = [("screen/file", {}, "far.xlsx", far_corner_xlsx(["ISIN"], ["NL0011223342"])),
                 ("impact/file", {"value_column": "mv"}, "wide.csv", wide_csv()),
                 ("screen/file", {}, "long.parquet", long_cell_parquet())]
        watcher = threading.Thread(target=desk)
        watcher.start()
        with ThreadPoolExecutor(2) as pool:
            uploads = [pool.submit(httpx.post, f"{server.url}/api/v1/{path}", timeout=120, params=params,
                                   files={"file": (name, body, "application/octet-stream")})
                       for path, params, name, body in cases]
            answers = [u.result() for u in uploads]
        done.set()
        watcher.join()
        # The readers' bounds refuse all three before anything is allocated (400, naming the cap): the Parquet file's
        # metadata states nothing over a bound, its cells are measured as they stream past.
        expected = [(400, "far.xlsx: sheet sheet1 reaches row 1,048,576, column 16,384", "at most"),
                    (400, "wide.csv: the header has", "columns, more than the 1,000 read"),  # counted in its first 64 KB
                    (400, "long.parquet: row 2, column 'isin': 200,000 characters", "more than the 1,000 a cell may")]
        for answer, (status, start, words) in zip(answers, expected, strict=True):
            detail = one_line(answer)
            assert answer.status_code == status and detail.startswith(start) and words in detail, answer.text
        assert httpx.get(server.url + "/health").status_code == 200
        assert latencies and max(latencies) < 1.0, latencies
        assert rss_kb(server.proc.pid) - before < 100_000  # kB: the server's memory stays flat
        fine = httpx.post(server.url + "/api/v1/screen/file", files={"file": ("book.csv", b"ISIN\nNL0011223342\n")})
        assert fine.status_code == 200 and fine.json()[0]["ISIN"] == "NL0011223342"
    finally:
        server.stop()


def test_names_and_damaged_files_are_one_line_400(fresh_db):
    from fastapi.testclient import TestClient

    from sovereign.api import create_app
    from sovereign.settings import Settings

    with TestClient(create_app(Settings.load(db=fresh_db)), raise_server_exceptions=False) as c:
        def post(name: str, body: bytes) -> httpx.Response:
            return c.post("/api/v1/screen/file", files={"file": (name, body, "text/csv")})

        r = post("a" * 296 + ".csv", b"isin\nNL0011223342\n")
        assert r.status_code == 400 and "300 characters long" in one_line(r)
        r = post("book\u202egpj.csv", b"isin\nNL0011223342\n")
        assert r.status_code == 400 and "control or formatting" in one_line(r)
        r = post("x." + "b" * 250, b"isin\nNL0011223342\n")  # a suffix no file system would take
        assert r.status_code == 200
        for name, body in [("damaged.parquet", b"PAR1" + b"\x00" * 64 + b"PAR1"), ("broken.xlsx", b"PK\x03\x04junk"),
                           ("empty.csv", b""), ("binary.csv", bytes(range(256)) * 40)]:
            r = post(name, body)
            assert r.status_code == 400, (name, r.text)
            assert name in one_line(r)
        r = c.post("/api/v1/impact/file", params={"value_column": "mv"},
                   files={"file": ("d.parquet", b"PAR1\x00PAR1", "application/octet-stream")})
        assert r.status_code == 400 and "d.parquet" in one_line(r)


def test_a_child_over_its_time_is_killed_and_said_in_one_line(tmp_path):
    from sovereign.sandbox import Limits, TooHeavy, read_upload

    with pytest.raises(TooHeavy, match=r"^book.csv: reading the file took longer than 0 s and was stopped"):
        read_upload(io.BytesIO(b"isin\nNL0011223342\n"), "book.csv", None, "sovereign screen", Limits(seconds=0.01))
    book = read_upload(io.BytesIO(b"title row\n\nISIN,mv\nNL0011223342,5\n"), "desk.csv", None, "sovereign screen")
    assert book.path == Path("desk.csv") and book.id_columns == ["ISIN"] and book.frame.collect().height == 1


def test_a_slow_lookup_never_holds_up_other_requests(fresh_db, monkeypatch):
    """A lookup that takes 2 s (as a long identifier did before the name lookup was made linear) runs in a
    worker thread: /api/v1/check for another identifier and /health answer meanwhile."""
    import uvicorn

    from sovereign.api import create_app
    from sovereign.api.routers import check
    from sovereign.settings import Settings

    class Slow(check.Resolver):
        def resolve(self, text: str):  # type: ignore[no-untyped-def]
            if text.startswith("SLOW"):
                time.sleep(2)
            return super().resolve(text)

    monkeypatch.setattr(check, "Resolver", Slow)
    sock = socket.create_server(("127.0.0.1", 0))  # bound here: the port is ours before the server starts
    server = uvicorn.Server(uvicorn.Config(create_app(Settings.load(db=fresh_db)), log_level="error"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        with ThreadPoolExecutor(1) as pool:
            slow = pool.submit(httpx.get, url + "/api/v1/check/SLOWLY", timeout=10)
            time.sleep(0.3)
            started = time.perf_counter()
            assert httpx.get(url + "/api/v1/check/NL").json()["verdict"] == "eligible"
            assert httpx.get(url + "/health").status_code == 200
            elapsed = time.perf_counter() - started
            assert not slow.done() and elapsed < 0.5
            assert slow.result().status_code in (200, 400, 404)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_an_identifier_too_long_to_be_one_is_refused_before_any_lookup(fresh_db):
    from fastapi.testclient import TestClient

    from sovereign.api import create_app
    from sovereign.resolve import MAX_IDENTIFIER
    from sovereign.settings import Settings

    with TestClient(create_app(Settings.load(db=fresh_db))) as c:
        started = time.perf_counter()
        r = c.get("/api/v1/check/" + "Q" * 20_000)
        assert r.status_code == 400 and time.perf_counter() - started < 0.5
        assert one_line(r) == ("an identifier of 20,000 characters ('QQQQQQQQQQQQQQQQQQQQQQQQ'...): no ISIN, LEI, code "
                               f"or country name is longer than {MAX_IDENTIFIER}")
        assert c.get("/api/v1/check/" + "Republic of the Netherlands").status_code in (200, 404)


def test_uploads_beyond_the_reading_slots_wait_then_503(fresh_db, monkeypatch):
    from fastapi.testclient import TestClient

    from sovereign import sandbox
    from sovereign.api import create_app
    from sovereign.settings import Settings

    monkeypatch.setattr(sandbox, "BUSY_WAIT", 0.2)
    taken = [sandbox._slots.acquire(timeout=1) for _ in range(sandbox.CONCURRENT)]  # two books being read
    try:
        with TestClient(create_app(Settings.load(db=fresh_db))) as c:
            r = c.post("/api/v1/screen/file", files={"file": ("book.csv", b"ISIN\nNL0011223342\n")})
            assert r.status_code == 503 and r.headers["retry-after"] == "30"
            assert one_line(r) == "2 uploads are being read; try again in a minute"
    finally:
        for _ in filter(None, taken):
            sandbox._slots.release()
    with TestClient(create_app(Settings.load(db=fresh_db))) as c:
        assert c.post("/api/v1/screen/file", files={"file": ("book.csv", b"ISIN\nNL0011223342\n")}).status_code == 200


@pytest.mark.pure
@pytest.mark.parametrize(("row", "column"), [(99_999, "ZZ"), (250_001, "A"), (40_000, "AAA")])
def test_a_sheet_without_its_dimension_is_measured_by_its_farthest_cell(tmp_path, row, column):
    """Writers other than Excel may leave out `<dimension>`; a reader then sizes the grid by the farthest cell.
    One cell at ZZ99999 (70 million cells) is refused before any reader allocates, as its dimension would be;
    an ordinary sheet without a dimension still reads."""
    import re
    import zipfile

    from fiw.errors import UserError
    from sovereign import bounds
    from sovereign.bounds import column_index

    def without_dimension(data: bytes) -> Path:
        path = tmp_path / f"book-{row}-{column}-{len(data)}.xlsx"
        with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
            for item in src.infolist():
                body = src.read(item)
                if item.filename.startswith("xl/worksheets/"):
                    body = re.sub(rb"<dimension [^>]*/>", b"", body)
                out.writestr(item, body)
        return path

    import xlsxwriter

    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf)
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["ISIN", "MV"])
    sheet.write_row(1, 0, ["NL0011223342", 1])
    sheet.write(row - 1, column_index(column) - 1, "x")
    book.close()
    far = without_dimension(buf.getvalue())
    assert b"<dimension" not in zipfile.ZipFile(far).read("xl/worksheets/sheet1.xml")
    with pytest.raises(UserError, match=f"reaches row {row:,}, column {column_index(column):,}"):
        bounds.check_xlsx(far, bounds.UPLOAD)
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf)
    book.add_worksheet().write_row(0, 0, ["ISIN", "MV"])
    book.close()
    bounds.check_xlsx(without_dimension(buf.getvalue()), bounds.UPLOAD)


@pytest.mark.parametrize("command", ["screen", "issuers-import"])
def test_a_header_too_wide_is_refused_even_when_it_runs_past_the_first_read(desk, tmp_path, command):
    """3,001 descriptive column names of 100 characters: 300 KB of header, of which the first read sees only
    about 640 columns; the rest are counted as the line streams, so the cap of 1,000 holds."""
    names = ["ISIN" if command == "screen" else "issuer", *(f"{'long column name ' * 6}{i:>4}" for i in range(3_000))]
    src = tmp_path / "wide.csv"
    src.write_text(",".join(names) + "\n" + ",".join(["NL0011223342", *"x" * 3_000]) + "\n")
    assert src.stat().st_size > 300_000
    args = ["screen", str(src), "-o", str(tmp_path / "o.csv")] if command == "screen" else ["issuers", "import", str(src)]
    code, _, err = desk(*args)
    assert code == 2 and "more than the 1,000 read" in err and "Traceback" not in err, err
