"""A stand-in for freedomhouse.org on 127.0.0.1: FH-like pages built from real FH rows, faults on demand."""

from __future__ import annotations

import hashlib
import re
import socket
import struct
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import polars as pl

from fiw import methodology as m

WORDS = {"F": "Free", "PF": "Partly Free", "NF": "Not Free"}


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def scores_page(rows: list[dict], edition: int, headers=("Country", "Total Score and Status", "Political Rights",
                                                        "Civil Liberties")) -> str:
    body = []
    for r in rows:
        star = "*" if r["kind"] == "t" else ""
        href = f"/country/{slug(r['fh_name'])}/freedom-world/{edition}"
        body.append(
            f'<tr><td class="country"><a href="{href}">{r["fh_name"]}{star}</a></td>'
            f'<td><a href="{href}"><div class="score-status"><span class="score">{r["total"]}</span> '
            f'<span class="status">{WORDS[r["status_pub"]]}</span></div></a></td>'
            f'<td>{r["pr"]}</td><td>{r["cl"]}</td></tr>')
    head = "".join(f"<th>{h}</th>" for h in headers)
    return (f"<!doctype html><html><head><title>Countries and Territories | Freedom House</title></head><body>"
            f'<div id="block-countryscorestable"><table class="views-table"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div></body></html>')


def country_page(r: dict, edition: int) -> str:
    parts = [f"<html><body><h1>{r['fh_name']}</h1><h2>Freedom in the World {edition}</h2>",
             f'<div class="status">{WORDS[r["status_pub"]]}</div>',
             f'<div class="pr"><h3>Political Rights</h3><span>{r["pr"]} / 40</span></div>',
             f'<div class="cl"><h3>Civil Liberties</h3><span>{r["cl"]} / 60</span></div>']
    for code in m.INDICATOR_COLUMNS:
        parts.append(f'<div class="question"><h4>{code} A question about this indicator?</h4>'
                     f'<p class="score">{r[code]} / 4</p><p>Some text about it.</p></div>')
    parts.append('<div class="question"><h4>Add Q Forced demographic change?</h4>'
                 f'<p class="score">{r["add_q"] or 0} / 4</p></div>')
    return "".join(parts) + "</body></html>"


def edition_2027(all_data: pl.DataFrame) -> list[dict]:
    """FH's 2025 rows relabelled 2027, with India's political-rights indicators zeroed (it becomes Not Free)."""
    rows = all_data.filter(pl.col("edition") == 2025).to_dicts()
    for r in rows:
        r["edition"] = 2027
        if r["fh_name"] == "India":
            for code in m.INDICATORS["A"] + m.INDICATORS["B"] + m.INDICATORS["C"]:
                r[code] = 0
        for sub, codes in m.INDICATORS.items():
            r[sub] = sum(r[c] for c in codes)
        r["pr"] = r["A"] + r["B"] + r["C"] - (r["add_q"] or 0)
        r["cl"] = r["D"] + r["E"] + r["F"] + r["G"]
        r["total"] = r["pr"] + r["cl"]
        r["status_pub"] = m.status(m.pr_rating(r["pr"]), m.cl_rating(r["cl"]))
    return rows


class FHSite:
    """Serves `pages` (path -> (content type, body)); `faults[path]` is a list of faults used one per request."""

    def __init__(self):
        self.pages: dict[str, tuple[str, bytes]] = {}
        self.faults: dict[str, list[str]] = {}
        self.log: list[tuple[float, str, dict]] = []
        self.robots = "User-agent: *\nAllow: /\n"
        self.slow_seconds = 2.0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def publish(self, rows: list[dict], edition: int, details: bool = True, **kw) -> None:
        self.pages["/countries/freedom-world/scores"] = ("text/html; charset=utf-8", scores_page(rows, edition, **kw).encode())
        if details:
            for r in rows:
                self.pages[f"/country/{slug(r['fh_name'])}/freedom-world/{edition}"] = (
                    "text/html; charset=utf-8", country_page(r, edition).encode())

    def requests_to(self, prefix: str = "") -> list[str]:
        return [p for _, p, _ in self.log if p.startswith(prefix)]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, status: int, body: bytes, ctype: str = "text/html", extra: dict | None = None, length=None):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                path = self.path.split("?")[0]
                site.log.append((time.monotonic(), path, dict(self.headers)))
                if path == "/robots.txt":
                    return self._send(200, site.robots.encode(), "text/plain")
                queue = site.faults.get(path) or []
                fault = queue.pop(0) if queue else None
                if fault == "500":
                    return self._send(500, b"Internal Server Error")
                if fault == "429":
                    return self._send(429, b"Too Many Requests", extra={"Retry-After": "1"})
                if fault == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    return
                if fault == "slow":
                    time.sleep(site.slow_seconds)
                if path not in site.pages:
                    return self._send(404, b"Not Found")
                ctype, body = site.pages[path]
                if fault == "json":
                    ctype = "application/json"
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                extra = {"ETag": etag, "Last-Modified": formatdate(usegmt=True)}
                if fault == "truncate":
                    self._send(200, body[: len(body) // 2], ctype, extra, length=len(body))
                    self.close_connection = True
                    return
                self._send(200, body, ctype, extra)

        return Handler
