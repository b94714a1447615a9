"""One list on a date: for a list version (or the one in force) and a date, every entity's answer.

Every view reads this: `check` and `screen` (one target at a time, through `lookup.answers`, which applies the
same `lookup.tighten`), `list`, the approval pack, the public list and the API. A view never builds its own
rule for committee overrides, mandates or staging dates: it asks `on_date` (or `entries_on` when it already
holds a version) and formats what comes back.

Which version answers follows four arguments, and the rules for combining them live here, not in a surface:
- `edition`, `version_id` and `as_of` pick the version and exclude one another (at most one);
- `as_of` is also the date the answer is for (committee overrides in force that day); with `edition` or
  `version_id` the date is today, or the version's own first day when that is later (what it will say when
  it takes effect);
- `as_known_on` answers as the records stood at the end of that day, whatever picked the version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from fiw import words
from fiw.errors import UserError
from sovereign import clock, lookup
from sovereign.resolve import ceased_answer, ceased_by
from sovereign.store import reads
from sovereign.store.reads import Connection, Row

if TYPE_CHECKING:
    from sovereign.policy import Mandate

ROW_KEYS = ("iso2", "name", "kind", "status", "verdict", "eligible", "pr", "cl", "total", "pr_rating", "cl_rating",
            "reasons", "by_committee", "no_new_buys_from", "divest_by", "mandate", "covered_by")


def check_arguments(edition: int | None = None, version_id: int | None = None, as_of: date | None = None) -> None:
    """The one rule for picking a version: one of edition, version and as-of (the CLI and the API both ask this)."""
    given = [name for name, value in (("edition", edition), ("version", version_id), ("as_of", as_of))
             if value is not None]
    if len(given) > 1:
        raise UserError(f"give one of --edition, --version and --as-of (edition, version, as_of), not "
                        f"{' and '.join(given)}: each picks the list on its own")


@dataclass(frozen=True)
class Listing:
    """A whole list as the desk acts on it on `on`: the version it came from, whether that version is the one
    in force then, and one row per entity (keys: ROW_KEYS)."""
    version: Row
    on: date
    as_known_on: date | None
    in_force: bool
    mandate: str | None
    rows: list[dict] = field(default_factory=list)

    def by_iso2(self) -> dict[str, dict]:
        """Rows of entities with an ISO code (a territory without one has no row here)."""
        return {r["iso2"]: r for r in self.rows if r["iso2"]}

    def excluded(self) -> list[dict]:
        return [r for r in self.rows if not r["eligible"]]

    def counts(self, kind: str = "country") -> dict[str, int]:
        """Eligible and excluded countries, the committee's exclusions counted among the excluded."""
        rows = [r for r in self.rows if r["kind"] == kind]
        return {"eligible": sum(r["eligible"] for r in rows), "excluded": sum(not r["eligible"] for r in rows),
                "excluded_by_committee": sum(bool(r["by_committee"]) and not r["fh_excluded"] for r in rows)}


def answer_date(version: Row, as_of: date | None) -> date:
    """The day a list is read for: `as_of`, else today, else (a version not yet in force) its first day."""
    if as_of is not None:
        return as_of
    today = clock.today()
    start = version["effective_from"]
    return max(today, date.fromisoformat(start)) if start else today


def compared_days(before: Row, after: Row, effective_from: date | None = None) -> tuple[date, date]:
    """The two days a change of list is read for, by `impact` and the approval pack alike: the list it replaces as
    the desk reads it today (today's committee exclusions in it), and the new list on the day it takes effect (a
    proposal: the day it would be published with, else today). What differs between the two is what changes on
    the effective date: an override already in force today is no change; one that starts before then is."""
    return answer_date(before, None), answer_date(after, None if after["effective_from"] else effective_from)


def entries_on(conn: Connection, version: Row, on: date, mandate: Mandate | None = None,
               as_known_on: date | None = None) -> list[dict]:
    """Every entity of `version` on `on`: FH's verdict, the committee's overrides in force that day (as known on
    `as_known_on`) and a mandate applied, with staging dates; `by_committee` lists the override ids that exclude
    it and `fh_excluded` whether the list itself (FH's status, the policy) excludes it. A place FH covers in another
    country's report (Puerto Rico) has its row with that country's answer and `covered_by` naming it."""
    lookup.proved(conn, version)
    rows = [{"iso2": r["iso2"], "name": r["fh_name"], "kind": words.kind_word(r["kind"]), "status": r["status"],
             "eligible": bool(r["eligible"]), "pr": r["pr"], "cl": r["cl"], "total": r["total"],
             "pr_rating": r["pr_rating"], "cl_rating": r["cl_rating"], "reasons": [r["reasons"]],
             "no_new_buys_from": r["no_new_buys_from"], "divest_by": r["divest_by"], "mandate": None, "covered_by": None}
            for r in reads.entries(conn, version["id"])]
    rows += [{k: a[k] for k in ROW_KEYS if k not in ("verdict", "by_committee")}  # Puerto Rico: the US report's answer
             for a in lookup.covered(conn, version)]
    rows = [ceased_answer(r, ceased_by(r["name"], on)) for r in rows]  # as `check` answers a state that ended
    listed = [r["eligible"] for r in rows]
    overrides = reads.active_overrides(conn, on.isoformat(), lookup.known_bound(as_known_on))
    out = lookup.tighten(rows, overrides, mandate, version, lookup.mandate_history(conn, version, mandate))
    return [r | {"fh_excluded": not was} for r, was in zip(out, listed, strict=True)]


def on_date(conn: Connection, as_of: date | None = None, *, edition: int | None = None,
            version_id: int | None = None, as_known_on: date | None = None,
            mandate: Mandate | None = None) -> Listing:
    """The list on a date: the version `edition` / `version_id` / `as_of` picks (default: the one in force today,
    see the module's rules), read for its answer date."""
    check_arguments(edition, version_id, as_of)
    version = lookup.pick_version(conn, edition, as_of, version_id, as_known_on)
    on = answer_date(version, as_of)
    return Listing(version, on, as_known_on, lookup.in_force(version, on, as_known_on),
                   mandate.name if mandate else None, entries_on(conn, version, on, mandate, as_known_on))


def moves(conn: Connection, proposed: Row) -> dict:
    """Who moves if a list awaiting a decision is published today, against the list the desk reads today (the
    committee's overrides in both), and the commands that come next: for the end of `import` and `refresh`."""
    today = clock.today()
    try:
        now = on_date(conn).by_iso2()
    except UserError:
        now = {}
    after = {r["iso2"]: r for r in entries_on(conn, proposed, today) if r["iso2"] and r["kind"] == "country"}
    held = " --accept-held" if proposed["state"] == "held" else ""
    return {
        "list_version": proposed["id"], "edition": proposed["edition"], "state": proposed["state"],
        "newly_excluded": sorted((f"{r['name']} ({k})" for k, r in after.items()
                                  if not r["eligible"] and now.get(k, {}).get("eligible")), key=str.casefold),
        "re_admitted": sorted((f"{r['name']} ({k})" for k, r in after.items()
                               if r["eligible"] and k in now and not now[k]["eligible"]), key=str.casefold),
        "report": f"sovereign report --version {proposed['id']} -o pack.html",
        "publish": f"sovereign publish --edition {proposed['edition']} --approved-by NAME "
                   f"--effective-from YYYY-MM-DD{held}",
    }
