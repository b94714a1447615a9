"""The committee's console at /console: sign-in, proposals and their approval, overrides, versions, runs, the
audit trail and the public list, on the same functions as the CLI (`pipeline.publish`, `overrides.add|revoke`,
`listing`, `report`, `exclusion_list`). Pages are rendered on the server; the only script is /static/console.js."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from fastapi import APIRouter, FastAPI, Form, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fiw.errors import UserError
from sovereign import clock, store
from sovereign.api.routers.console_session import (
    COOKIE,
    LANG_COOKIE,
    SESSION_SECONDS,
    Sessions,
    Viewer,
    check_csrf,
    long_date,
    render,
    require_committee,
    safe_next,
    set_cookies,
    viewer,
)
from sovereign.api.routers.console_text import LANGUAGES, TEXT, reason
from sovereign.settings import Settings
from sovereign.store import reads

router = APIRouter(prefix="/console", include_in_schema=False)
MAX_ROWS_SHOWN = 2000


class SignInFirst(Exception):
    pass


class Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def person(request: Request) -> Viewer:
    """The signed-in viewer of a console page; nobody is sent to the sign-in page."""
    v = viewer(request)
    if v.name is None:
        raise SignInFirst()
    return v


def committee(request: Request, csrf: str | None) -> Viewer:
    """The viewer of a form that decides: the form must be theirs, and they must be on the committee."""
    v = viewer(request)
    try:
        check_csrf(v, csrf)
        require_committee(v)
    except HTTPException as exc:
        raise Refused(exc.status_code, str(exc.detail)) from None
    return v


def optional_date(text: str | None, field: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{field}: {text[:40]!r} is not a date (YYYY-MM-DD)") from None


def refusal(exc: UserError, lang: str) -> tuple[int, str]:
    """The status and words of a refused decision: the same person approving the same date again is the rule's
    own refusal (`people.AlreadyApproved`, 409 as in the API), said in the page's language."""
    from sovereign.people import AlreadyApproved

    if isinstance(exc, AlreadyApproved):
        words = TEXT[lang]["already_approved" if exc.kind == "publish" else "already_approved_revoke"]
        return 409, words.format(who=exc.who, v=exc.version, id=exc.override, date=long_date(exc.day, lang))
    return 400, reason(str(exc), lang)


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


# --- sign-in, sign-out, language -------------------------------------------------------------------------------

@router.get("/sign-in")
def sign_in_page(request: Request, next: str | None = None) -> Response:
    v = viewer(request)
    if v.name is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, v, "console_signin.html.j2", next=safe_next(next), problem=v.problem)


@router.post("/sign-in")
def sign_in(request: Request, token: str = Form(""), csrf: str | None = Form(None), next: str = Form("")) -> Response:
    import hashlib

    from sovereign import people

    v = viewer(request)
    try:
        check_csrf(v, csrf)
    except HTTPException as exc:
        raise Refused(exc.status_code, str(exc.detail)) from None
    given = token.strip()
    digest = hashlib.sha256(given.encode()).hexdigest()
    with store.reader(settings_of(request).db) as conn:
        holder = reads.token_person(conn, digest) if given and len(given) <= 500 else None
        row = reads.person(conn, people.key(holder)) if holder else None
    if row is None:
        return render(request, v, "console_signin.html.j2", status=401, next=safe_next(next), problem="bad_token")
    sessions: Sessions = request.app.state.sessions
    _, cookie = sessions.new_session(digest)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(COOKIE, cookie, max_age=SESSION_SECONDS, httponly=True, samesite="strict", secure=v.secure,
                        path="/")
    return response


@router.post("/sign-out")
def sign_out(request: Request, csrf: str | None = Form(None)) -> Response:
    v = viewer(request)
    try:
        check_csrf(v, csrf)
    except HTTPException as exc:
        raise Refused(exc.status_code, str(exc.detail)) from None
    _, cookie = request.app.state.sessions.new_session()
    response = RedirectResponse("/console/sign-in", status_code=303)
    response.set_cookie(COOKIE, cookie, max_age=SESSION_SECONDS, httponly=True, samesite="strict", secure=v.secure,
                        path="/")
    return response


