"""A refresh run and its report, the same for every surface: the CLI (`refresh`, `import`), the API
(POST /admin/refresh) and the scheduler each call `run`, then read `report` (as data) or `summary` (as the
operator's lines), instead of each building its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sovereign import pipeline
from sovereign.store import reads, writes

if TYPE_CHECKING:
    import sqlite_utils

    from sovereign.pipeline import Outcome
    from sovereign.settings import Settings


def run(db: sqlite_utils.Database, settings: Settings, source: str, *, trigger: str, command: str, actor: str,
        edition: int | None = None, with_details: bool = False, progress: Callable | None = None,
        say: Callable[[str], None] | None = None, then: Callable[[Outcome], dict | None] | None = None) -> Outcome:
    """The one refresh flow, recorded in `runs` (and the audit trail) under `trigger` and `command`. `then` runs
    inside the record (its failure is the run's); what it returns, if anything, is what the run keeps."""
    import json

    with writes.recorded_run(db, trigger, command, actor) as recorded:
        outcome = pipeline.refresh(db, settings, source, edition=edition, with_details=with_details,
                                   progress=progress, say=say)
        outcome.run_id = recorded.id
        outcome.record(recorded)
        kept = then(outcome) if then else None
        if kept is not None:
            recorded.message = json.dumps(kept, default=str)
    return outcome


def report(db: reads.Connection, outcome: Outcome) -> dict[str, Any]:
    """What a refresh did, as data: each edition and what became of it, the list versions it built, what it held,
    the revisions it rebuilt, and for each version awaiting a decision who moves if it is published."""
    from sovereign import listing

    waiting = [row for row in (reads.version(db, v) for v in outcome.versions)
               if row is not None and row["state"] in ("proposed", "held")]
    return {"editions": {str(k): v for k, v in outcome.editions.items()}, "versions": outcome.versions,
            "held": outcome.held, "revisions": outcome.revisions,
            "next": [listing.moves(db, row) for row in waiting],
            "new": sorted(e for e, v in outcome.editions.items() if v == "new"),
            "revised": sorted(e for e, v in outcome.editions.items() if v == "revised"),
            "http_status": outcome.info.status}


def summary(db: reads.Connection, db_path: Path, source: str, outcome: Outcome) -> Iterator[str]:
    """What the operator reads after a refresh or an import: what was fetched, then each file's editions and
    list versions, and what comes next."""
    info = outcome.info
    if source == "bundled":
        yield from _bundled(db_path, outcome)
        return
    if info.status is not None:
        if info.first_page_failure:
            yield f"First scores page failed: {info.first_page_failure}"
        yield (f"Fetched {info.url}: HTTP {info.status}, {info.requests or 0} request(s)"
               + (f", {info.pages} country pages" if info.pages else "") + ".")
        if info.status == 304 and not outcome.editions:
            yield "Not modified since the last refresh: nothing changed."
            return
        if info.signals:
            yield f"Edition {info.edition}, named by: " + ", ".join(info.signals) + "."
        if info.not_covered:
            yield (f"  {len(info.not_covered)} row(s) say FH's Freedom in the World does not cover them, "
                   f"skipped: {', '.join(info.not_covered)}")
        for c in info.disagreements:
            yield f"  country page disagrees with the table: {c['fh_name']} {c['field']}: {c['values']}"
        if info.skipped_pages:
            yield (f"  {len(info.skipped_pages)} country page(s) skipped (their details stay missing; the "
                   "table is stored):")
            for line in info.skipped_pages:
                yield f"    {line}"
    elif info.requests is not None:
        yield f"{info.requests} request(s)."
        for note in info.skipped_files:
            yield f"  skipped {note}"
    yield from _imported(db, outcome)


def _bundled(path: Path, outcome: Outcome) -> Iterator[str]:
    counts = {k: sum(1 for v in outcome.editions.values() if v == k) for k in ("new", "revised", "unchanged")}
    editions = sorted(outcome.editions)
    yield f"Database: {path}"
    yield (f"Loaded the bundled snapshot: {len(editions)} editions ({editions[0]}-{editions[-1]}), "
           f"{outcome.entities} edition-entity rows.")
    if outcome.changed:
        yield (f"Editions: {counts['new']} new, {counts['revised']} revised, {counts['unchanged']} unchanged; "
               f"{len(outcome.versions)} list version(s) published.")
    else:
        yield f"Nothing changed: all {counts['unchanged']} editions and their lists are already stored."


def _imported(db: reads.Connection, outcome: Outcome) -> Iterator[str]:
    for part in outcome.parts:
        by: dict[str, list[int]] = {}
        for e, what in sorted(part.editions.items()):
            by.setdefault(what, []).append(e)
        yield f"Imported {Path(part.source).name}: {part.entities} edition-entity rows."
        for what in ("new", "revised", "unchanged", "compared"):
            if by.get(what):
                label = {"compared": "compared only (stored data is more detailed; differences recorded as "
                                     "conflicts)"}.get(what, what)
                yield f"  {label}: {span(by[what])}"
        for held in part.held:
            yield f"  HELD, not stored: {held['reason']}"
        for note in part.notes:
            yield f"  Note: {note}"
        for v in part.versions:
            row = reads.version(db, v) or {}
            yield (f"List version {v} for edition {row['edition']}: {row['state']}."
                   + (f" {'Held because' if row['state'] == 'held' else 'Why'}: {row['reason']}"
                      if row["reason"] else ""))
        for v in part.versions:
            yield from _next_step(db, reads.version(db, v) or {})
        for r in part.revisions:
            yield (f"  It replaces version {r['replaces']} ({r['replaced_state']}"
                   + (", which stays as recorded until the new one is published)" if r["replaced_state"] ==
                      "published" else ", now withdrawn)")
                   + (f"; eligibility changes: {', '.join(r['eligibility_changes'])}" if r["eligibility_changes"]
                      else "") + ".")


def _next_step(db: reads.Connection, row: dict) -> Iterator[str]:
    """Who moves if a list awaiting a decision is published, and the commands that come next."""
    from sovereign import listing

    if row.get("state") not in ("proposed", "held"):
        return
    m = listing.moves(db, row)
    yield (f"  If published: {len(m['newly_excluded'])} newly excluded ({', '.join(m['newly_excluded']) or 'none'}); "
           f"{len(m['re_admitted'])} re-admitted ({', '.join(m['re_admitted']) or 'none'}).")
    yield f"  Next: read the pack (`{m['report']}`), then `{m['publish']}`."


def span(editions: list[int]) -> str:
    """[2003, 2004, 2005, 2013] -> '2003-2005, 2013' (FH has no 2002 edition, so 2001-2003 is a run)."""
    runs: list[list[int]] = []
    for e in editions:
        if runs and e - runs[-1][-1] <= (2 if runs[-1][-1] == 2001 else 1):
            runs[-1].append(e)
        else:
            runs.append([e])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)
