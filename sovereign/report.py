"""The committee's diff and report: load two list versions, diff them, render JSON, Markdown, HTML, XLSX."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import date
from pathlib import Path

import polars as pl

from sovereign import diff as d
from sovereign.errors import NotFound, UserError
from sovereign.policy import Policy

ENTRY_SCHEMA = {"entity": pl.String, "iso2": pl.String, "fh_name": pl.String, "kind": pl.String, "status": pl.String,
                "eligible": pl.Boolean, "reasons": pl.String, "pr": pl.Int64, "cl": pl.Int64, "total": pl.Int64,
                "pr_rating": pl.Int64, "cl_rating": pl.Int64}


def version_row(conn: sqlite3.Connection, spec: str | None, role: str, after: dict | None = None) -> dict:
    """`--from` / `--to`: an edition (2025) or a version id (v54); defaults: the newest version, and the
    published version of the edition before it."""
    if spec is None:
        if role == "to":
            row = conn.execute("SELECT * FROM list_versions ORDER BY id DESC LIMIT 1").fetchone()
        else:
            row = conn.execute("SELECT * FROM list_versions WHERE state = 'published' AND edition < ? "
                               "ORDER BY edition DESC, id DESC LIMIT 1", [after["edition"]]).fetchone()
    elif re.fullmatch(r"[vV#]\d{1,18}", spec.strip()):
        row = conn.execute("SELECT * FROM list_versions WHERE id = ?", [int(spec.strip()[1:])]).fetchone()
    elif re.fullmatch(r"\d{4}", spec.strip()):
        row = conn.execute("SELECT * FROM list_versions WHERE edition = ? ORDER BY state = 'published' DESC, id DESC "
                           "LIMIT 1" if role == "from" else
                           "SELECT * FROM list_versions WHERE edition = ? ORDER BY id DESC LIMIT 1", [int(spec)]).fetchone()
    else:
        raise UserError(f"--{role} {spec!r}: expected an edition (2025) or a list version id (v54)")
    if row is None:
        raise NotFound(f"--{role} {spec or '(default)'}: no such list version")
    return dict(row)


def entries(conn: sqlite3.Connection, version_id: int) -> pl.DataFrame:
    rows = conn.execute(f"SELECT {', '.join(ENTRY_SCHEMA)} FROM list_entries WHERE version_id = ?", [version_id]).fetchall()
    return pl.DataFrame([tuple(r) for r in rows], schema=ENTRY_SCHEMA, orient="row")


def override_changes(conn: sqlite3.Connection, start: str, end: str) -> dict:
    cur = conn.execute("SELECT * FROM overrides ORDER BY id")
    names = [c[0] for c in cur.description]
    rows = [dict(zip(names, r)) for r in cur.fetchall()]
    return {
        "added": [r for r in rows if start < r["valid_from"] <= end],
        "ended": [r for r in rows if (r["valid_to"] and start < r["valid_to"] <= end)
                  or (r["revoked_at"] and start < r["revoked_at"][:10] <= end)],
    }


def build(conn: sqlite3.Connection, policy: Policy, from_spec: str | None = None, to_spec: str | None = None) -> dict:
    after = version_row(conn, to_spec, "to")
    before = version_row(conn, from_spec, "from", after)
    end = after["effective_from"] or date.today().isoformat()
    result = d.compute(before, entries(conn, before["id"]), after, entries(conn, after["id"]), policy.mandates,
                       override_changes(conn, before["effective_from"] or "", end))
    result["provenance"] = provenance(conn, [before["edition"], after["edition"]])
    return result


def provenance(conn: sqlite3.Connection, editions: list[int]) -> dict:
    from sovereign.pipeline import verify_stored

    marks = ",".join("?" * len(editions))
    sources = [dict(r) for r in conn.execute(
        f"SELECT DISTINCT s.id, s.kind, s.uri, s.fetched_at, s.sha256, s.size, e.edition, e.revision, e.loaded_at "
        f"FROM editions e JOIN sources s ON s.id = e.source_id WHERE e.edition IN ({marks}) ORDER BY e.edition", editions)]
    checked = verify_stored(conn, editions)
    return {"sources": sources, "verify": {"ok": checked["ok"], "editions": checked["editions"],
                                           "errors": checked["errors"], "known_errata": checked["known_errata"]},
            "conflicts": checked["source_conflicts"], "generated": date.today().isoformat()}


def to_json(result: dict) -> str:
    return json.dumps(result, indent=2, ensure_ascii=False, default=str)


def _table(rows: list[dict], cols: list[tuple[str, str]]) -> list[str]:
    if not rows:
        return ["None.", ""]
    out = ["| " + " | ".join(h for h, _ in cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        out.append("| " + " | ".join(str(r.get(k) if r.get(k) is not None else "") for _, k in cols) + " |")
    return out + [""]


MOVER_COLS = [("ISO2", "iso2"), ("Name", "name"), ("Before", "status_before"), ("After", "status_after"),
              ("PR", "pr_before"), ("→ PR", "pr_after"), ("CL", "cl_before"), ("→ CL", "cl_after"), ("Why", "reason")]


def to_markdown(r: dict) -> str:
    f, t, s = r["from"], r["to"], r["summary"]
    lines = [f"# Sovereign list: Freedom in the World {f['edition']} -> {t['edition']}", "",
             f"List version {f['list_version']} ({f['state']}, effective {f['effective_from']}) -> "
             f"version {t['list_version']} ({t['state']}, effective {t['effective_from'] or 'on publication'}).", "",
             f"Eligible: {s['before']['eligible']} -> {s['after']['eligible']}; excluded: {s['before']['excluded']} -> "
             f"{s['after']['excluded']}. Newly excluded: {s['newly_excluded']}; newly eligible: {s['newly_eligible']}.", ""]
    sections = [("Newly excluded", r["newly_excluded"], MOVER_COLS), ("Newly eligible", r["newly_eligible"], MOVER_COLS),
                ("Status changes that do not change eligibility", r["status_changes"], MOVER_COLS),
                ("Territories without an ISO code (no effect on the list)", r["territory_status_changes"], MOVER_COLS),
                ("Watchlist", r["watchlist"], [("ISO2", "iso2"), ("Name", "name"), ("Category", "category"),
                                               ("Status", "status_after"), ("Total", "total_after"), ("Why", "text")]),
                ("Largest score moves", r["score_moves"], [("Name", "name"), ("Total", "total_before"),
                                                          ("→ Total", "total_after"), ("Change", "change")]),
                ("Renamed by FH", r["renamed"], [("ISO2", "iso2"), ("Before", "name_before"), ("After", "name_after")]),
                ("Added", r["entities_added"], [("ISO2", "iso2"), ("Name", "name"), ("Kind", "kind"), ("Note", "note")]),
                ("Dropped", r["entities_dropped"], [("ISO2", "iso2"), ("Name", "name"), ("Kind", "kind"), ("Note", "note")])]
    for title, rows, cols in sections:
        lines += [f"## {title}", ""] + _table(rows, cols)
    lines += ["## Per mandate", ""]
    for name, mdiff in r["mandates"].items():
        lines += [f"### {name}: {mdiff['description']}", "",
                  f"Eligible {mdiff['eligible_before']} -> {mdiff['eligible_after']}.", ""]
        lines += _table(mdiff["newly_excluded"] + mdiff["newly_eligible"], MOVER_COLS)
    pc, oc = r["policy_change"], r["override_changes"]
    lines += ["## Policy and overrides", "",
              "Policy unchanged." if not pc["changed"] else "Policy changed: " + ", ".join(x["field"] for x in pc["fields"]),
              "", f"Overrides added: {len(oc['added'])}; ended or revoked: {len(oc['ended'])}.", "",
              r["attribution"], ""]
    return "\n".join(lines)


def to_html(r: dict) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("sovereign", "templates"), autoescape=select_autoescape(["html", "j2"]))
    return env.get_template("report.html.j2").render(r=r, charts=r.get("charts", {}))


def with_charts(conn: sqlite3.Connection, r: dict) -> dict:
    from sovereign import charts

    after = entries(conn, r["to"]["list_version"]).filter(pl.col("kind") == "c").to_dicts()
    return r | {"charts": {
        "scatter": charts.pr_cl_scatter(after, r["to"]["edition"]),
        "moves": charts.score_changes(r["score_moves"], r["from"]["edition"], r["to"]["edition"]) if r["score_moves"] else "",
    }}


def to_xlsx(r: dict, path: Path) -> None:
    """The same content as the page, one sheet a section, for those who work in Excel."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    bold = book.add_format({"bold": True})
    summary = book.add_worksheet("Summary")
    s = r["summary"]
    lines = [("From", f"Freedom in the World {r['from']['edition']}, list version {r['from']['list_version']}"),
             ("To", f"Freedom in the World {r['to']['edition']}, list version {r['to']['list_version']} ({r['to']['state']})"),
             ("Eligible", f"{s['before']['eligible']} -> {s['after']['eligible']}"),
             ("Excluded", f"{s['before']['excluded']} -> {s['after']['excluded']}"),
             ("Newly excluded", s["newly_excluded"]), ("Newly eligible", s["newly_eligible"]),
             ("Verify", "OK" if r["provenance"]["verify"]["ok"] else "FAILED"), ("", r["attribution"])]
    for i, (k, v) in enumerate(lines):
        summary.write(i, 0, k, bold)
        summary.write(i, 1, v)
    summary.set_column(0, 0, 18)
    summary.set_column(1, 1, 70)
    sheets = {"Newly excluded": r["newly_excluded"], "Newly eligible": r["newly_eligible"],
              "Status changes": r["status_changes"], "Territory status changes": r["territory_status_changes"],
              "Watchlist": r["watchlist"], "Score moves": r["score_moves"],
              "Renamed": r["renamed"], "Added": r["entities_added"], "Dropped": r["entities_dropped"],
              "Sources": r["provenance"]["sources"], "Conflicts": r["provenance"]["conflicts"]}
    for name, mdiff in r["mandates"].items():
        sheets[f"Mandate {name}"[:31]] = mdiff["newly_excluded"] + mdiff["newly_eligible"]
    for title, rows in sheets.items():
        ws = book.add_worksheet(title[:31])
        cols = list(rows[0]) if rows else ["(none)"]
        for c, col in enumerate(cols):
            ws.write(0, c, col, bold)
        for i, row in enumerate(rows, start=1):
            for c, col in enumerate(cols):
                value = row.get(col)
                ws.write(i, c, value if isinstance(value, (int, float, str, bool)) or value is None else str(value))
        ws.write(len(rows) + 2, 0, r["attribution"])
    book.close()