@router.get("/language/{lang}")
def choose_language(lang: str, request: Request, next: str | None = None) -> Response:
    """The switch remembers: a cookie for a year, then back to the page it was pressed on."""
    if lang not in LANGUAGES:
        raise Refused(404, f"no language {lang[:10]!r}: nl or en")
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="lax", path="/")
    return response


# --- home, proposals and the pack ---------------------------------------------------------------------------------

@router.get("")
def home(request: Request) -> Response:
    v = person(request)
    with store.reader(settings_of(request).db) as conn:
        in_force = reads.version_in_force(conn, clock.today().isoformat())
        waiting = reads.pending(conn)
    return render(request, v, "console_home.html.j2", in_force=in_force, waiting=waiting)


def proposals_context(request: Request) -> dict:
    from sovereign import people

    settings = settings_of(request)
    required = settings.policy.approvals_required
    with store.reader(settings.db) as conn:
        versions = reads.versions(conn)
        waiting = [dict(r) for r in versions if r["state"] in ("proposed", "held")]
        members = [p for p in reads.people(conn) if p["role"] == "committee"]
        for w in waiting:
            w["approvals"] = [dict(a) for a in reads.approvals(conn, w["id"])]
            by_day: dict[str, list[str]] = {}
            for a in w["approvals"]:
                by_day.setdefault(a["effective_from"], []).append(a["approved_by"])
            w["by_day"] = by_day
            best = max((len(n) for n in by_day.values()), default=0)
            w["needed"] = max(required - best, 0)
            agreed = {people.key(n) for names in by_day.values() for n in names}
            w["could_approve"] = [p["name"] for p in members if p["key"] not in agreed]
        today = clock.today().isoformat()
        published = [r for r in versions if r["state"] == "published" and not r["withdrawn"]]
        in_force = reads.version_in_force(conn, today)
        recent = [dict(r) | {"approvals": [dict(a) for a in reads.approvals(conn, r["id"])]}
                  for r in sorted(published, key=lambda r: r["id"], reverse=True)[:3]]
    return {"waiting": waiting, "required": required, "recent": recent, "in_force": in_force, "today": today}


@router.get("/proposals")
def proposals(request: Request) -> Response:
    v = person(request)
    return render(request, v, "console_proposals.html.j2", **proposals_context(request), message=None, error=None)


@router.post("/proposals/{version_id}/approve")
def approve(request: Request, version_id: int = PathParam(ge=1, le=2**62), csrf: str | None = Form(None),
            effective_from: str = Form(""), minutes: str = Form(""), backdate_reason: str = Form(""),
            accept_held: str | None = Form(None)) -> Response:
    """One committee member's approval, recorded under the signed-in person's name: `pipeline.publish`, as the
    CLI's `publish` and the API's POST /api/v1/admin/publish; the second different person puts it in force."""
    from sovereign import pipeline
    from sovereign.api.routers.admin import recorded

    v = committee(request, csrf)
    t = TEXT[v.lang]
    settings = settings_of(request)
    assert v.name is not None
    name = v.name
    payload = {"version": version_id, "effective_from": effective_from, "minutes": minutes,
               "accept_held": bool(accept_held), "backdate_reason": backdate_reason, "via": "console"}
    status, message, error = 200, None, None

    def work(db: Any) -> dict:
        day = optional_date(effective_from, t["effective"])
        if day is None:
            raise UserError(f"{t['effective']}: YYYY-MM-DD")
        row = reads.version(db, version_id)
        if row is None or row["state"] not in ("proposed", "held"):
            raise UserError(t["newer_proposed"].format(v=version_id))
        if row["state"] == "held" and not accept_held:
            raise UserError(t["held_review"].format(v=version_id, reason=row["reason"] or ""))
        newest = reads.newest_version(db, row["edition"], ("proposed", "held") if accept_held else ("proposed",))
        if newest is None or newest["id"] != version_id:
            raise UserError(t["newer_proposed"].format(v=version_id))
        done = pipeline.publish(db, settings.policy, name, day, row["edition"], bool(accept_held),
                                backdate_reason or None, name, minutes or None, f"console: {name}")
        return {"list_version": done.version, "in_force": done.in_force, "approvers": done.approvers,
                "required": done.required, "moved_from": done.moved_from, "effective_from": day.isoformat()}

    try:
        done = recorded(settings, name, "publish", payload, work)
        if done["in_force"]:
            message = t["done_publish"].format(v=version_id, date=long_date(done["effective_from"], v.lang),
                                               who=" & ".join(done["approvers"]))
        else:
            message = t["done_approval"].format(v=version_id, date=long_date(done["effective_from"], v.lang),
                                                n=done["required"] - len(done["approvers"]))
    except UserError as exc:
        status, error = refusal(exc, v.lang)
    return render(request, v, "console_proposals.html.j2", status=status, **proposals_context(request),
                  message=message, error=error)


