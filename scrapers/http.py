"""A polite HTTP client for freedomhouse.org (or a mirror): one session, an honest User-Agent,
robots.txt obeyed on every host a redirect leads to, a minimum interval per host (or the site's
Crawl-delay, whichever is longer), timeouts and an overall deadline per fetch, urllib3 retries
(connection errors, 5xx, 429 with Retry-After, capped), and conditional requests so an unchanged page
costs a 304. A CDN's bot challenge is named as such, never taken for a changed layout.
"""

from __future__ import annotations

import http.client
import re
import socket
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ProtocolError, ReadTimeoutError
from urllib3.util.retry import Retry

from fiw.errors import UserError


class FetchError(UserError):
    """A page could not be fetched; says which URL and why, in one line."""


class Unreachable(FetchError):
    """The host could not be reached at all (refused, no route, no name): another page on it will fail alike."""


class CappedRetry(Retry):
    """urllib3's Retry, with Retry-After capped so a server cannot park the annual job for hours."""

    max_retry_after = 60.0

    def get_retry_after(self, response):
        value = super().get_retry_after(response)
        return None if value is None else min(value, self.max_retry_after)


CHALLENGE_BODY = re.compile(rb"cf-chl|challenge-platform|_cf_chl_opt|cf_challenge|Just a moment\.\.\.|"
                            rb"Attention Required!|captcha-delivery|_Incapsula_Resource|ak_bmsc|px-captcha|"
                            rb"AwsWafIntegration|awswaf|challenge\.js", re.I)
# Cloudflare's bot-detection beacon sits on every ordinary page behind it: it is not a challenge.
BEACON = re.compile(rb"/cdn-cgi/challenge-platform/scripts/jsd/[^\"'\s<>]*|__CF\$cv\$params", re.I)
CDN_SERVERS = re.compile(r"cloudflare|akamai|incapsula|imperva|sucuri|ddos-guard|perimeterx|datadome|awselb|"
                         r"cloudfront", re.I)
CF_1020 = re.compile(rb"error(?:\s+code)?:?\s*1020\b|error 1020|cf-error-code\">\s*1020", re.I)
PAGE_TEXT = 1500  # visible characters beyond which a page is a page, whatever scripts it includes
REDIRECTS = (301, 302, 303, 307, 308)
MAX_PAGE = 5_000_000        # decoded bytes of a page (FH's scores page is well under 1 MB) or robots.txt
MAX_FILE = 50_000_000       # decoded bytes of a workbook or another file (FH's are a few MB)
MAX_REDIRECTS = 5


def _visible_length(body: bytes) -> int:
    """Roughly how much a reader would see: scripts, styles and tags left out."""
    text = re.sub(rb"<(script|style|noscript)\b.*?</\1\s*>", b" ", body, flags=re.I | re.S)
    text = re.sub(rb"<[^>]*>", b" ", text)
    return len(re.sub(rb"\s+", b" ", text).strip())


def refused(response: requests.Response) -> str | None:
    """A CDN's firewall refusing us outright (Cloudflare's error 1020, "Access denied"): not a challenge to wait
    out, a rule that will refuse the next run too."""
    body = response.content[:20000] if response.content else b""
    if response.status_code == 403 and CF_1020.search(body):
        return ("Cloudflare error 1020, Access denied: a firewall rule of the site refuses our client; waiting will "
                "not help. Ask the site (or whoever runs the network) about the rule, or import FH's workbook by "
                "hand (sovereign import FILE)")
    return None


def challenge(response: requests.Response) -> str | None:
    """What says this answer is a CDN's bot challenge rather than FH's page, or None. Judged by what the page
    is: a challenge page is nothing else (a "Just a moment..." title, `_cf_chl_opt`, `cf-mitigated`), while an
    ordinary page carries the CDN's bot-detection beacon and stays an ordinary page."""
    mitigated = response.headers.get("cf-mitigated", "")
    waf = response.headers.get("x-amzn-waf-action", "")
    server = response.headers.get("Server", "")
    body = response.content[:200000] if response.content else b""
    marked = CHALLENGE_BODY.search(BEACON.sub(b"", body[:20000]))
    if mitigated.lower() == "challenge":
        return f"HTTP {response.status_code}, cf-mitigated: challenge"
    if waf.lower() in ("challenge", "captcha"):
        return f"HTTP {response.status_code}, a WAF's {waf.lower()} (x-amzn-waf-action: {waf})"
    if response.status_code == 202 and marked:
        return f"HTTP 202 with a WAF's challenge page{f' (Server: {server})' if server else ''}"
    if response.status_code in (403, 429, 503) and CDN_SERVERS.search(server) and marked:
        return f"HTTP {response.status_code} from {server} with a challenge page"
    if (response.status_code == 200 and marked and b"<table" not in body.lower()
            and _visible_length(body) < PAGE_TEXT):
        return f"HTTP 200 carrying a challenge script{f' (Server: {server})' if server else ''}"
    return None


