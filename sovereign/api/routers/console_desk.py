"""The desk's console pages: one answer card (what is coming first when it changes the verdict), many identifiers
pasted at once with CSV/XLSX download, a book screened through the API's bounded upload, and a country's history.
Every answer is `lookup.check` / `lookup.answers` / `lookup.history`: the same as `sovereign check` and the API."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response

from fiw.errors import UserError
from sovereign import store
from sovereign.api.routers.console import Refused, optional_date, person, settings_of
from sovereign.api.routers.console_session import Viewer, check_csrf, long_date, render, set_cookies
from sovereign.api.routers.console_text import TEXT, reason, said
from sovereign.store import reads

router = APIRouter(prefix="/console", include_in_schema=False)
MAX_IDS = 10_000
MAX_ID_LENGTH = 200
STATUS = {"F": "Free", "PF": "Partly Free", "NF": "Not Free"}


def headline(a: dict, lang: str) -> dict:
    """The card's first line. When what is coming changes the verdict, it leads, in the warning colour:
    "Eligible until 28 February 2027 — excluded from 1 March 2027, no new buys from then, divest by 30 May 2027"."""
    t = TEXT[lang]
    verdict = a.get("verdict") or "unknown"
    up = a.get("upcoming")
    if not up or up.get("verdict") == verdict or verdict == "unknown":
        return {"kind": {"eligible": "ok", "excluded": "no"}.get(verdict, "unknown"), "text": t[verdict],
                "coming": None}
    day = up["effective_from"]
    until = long_date(date.fromisoformat(day) - timedelta(days=1), lang)
    parts = [t["eligible_until" if verdict == "eligible" else "excluded_until"].format(until=until)]
    if up["verdict"] == "excluded":
        change = t["excluded_from"].format(date=long_date(day, lang))
        if up.get("by_committee"):
            change += " " + t["by_committee"]
        staging = []
        if up.get("no_new_buys_from"):
            staging.append(t["no_new_buys"].format(date={"en": "then", "nl": "dan"}[lang]
                                                   if up["no_new_buys_from"] == day else long_date(up["no_new_buys_from"], lang)))
        if up.get("divest_by"):
            staging.append(t["divest_by"].format(date=long_date(up["divest_by"], lang)))
        text = f"{parts[0]} — " + ", ".join([change, *staging])
    else:
        text = f"{parts[0]} — " + t["eligible_from"].format(date=long_date(day, lang))
    return {"kind": "warn", "text": text, "coming": up}


def coming_text(a: dict, lang: str) -> str:
    t = TEXT[lang]
    up = a.get("upcoming")
    if not up:
        return t["no_change_coming"]
    line = f"{long_date(up['effective_from'], lang)}: {t[up['verdict']] if up.get('verdict') in t else up.get('verdict')}"
    if up.get("by_committee"):
        line += f" ({t['by_committee']})"
    if up.get("divest_by") and up.get("verdict") == "excluded":
        line += f"; {t['divest_by'].format(date=long_date(up['divest_by'], lang))}"
    return line + f" — {t['version']} {up['list_version']} (Freedom in the World {up['edition']})"


def pending_text(a: dict, lang: str) -> str:
    p = a.get("pending")
    if not p:
        return "–"
    return said(f"{p['state']} ", lang) + f"{TEXT[lang]['version'].lower()} {p['list_version']} (Freedom in the World " \
        f"{p['edition']}): " + said(p.get("change") or TEXT[lang].get(p["verdict"], p["verdict"]), lang)


def status_text(a: dict, lang: str) -> str:
    if a.get("status"):
        return STATUS.get(a["status"], a["status"])
    return {"unresolved": "–", "supranational": "supranational"}.get(a.get("kind") or "", TEXT[lang]["not_rated"])


def mandate_named(request: Request, name: str | None) -> Any:
    policy = settings_of(request).policy
    if not name:
        return None
    found = policy.mandate(name)
    if found is None:
        raise Refused(400, f"no mandate {name[:60]!r}: {', '.join(m.name for m in policy.mandates) or 'none defined'}")
    return found


@router.get("/desk")
def desk(request: Request, q: str = Query("", max_length=MAX_ID_LENGTH), mandate: str = Query("", max_length=100),
         as_of: str = Query("", max_length=10)) -> Response:
    from sovereign import lookup

    v = person(request)
    card, error = None, None
    if q.strip():
        try:
            with store.reader(settings_of(request).db, snapshot=True) as conn:
                a = lookup.check(conn, [q.strip()], as_of=optional_date(as_of, TEXT[v.lang]["as_of"]),
                                 mandate=mandate_named(request, mandate))[0]
            if a.get("error"):
                error = reason(a["error"], v.lang)
            else:
                card = {"a": a, "head": headline(a, v.lang), "coming": coming_text(a, v.lang),
                        "pending": pending_text(a, v.lang), "status": status_text(a, v.lang),
                        "name": named(a, v.lang), "reasons": [reason(r, v.lang) for r in a["reasons"]]}
        except UserError as exc:
            error = reason(str(exc), v.lang)
    # an identifier that names nothing is an answer on this page ("cannot answer", with why), not a failed page
    return render(request, v, "console_desk.html.j2", q=q, mandate=mandate,
                  as_of=as_of, card=card, error=error, mandates=settings_of(request).policy.mandates)


def named(a: dict, lang: str) -> str:
    """A country in the page's language (the public list's names), else the name the answer gives."""
    from sovereign.exclusion_list import country_names

    if a.get("kind") == "country" and a.get("iso2") and not a.get("issuer"):
        return country_names(lang).get(a["iso2"]) or a.get("name") or ""
    return a.get("name") or ""


def batch_rows(answers: list[dict], lang: str) -> list[dict]:
    out = []
    for a in answers:
        if a.get("error"):
            out.append({"query": a["query"], "name": "", "iso2": "", "verdict": "unknown", "status": "",
                        "divest_by": "", "coming": "", "pending": "", "note": reason(a["error"], lang),
                        "kind": "unknown"})
            continue
        head = headline(a, lang)
        out.append({"query": a.get("query") or "", "name": named(a, lang), "iso2": a.get("iso2") or "",
                    "verdict": a["verdict"], "status": status_text(a, lang), "divest_by": a.get("divest_by") or "",
                    "coming": head["text"] if head["kind"] == "warn" else (coming_text(a, lang) if a.get("upcoming")
                                                                           else ""),
                    "pending": pending_text(a, lang) if a.get("pending") else "", "note": "",
                    "kind": head["kind"]})
    return out


COLUMNS = ("query", "name", "iso2", "verdict", "status", "divest_by", "coming", "pending", "note")


def download(rows: list[dict], fmt: str, v: Viewer) -> Response:
    """The answers table as CSV or XLSX, every text a spreadsheet would run neutralised; read back before sent."""
    from sovereign.cells import neutral

    if fmt == "csv":
        from sovereign.present import csv_text

        text = csv_text(COLUMNS, ([r[c] for c in COLUMNS] for r in rows), newline="\r\n", bom=True)
        return set_cookies(Response(text, media_type="text/csv; charset=utf-8",
                                    headers={"content-disposition": 'attachment; filename="answers.csv"'}), v)
    import xlsxwriter

    data = io.BytesIO()
    book = xlsxwriter.Workbook(data, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    sheet = book.add_worksheet("answers")
    sheet.write_row(0, 0, COLUMNS)
    for i, r in enumerate(rows, start=1):
        sheet.write_row(i, 0, [neutral(r[c]) for c in COLUMNS])
    book.close()
    body = data.getvalue()
    if body[:2] != b"PK":
        raise UserError("the XLSX could not be written")
    return set_cookies(Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                headers={"content-disposition": 'attachment; filename="answers.xlsx"'}), v)


@router.get("/batch")
def batch_page(request: Request) -> Response:
    v = person(request)
    return render(request, v, "console_batch.html.j2", ids="", rows=None, error=None, as_of="", mandate="",
                  mandates=settings_of(request).policy.mandates, max_ids=MAX_IDS)


@router.post("/batch")
def batch(request: Request, csrf: str | None = Form(None), ids: str = Form(""), as_of: str = Form(""),
          mandate: str = Form(""), format: str = Form("html")) -> Response:
    """A pasted column: one identifier a line (tabs: the first cell), blank lines skipped, at most MAX_IDS."""
    from fastapi import HTTPException

    from sovereign import lookup

    v = person(request)
    try:
        check_csrf(v, csrf)
    except HTTPException as exc:
        raise Refused(exc.status_code, str(exc.detail)) from None
    lines = [line.split("\t")[0].strip() for line in ids.splitlines()]
    wanted = [line for line in lines if line]
    rows, error = None, None
    try:
        if len(wanted) > MAX_IDS:
            raise UserError(f"{len(wanted)} identifiers: at most {MAX_IDS} at once")
        too_long = [i for i, x in enumerate(wanted, start=1) if len(x) > MAX_ID_LENGTH]
        if too_long:
            raise UserError(f"line {too_long[0]}: an identifier is at most {MAX_ID_LENGTH} characters")
        if not wanted:
            raise UserError(TEXT[v.lang]["batch_help"].format(n=MAX_IDS))
        with store.reader(settings_of(request).db, snapshot=True) as conn:
            answers = lookup.check(conn, wanted, as_of=optional_date(as_of, TEXT[v.lang]["as_of"]),
                                   mandate=mandate_named(request, mandate))
        rows = batch_rows(answers, v.lang)
    except UserError as exc:
        error = str(exc)
    if rows is not None and format in ("csv", "xlsx"):
        return download(rows, format, v)
    return render(request, v, "console_batch.html.j2", status=400 if error else 200, ids=ids[:MAX_IDS * 40],
                  rows=rows, error=error, as_of=as_of, mandate=mandate, mandates=settings_of(request).policy.mandates,
                  max_ids=MAX_IDS)


@router.get("/upload")
def upload(request: Request) -> Response:
    v = person(request)
    return render(request, v, "console_upload.html.j2", mandates=settings_of(request).policy.mandates)


def chart(rows: list[dict], lang: str) -> str:
    """PR (of 40), CL (of 60) and the total (of 100) over the editions, as an SVG drawn to its box: readable at
    390 px (the labels scale with it), each edition's total marked in its status colour."""
    from markupsafe import escape

    t = TEXT[lang]
    points = [r for r in rows if r.get("total") is not None or r.get("pr") is not None]
    width, height, left, right, top, bottom = 640, 360, 48, 24, 44, 48
    if not points:
        return ""
    editions = [r["edition"] for r in points]
    first, last = min(editions), max(editions)
    span = max(last - first, 1)

    def x(edition: int) -> float:
        return left + (edition - first) / span * (width - left - right)

    def y(value: float) -> float:
        return top + (100 - value) / 100 * (height - top - bottom)

    parts = [f'<svg id="chart" role="img" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" '
             f'aria-label="{escape(t["chart_title"])}" font-size="21">']
    for value in (0, 20, 40, 60, 80, 100):
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 6}" y="{y(value) + 5:.1f}" text-anchor="end" fill="#555">{value}</text>')
    step = max(1, (span + 1) // 6)
    for edition in range(first, last + 1, step):
        parts.append(f'<text x="{x(edition):.1f}" y="{height - bottom + 24}" text-anchor="middle" fill="#555">'
                     f'{edition}</text>')
    series = (("total", "#1b1b1b", t["total"]), ("cl", "#1565c0", t["cl"]), ("pr", "#8e24aa", t["pr"]))
    for i, (column, colour, label) in enumerate(series):
        line = " ".join(f"{x(r['edition']):.1f},{y(r[column]):.1f}" for r in points if r.get(column) is not None)
        if line:
            parts.append(f'<polyline class="series-{column}" fill="none" stroke="{colour}" stroke-width="2.5" '
                         f'points="{line}"/>')
        parts.append(f'<rect x="{left + i * 130}" y="10" width="16" height="16" fill="{colour}"/>'
                     f'<text x="{left + i * 130 + 22}" y="25">{escape(label)}</text>')
    colours = {"F": "#2e7d32", "PF": "#b26a00", "NF": "#c62828"}
    for r in points:
        if r.get("total") is not None:
            parts.append(f'<circle cx="{x(r["edition"]):.1f}" cy="{y(r["total"]):.1f}" r="5" '
                         f'fill="{colours.get(r.get("status") or "", "#777")}"><title>{r["edition"]}: '
                         f'{escape(STATUS.get(r.get("status") or "", "–"))}, {r["total"]}</title></circle>')
    parts.append("</svg>")
    return "".join(parts)


@router.get("/country/{identifier}")
def country(request: Request, identifier: str = PathParam(max_length=MAX_ID_LENGTH)) -> Response:
    """Status today, PR/CL/total over every edition as a chart, the list versions that excluded it, the states it
    succeeded, and the committee's overrides on it."""
    from markupsafe import Markup

    from sovereign import lookup
    from sovereign.exclusion_list import country_names

    v = person(request)
    try:
        with store.reader(settings_of(request).db, snapshot=True) as conn:
            target, rows = lookup.history(conn, identifier)
            today = lookup.check(conn, [identifier])[0]
            entities = tuple({r["entity"] for r in rows})
            excluding = []
            for version in reads.versions(conn):
                found = reads.entries(conn, version["id"], entities) if entities else []
                if any(not e["eligible"] for e in found):
                    excluding.append(dict(version))
            overrides = [dict(o) for o in reads.overrides(conn) if target.iso2 and o["iso2"] == target.iso2]
    except UserError as exc:
        raise Refused(404, str(exc)) from None
    from sovereign import overrides as o

    for row in overrides:
        row["state"] = o.state(row)
    name = country_names(v.lang).get(target.iso2 or "", target.name)
    predecessors = sorted({r["name"]: r["predecessor"] for r in rows if r.get("predecessor")}.items())
    own = [r for r in rows if not r.get("predecessor")]
    return render(request, v, "console_country.html.j2", target=target, name=name, rows=rows,
                  chart=Markup(chart(own, v.lang)), today=today if not today.get("error") else None,
                  head=headline(today, v.lang) if not today.get("error") else None, excluding=excluding,
                  overrides=overrides, predecessors=predecessors, status_words=STATUS)