@router.get("/pack/{version_id}", response_class=HTMLResponse)
def pack(request: Request, version_id: int = PathParam(ge=1, le=2**62),
         effective_from: str | None = Query(None, max_length=10)) -> Response:
    """The approval pack of a list version: the same HTML as `sovereign report --version N`."""
    from sovereign import report

    v = person(request)
    settings = settings_of(request)
    with store.reader(settings.db) as conn:
        html = report.to_html(report.with_charts(conn, report.build(
            conn, settings.policy, None, f"v{version_id}", optional_date(effective_from, "effective_from"))))
    return set_cookies(HTMLResponse(html), v)


# --- overrides --------------------------------------------------------------------------------------------------

def overrides_context(request: Request, on: date, lang: str) -> dict:
    from sovereign import overrides as o
    from sovereign.exclusion_list import country_names

    with store.reader(settings_of(request).db) as conn:
        rows = []
        for r in reads.overrides(conn):
            pending = [dict(a) for a in reads.loosenings(conn, r["id"])] if not r["revoked_at"] else []
            revoked_on = clock.day_of(r["revoked_at"]).isoformat() if r["revoked_at"] else None
            rows.append(dict(r) | {"state": o.state(r, on), "pending": pending, "revoked_on": revoked_on})
    return {"overrides": sorted(rows, key=lambda r: r["id"], reverse=True), "on": on.isoformat(),
            "names": country_names(lang),
            "required": settings_of(request).policy.approvals_required, "today": clock.today().isoformat()}


@router.get("/overrides")
def overrides_page(request: Request, on: str | None = Query(None, max_length=10)) -> Response:
    v = person(request)
    try:
        day = optional_date(on, TEXT[v.lang]["state_on"]) or clock.today()
    except UserError as exc:
        raise Refused(400, str(exc)) from None
    return render(request, v, "console_overrides.html.j2", **overrides_context(request, day, v.lang), message=None, error=None)


@router.post("/overrides")
def add_override(request: Request, csrf: str | None = Form(None), country: str = Form(""), note: str = Form(""),
                 public_nl: str = Form(""), public_en: str = Form(""), valid_from: str = Form(""),
                 valid_to: str = Form(""), backdate_reason: str = Form("")) -> Response:
    """`overrides.add` with the signed-in person as who decided: an exclusion tightens, one person suffices."""
    from sovereign import overrides
    from sovereign.api.routers.admin import recorded

    v = committee(request, csrf)
    t = TEXT[v.lang]
    settings = settings_of(request)
    assert v.name is not None
    name = v.name
    payload = {"country": country[:200], "reason": note[:2000], "valid_from": valid_from, "valid_to": valid_to,
               "public_reason_nl": public_nl[:2000], "public_reason_en": public_en[:2000], "via": "console"}
    status, message, error = 200, None, None
    try:
        done = recorded(settings, name, "override add", payload, lambda db: overrides.add(
            db, country, note, name, optional_date(valid_from, t["from"]), optional_date(valid_to, t["until"]),
            backdate_reason or None, name, public_nl or None, public_en or None))
        message = t["done_override"].format(id=done["id"], country=done["name"], date=long_date(done["valid_from"], v.lang))
    except UserError as exc:
        status, error = 400, str(exc)
    return render(request, v, "console_overrides.html.j2", status=status, **overrides_context(request, clock.today(), v.lang),
                  message=message, error=error)


