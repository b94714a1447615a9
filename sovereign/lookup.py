"""Desk answers against list versions: which version answers, and the answer itself, built in one place.

`check`, `screen`, the API and the lookup page all come through `answers()`: resolve (sovereign.resolve),
pick the version, answer each target from that version's entries, then apply committee overrides and
a mandate. Light on purpose: stdlib sqlite3 on the common path, so `sovereign check` starts fast;
polars is loaded only when a mandate or a committee override has to be applied.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from fiw import words
from fiw.errors import NotFound, UserError
from sovereign.resolve import Resolver, Target
from sovereign.store import reads
from sovereign.store.reads import Connection, Row

if TYPE_CHECKING:
    from sovereign.policy import Mandate

ANSWER_KEYS = ("query", "iso2", "name", "kind", "eligible", "status", "edition", "list_version", "effective_from",
               "reasons", "pr", "cl", "total", "pr_rating", "cl_rating", "no_new_buys_from", "divest_by", "mandate",
               "issuer")
UNRESOLVED = "unresolved"
SUPRANATIONAL = "supranational"


def pick_version(conn: Connection, edition: int | None = None, as_of: date | None = None) -> Row:
    """The published list an answer comes from: the newest for `edition`, else the one in force on `as_of`."""
    if edition is not None:
        version = reads.latest_published(conn, edition)
        if version is None:
            have = reads.published_editions(conn)
            span = f"{have[0]}-{have[-1]}" if have else "none"
            raise NotFound(f"no published list for edition {edition} (published editions: {span}; "
                           "there is no 2002 edition)")
        return version
    on = as_of or date.today()
    if on > date.today():
        raise NotFound(f"{on.isoformat()}: no list is known to be in force on a future date; give today or earlier")
    version = reads.version_in_force(conn, on.isoformat())
    if version is None:
        first = reads.first_effective(conn)
        raise NotFound(f"no list was in force on {on.isoformat()}"
                       + (f": the first took effect on {first}" if first else ": nothing is published yet"))
    return version


def supranational_reason(name: str) -> str:
    return f"{name} is a supranational issuer: out of scope of the Freedom House country rule"


def answer(target: Target, version: Row, entries: dict[str, Row]) -> dict:
    """One target against one version's entries (entity -> entry): eligible, status and why."""
    base = dict.fromkeys(ANSWER_KEYS) | {
        "query": target.query, "edition": version["edition"], "list_version": version["id"],
        "effective_from": version["effective_from"], "iso2": target.iso2, "name": target.name,
        "issuer": target.issuer.as_dict() if target.issuer else None,
    }
    if target.unregistered:
        return base | {"kind": UNRESOLVED, "eligible": False, "reasons": [target.unregistered]}
    if target.issuer and not target.entities:
        return base | {"kind": SUPRANATIONAL, "eligible": True, "reasons": [supranational_reason(target.issuer.name)]}
    prefix = []
    if target.issuer:
        i = target.issuer
        prefix = [f"{i.isin or i.lei}: issued by {i.name} ({i.type}, {i.country})"]
    rated = sorted((entries[e] for e in target.entities if e in entries), key=lambda r: r["kind"])
    if not rated:
        from sovereign.policy import stored_policy  # only for the unrated: keeps `check`'s start-up light

        unrated = stored_policy(version["policy"]).unrated
        held_by = sorted(set(target.names.values()))  # a code carried by several states, none rated then
        name = " or ".join(held_by) if len(held_by) > 1 else target.name
        return base | {"kind": "country", "eligible": unrated == "eligible", "name": name,
                       "reasons": prefix + [words.not_rated(version["edition"])]}
    entry = rated[0]
    return base | {
        "iso2": entry["iso2"], "name": entry["fh_name"], "kind": words.kind_word(entry["kind"]),
        "eligible": bool(entry["eligible"]), "status": entry["status"], "reasons": prefix + [entry["reasons"]],
        "pr": entry["pr"], "cl": entry["cl"], "total": entry["total"],
        "pr_rating": entry["pr_rating"], "cl_rating": entry["cl_rating"],
        "no_new_buys_from": entry["no_new_buys_from"], "divest_by": entry["divest_by"],
    }


def tighten(rows: list[dict], overrides: list[Row], mandate: Mandate | None, edition: int) -> list[dict]:
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
    return [r | {"eligible": out[i][0], "reasons": out[i][1], "mandate": mandate.name if mandate else None}
            for i, r in enumerate(rows)]


def answers(conn: Connection, targets: list[Target], edition: int | None = None, as_of: date | None = None,
            mandate: Mandate | None = None) -> list[dict]:
    """Targets answered from one version, overrides in force on `as_of` (today when not given) applied."""
    version = pick_version(conn, edition, as_of)
    wanted = tuple({e for t in targets for e in t.entities})
    entries = {r["entity"]: r for r in reads.entries(conn, version["id"], wanted)} if wanted else {}
    out = [answer(t, version, entries) for t in targets]
    on = (as_of or date.today()).isoformat()
    return tighten(out, reads.active_overrides(conn, on), mandate, version["edition"])


def check(conn: Connection, ids: list[str], edition: int | None = None, as_of: date | None = None,
          mandate: Mandate | None = None) -> list[dict]:
    """Every ID is resolved before any is answered: one unreadable ID fails the whole call."""
    resolver = Resolver(conn)
    targets, problems = [], []
    for query in ids:
        try:
            targets.append(resolver.resolve(query))
        except UserError as exc:
            problems.append(exc)
    if problems:
        kind = NotFound if all(isinstance(p, NotFound) for p in problems) else UserError
        raise kind("\n".join(map(str, problems)))
    return answers(conn, targets, edition, as_of, mandate)


def list_entries(conn: Connection, version: Row, on: date | None = None, mandate: Mandate | None = None,
                 excluded_only: bool = False) -> list[dict]:
    """Every entity of a version, as the desk sees it: overrides in force on `on` and a mandate applied."""
    rows = [{"iso2": r["iso2"], "name": r["fh_name"], "kind": words.kind_word(r["kind"]), "status": r["status"],
             "eligible": r["eligible"], "pr": r["pr"], "cl": r["cl"], "total": r["total"],
             "pr_rating": r["pr_rating"], "cl_rating": r["cl_rating"], "reasons": [r["reasons"]],
             "no_new_buys_from": r["no_new_buys_from"], "divest_by": r["divest_by"], "mandate": None}
            for r in reads.entries(conn, version["id"])]
    overrides = reads.active_overrides(conn, (on or date.today()).isoformat())
    out = tighten(rows, overrides, mandate, version["edition"])
    return [r for r in out if not r["eligible"]] if excluded_only else out


def history(conn: Connection, query: str) -> tuple[Target, list[dict]]:
    """Status, scores and eligibility of one entity in every edition's newest published list."""
    target = Resolver(conn).resolve(query)
    if not target.entities:
        raise UserError(f"{query!r}: history is kept for countries and territories; this is {target.name}")
    return target, reads.history(conn, target.entities)
