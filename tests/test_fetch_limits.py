"""The fetch from FH's site is bounded (issue 26): decoded bytes are capped (a gzip bomb stops at the cap), the
deadline is checked on every read (a server trickling bytes is cut at 4 x --timeout), and each case is one line.
A real HTTP server on 127.0.0.1 with injected faults."""

from __future__ import annotations

import gzip
import random
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scrapers.http import MAX_FILE, MAX_PAGE, FetchError, PoliteClient

PAGE = b"<html><body><table><tr><td>Finland</td><td>100</td></tr></table></body></html>"


def gzip_bomb(decoded_mib: int) -> bytes:
    """A gzip body of zeros, compressed in 1 MiB steps as a server would stream it."""
    out = zlib.compressobj(9, zlib.DEFLATED, 31)
    mib = b"\0" * 2**20
    return b"".join(out.compress(mib) for _ in range(decoded_mib)) + out.flush()


class Faults(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    bomb = b""

    def log_message(self, *args) -> None:
        pass

    def send(self, body: bytes, ctype: str = "text/html", **headers: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k.replace("_", "-"), v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        path = self.path
        if path == "/robots.txt":
            self.send(b"User-agent: *\nAllow: /\n", "text/plain")
        elif path == "/page":
            self.send(PAGE)
        elif path == "/page.gz":
            self.send(gzip.compress(PAGE), Content_Encoding="gzip")
        elif path == "/page.deflate":
            self.send(zlib.compress(PAGE), Content_Encoding="deflate")
        elif path == "/bomb":
            self.send(self.bomb, Content_Encoding="gzip")
        elif path == "/huge-declared":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(700 * 2**20))
            self.end_headers()
            self.wfile.write(b"<html>" + b" " * 65536)
        elif path == "/huge-undeclared":  # no length: read until the server closes
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Connection", "close")
            self.end_headers()
            chunk = b"<p>" + b"x" * 65533
            try:
                for _ in range(700 * 16):
                    self.wfile.write(chunk)
            except OSError:
                pass
        elif path == "/trickle":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            try:
                for _ in range(1000):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.5)
            except OSError:
                pass
        elif path == "/trickled-headers":  # the status line and headers themselves, a byte at a time
            try:
                for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Padding: " + b"x" * 1000:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.5)
            except OSError:
                pass
            self.close_connection = True
        elif path == "/brotli":
            self.send(b"\x1b\x00", Content_Encoding="br")
        elif path == "/cut.gz":
            self.send(gzip.compress(random.Random(1).randbytes(5000))[:2000], Content_Encoding="gzip")
        else:
            self.send_error(404)


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    Faults.bomb = gzip_bomb(100)  # 100 MiB decoded from about 100 KB; the attack script sends 1,000 MiB
    server = ThreadingHTTPServer(("127.0.0.1", 0), Faults)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def client(timeout: float = 5.0) -> PoliteClient:
    return PoliteClient(user_agent="sovereign-test", min_interval=0.0, timeout=(timeout, timeout),
                        deadline=4 * timeout, retries=0)


def test_plain_and_encoded_pages_still_arrive(site):
    for path in ("/page", "/page.gz", "/page.deflate"):
        assert client().get(site + path, expect="text/html").content == PAGE


def test_a_gzip_bomb_stops_at_the_cap(site):
    tracemalloc.start()
    try:
        with pytest.raises(FetchError) as caught:
            client().get(site + "/bomb", expect="text/html")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(caught.value)
    assert "\n" not in message and message.startswith(site + "/bomb: larger than the 5,000,000 bytes")
    assert "decode to more" in message and "cut off" in message
    assert peak < 4 * MAX_PAGE  # held at most the cap, never the 100 MiB


def test_a_page_too_large_is_refused_declared_or_not(site):
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"/huge-declared: declares 734,003,200 bytes, more than the 5,000,000"):
        client().get(site + "/huge-declared", expect="text/html")
    with pytest.raises(FetchError, match=r"/huge-undeclared: larger than the 5,000,000 bytes .* cut off"):
        client().get(site + "/huge-undeclared", expect="text/html")
    assert time.monotonic() - started < 5
    assert MAX_FILE > MAX_PAGE  # a workbook may be larger than a page


def test_a_trickling_server_is_cut_at_four_times_the_timeout(site):
    """One byte every 0.5 s never trips a 1 s read timeout; the deadline (4 x 1 s) cuts it off."""
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        client(timeout=1.0).get(site + "/trickle", expect="text/html")
    elapsed = time.monotonic() - started
    assert 4.0 <= elapsed < 5.5
    assert "still receiving after 4 s" in str(caught.value) and "cut off" in str(caught.value)


def test_a_server_trickling_its_headers_is_cut_at_four_times_the_timeout(site):
    """No read of the body ever starts: the watchdog cuts the connection at the deadline."""
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"/trickled-headers: still receiving after 4 s: .* cut off"):
        client(timeout=1.0).get(site + "/trickled-headers", expect="text/html")
    assert 4.0 <= time.monotonic() - started < 6.0


def test_encodings_not_asked_for_and_damaged_bodies_are_one_line(site):
    with pytest.raises(FetchError, match=r"/brotli: answered in the content encoding 'br', which was not asked for"):
        client().get(site + "/brotli", expect="text/html")
    with pytest.raises(FetchError, match=r"/cut.gz: the gzip body ends before its end"):
        client().get(site + "/cut.gz", expect="text/html")