@router.post("/overrides/{override_id}/revoke")
def revoke_override(request: Request, override_id: int = PathParam(ge=1, le=2**62), csrf: str | None = Form(None),
                    reason: str = Form(""), revoked_from: str = Form(""), in_error: str | None = Form(None),
                    backdate_reason: str = Form("")) -> Response:
    """`overrides.revoke`: re-admitting a country needs as many different people as publishing a list."""
    from sovereign import overrides
    from sovereign.api.routers.admin import recorded

    v = committee(request, csrf)
    t = TEXT[v.lang]
    settings = settings_of(request)
    assert v.name is not None
    name = v.name
    payload = {"id": override_id, "reason": reason[:2000], "revoked_from": revoked_from,
               "entered_in_error": bool(in_error), "via": "console"}
    status, message, error = 200, None, None
    try:
        done = recorded(settings, name, "override revoke", payload, lambda db: overrides.revoke(
            db, override_id, name, reason, optional_date(revoked_from, t["revoke_from"]), backdate_reason or None,
            name, bool(in_error), settings.policy.approvals_required, f"console: {name}"))
        key = "done_revoke" if done["in_force"] else "done_revoke_approval"
        message = t[key].format(id=override_id, date=long_date(done["revoked_from"], v.lang),
                                n=done["required"] - len(done["approvals"]))
    except UserError as exc:
        status, error = refusal(exc, v.lang)
    return render(request, v, "console_overrides.html.j2", status=status, **overrides_context(request, clock.today(), v.lang),
                  message=message, error=error)


# --- versions, runs, the audit trail: tables with filters and CSV ------------------------------------------------

def table_response(request: Request, v: Viewer, title: str, columns: list[tuple[str, str]], rows: list[dict],
                   fmt: str | None, filters: dict, name: str, words: tuple[str, ...] = (), records: tuple[str, ...] = (),
                   code: tuple[str, ...] = ()) -> Response:
    """One table page, or its CSV (every row the filters keep; text a spreadsheet would run neutralised). On the
    page, `words` columns hold the product's own values, said in the page's language; `records` columns hold text
    as it was recorded (a reason, a message), shown as written; `code` columns hold commands."""
    from sovereign.present import csv_text

    if fmt == "csv":
        body = csv_text([c for c, _ in columns], ([r.get(c) for c, _ in columns] for r in rows), newline="\r\n",
                        bom=True)
        return set_cookies(Response(body, media_type="text/csv; charset=utf-8", headers={
            "content-disposition": f'attachment; filename="{name}.csv"'}), v)
    return render(request, v, "console_table.html.j2", title=title, columns=columns, rows=rows[:MAX_ROWS_SHOWN],
                  total=len(rows), filters=filters, name=name, words=words, records=records, code=code)


def matches(row: dict, text: str) -> bool:
    wanted = text.strip().casefold()
    return not wanted or any(wanted in str(value).casefold() for value in row.values() if value is not None)


@router.get("/versions")
def versions(request: Request, edition: int | None = Query(None, ge=1900, le=2200), state: str | None = Query(None),
             q: str = Query("", max_length=200), format: str | None = Query(None, pattern="^(csv|html)$")) -> Response:
    v = person(request)
    t = TEXT[v.lang]
    with store.reader(settings_of(request).db) as conn:
        counts = reads.version_counts(conn)
        rows = [dict(r) | {"counts": "{} / {}".format(*counts.get(r["id"], (0, 0))),
                           "withdrawn": r["withdrawn"] or ""} for r in reversed(reads.versions(conn))]
    rows = [r for r in rows if (edition is None or r["edition"] == edition) and (not state or r["state"] == state)
            and matches(r, q)]
    columns = [("id", t["id"]), ("edition", t["edition"]), ("state", t["state"]), ("effective_from", t["effective"]),
               ("approved_by", t["approved_by"]), ("published_at", t["approved"]), ("counts", t["counts"]),
               ("minutes", t["minutes"]), ("reason", t["reason"]), ("withdrawn", t["withdrawn"])]
    filters = {"edition": edition or "", "state": state or "", "q": q}
    return table_response(request, v, t["versions"], columns, rows, format, filters, "versions",
                          words=("state", "approved_by"), records=("reason", "withdrawn"))


