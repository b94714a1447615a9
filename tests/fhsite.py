"""A stand-in for freedomhouse.org on 127.0.0.1: FH-like pages built from real FH rows, faults on demand."""

from __future__ import annotations

import hashlib
import io
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
# What Cloudflare adds to every ordinary page it serves: its bot-detection beacon, not a challenge.
BEACON = (b"<script>(function(){window.__CF$cv$params={r:'8f1c2a3b4d5e6f70',t:'MTczMDAwMDAwMC4wMDAwMDA='};"
          b"var a=document.createElement('script');a.nonce='';a.src='/cdn-cgi/challenge-platform/scripts/jsd/main.js';"
          b"document.getElementsByTagName('head')[0].appendChild(a);})();</script>")


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


def _name_html(name: str) -> str:
    """As FH's pages send names: apostrophes as entities, a non-breaking space where a name has a space."""
    return name.replace("'", "&#039;").replace(" ", "&nbsp;", 1)


def _total_cell(r: dict, href: str) -> str:
    """`a > div > span > span`: the number and the status in spans of their own."""
    return (f'<td class="total"><a href="{href}"><div class="fiw-score"><span class="score-wrap">'
            f'<span class="score">{r["total"]}</span><span class="status">{WORDS[r["status_pub"]]}</span>'
            f'</span></div></a></td>')


def live_scores_page(rows: list[dict], edition: int, territories: str = "star", heading: int | None = None) -> str:
    """`/countries/freedom-world/scores` as 2026 showed it: a `div` between the block and the table, Drupal's
    hidden sort text in the active "Country" header, territories by `*` inside the link, by a label, or in a
    table of their own."""
    def row(r: dict) -> str:
        href = f"/country/{slug(r['fh_name'])}/freedom-world/{edition}"
        mark = "*" if r["kind"] == "t" and territories == "star" else ""
        label = ' <span class="badge territory-label">Territory</span>' if r["kind"] == "t" and territories == "label" else ""
        return (f'<tr><td class="country"><a href="{href}">{_name_html(r["fh_name"])}{mark}</a>{label}</td>'
                f'{_total_cell(r, href)}<td class="pr">{r["pr"]}</td><td class="cl">{r["cl"]}</td></tr>')

    def table(rows_: list[dict], first: str = "Country") -> str:
        head = (f'<th aria-sort="descending" class="is-active"><a href="?order=name&amp;sort=asc" title="sort by {first}">'
                f'{first}<span class="visually-hidden">Sort descending</span></a></th>'
                '<th><a href="?order=total" title="sort by Total Score and Status">Total Score and Status</a></th>'
                '<th><a href="?order=pr">Political Rights</a></th><th><a href="?order=cl">Civil Liberties</a></th>')
        return (f'<div class="view-content"><table class="views-table cols-4"><thead><tr>{head}</tr></thead>'
                f'<tbody>{"".join(row(r) for r in rows_)}</tbody></table></div>')

    title = f"<h1>Freedom in the World {heading}</h1>" if heading else "<h1>Countries and Territories</h1>"
    if territories == "table":
        body = (table([r for r in rows if r["kind"] == "c"]) + "<h2>Territories</h2>"
                + table([r for r in rows if r["kind"] == "t"], "Territory"))
    else:
        body = table(rows)
    return ("<!doctype html><html><head><title>Countries and Territories | Freedom House</title></head><body>"
            f'{title}<div id="block-countryscorestable" class="block">{body}</div></body></html>')


