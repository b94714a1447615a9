"""Desk lookups against published list versions: resolve what was typed, answer from the version in force.

Light on purpose: stdlib sqlite3 on the common path, so `sovereign check` starts fast; polars is
loaded only when a mandate or a committee override has to be applied.
"""

from __future__ import annotations

import csv
import difflib
import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from sovereign import identifiers, paths, store
from sovereign.errors import NotFound, UserError
from sovereign.names import fold

ANSWER_KEYS = ("query", "iso2", "name", "kind", "eligible", "status", "edition", "list_version", "effective_from",
               "reasons", "pr", "cl", "total", "pr_rating", "cl_rating", "no_new_buys_from", "divest_by", "mandate",
               "issuer")


@dataclass(frozen=True)
class Target:
    query: str
    entities: tuple[str, ...]
    iso2: str | None
    name: str
    issuer: dict | None = None
    unregistered: str | None = None  # a well-formed ISIN/LEI that is not in the register: why


@lru_cache(maxsize=1)
def aliases() -> dict[str, str]:
    """The spellings people type (Türkiye, Ivory Coast, DRC, USA...) -> ISO2."""
    with open(paths.ALIASES, newline="", encoding="utf-8") as f:
        return {fold(r["alias"]): r["iso2"] for r in csv.DictReader(f)}


def _country(conn: sqlite3.Connection, iso2: str, query: str, issuer: dict | None = None) -> Target:
    rows = conn.execute("SELECT DISTINCT entity, fh_name FROM countries WHERE iso2 = ?", [iso2]).fetchall()
    iso = conn.execute("SELECT iso3, name FROM iso_codes WHERE iso2 = ?", [iso2]).fetchone()
    if rows:
        return Target(query, tuple(r["entity"] for r in rows), iso2, rows[-1]["fh_name"], issuer)
    if iso:
        return Target(query, (iso["iso3"],), iso2, iso["name"], issuer)
    raise NotFound(f"{query!r}: no country has the ISO code {iso2}")


def _issuer_target(conn: sqlite3.Connection, query: str, issuer: sqlite3.Row, isin: str | None) -> Target:
    info = {"name": issuer["name"], "lei": issuer["lei"], "type": issuer["type"], "country": issuer["iso2"],
            "isin": isin}
    if issuer["type"] == "supranational" or not issuer["iso2"]:
        return Target(query, (), None, issuer["name"], info)
    return _country(conn, issuer["iso2"], query, info)


def resolve(conn: sqlite3.Connection, query: str) -> Target:
    """ISIN, LEI, ISO2, ISO3 or a name -> what it means; unreadable input is an error naming it."""
    q = query.strip()
    if not q:
        raise NotFound("an empty identifier names nothing: give an ISIN, an LEI, an ISO code or a country name")
    code = identifiers.compact(q)
    if identifiers.looks_like_isin(q):
        if not identifiers.valid_isin(code):
            raise UserError(f"{query!r}: not a valid ISIN (the check digit does not match)")
        row = conn.execute("SELECT i.* FROM securities s JOIN issuers i ON i.lei = s.lei WHERE s.isin = ?", [code]).fetchone()
        if row:
            return _issuer_target(conn, query, row, code)
        agency = conn.execute("SELECT name FROM iso_codes WHERE iso2 = ?", [code[:2]]).fetchone()
        note = identifiers.prefix_note(code, agency["name"] if agency else None)
        return Target(query, (), None, code, unregistered=f"ISIN {code} is not in the issuer register; {note}")
    if identifiers.looks_like_lei(q):
        if not identifiers.valid_lei(code):
            raise UserError(f"{query!r}: not a valid LEI (the check digits do not match)")
        row = conn.execute("SELECT * FROM issuers WHERE lei = ?", [code]).fetchone()
        if row:
            return _issuer_target(conn, query, row, None)
        return Target(query, (), None, code, unregistered=f"LEI {code} is not in the issuer register")
    folded = fold(q)
    if re.fullmatch(r"[A-Za-z]{2,3}", q):
        field = "iso2" if len(q) == 2 else "iso3"
        row = conn.execute(f"SELECT iso2 FROM iso_codes WHERE {field} = ? UNION "
                           f"SELECT iso2 FROM countries WHERE {field} = ?", [q.upper(), q.upper()]).fetchone()
        if row:
            return _country(conn, row["iso2"], query)
        if folded in aliases():
            return _country(conn, aliases()[folded], query)
        if len(q) == 2 or q.isupper():
            raise NotFound(f"{query!r}: no country has the ISO code {q.upper()}")
    rows = conn.execute("SELECT entity, iso2, fh_name FROM countries").fetchall()
    hits = [r for r in rows if fold(r["fh_name"]) == folded]
    if hits:
        return Target(query, tuple(dict.fromkeys(r["entity"] for r in hits)), hits[0]["iso2"], hits[0]["fh_name"])
    if folded in aliases():
        return _country(conn, aliases()[folded], query)
    isos = conn.execute("SELECT iso2, name, official_name FROM iso_codes").fetchall()
    for r in isos:
        if folded in (fold(r["name"]), fold(r["official_name"] or "")):
            return _country(conn, r["iso2"], query)
    names = sorted({r["fh_name"] for r in rows} | {r["name"] for r in isos})
    close = difflib.get_close_matches(q, names, n=3, cutoff=0.75)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise NotFound(f"{query!r}: no country or territory of that name or code, and not an ISIN or LEI{hint}")