@router.get("/runs")
def runs(request: Request, outcome: str | None = Query(None, max_length=40), q: str = Query("", max_length=200),
         format: str | None = Query(None, pattern="^(csv|html)$")) -> Response:
    v = person(request)
    t = TEXT[v.lang]
    with store.reader(settings_of(request).db) as conn:
        rows = [dict(r) for r in reads.runs(conn)]
    rows = [r for r in rows if (not outcome or r["outcome"] == outcome) and matches(r, q)]
    columns = [("id", t["id"]), ("trigger", t["trigger"]), ("command", t["command"]), ("started_at", t["started"]),
               ("finished_at", t["finished"]), ("outcome", t["outcome"]), ("message", t["message"])]
    return table_response(request, v, t["runs"], columns, rows, format, {"outcome": outcome or "", "q": q}, "runs",
                          words=("trigger", "outcome"), records=("message",), code=("command",))


@router.get("/audit")
def audit(request: Request, start: str | None = Query(None, alias="from", max_length=10),
          end: str | None = Query(None, alias="to", max_length=10), who: str = Query("", max_length=200),
          action: str = Query("", max_length=100), q: str = Query("", max_length=200),
          format: str | None = Query(None, pattern="^(csv|html)$")) -> Response:
    """The audit trail as `sovereign audit` gives it, newest first, filtered by dates, person, action and text."""

    v = person(request)
    t = TEXT[v.lang]
    try:
        first, last = optional_date(start, t["from"]), optional_date(end, t["until"])
    except UserError as exc:
        raise Refused(400, str(exc)) from None
    with store.reader(settings_of(request).db) as conn:
        trail = reads.audit(conn, *clock.recorded_during(first, last))
    rows = []
    for r in reversed(trail):
        details = json.loads(r["details"] or "{}")
        rows.append({"id": r["id"], "recorded_at": r["recorded_at"], "actor": r["actor"], "action": r["action"],
                     "subject": r["subject"], "effective_from": r["effective_from"],
                     "outcome": details.get("outcome", "ok"), "reason": r["reason"] or details.get("message") or ""})
    rows = [r for r in rows if (not who.strip() or who.strip().casefold() in (r["actor"] or "").casefold())
            and (not action.strip() or action.strip().casefold() in r["action"].casefold()) and matches(r, q)]
    columns = [("id", t["id"]), ("recorded_at", t["when"]), ("actor", t["who"]), ("action", t["action"]),
               ("subject", t["subject"]), ("effective_from", t["effective"]), ("outcome", t["outcome"]),
               ("reason", t["reason"])]
    filters = {"from": start or "", "to": end or "", "who": who, "action": action, "q": q}
    return table_response(request, v, t["audit"], columns, rows, format, filters, "audit",
                          words=("action", "outcome"), records=("subject", "reason"))


# --- the public list ----------------------------------------------------------------------------------------------

@router.get("/public")
def public_preview(request: Request) -> Response:
    """Both languages' public list side by side, as `exclusion-list --lang nl|en` writes them."""
    from sovereign import exclusion_list

    v = person(request)
    with store.reader(settings_of(request).db) as conn:
        lists = {lang: exclusion_list.build(conn, lang) for lang in ("nl", "en")}
    return render(request, v, "console_public.html.j2", lists=lists)


@router.get("/public/{lang}", response_class=HTMLResponse)
def public_page(request: Request, lang: str) -> Response:
    from sovereign import exclusion_list

    v = person(request)
    if lang not in LANGUAGES:
        raise Refused(404, "nl or en")
    with store.reader(settings_of(request).db) as conn:
        return set_cookies(HTMLResponse(exclusion_list.to_html(exclusion_list.build(conn, lang))), v)


# --- assembly -----------------------------------------------------------------------------------------------------

STATIC = {"console.js": "application/javascript", "console.css": "text/css"}


def install(app: FastAPI, settings: Settings) -> None:
    """Sessions, the console's error pages, its static files and its routes."""
    from importlib.resources import files

    from sovereign.api.routers import console_desk

    app.state.sessions = Sessions(settings)

    @app.exception_handler(SignInFirst)
    async def sign_in_first(request: Request, _: SignInFirst) -> Response:
        from urllib.parse import quote

        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/console/sign-in?next={quote(here[:1000])}", status_code=303)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        v = viewer(request)
        return render(request, v, "console_error.html.j2", status=exc.status, error=exc.message)

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in STATIC:
            raise HTTPException(404, "no such file")
        return Response(files("sovereign").joinpath(f"static/{name}").read_text(encoding="utf-8"),
                        media_type=STATIC[name], headers={"Cache-Control": "no-cache"})

    app.include_router(router)
    app.include_router(console_desk.router)