def combined_scores_page(rows: list[dict], not_covered: tuple[str, ...] = (), header: str = "flat",
                         pr_cl: bool = True) -> str:
    """`/country/scores`: Global Freedom (its score, and PR and CL beside it) next to Internet Freedom and
    Democracy, every cell with a `data-group` ("fiw" for all three of FH's Freedom in the World columns), names
    linking to the country hub with no edition, "Not covered" where a product does not rate a place.
    `header`: "flat" (one row naming every column), "grouped" (one "Global Freedom" heading over the three, the
    cells labelled for narrow screens by `data-label`), "two-row" (the product over its columns)."""
    fiw = ("Global Freedom", "Political Rights", "Civil Liberties") if pr_cl else ("Global Freedom",)

    def label(i: int) -> str:
        return f' data-label="{fiw[i]}"' if header == "grouped" else ""

    body = []
    for r in rows:
        hub = f"/country/{slug(r['fh_name'])}"
        star = "*" if r["kind"] == "t" else ""
        extra = (f'<td data-group="fiw"{label(1)}><span class="score">{r["pr"]}</span></td>'
                 f'<td data-group="fiw"{label(2)}><span class="score">{r["cl"]}</span></td>') if pr_cl else ""
        body.append(
            f'<tr><td data-group="country_name"><a href="{hub}">{_name_html(r["fh_name"])}{star}</a></td>'
            f'<td data-group="fiw"{label(0)}><a href="{hub}"><div><span class="score">{r["total"]}</span> '
            f'<span class="status">{WORDS[r["status_pub"]]}</span></div></a></td>{extra}'
            f'<td data-group="fotn">Not covered</td><td data-group="nit">Not covered</td></tr>')
    for name in not_covered:
        body.append(f'<tr><td data-group="country_name"><a href="/country/{slug(name)}">{name}</a></td>'
                    + "".join(f'<td data-group="fiw"{label(i)}>Not covered</td>' for i in range(len(fiw)))
                    + '<td data-group="fotn"><span class="score">50</span></td><td data-group="nit">Not covered</td></tr>')
    country = '<th data-group="country_name"{span}>Country<span class="visually-hidden">Sort descending</span></th>'
    others = '<th data-group="fotn"{span}>Internet Freedom</th><th data-group="nit"{span}>Democracy</th>'
    if header == "flat":
        head = ("<tr>" + country.format(span="") + "".join(f'<th data-group="fiw">{w}</th>' for w in fiw)
                + others.format(span="") + "</tr>")
    elif header == "grouped":
        head = ("<tr>" + country.format(span="") + f'<th data-group="fiw" colspan="{len(fiw)}">Global Freedom</th>'
                + others.format(span="") + "</tr>")
    else:
        head = ("<tr>" + country.format(span=' rowspan="2"') + f'<th data-group="fiw" colspan="{len(fiw)}">'
                "Global Freedom</th>" + others.format(span=' rowspan="2"') + "</tr><tr>"
                + "".join(f'<th data-group="fiw">{w}</th>' for w in ("Total Score and Status", *fiw[1:])) + "</tr>")
    return ("<!doctype html><html><body><h1>Countries and Territories</h1>"
            f'<div id="block-countryscorestable"><div><table><thead>{head}</thead>'
            f'<tbody>{"".join(body)}</tbody></table></div></div></body></html>')


def hub_page(name: str, edition: int) -> str:
    s = slug(name)
    return (f'<html><body><h1>{name}</h1><ul><li><a href="/country/{s}/freedom-world/{edition}">Freedom in the World '
            f'{edition}</a></li><li><a href="/country/{s}/freedom-world/{edition - 1}">Freedom in the World '
            f'{edition - 1}</a></li><li><a href="/country/{s}/freedom-net/{edition - 1}">Freedom on the Net</a></li>'
            '</ul></body></html>')