def pick_version(conn: sqlite3.Connection, edition: int | None = None, as_of: date | None = None) -> sqlite3.Row:
    """The published list an answer comes from: the newest for `edition`, else the one in force on `as_of`."""
    if edition is not None:
        version = store.latest_published(conn, edition)
        if version is None:
            have = [r[0] for r in conn.execute("SELECT DISTINCT edition FROM list_versions WHERE state = 'published' ORDER BY 1")]
            span = f"{have[0]}-{have[-1]}" if have else "none"
            raise NotFound(f"no published list for edition {edition} (published editions: {span}; there is no 2002 edition)")
        return version
    on = as_of or date.today()
    if on > date.today():
        raise NotFound(f"{on.isoformat()}: no list is known to be in force on a future date; give today or earlier")
    version = store.version_in_force(conn, on.isoformat())
    if version is None:
        first = conn.execute("SELECT MIN(effective_from) FROM list_versions WHERE state = 'published'").fetchone()[0]
        raise NotFound(
            f"no list was in force on {on.isoformat()}"
            + (f": the first took effect on {first}" if first else ": nothing is published yet")
        )
    return version


def answer(conn: sqlite3.Connection, target: Target, version: sqlite3.Row) -> dict:
    base = dict.fromkeys(ANSWER_KEYS) | {
        "query": target.query, "edition": version["edition"], "list_version": version["id"],
        "effective_from": version["effective_from"], "iso2": target.iso2, "name": target.name, "issuer": target.issuer,
    }
    if target.unregistered:
        return base | {"kind": "unresolved", "eligible": False, "reasons": [target.unregistered]}
    if target.issuer and not target.entities:
        return base | {"kind": "supranational", "eligible": True, "reasons": [
            f"{target.issuer['name']} is a supranational issuer: out of scope of the Freedom House country rule"]}
    marks = ",".join("?" * len(target.entities))
    entry = conn.execute(
        f"SELECT * FROM list_entries WHERE version_id = ? AND entity IN ({marks}) ORDER BY kind LIMIT 1",
        [version["id"], *target.entities],
    ).fetchone()
    prefix = []
    if target.issuer:
        i = target.issuer
        prefix = [f"{i['isin'] or i['lei']}: issued by {i['name']} ({i['type']}, {i['country']})"]
    if entry is None:
        unrated = json.loads(version["policy"]).get("unrated", "exclude")
        return base | {"kind": "country", "eligible": unrated == "eligible",
                       "reasons": prefix + [f"Not rated in Freedom in the World {version['edition']}"]}
    return base | {
        "iso2": entry["iso2"], "name": entry["fh_name"], "kind": "territory" if entry["kind"] == "t" else "country",
        "eligible": bool(entry["eligible"]), "status": entry["status"], "reasons": prefix + [entry["reasons"]],
        "pr": entry["pr"], "cl": entry["cl"], "total": entry["total"],
        "pr_rating": entry["pr_rating"], "cl_rating": entry["cl_rating"],
        "no_new_buys_from": entry["no_new_buys_from"], "divest_by": entry["divest_by"],
    }


