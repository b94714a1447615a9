"""A polite HTTP client for freedomhouse.org (or a mirror): one session, an honest User-Agent,
robots.txt obeyed, a minimum interval per host, timeouts, urllib3 retries (connection errors, 5xx,
429 with Retry-After, capped), and conditional requests so an unchanged page costs a 304.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from fiw.errors import UserError


class FetchError(UserError):
    """A page could not be fetched; says which URL and why, in one line."""


class CappedRetry(Retry):
    """urllib3's Retry, with Retry-After capped so a server cannot park the annual job for hours."""

    max_retry_after = 60.0

    def get_retry_after(self, response):
        value = super().get_retry_after(response)
        return None if value is None else min(value, self.max_retry_after)


@dataclass
class Fetched:
    url: str
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
    retries: int = 3
    backoff: float = 0.5
    max_retry_after: float = 60.0
    requests_made: int = 0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _last: dict[str, float] = field(default_factory=dict)
    _robots: dict[str, RobotFileParser] = field(default_factory=dict)

    def __post_init__(self):
        retry = CappedRetry(
            total=self.retries, connect=self.retries, read=self.retries, status=self.retries,
            backoff_factor=self.backoff, status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=frozenset({"GET", "HEAD"}), respect_retry_after_header=True, raise_on_status=False,
        )
        retry.max_retry_after = self.max_retry_after
        self.session = requests.Session()
        self.session.headers["User-Agent"] = self.user_agent
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def _wait(self, host: str) -> None:
        last = self._last.get(host)
        if last is not None:
            pause = self.min_interval - (self.clock() - last)
            if pause > 0:
                self.sleep(pause)
        self._last[host] = self.clock()

    def _raw_get(self, url: str, headers: dict | None = None) -> requests.Response:
        host = urlsplit(url).netloc
        self._wait(host)
        self.requests_made += 1
        try:
            response = self.session.get(url, headers=headers or {}, timeout=self.timeout)
            _ = response.content  # read the body now, so a truncated one fails here
            return response
        except requests.exceptions.ChunkedEncodingError as exc:
            raise FetchError(f"{url}: the body was cut off before its declared length ({_short(exc)})") from None
        except requests.exceptions.ConnectionError as exc:
            raise FetchError(f"{url}: connection failed after {self.retries} retries ({_short(exc)})") from None
        except requests.exceptions.Timeout as exc:
            raise FetchError(f"{url}: no answer within {self.timeout[1]:.0f} s after {self.retries} retries "
                             f"({_short(exc)})") from None
        except requests.exceptions.RequestException as exc:
            raise FetchError(f"{url}: {_short(exc)}") from None

    def allowed(self, url: str) -> bool:
        """robots.txt of the URL's host; unreachable (5xx) means everything is off limits (RFC 9309)."""
        parts = urlsplit(url)
        host = f"{parts.scheme}://{parts.netloc}"
        parser = self._robots.get(host)
        if parser is None:
            parser = RobotFileParser(f"{host}/robots.txt")
            response = self._raw_get(f"{host}/robots.txt")
            if response.status_code >= 500:
                parser.parse(["User-agent: *", "Disallow: /"])
            elif response.status_code >= 400:
                parser.parse([])
            else:
                parser.parse(response.text.splitlines())
            self._robots[host] = parser
        return parser.can_fetch(self.user_agent, url)

    def get(self, url: str, etag: str | None = None, last_modified: str | None = None,
            stored: bytes | None = None, expect: str | None = None) -> Fetched:
        """GET with the stored validators; a 304 returns `stored`. `expect` is a content type prefix."""
        if not self.allowed(url):
            raise FetchError(f"{url}: robots.txt of {urlsplit(url).netloc} disallows it for our User-Agent")
        headers = {}
        if stored is not None and etag:
            headers["If-None-Match"] = etag
        if stored is not None and last_modified:
            headers["If-Modified-Since"] = last_modified
        response = self._raw_get(url, headers)
        if response.status_code == 304 and stored is not None:
            return Fetched(url, 304, stored, response.headers.get("Content-Type", ""), etag, last_modified)
        if response.status_code != 200:
            hint = " (still rate-limited after retries)" if response.status_code == 429 else ""
            raise FetchError(f"{url}: HTTP {response.status_code} {response.reason}{hint}")
        ctype = response.headers.get("Content-Type", "")
        if expect and not ctype.lower().startswith(expect):
            raise FetchError(f"{url}: expected {expect}, got {ctype or 'no content type'}")
        return Fetched(url, 200, response.content, ctype, response.headers.get("ETag"), response.headers.get("Last-Modified"))


def _short(exc: Exception) -> str:
    text = str(exc)
    reason = getattr(exc, "args", [None])[0]
    inner = getattr(reason, "reason", None)
    if inner is not None:
        text = str(inner)
    return text.split("\n")[0][:200]
