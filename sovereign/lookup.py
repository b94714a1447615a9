"""Desk lookups against published list versions: resolve what was typed, answer from the version in force.

Deliberately light: stdlib sqlite3 and nothing else, so `sovereign check` starts fast.
"""

from __future__ import annotations

import difflib
import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import date

from sovereign import store
from sovereign.errors import UserError

STATUS_WORDS = {"F": "Free", "PF": "Partly Free", "NF": "Not Free"}


@dataclass(frozen=True)
class Target:
    query: str
    entities: tuple[str, ...]
    iso2: str | None
    name: str


def _fold(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text).strip().rstrip("*").strip().casefold()


def resolve(conn: sqlite3.Connection, query: str) -> Target:
    """ISO2, ISO3 or a name (FH's or ISO's) -> the FH entities it can mean; unreadable input is an error."""
    q = query.strip()
    if not q:
        raise UserError("an empty identifier: give an ISO code or a country name")
    if re.fullmatch(r"[A-Za-z]{2,3}", q):
        field = "iso2" if len(q) == 2 else "iso3"
        code = q.upper()
        rows = conn.execute(f"SELECT DISTINCT entity, iso2, fh_name FROM countries WHERE {field} = ?", [code]).fetchall()
        if rows:
            return Target(query, tuple(r["entity"] for r in rows), rows[0]["iso2"], rows[0]["fh_name"])
        iso = conn.execute(f"SELECT iso2, iso3, name FROM iso_codes WHERE {field} = ?", [code]).fetchone()
        if iso:
            return Target(query, (iso["iso3"],), iso["iso2"], iso["name"])
        if len(q) == 2 or q.isupper():
            raise UserError(f"{query!r}: no country has the ISO code {code}")
    folded = _fold(q)
    rows = conn.execute("SELECT entity, iso2, fh_name, kind FROM countries").fetchall()
    hits = [r for r in rows if _fold(r["fh_name"]) == folded]
    if hits:
        return Target(query, tuple(dict.fromkeys(r["entity"] for r in hits)), hits[0]["iso2"], hits[0]["fh_name"])
    isos = conn.execute("SELECT iso2, iso3, name, official_name FROM iso_codes").fetchall()
    for r in isos:
        if folded in (_fold(r["name"]), _fold(r["official_name"] or "")):
            mapped = conn.execute("SELECT DISTINCT entity FROM countries WHERE iso2 = ?", [r["iso2"]]).fetchall()
            entities = tuple(x["entity"] for x in mapped) or (r["iso3"],)
            return Target(query, entities, r["iso2"], r["name"])
    names = sorted({r["fh_name"] for r in rows} | {r["name"] for r in isos})
    close = difflib.get_close_matches(q, names, n=3, cutoff=0.75)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise UserError(f"{query!r}: no country or territory of that name or code{hint}")


def pick_version(conn: sqlite3.Connection, edition: int | None = None, as_of: date | None = None) -> sqlite3.Row:
    """The published list an answer comes from: the newest for `edition`, else the one in force on `as_of`."""
    if edition is not None:
        version = store.latest_published(conn, edition)
        if version is None:
            have = [r[0] for r in conn.execute("SELECT DISTINCT edition FROM list_versions WHERE state = 'published' ORDER BY 1")]
            span = f"{have[0]}-{have[-1]}" if have else "none"
            raise UserError(f"no published list for edition {edition} (published editions: {span}; there is no 2002 edition)")
        return version
    on = as_of or date.today()
    version = store.version_in_force(conn, on.isoformat())
    if version is None:
        first = conn.execute("SELECT MIN(effective_from) FROM list_versions WHERE state = 'published'").fetchone()[0]
        raise UserError(
            f"no list was in force on {on.isoformat()}"
            + (f": the first took effect on {first}" if first else ": nothing is published yet")
        )
    return version


def answer(conn: sqlite3.Connection, target: Target, version: sqlite3.Row) -> dict:
    marks = ",".join("?" * len(target.entities))
    entry = conn.execute(
        f"SELECT * FROM list_entries WHERE version_id = ? AND entity IN ({marks}) ORDER BY kind LIMIT 1",
        [version["id"], *target.entities],
    ).fetchone()
    base = {"query": target.query, "edition": version["edition"], "list_version": version["id"],
            "effective_from": version["effective_from"]}
    if entry is None:
        unrated = json.loads(version["policy"]).get("unrated", "exclude")
        return base | {
            "iso2": target.iso2, "name": target.name, "kind": "country", "eligible": unrated == "eligible",
            "status": None, "reasons": [f"Not rated in Freedom in the World {version['edition']}"],
            "pr": None, "cl": None, "total": None, "pr_rating": None, "cl_rating": None,
            "no_new_buys_from": None, "divest_by": None,
        }
    return base | {
        "iso2": entry["iso2"], "name": entry["fh_name"], "kind": "territory" if entry["kind"] == "t" else "country",
        "eligible": bool(entry["eligible"]), "status": entry["status"], "reasons": [entry["reasons"]],
        "pr": entry["pr"], "cl": entry["cl"], "total": entry["total"],
        "pr_rating": entry["pr_rating"], "cl_rating": entry["cl_rating"],
        "no_new_buys_from": entry["no_new_buys_from"], "divest_by": entry["divest_by"],
    }


def check(conn: sqlite3.Connection, ids: list[str], edition: int | None = None, as_of: date | None = None) -> list[dict]:
    """Every ID is resolved before any is answered: one unreadable ID fails the whole call."""
    targets, problems = [], []
    for query in ids:
        try:
            targets.append(resolve(conn, query))
        except UserError as exc:
            problems.append(str(exc))
    if problems:
        raise UserError("\n".join(problems))
    version = pick_version(conn, edition, as_of)
    return [answer(conn, t, version) for t in targets]


def list_entries(conn: sqlite3.Connection, version: sqlite3.Row, excluded_only: bool = False) -> list[dict]:
    rows = conn.execute(
        "SELECT iso2, fh_name AS name, CASE kind WHEN 't' THEN 'territory' ELSE 'country' END AS kind, status, "
        "eligible, pr, cl, total, pr_rating, cl_rating, reasons, no_new_buys_from, divest_by "
        "FROM list_entries WHERE version_id = ? ORDER BY fh_name", [version["id"]],
    ).fetchall()
    out = [dict(r) | {"eligible": bool(r["eligible"])} for r in rows]
    return [r for r in out if not r["eligible"]] if excluded_only else out
