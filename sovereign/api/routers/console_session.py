"""Who is using the console, in which language, and whether a form is theirs.

- Behind a single-sign-on proxy (oauth2-proxy, an identity-aware proxy) the user's e-mail arrives in
  SOVEREIGN_USER_HEADER; it is believed only when the connection comes from SOVEREIGN_TRUSTED_PROXIES, and
  names a person only through the register of people (`people add NAME --email E --role R`).
- Without a proxy a person signs in once with their own token (`tokens add NAME`) and gets a session cookie
  (HttpOnly, SameSite=Strict, Secure under TLS), signed with the server's secret; it ends when the token is
  revoked or the person removed from the register. The shared SOVEREIGN_ADMIN_TOKEN is nobody and signs no one in.
- Every browser gets a session nonce; every form carries a CSRF token derived from it, and a POST without the
  right one is refused. No person, no write; only the committee decides.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
import time
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from fiw.errors import UserError
from sovereign import store
from sovereign.api.routers.console_text import LANGUAGES, TEXT, said, value
from sovereign.settings import Settings

COOKIE = "sovereign_session"
LANG_COOKIE = "sovereign_lang"
SESSION_SECONDS = 12 * 3600


@dataclass
class Viewer:
    """The person behind a request (None: nobody signed in), how they were recognised, and their page language."""
    lang: str
    nonce: str
    csrf: str
    name: str | None = None
    key: str | None = None
    email: str | None = None
    role: str | None = None
    via: str | None = None  # "proxy" or "token"
    problem: str | None = None  # why a presented identity was not accepted
    fresh_cookie: str | None = None  # a session cookie to set with the response
    secure: bool = False

    @property
    def committee(self) -> bool:
        return self.role == "committee"


class Sessions:
    """The console's secret, trusted proxies and user header, fixed when the service starts."""

    def __init__(self, settings: Settings):
        if settings.session_secret is not None and len(settings.session_secret.strip()) < 16:
            raise UserError("SOVEREIGN_SESSION_SECRET: at least 16 characters (a long random string, such as the "
                            "output of `openssl rand -hex 32`); anyone who guesses it can sign in as anyone")
        self.secret = (settings.session_secret or secrets.token_hex(32)).encode()
        self.header = settings.user_header.strip().lower()
        self.secure_default = (settings.public_url or "").lower().startswith("https://")
        try:
            self.proxies = [ipaddress.ip_network(p.strip(), strict=False)
                            for p in settings.trusted_proxies.split(",") if p.strip()]
        except ValueError as exc:
            raise UserError(f"SOVEREIGN_TRUSTED_PROXIES={settings.trusted_proxies!r}: {exc}; expected addresses or "
                            "networks separated by commas (10.0.0.5, 10.1.0.0/16)") from None

    def sign(self, payload: dict) -> str:
        body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")
        return f"{body}.{hmac.new(self.secret, body.encode(), hashlib.sha256).hexdigest()}"

    def unsign(self, value: str | None) -> dict | None:
        if not value or "." not in value or len(value) > 4096:
            return None
        body, sig = value.rsplit(".", 1)
        if not hmac.compare_digest(sig, hmac.new(self.secret, body.encode(), hashlib.sha256).hexdigest()):
            return None
        try:
            payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            return None
        if not isinstance(payload, dict) or payload.get("e", 0) < time.time():
            return None
        return payload

    def csrf(self, nonce: str) -> str:
        return hmac.new(self.secret, f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()[:40]

    def trusted(self, host: str | None) -> bool:
        try:
            address = ipaddress.ip_address(host or "")
        except ValueError:
            return False
        return any(address in net for net in self.proxies)

    def new_session(self, token_hash: str | None = None) -> tuple[str, str]:
        """(nonce, cookie value): a fresh nonce at every sign-in and sign-out, so a planted cookie buys nothing."""
        nonce = secrets.token_urlsafe(18)
        return nonce, self.sign({"n": nonce, "t": token_hash, "e": int(time.time()) + SESSION_SECONDS})


def language(request: Request) -> str:
    """The remembered choice, else the best of Dutch and English in Accept-Language, else English."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    best, weight = "en", 0.0
    for part in request.headers.get("accept-language", "")[:500].split(","):
        tag, _, q = part.strip().partition(";q=")
        try:
            w = float(q) if q else 1.0
        except ValueError:
            continue
        lang = tag.strip().lower()[:2]
        if lang in LANGUAGES and w > weight:
            best, weight = lang, w
    return best


def viewer(request: Request) -> Viewer:
    """Who this request comes from: the proxy's header from a trusted peer, else a session cookie's token."""
    from sovereign import people
    from sovereign.store import reads

    sessions: Sessions = request.app.state.sessions
    client = request.client.host if request.client else None
    proxied = sessions.trusted(client)
    secure = sessions.secure_default or request.url.scheme == "https" or (
        proxied and request.headers.get("x-forwarded-proto", "").lower() == "https")
    payload = sessions.unsign(request.cookies.get(COOKIE))
    fresh = None
    if payload is None:
        nonce, fresh = sessions.new_session()
        payload = {"n": nonce}
    v = Viewer(language(request), payload["n"], sessions.csrf(payload["n"]), fresh_cookie=fresh, secure=secure)
    settings: Settings = request.app.state.settings
    email = request.headers.get(sessions.header) if sessions.header else None
    with store.reader(settings.db) as conn:
        row = None
        if email is not None and proxied:
            wanted = email.strip().casefold()
            found = [p for p in reads.people(conn) if (p["email"] or "").strip().casefold() == wanted and wanted]
            if len(found) == 1:
                row, v.via = found[0], "proxy"
            else:
                v.problem = "unknown_email" if not found else "shared_email"
        elif email is not None:
            v.problem = "untrusted_proxy"
        elif payload.get("t"):
            holder = reads.token_person(conn, payload["t"])
            row = reads.person(conn, people.key(holder)) if holder else None
            v.via = "token" if row is not None else None
    if row is not None:
        v.name, v.key, v.email, v.role = row["name"], row["key"], row["email"], row["role"]
        request.state.person = v.name  # for the access log: who asked
    return v


def check_csrf(v: Viewer, given: str | None) -> None:
    if not given or not hmac.compare_digest(given, v.csrf) or v.fresh_cookie is not None:
        raise HTTPException(403, "this form's CSRF token is missing or does not belong to this session: reload the "
                                 "page and submit it again")


def require_person(v: Viewer) -> None:
    if v.name is None:
        raise HTTPException(401, "sign in first")


def require_committee(v: Viewer) -> None:
    """Only a committee member records a decision: a desk or ops user, or someone without a role, reads."""
    require_person(v)
    if not v.committee:
        raise HTTPException(403, f"{v.name} is registered as {v.role or 'no role'}: only committee members decide "
                                 "(sovereign people add NAME --role committee)")


def safe_next(target: str | None) -> str:
    """Back to a console page, never to another site."""
    if target and target.startswith("/console") and not target.startswith("//") and "\\" not in target:
        return target
    return "/console"


def set_cookies(response: Response, v: Viewer) -> Response:
    if v.fresh_cookie is not None:
        response.set_cookie(COOKIE, v.fresh_cookie, max_age=SESSION_SECONDS, httponly=True, samesite="strict",
                            secure=v.secure, path="/")
    response.headers["cache-control"] = "no-store"
    return response


def long_date(value: Any, lang: str) -> str:
    """A date in the page's language: '1 maart 2027', '1 March 2027'."""
    from sovereign.exclusion_list import long_date as written

    if not value:
        return "–"
    return written(value.isoformat() if isinstance(value, date) else str(value), lang)


def credit(attribution: str, lang: str) -> str:
    """FH's credit in the page's language: "Bron: Freedom House, …" on a Dutch page."""
    return "Bron:" + attribution.removeprefix("Source:") if lang == "nl" and attribution.startswith("Source:") else attribution


_ENV: Any = None


def environment() -> Any:
    global _ENV
    if _ENV is None:
        from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

        _ENV = Environment(loader=PackageLoader("sovereign", "templates"), undefined=StrictUndefined,
                           autoescape=select_autoescape(["html", "j2"]))
    return _ENV


def render(request: Request, v: Viewer, template: str, status: int = 200, **context: Any) -> Response:
    """A console page in the viewer's language, with the CSRF token at hand for its forms."""
    from fiw import words

    t = TEXT[v.lang]
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    html = environment().get_template(template).render(
        v=v, t=t, lang=v.lang, d=lambda value: long_date(value, v.lang), said=lambda text: said(text, v.lang),
        w=lambda text: value(text, v.lang),
        here=quote(here[:1000], safe="/"),
        attribution=credit(words.attribution(), v.lang), **context)
    return set_cookies(HTMLResponse(html, status_code=status), v)