_in_use: dict[int, Any] = {}  # thread -> the connection its request attempt is using
_watchdogs: dict[int, Watchdog] = {}


class _WatchedPool(HTTPConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        return _attempt(super()._get_conn(timeout))


class _WatchedTLSPool(HTTPSConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        return _attempt(super()._get_conn(timeout))


def _attempt(conn: Any) -> Any:
    """A request attempt begins on `conn`: its thread's watchdog watches it, with a deadline of its own."""
    _in_use[threading.get_ident()] = conn
    dog = _watchdogs.get(threading.get_ident())
    if dog is not None:
        dog.arm()
    return conn


class Watchdog:
    """Cuts the connection of a request attempt still receiving when its deadline passes: a server that
    trickles its status line or headers, where no read of ours comes back to check the clock, is stopped on
    time too. Each attempt (urllib3 retries) has the deadline in full; a read timeout stays a read timeout."""

    def __init__(self, seconds: float):
        self.seconds, self.thread, self.expired = seconds, threading.get_ident(), False
        self.until = time.monotonic() + seconds
        self.done = threading.Event()
        _watchdogs[self.thread] = self
        threading.Thread(target=self._run, daemon=True).start()

    def arm(self) -> None:
        self.until = time.monotonic() + self.seconds

    def _run(self) -> None:
        while not self.done.wait(0.1):
            if time.monotonic() < self.until:
                continue
            sock = getattr(_in_use.get(self.thread), "sock", None)
            if sock is not None:
                self.expired = True
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.until = float("inf")  # until the next attempt arms it again

    def stop(self) -> None:
        self.done.set()
        _in_use.pop(self.thread, None)
        _watchdogs.pop(self.thread, None)


@dataclass
class Fetched:
    url: str                # where the content came from, after redirects
    status: int  # 200, or 304 when the validators matched and `content` is what was stored
    content: bytes
    content_type: str
    etag: str | None
    last_modified: str | None


@dataclass
class PoliteClient:
    """One per run. The User-Agent has no default: every caller passes the configured one."""

    user_agent: str
    min_interval: float = 1.0
    timeout: tuple[float, float] = (5.0, 30.0)
    deadline: float = 120.0       # seconds a whole fetch may take, however slowly the bytes trickle in
    retries: int = 3
    backoff: float = 0.5
    max_retry_after: float = 60.0
    requests_made: int = 0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _last: dict[str, float] = field(default_factory=dict)
    _robots: dict[str, RobotFileParser] = field(default_factory=dict)
    _interval: dict[str, float] = field(default_factory=dict)
    _unreachable: dict[str, FetchError] = field(default_factory=dict)  # hosts whose robots.txt failed past retries

    def __post_init__(self):
        retry = CappedRetry(
            total=self.retries, connect=self.retries, read=self.retries, status=self.retries,
            backoff_factor=self.backoff, status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=frozenset({"GET", "HEAD"}), respect_retry_after_header=True, raise_on_status=False,
        )
        retry.max_retry_after = self.max_retry_after
        self.session = requests.Session()
        self.session.headers["User-Agent"] = self.user_agent
        self.session.headers["Accept-Encoding"] = "gzip, deflate"  # what _body decodes, and counts
        adapter = HTTPAdapter(max_retries=retry)
        adapter.poolmanager.pool_classes_by_scheme = {"http": _WatchedPool, "https": _WatchedTLSPool}
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def interval(self, host: str) -> float:
        """The pause between requests to a host: ours, or its robots.txt Crawl-delay when that is longer."""
        return max(self.min_interval, self._interval.get(host, 0.0))

    def _wait(self, host: str) -> None:
        last = self._last.get(host)
        if last is not None:
            pause = self.interval(host) - (self.clock() - last)
            if pause > 0:
                self.sleep(pause)
        self._last[host] = self.clock()

    def _body(self, response: requests.Response, url: str, started: float, limit: int) -> bytes:
        """The body, decoded here so that both what arrives and what it decodes to are counted: the deadline is
        checked after every read from the socket (however few bytes it brought) and the decoded bytes stop at
        `limit` (a 1 MB gzip body that decodes to 1,000 MiB is cut off at the limit, never held whole)."""
        encoding = response.headers.get("Content-Encoding", "").strip().lower()
        if encoding in ("", "identity"):
            decoder = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            decoder = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib, told apart by their headers
        else:
            raise FetchError(f"{url}: answered in the content encoding {encoding[:40]!r}, which was not asked for")
        declared = response.headers.get("Content-Length", "")
        if not decoder and declared.isdigit() and int(declared) > limit:
            raise FetchError(f"{url}: declares {int(declared):,} bytes, more than the {limit:,} such a file may have; "
                             "not read")
        body, received = bytearray(), 0
        while True:
            if time.monotonic() - started > self.deadline:
                raise FetchError(f"{url}: still receiving after {self.deadline:.0f} s ({received:,} bytes so far): "
                                 "the server sends too slowly; cut off")
            data = response.raw.read1(65536, decode_content=False)
            if not data:
                break
            received += len(data)
            if decoder is None:
                body += data
            else:
                try:
                    body += decoder.decompress(data, limit + 1 - len(body))
                except zlib.error as exc:
                    raise FetchError(f"{url}: the {encoding} body is damaged ({exc})") from None
            if len(body) > limit:
                what = f"{received:,} bytes received decode" if decoder else f"{received:,} bytes received"
                raise FetchError(f"{url}: larger than the {limit:,} bytes such a file may have ({what} to more); "
                                 "cut off")
        if decoder is not None and not decoder.eof and received:
            raise FetchError(f"{url}: the {encoding} body ends before its end ({received:,} bytes received)")
        return bytes(body)

    def _raw_get(self, url: str, headers: dict | None = None, limit: int = MAX_PAGE) -> requests.Response:
        host = urlsplit(url).netloc
        self._wait(host)
        self.requests_made += 1
        started = time.monotonic()
        watchdog = Watchdog(self.deadline)
        try:
            response = self.session.get(url, headers=headers or {}, timeout=self.timeout, stream=True,
                                        allow_redirects=False)
            try:
                response._content = self._body(response, url, started, limit)  # read whole now, bounded
            finally:
                response.close()
            return response
        except (requests.exceptions.RequestException, ProtocolError, http.client.HTTPException, OSError) as exc:
            if watchdog.expired:
                raise FetchError(f"{url}: still receiving after {self.deadline:.0f} s: the server sends too slowly "
                                 "(its headers, or its body); cut off") from None
            raise self._failure(url, exc) from None
        finally:
            watchdog.stop()

    def _failure(self, url: str, exc: Exception) -> FetchError:
        """What went wrong with a request, in the words of the case."""
        if isinstance(exc, ProtocolError | http.client.IncompleteRead | requests.exceptions.ChunkedEncodingError):
            return FetchError(f"{url}: the body was cut off before its declared length ({_short(exc)})")
        if isinstance(exc, requests.exceptions.ConnectionError):
            words = _connection_words(exc, self.timeout, self.retries)
            unreachable = words.startswith(("connection refused", "could not connect"))
            return (Unreachable if unreachable else FetchError)(f"{url}: {words}")
        if isinstance(exc, requests.exceptions.ReadTimeout | ReadTimeoutError):
            return FetchError(f"{url}: connected, but no answer within {self.timeout[1]:.0f} s (read timeout) after "
                              f"{self.retries} retries ({_short(exc)})")
        if isinstance(exc, requests.exceptions.Timeout):
            return FetchError(f"{url}: could not connect within {self.timeout[0]:.0f} s (connect timeout) after "
                              f"{self.retries} retries ({_short(exc)})")
        return FetchError(f"{url}: {_short(exc)}")

    def allowed(self, url: str) -> bool:
        """robots.txt of the URL's host; unreachable (5xx) means everything is off limits (RFC 9309)."""
        parts = urlsplit(url)
        host = f"{parts.scheme}://{parts.netloc}"
        parser = self._robots.get(host)
        if parser is None:
            if host in self._unreachable:  # said once, not retried again for the next page of the same run
                raise self._unreachable[host]
            parser = RobotFileParser(f"{host}/robots.txt")
            try:
                response = self._raw_get(f"{host}/robots.txt")
            except FetchError as exc:
                self._unreachable[host] = exc
                raise
            if response.status_code in REDIRECTS and response.headers.get("Location"):
                response = self._raw_get(urljoin(f"{host}/robots.txt", response.headers["Location"]))
            if response.status_code >= 500:
                parser.parse(["User-agent: *", "Disallow: /"])
            elif response.status_code >= 300:
                parser.parse([])
            else:
                parser.parse(response.text.splitlines())
            delay = parser.crawl_delay(self.user_agent)
            if delay:
                self._interval[parts.netloc] = float(delay)
            self._robots[host] = parser
        return parser.can_fetch(self.user_agent, url)

    def get(self, url: str, etag: str | None = None, last_modified: str | None = None,
            stored: bytes | None = None, expect: str | None = None, max_bytes: int | None = None) -> Fetched:
        """GET with the stored validators; a 304 returns `stored`. `expect` is a content type prefix.
        Redirects are followed here, each new host's robots.txt asked first. At most `max_bytes` decoded
        (default: MAX_PAGE when a text type is expected, else MAX_FILE)."""
        limit = max_bytes or (MAX_PAGE if (expect or "").startswith("text/") else MAX_FILE)
        headers = {}
        if stored is not None and etag:
            headers["If-None-Match"] = etag
        if stored is not None and last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            if not self.allowed(current):
                raise FetchError(f"{current}: robots.txt of {urlsplit(current).netloc} disallows it for our User-Agent"
                                 + (f" (redirected from {url})" if current != url else ""))
            response = self._raw_get(current, headers, limit)
            if response.status_code in REDIRECTS and response.headers.get("Location"):
                current = urljoin(current, response.headers["Location"])
                continue
            break
        else:
            raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects (last: {current})")
        if denied := refused(response):
            raise FetchError(f"{current}: {denied}")
        blocked = challenge(response)
        if blocked:
            raise FetchError(f"{current}: blocked by a bot challenge ({blocked}), not FH's page: nothing was read. "
                             "Try again later, or import FH's workbook by hand (sovereign import FILE)")
        if response.status_code == 304 and stored is not None:
            return Fetched(current, 304, stored, response.headers.get("Content-Type", ""), etag, last_modified)
        if response.status_code != 200:
            hint = " (still rate-limited after retries)" if response.status_code == 429 else ""
            raise FetchError(f"{current}: HTTP {response.status_code} {response.reason}{hint}")
        ctype = response.headers.get("Content-Type", "")
        if expect and not ctype.lower().startswith(expect):
            raise FetchError(f"{current}: expected {expect}, got {ctype or 'no content type'}")
        return Fetched(current, 200, response.content, ctype, response.headers.get("ETag"),
                       response.headers.get("Last-Modified"))


def _connection_words(exc: Exception, timeout: tuple[float, float], retries: int) -> str:
    """requests reports timeouts that exhausted the retries as connection errors: say which it was."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(reason, ReadTimeoutError):
        return f"connected, but no answer within {timeout[1]:.0f} s (read timeout) after {retries} retries"
    if isinstance(reason, NewConnectionError) and "refused" in str(reason).lower():  # before its parent class below
        return f"connection refused (nothing listens there, or a firewall says no) after {retries} retries"
    if isinstance(reason, NewConnectionError):
        return f"could not connect ({_short(exc)}) after {retries} retries"
    if isinstance(reason, ConnectTimeoutError):
        return f"could not connect within {timeout[0]:.0f} s (connect timeout) after {retries} retries"
    return f"connection failed after {retries} retries ({_short(exc)})"


def _short(exc: Exception) -> str:
    text = str(exc)
    reason = getattr(exc, "args", [None])[0]
    inner = getattr(reason, "reason", None)
    if inner is not None:
        text = str(inner)
    return text.split("\n")[0][:200]