def tighten(rows: list[dict], overrides: list[dict], mandate, edition: int) -> list[dict]:
    """Committee overrides and a mandate, applied through the one frame implementation in `eligibility`."""
    if not rows or (not overrides and mandate is None):
        return rows
    import polars as pl

    from sovereign.eligibility import apply_mandate, apply_overrides

    frame = pl.DataFrame(
        [{"i": i, "iso2": r["iso2"], "status": r["status"], "pr": r["pr"], "cl": r["cl"], "total": r["total"],
          "eligible": r["eligible"], "reasons": r["reasons"], "scope": r["kind"]} for i, r in enumerate(rows)],
        schema={"i": pl.Int64, "iso2": pl.String, "status": pl.String, "pr": pl.Int64, "cl": pl.Int64,
                "total": pl.Int64, "eligible": pl.Boolean, "reasons": pl.List(pl.String), "scope": pl.String},
    )
    frame = apply_overrides(frame, overrides)
    if mandate is not None:
        frame = apply_mandate(frame, mandate, edition)
    out = {i: (e, r) for i, e, r in frame.select("i", "eligible", "reasons").iter_rows()}
    return [r | {"eligible": out[i][0], "reasons": out[i][1], "mandate": getattr(mandate, "name", None)}
            for i, r in enumerate(rows)]


def check(conn: sqlite3.Connection, ids: list[str], edition: int | None = None, as_of: date | None = None,
          mandate=None) -> list[dict]:
    """Every ID is resolved before any is answered: one unreadable ID fails the whole call.

    Committee overrides are those in force on `as_of` (today when not given), also for `--edition`.
    """
    targets, problems = [], []
    for query in ids:
        try:
            targets.append(resolve(conn, query))
        except UserError as exc:
            problems.append(exc)
    if problems:
        kind = NotFound if all(isinstance(p, NotFound) for p in problems) else UserError
        raise kind("\n".join(map(str, problems)))
    version = pick_version(conn, edition, as_of)
    answers = [answer(conn, t, version) for t in targets]
    on = (as_of or date.today()).isoformat()
    return tighten(answers, store.active_overrides(conn, on), mandate, version["edition"])


def list_entries(conn: sqlite3.Connection, version: sqlite3.Row, on: date | None = None, mandate=None,
                 excluded_only: bool = False) -> list[dict]:
    rows = conn.execute(
        "SELECT iso2, fh_name AS name, CASE kind WHEN 't' THEN 'territory' ELSE 'country' END AS kind, status, "
        "eligible, pr, cl, total, pr_rating, cl_rating, reasons, no_new_buys_from, divest_by "
        "FROM list_entries WHERE version_id = ? ORDER BY fh_name", [version["id"]],
    ).fetchall()
    out = [dict(r) | {"eligible": bool(r["eligible"]), "reasons": [r["reasons"]]} for r in rows]
    overrides = store.active_overrides(conn, (on or date.today()).isoformat())
    out = tighten(out, overrides, mandate, version["edition"])
    return [r for r in out if not r["eligible"]] if excluded_only else out


def history(conn: sqlite3.Connection, query: str) -> tuple[Target, list[dict]]:
    """Status, scores and eligibility of one entity in every edition's newest published list."""
    target = resolve(conn, query)
    if not target.entities:
        raise UserError(f"{query!r}: history is kept for countries and territories; this is {target.name}")
    marks = ",".join("?" * len(target.entities))
    rows = conn.execute(
        f"""SELECT v.edition, v.id AS list_version, v.effective_from, e.fh_name AS name, e.status, e.pr, e.cl, e.total,
                   e.pr_rating, e.cl_rating, e.eligible, e.reasons, s.status_pub, ed.year_under_review
            FROM list_versions v JOIN list_entries e ON e.version_id = v.id
            LEFT JOIN scores s ON s.edition = v.edition AND s.entity = e.entity AND s.fh_name = e.fh_name
            LEFT JOIN editions ed ON ed.edition = v.edition
            WHERE v.state = 'published' AND e.entity IN ({marks})
              AND v.id = (SELECT MAX(id) FROM list_versions w WHERE w.edition = v.edition AND w.state = 'published')
            ORDER BY v.edition""",
        list(target.entities),
    ).fetchall()
    return target, [dict(r) | {"eligible": bool(r["eligible"])} for r in rows]