def live_country_page(r: dict, edition: int, last_year_status: str = "F") -> str:
    """A report page as printed in 2026: no "/", each indicator's score twice ("2.00 2 4.00 4"), Add Q a bare
    negative number, and last year's score and status near the top."""
    parts = [f"<html><body><h1>{r['fh_name']}</h1><h2>Freedom in the World {edition}</h2>",
             f'<div class="last-year"><h3>Last Year&#039;s Score &amp; Status</h3><span>{min(r["total"] + 7, 100)} / 100'
             f'</span> <span>{WORDS[last_year_status]}</span></div>',
             f'<div class="global"><span>{r["total"]} / 100</span> <span>{WORDS[r["status_pub"]]}</span></div>',
             f'<div class="agg"><span>PR</span> <span>Political Rights</span> <span>{r["pr"]}</span> <span>40</span></div>',
             f'<div class="agg"><span>CL</span> <span>Civil Liberties</span> <span>{r["cl"]}</span> <span>60</span></div>']
    for code in m.INDICATOR_COLUMNS:
        v = r[code]
        parts.append(f'<div class="question"><h4><span>{code}</span> <span>Is there a question about this, '
                     f'with 2 numbers in 2025?</span></h4><div class="score"><span>{v}.00</span> <span>{v}</span> '
                     f'<span>4.00</span> <span>4</span></div><p>Text about it, with a year such as 2025 and 3 parties.</p>'
                     '</div>')
    if r.get("add_q"):
        parts.append('<div class="question"><h4><span>Add Q</span> <span>Is the government deliberately changing '
                     f'the ethnic composition?</span></h4><div class="score"><span>-{r["add_q"]}</span></div></div>')
    return "".join(parts) + "</body></html>"


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
        self.redirects: dict[str, str] = {}
        self.slow_seconds = 2.0
        self.beacon = False  # True: every HTML page carries the CDN's beacon, as behind Cloudflare
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

    def publish_live(self, rows: list[dict], edition: int, page: str = "live", details: bool = True, **kw) -> None:
        """FH's site as 2026 showed it: the FIW scores page (`live`) or the combined one with hubs (`combined`)."""
        html = "text/html; charset=utf-8"
        self.pages.pop("/countries/freedom-world/scores", None)
        self.pages.pop("/country/scores", None)
        if page == "live":
            self.pages["/countries/freedom-world/scores"] = (html, live_scores_page(rows, edition, **kw).encode())
        else:
            self.pages["/country/scores"] = (html, combined_scores_page(rows, **kw).encode())
            for r in rows:
                self.pages[f"/country/{slug(r['fh_name'])}"] = (html, hub_page(r["fh_name"], edition).encode())
        if details:
            for r in rows:
                self.pages[f"/country/{slug(r['fh_name'])}/freedom-world/{edition}"] = (
                    html, live_country_page(r, edition).encode())

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
            disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms wait on the client's ACK

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
                if path in site.redirects:
                    return self._send(301, b"", extra={"Location": site.redirects[path]})
                queue = site.faults.get(path) or []
                fault = queue.pop(0) if queue else None
                if fault == "cf403":
                    return self._send(403, b"<html><title>Just a moment...</title><script src='/cdn-cgi/challenge-platform/"
                                      b"h/b/orchestrate/chl_page/v1'></script></html>",
                                      extra={"cf-mitigated": "challenge", "Server": "cloudflare"})
                if fault == "cf1020":
                    return self._send(403, b"<!DOCTYPE html><html><head><title>Access denied | freedomhouse.org used "
                                      b"Cloudflare to restrict access</title></head><body><h1>Error 1020</h1><h2>Access "
                                      b"denied</h2><p>The site owner may have set restrictions that prevent you from "
                                      b"accessing the site.</p></body></html>", extra={"Server": "cloudflare"})
                if fault == "waf202":
                    return self._send(202, b"<html><head><script src='https://abc.token.awswaf.com/abc/challenge.js'>"
                                      b"</script></head><body><script>AwsWafIntegration.checkForceRefresh()</script>"
                                      b"</body></html>", extra={"x-amzn-waf-action": "challenge"})
                if fault == "cf200":
                    return self._send(200, b"<html><head><title>Just a moment...</title></head><body><script>"
                                      b"window._cf_chl_opt={cvId: '3'};</script></body></html>", extra={"Server": "cloudflare"})
                if fault == "trickle":
                    body = site.pages[path][1]
                    self.send_response(200)
                    self.send_header("Content-Type", site.pages[path][0])
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    try:
                        for i in range(0, len(body), 2000):
                            self.wfile.write(body[i:i + 2000])
                            self.wfile.flush()
                            time.sleep(0.3)
                    except OSError:
                        pass
                    self.close_connection = True
                    return
                if fault == "500":
                    return self._send(500, b"Internal Server Error")
                if fault == "429":
                    return self._send(429, b"Too Many Requests", extra={"Retry-After": "1"})
                if fault == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.rfile.close()  # the socket closes (with a RST) only when its files let go of it
                    self.wfile.close()
                    self.connection.close()
                    self.rfile, self.wfile = io.BytesIO(), io.BytesIO()
                    self.close_connection = True
                    return
                if fault == "slow":
                    time.sleep(site.slow_seconds)
                if path not in site.pages:
                    return self._send(404, b"Not Found")
                ctype, body = site.pages[path]
                if site.beacon and ctype.startswith("text/html"):
                    body = body.replace(b"</body>", BEACON + b"</body>", 1) if b"</body>" in body else body + BEACON
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
