"""The committee's diff and report: load two list versions, diff them, render JSON, Markdown, HTML, XLSX."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from fiw.errors import NotFound, UserError
from fiw.methodology import STATUS_WORDS
from sovereign import diff as d
from sovereign.cells import neutral
from sovereign.policy import Policy
from sovereign.store import reads
from sovereign.store.reads import Connection


def version_row(conn: Connection, spec: str | None, role: str, after: dict | None = None) -> dict:
    """`--from` / `--to`: an edition (2025) or a version id (v54); defaults: the newest version, and the
    published version of the edition before it."""
    text = (spec or "").strip()
    if spec is None:
        row = reads.newest_version(conn) if after is None else reads.published_before_edition(conn, after["edition"])
    elif re.fullmatch(r"[vV#]\d{1,18}", text):
        row = reads.version(conn, int(text[1:]))
    elif re.fullmatch(r"\d{4}", text):
        row = reads.edition_version(conn, int(text), prefer_published=role == "from")
    else:
        raise UserError(f"--{role} {spec!r}: expected an edition (2025) or a list version id (v54)")
    if row is None:
        raise NotFound(f"--{role} {spec or '(default)'}: no such list version")
    return row


def override_changes(conn: Connection, start: str, end: str) -> dict:
    rows = reads.overrides(conn)
    return {
        "added": [r for r in rows if start < r["valid_from"] <= end],
        "ended": [r for r in rows if (r["valid_to"] and start < r["valid_to"] <= end)
                  or (r["revoked_at"] and start < r["revoked_at"][:10] <= end)],
    }


def build(conn: Connection, policy: Policy, from_spec: str | None = None, to_spec: str | None = None) -> dict:
    after = version_row(conn, to_spec, "to")
    before = version_row(conn, from_spec, "from", after)
    for side in (before, after):
        stored = reads.edition(conn, side["edition"])
        side["label"] = stored["label"] if stored else None
    end = after["effective_from"] or date.today().isoformat()
    result = d.compute(before, reads.entries_frame(conn, before["id"]), after, reads.entries_frame(conn, after["id"]),
                       policy.mandates, override_changes(conn, before["effective_from"] or "", end))
    result["provenance"] = provenance(conn, [before["edition"], after["edition"]])
    if (before["edition"], before["id"]) > (after["edition"], after["id"]):
        result["reversed"] = (f"list version {before['id']} ({before['edition']}) is newer than list version "
                              f"{after['id']} ({after['edition']}): read every change backwards")
    return result


def provenance(conn: Connection, editions: list[int]) -> dict:
    from sovereign.pipeline import verify_stored

    checked = verify_stored(conn, editions)
    return {"sources": reads.edition_sources(conn, editions),
            "verify": {"ok": checked["ok"], "editions": checked["editions"], "errors": checked["errors"],
                       "known_errata": checked["known_errata"]},
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
    lines = [f"# Sovereign list: Freedom in the World {f['label']} -> {t['label']}", "",
             *([f"**Note: {r['reversed']}.**", ""] if r.get("reversed") else []),
             f"List version {f['list_version']} ({f['state']}, effective {f['effective_from']}) -> "
             f"version {t['list_version']} ({t['state']}, effective {t['effective_from'] or 'on publication'}).", "",
             f"Eligible: {s['before']['eligible']} -> {s['after']['eligible']}; excluded: {s['before']['excluded']} -> "
             f"{s['after']['excluded']}. Newly excluded: {s['newly_excluded']}; newly eligible: {s['newly_eligible']}.", "",
             f"{r['counts_definition']}.", ""]
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
        lines += _table(mdiff["newly_excluded"] + mdiff["newly_eligible"], [("Moved", "direction"), *MOVER_COLS])
    pc, oc = r["policy_change"], r["override_changes"]
    lines += ["## Policy and overrides", "",
              "Policy unchanged." if not pc["changed"] else "Policy changed: " + ", ".join(x["field"] for x in pc["fields"]),
              "", f"Overrides added: {len(oc['added'])}; ended or revoked: {len(oc['ended'])}.", "",
              r["attribution"], ""]
    return "\n".join(lines)


def to_html(r: dict) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("sovereign", "templates"), autoescape=select_autoescape(["html", "j2"]))
    return env.get_template("report.html.j2").render(r=r, charts=r.get("charts", {}), status_words=STATUS_WORDS)


def with_charts(conn: Connection, r: dict) -> dict:
    from sovereign import charts

    after = reads.entries_frame(conn, r["to"]["list_version"]).filter(pl.col("kind") == "c").to_dicts()
    return r | {"charts": {
        "scatter": charts.pr_cl_scatter(after, r["to"]["edition"]),
        "moves": charts.score_changes(r["score_moves"], r["from"]["edition"], r["to"]["edition"]) if r["score_moves"] else "",
    }}


def cell(ws: Any, row: int, col: int, value: Any, fmt: Any = None) -> None:
    """Text is always written as text, never as a formula, and neutralised for spreadsheets that would run it."""
    if isinstance(value, str):
        ws.write_string(row, col, neutral(value), fmt)
    else:
        ws.write(row, col, value, fmt)


def to_xlsx(r: dict, path: Path) -> None:
    """The same content as the page, one sheet a section, for those who work in Excel."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    bold = book.add_format({"bold": True})
    summary = book.add_worksheet("Summary")
    s = r["summary"]
    lines = [("From", f"Freedom in the World {r['from']['label']}, list version {r['from']['list_version']}"),
             ("To", f"Freedom in the World {r['to']['label']}, list version {r['to']['list_version']} ({r['to']['state']})"),
             ("Eligible", f"{s['before']['eligible']} -> {s['after']['eligible']}"),
             ("Excluded", f"{s['before']['excluded']} -> {s['after']['excluded']}"),
             ("Newly excluded", s["newly_excluded"]), ("Newly eligible", s["newly_eligible"]),
             ("Verify", "OK" if r["provenance"]["verify"]["ok"] else "FAILED"), ("", r["attribution"])]
    for i, (k, v) in enumerate(lines):
        cell(summary, i, 0, k, bold)
        cell(summary, i, 1, v)
    summary.set_column(0, 0, 18)
    summary.set_column(1, 1, 70)
    sheets = {"Newly excluded": r["newly_excluded"], "Newly eligible": r["newly_eligible"],
              "Status changes": r["status_changes"], "Territory status changes": r["territory_status_changes"],
              "Watchlist": r["watchlist"], "Score moves": r["score_moves"],
              "Renamed": r["renamed"], "Added": r["entities_added"], "Dropped": r["entities_dropped"],
              "Sources": r["provenance"]["sources"], "Conflicts": r["provenance"]["conflicts"]}
    for name, mdiff in r["mandates"].items():
        sheets[f"Mandate {name}"[:31]] = mdiff["newly_excluded"] + mdiff["newly_eligible"]
    if r.get("book"):
        from sovereign.impact import to_sheets

        for title, frame in to_sheets(r["book"]).items():
            sheets[f"Book {title}"] = frame.to_dicts()
    for title, rows in sheets.items():
        ws = book.add_worksheet(title[:31])
        cols = list(rows[0]) if rows else ["(none)"]
        for c, col in enumerate(cols):
            cell(ws, 0, c, col, bold)
        for i, row in enumerate(rows, start=1):
            for c, col in enumerate(cols):
                value = row.get(col)
                cell(ws, i, c, value if isinstance(value, (int, float, str, bool)) or value is None else str(value))
        cell(ws, len(rows) + 2, 0, r["attribution"])
    book.close()
