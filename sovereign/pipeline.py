"""The refresh pipeline, one flow for every source (bundled, web, workbooks, a file):

    acquire -> parse/validate -> normalise -> score -> store -> list version -> gate

`refresh` reads as that flow. Acquiring and parsing are `sovereign.acquire` (which calls the
parsers in `scrapers`); each acquired payload is then written in one transaction, so a failure
anywhere leaves the database as it was and the list in force stays in force.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from fiw import methodology, words
from fiw.errors import UnknownNames, UserError
from sovereign import acquire, clock, gate, store
from sovereign.countries import iso_table, load_mapping, normalise, read_errata
from sovereign.decisions import check_backdate, one_line
from sovereign.eligibility import evaluate, stage
from sovereign.payload import Acquired, Payload, archive, remember
from sovereign.payload import read_bundled as read_bundled  # where the bundled snapshot was read before
from sovereign.policy import Policy, policy_text
from sovereign.releases import published
from sovereign.store import reads, writes

if TYPE_CHECKING:
    import sqlite_utils

    from sovereign.settings import Settings

ENTRY_COLUMNS = reads.ENTRY_COLUMNS
HISTORY = "bundled history"
RELEASES_FILE = "data/releases.csv"
# The published fields an edition can carry; an import never replaces stored data with less.
FH_FIELDS = ("status_pub", "pr_rating_pub", "cl_rating_pub", *methodology.INDICATOR_COLUMNS,
             *methodology.SUBCATEGORY_MAX, "pr", "cl", "total")



@dataclass
class Outcome:
    """What a refresh did, for the CLI's summary and the `runs` table."""
    source: str
    editions: dict[int, str] = field(default_factory=dict)  # edition -> new | revised | unchanged | compared
    versions: list[int] = field(default_factory=list)
    entities: int = 0
    parts: list[Outcome] = field(default_factory=list)      # one per payload (a refresh may read several files)
    info: Acquired = field(default_factory=Acquired)        # what acquiring saw: HTTP status, requests, pages
    held: list[dict] = field(default_factory=list)          # editions not stored: {"edition", "reason"}
    revisions: list[dict] = field(default_factory=list)     # list versions rebuilt because FH revised an edition
    notes: list[str] = field(default_factory=list)          # doubts about what was stored anyway
    gate_held: list[str] = field(default_factory=list)      # list versions the anomaly gate held, and why
    run_id: int | None = None                               # the `runs` row that recorded it

    def add(self, part: Outcome) -> None:
        self.parts.append(part)
        self.editions.update(part.editions)
        self.versions += part.versions
        self.entities += part.entities
        self.held += part.held
        self.revisions += part.revisions
        self.notes += part.notes
        self.gate_held += part.gate_held

    @property
    def changed(self) -> bool:
        return bool(self.versions) or any(v != "unchanged" for v in self.editions.values())

    def record(self, run: writes.Run) -> None:
        """What the `runs` row keeps of this outcome."""
        changed = sorted(e for e, v in self.editions.items() if v in ("new", "revised"))
        run.outcome = "held" if self.held or self.gate_held else "ok" if self.changed else "unchanged"
        message: dict[str, Any] = {str(e): v for e, v in sorted(self.editions.items())}
        if self.held:
            message["held"] = self.held
        if self.gate_held:
            message["gate_held"] = self.gate_held
        if self.notes:
            message["notes"] = self.notes
        if self.info.warnings:
            message["warnings"] = self.info.warnings
        if self.info.first_page_failure:
            message["first_page_failure"] = self.info.first_page_failure
        run.message = json.dumps(_trimmed(message))
        run.edition = changed[-1] if changed else self.held[-1]["edition"] if self.held else None


def _trimmed(value: Any, limit: int = 600) -> Any:
    """Each text in a run's record kept short, so the record stays whole (and readable JSON) within its column."""
    if isinstance(value, str):
        return value if len(value) <= limit else value[: limit - 3] + "..."
    if isinstance(value, dict):
        return {k: _trimmed(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [_trimmed(v, limit) for v in value[:20]]
    return value


def refresh(db: sqlite_utils.Database, settings: Settings, source: str, *, edition: int | None = None,
            with_details: bool = False, progress: Callable | None = None,
            say: Callable[[str], None] | None = None) -> Outcome:
    """The flow, for every source; each payload is one transaction. `say` hears what the run should tell its
    operator as it happens (a scores page that failed before the other is tried)."""
    outcome = Outcome(source=source)
    payloads = acquire.payloads(db, settings, source, outcome.info, edition=edition, with_details=with_details,
                                progress=progress, say=say)                                   # acquire, parse, validate
    for payload in payloads:
        part = Outcome(source=payload.uri)
        scored = prepare(payload.frame, payload.uri)                                 # normalise, score
        if not payload.bundled:
            scored = hold_suspects(db, scored, part, hold=payload.kind == "web")     # is it the edition it claims?
            note_not_recomputed(scored, part)
        with db.atomic():
            source_id = store_source(db, settings.db, payload)                       # store: the payload
            if not scored.is_empty():
                latest_before = reads.latest_edition(db)
                previous = stored_edition(db, latest_before, STATUSES)
                store_scores(db, scored, payload, source_id, part)                   # store: the editions
                if payload.bundled:
                    publish_history(db, scored, settings.policy, part)               # list versions in force
                else:
                    propose_newest(db, scored, settings.policy, latest_before, previous, part)  # list version, gate
                    rebuild_revised(db, scored, settings.policy, part)               # corrections reach the list
            for held in part.held:  # what `refresh --accept-held RUN` reads back after review
                held |= {"source": payload.uri, "sha256": payload.sha256}
            if payload.fetched and not part.held:  # a held page is fetched again next time, and held again
                remember(db, settings.db, payload.fetched, payload.kind, payload.suffix, payload.asked)
        part.entities = scored.height
        outcome.add(part)
    return outcome


def hold_suspects(db: sqlite_utils.Database, scored: pl.DataFrame, outcome: Outcome, hold: bool = True) -> pl.DataFrame:
    """Editions whose numbers contradict the label they arrived under are held, not stored: a "new" one that
    repeats the stored previous edition, a "revision" that differs from the stored edition almost everywhere.
    A file an operator imports names its edition deliberately: it is stored, and the doubt is said beside it."""
    latest = reads.latest_edition(db)
    for number in sorted(scored["edition"].unique().to_list()):
        incoming = scored.filter(pl.col("edition") == number)
        stored = stored_edition(db, number, NUMBERS)
        reason = None
        if stored is not None:
            reason = gate.mislabelled(incoming, stored, number)
        elif number > latest and (before := stored_edition(db, latest, NUMBERS)) is not None:
            reason = gate.repeats(incoming, before, latest)
        if reason and not hold:
            outcome.notes.append(f"{words.title(number)}: {reason.split(';')[0]}; stored as the file names it")
        elif reason:
            outcome.held.append({"edition": number, "reason": f"{words.title(number)}: {reason}"})
            outcome.editions[number] = "held"
    held = [h["edition"] for h in outcome.held]
    return scored.filter(~pl.col("edition").is_in(held)) if held else scored


def note_not_recomputed(scored: pl.DataFrame, outcome: Outcome) -> None:
    """An edition stored without PR and CL says so, in the run's output and its `runs` row."""
    for number in sorted(scored["edition"].unique().to_list()):
        if number >= methodology.MECHANICAL_FROM and (
                why := gate.not_recomputed(scored.filter(pl.col("edition") == number))):
            outcome.notes.append(f"{words.title(number)}: {why}")


def prepare(tidy: pl.DataFrame, source: str) -> pl.DataFrame:
    """Normalise names to ISO codes and add the recomputed ratings and status."""
    try:
        named = normalise(tidy, load_mapping(), source)
    except UnknownNames as exc:
        raise page_changed(exc, source) or exc from None
    return methodology.score(named)


MANY_UNKNOWN = 10  # FH adds or renames a place or two a year; this many unknown names at once is the page


def _loose(name: str) -> str:
    """Letters and digits only, accents off: spellings a page's markup can produce for one name."""
    import unicodedata

    bare = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return "".join(c for c in bare.casefold() if c.isalnum())


def page_changed(exc: UnknownNames, source: str) -> UserError | None:
    """Names the mapping knows that fail anyway (a territory that lost its `*`, a name in another form), or many
    unknown names at once, mean the page changed: adding them to the mapping would be the wrong fix."""
    from fiw.names import fold

    mapping = load_mapping()
    kinds: dict[str, set[str]] = {}
    loose: dict[str, str] = {}
    for name, kind in mapping.select("fh_name", "kind").rows():
        kinds.setdefault(fold(name), set()).add(kind)
        loose.setdefault(_loose(name), name)
    other_kind = [n for n, k in exc.names if kinds.get(fold(n)) and k not in kinds[fold(n)]]
    other_form = [f"{n!r} ({loose[_loose(n)]})" for n, _ in exc.names
                  if not kinds.get(fold(n)) and _loose(n) in loose]
    where = f"{source}: " if source else ""
    if other_kind or other_form:
        said = []
        if other_kind:
            named = [f"{n!r} ({'territory' if 't' in kinds[fold(n)] else 'country'} in the mapping)"
                     for n in other_kind[:8]]
            said.append(f"{len(other_kind)} arrived as another kind of place than the mapping knows "
                        f"({', '.join(named)}{' and more' if len(other_kind) > 8 else ''}): territories are no "
                        "longer marked the way the reader knows (a trailing *)")
        if other_form:
            said.append(f"{len(other_form)} arrived in another form of a known name ({', '.join(other_form[:8])})")
        return UserError(f"{where}the page changed: of {len(exc.names)} name(s) not in the country mapping, "
                         + "; ".join(said) + ". Nothing was stored. Do not add these to the mapping: check the page "
                         "by hand, or import FH's workbook (sovereign import FILE)")
    if len(exc.names) >= MANY_UNKNOWN:
        return UserError(f"{where}the page changed: {len(exc.names)} names at once are not in the country mapping "
                         f"({', '.join(repr(n) for n, _ in exc.names[:8])} ...): FH renames a place or two a year, "
                         "so the names are most likely read from the wrong place. Nothing was stored: check the page "
                         "by hand, or import FH's workbook (sovereign import FILE)")
    return None



def digest(frame: pl.DataFrame) -> str:
    buf = io.BytesIO()
    frame.write_csv(buf)
    return hashlib.sha256(buf.getvalue()).hexdigest()



def store_source(db: sqlite_utils.Database, db_path: Path, payload: Payload) -> int:
    sha = hashlib.sha256(payload.raw).hexdigest()
    path = archive(db_path, payload.raw, sha, payload.suffix)
    source_id, _ = writes.add_source(db, payload.kind, payload.uri, sha, len(payload.raw), path, payload.manifest)
    writes.replace_reference(db, load_mapping().to_dicts(), iso_table())
    return source_id


def carried(frame: pl.DataFrame) -> set[str]:
    return {c for c in FH_FIELDS if c in frame.columns and frame.get_column(c).is_not_null().any()}


def store_scores(db: sqlite_utils.Database, scored: pl.DataFrame, payload: Payload, source_id: int,
                 outcome: Outcome) -> None:
    """Each edition stored whole when it is new or revised; an edition the payload carries in less detail
    than is stored is only compared, its differences recorded as conflicts."""
    replace: list[int] = []
    compare: list[int] = []
    for number in sorted(scored["edition"].unique().to_list()):
        part = scored.filter(pl.col("edition") == number)
        (replace if carried(part) >= reads.fields_present(db, number, FH_FIELDS) else compare).append(number)
    changed = store_editions(db, scored.filter(pl.col("edition").is_in(replace)), source_id, outcome)
    for number in compare:
        record_differences(db, scored.filter(pl.col("edition") == number), source_id, payload.uri)
        outcome.editions[number] = "compared"
    entity = dict(scored.select("fh_name", "entity").rows())
    conflicts = [{"entity": entity.get(c["fh_name"], c["fh_name"])} | c | {"source_id": source_id}
                 for c in payload.conflicts]
    if payload.bundled:
        if changed:  # the snapshot's conflicts file is the whole truth about the snapshot
            writes.replace_conflicts(db, conflicts)
    else:
        for c in conflicts:
            writes.add_conflict(db, c)


def _score_rows(scored: pl.DataFrame, edition: int, source_id: int) -> pl.DataFrame:
    cols = ["edition", "fh_name", "kind", "entity", "iso2", "iso3", "parent_iso2", *store.SCORE_COLUMNS]
    return scored.filter(pl.col("edition") == edition).select(cols).with_columns(
        electoral_democracy=pl.col("electoral_democracy").cast(pl.Int8), source_id=pl.lit(source_id)
    ).sort("fh_name", "kind")


def _changes(db: sqlite_utils.Database, edition: int, new: pl.DataFrame) -> list[dict]:
    """Field by field, what a revised edition changes against what was stored."""
    old = pl.DataFrame(reads.scores(db, edition), infer_schema_length=None)
    cols = [c for c in store.SCORE_COLUMNS if c in old.columns]
    key = ["fh_name", "kind"]
    old = old.select(key + cols).cast({c: pl.String for c in cols})
    new = new.select(key + cols).cast({c: pl.String for c in cols})
    out = [{"fh_name": n, "kind": k, "change": "added"} for n, k in new.join(old, on=key, how="anti").select(key).rows()]
    out += [{"fh_name": n, "kind": k, "change": "dropped"}
            for n, k in old.join(new, on=key, how="anti").select(key).rows()]
    both = old.join(new, on=key, suffix="_new")
    for c in cols:
        for row in both.filter(pl.col(c).ne_missing(pl.col(f"{c}_new"))).iter_rows(named=True):
            out.append({"fh_name": row["fh_name"], "kind": row["kind"], "field": c, "old": row[c],
                        "new": row[f"{c}_new"]})
    return out


def store_editions(db: sqlite_utils.Database, scored: pl.DataFrame, source_id: int, outcome: Outcome) -> bool:
    """Write each edition whose content differs from what is stored (new, or a revision); True if any did."""
    meta = scored.group_by("edition").agg(pl.col("year_under_review").first(), pl.col("edition_label").first(),
                                          pl.len())
    changed = False
    for number, year, label, count in meta.sort("edition").iter_rows():
        stored = reads.edition(db, number)
        if year is None:  # workbooks other than the ratings file carry no label: keep the stored one
            year, label = (stored["year_under_review"], stored["label"]) if stored else (number - 1, str(number))
        rows = _score_rows(scored, number, source_id)
        content = digest(rows.drop("source_id"))
        if stored and stored["digest"] == content:
            outcome.editions[number] = "unchanged"
            continue
        changes = _changes(db, number, rows) if stored else []
        writes.replace_edition(db, {"edition": number, "year_under_review": year, "label": label, "entities": count,
                                    "digest": content, "revision": stored["revision"] + 1 if stored else 1,
                                    "loaded_at": store.now(), "source_id": source_id}, rows.to_dicts(), changes)
        outcome.editions[number] = "revised" if stored else "new"
        changed = True
    return changed


STATUSES = {"entity": pl.String, "fh_name": pl.String, "kind": pl.String, "status": pl.String}  # what the gate compares
NUMBERS = {"entity": pl.String, "total": pl.Int16, "pr": pl.Int16, "cl": pl.Int16, "status_pub": pl.String}


def stored_edition(db: sqlite_utils.Database, edition: int, schema: dict[str, Any]) -> pl.DataFrame | None:
    """Some columns of a stored edition, or None when it is not stored."""
    rows = reads.scores(db, edition, tuple(schema))
    return pl.DataFrame(rows, schema=schema) if rows else None


def record_differences(db: sqlite_utils.Database, incoming: pl.DataFrame, source_id: int, name: str) -> None:
    """A less detailed file for a stored edition: its published values are compared, never imposed."""
    edition = incoming["edition"][0]
    columns = ("status_pub", "pr_rating_pub", "cl_rating_pub", "pr", "cl", "total")
    stored = pl.DataFrame(reads.scores(db, edition, ("entity", *columns)), infer_schema_length=None)
    joined = incoming.join(stored, on="entity", how="inner", suffix="_stored")
    for column in columns:
        diff = joined.filter(pl.col(column).is_not_null() & pl.col(f"{column}_stored").is_not_null()
                             & (pl.col(column).cast(pl.String) != pl.col(f"{column}_stored").cast(pl.String)))
        for row in diff.iter_rows(named=True):
            values = f"{name}: {row[column]}; stored: {row[f'{column}_stored']}"
            if not reads.conflict_exists(db, edition, row["entity"], column, values):
                writes.add_conflict(db, {"edition": edition, "entity": row["entity"], "fh_name": row["fh_name"],
                                         "field": column, "values": values, "kept": "stored (more detailed)",
                                         "source_id": source_id})


def previous_entries(db: sqlite_utils.Database, before: date) -> pl.DataFrame | None:
    """Eligibility in the version in force the day before `before`: what staging compares against."""
    row = reads.published_before(db, before.isoformat())
    return reads.eligibility(db, row["id"]) if row else None


def with_history(db: reads.Connection, scored: pl.DataFrame, policy: Policy, edition: int) -> pl.DataFrame:
    """What a policy's history rules (persistence, decline) read: the editions before `edition` that the
    payload does not carry, from the store, beside the payload's own."""
    if not policy.needs_history:
        return scored
    carried_editions = set(scored["edition"].unique().to_list())
    missing = [e for e in reads.stored_editions(db) if e < edition and e not in carried_editions]
    if not missing:
        return scored
    stored = reads.scores_frame(db, missing)
    labels = {e: (reads.edition(db, e) or {}).get("label") for e in stored["edition"].unique().to_list()}
    stored = stored.with_columns(edition_label=pl.col("edition").replace_strict(labels, return_dtype=pl.String))
    return pl.concat([scored, stored.select([c for c in scored.columns if c in stored.columns])],
                     how="diagonal_relaxed")


def build_version(db: sqlite_utils.Database, scored: pl.DataFrame, policy: Policy, edition: int, state: str,
                  effective_from: date | None, approved_by: str | None, reason: str | None = None) -> int | None:
    """A list version for one edition, unless the newest one for it already holds the same entries."""
    entries = evaluate(with_history(db, scored, policy, edition), policy, edition)
    if effective_from is not None:
        entries = stage(entries, previous_entries(db, effective_from), effective_from, policy)
    else:
        entries = entries.with_columns(no_new_buys_from=pl.lit(None, pl.String), divest_by=pl.lit(None, pl.String))
    entries = entries.select(ENTRY_COLUMNS)
    content = digest(entries)
    latest = reads.newest_version(db, edition)
    same = (content, policy.digest, state, effective_from.isoformat() if effective_from else None)
    if latest and not latest["withdrawn"] and (latest["entries_digest"], latest["policy_digest"], latest["state"],
                                               latest["effective_from"]) == same:
        return None
    return writes.add_version(db, {
        "edition": edition, "policy_digest": policy.digest, "policy": policy_text(policy), "entries_digest": content,
        "state": state, "effective_from": effective_from.isoformat() if effective_from else None,
        "approved_by": approved_by, "created_at": store.now(),
        "published_at": store.now() if state == "published" else None, "reason": reason,
    }, entries.with_columns(eligible=pl.col("eligible").cast(pl.Int8)).to_dicts())


def publish_history(db: sqlite_utils.Database, scored: pl.DataFrame, policy: Policy, outcome: Outcome) -> None:
    """The bundled history: one published version per edition, in force from FH's publication date
    (data/releases.csv). A version the history published on another date is withdrawn, as a record,
    and its successor published: nothing already recorded is edited."""
    for number in sorted(outcome.editions):
        effective = published(number)
        current = reads.latest_published(db, number)
        ours = current if current is not None and current["approved_by"] == HISTORY else None
        moved = ours is not None and ours["effective_from"] != effective.isoformat()
        if ours is not None and moved:
            writes.withdraw(db, ours["id"], HISTORY, f"effective date corrected to {effective}, the day "
                            f"{words.title(number)} became public ({RELEASES_FILE})")
        version = build_version(db, scored, policy, number, "published", effective, HISTORY)
        if version:
            outcome.versions.append(version)
            if ours is not None and not moved:  # same day, other entries (a corrected mapping): one list per edition
                writes.withdraw(db, ours["id"], HISTORY, f"rebuilt from the bundled data as version {version}")


def propose_newest(db: sqlite_utils.Database, scored: pl.DataFrame, policy: Policy, latest_before: int,
                   previous: pl.DataFrame | None, outcome: Outcome) -> None:
    """A new latest edition gets a list version through the anomaly gate: held, proposed, or (auto_publish)
    published on its release date."""
    newest = max(outcome.editions, default=0)
    if newest <= latest_before or outcome.editions[newest] != "new":
        return
    reasons = gate.check(scored.filter(pl.col("edition") == newest), previous, policy)
    if reasons:
        state, effective, by, why = "held", None, None, "; ".join(reasons)
    elif policy.auto_publish:  # found on FH's site or handed in today: public today
        state, effective, by, why = "published", clock.today(), "auto_publish", None
    else:
        state, effective, by, why = "proposed", None, None, None
    version = build_version(db, scored, policy, newest, state, effective, by, why)
    if version:
        outcome.versions.append(version)
    if state == "held":
        outcome.gate_held.append(f"{words.title(newest)}: {why}")


def rebuild_revised(db: sqlite_utils.Database, scored: pl.DataFrame, policy: Policy, outcome: Outcome) -> None:
    """FH revised the newest edition: its list is built again from the corrected scores,
    through the gate. A proposed or held version is replaced (withdrawn, as a record); a published one stays as
    recorded and a new proposed version says what the revision changes."""
    newest = reads.latest_edition(db)
    for number in sorted(e for e, v in outcome.editions.items() if v == "revised"):
        if number < newest:  # a newer edition's list supersedes it; history is not proposed again
            continue
        old = reads.newest_version(db, number, ("proposed", "held", "published"))
        if old is None:
            continue
        fresh = evaluate(with_history(db, scored, policy, number), policy, number)
        before = reads.eligibility(db, old["id"])
        moved = fresh.join(before.select("entity", pl.col("eligible").alias("was")), on="entity", how="full",
                           coalesce=True).filter(pl.col("eligible").ne_missing(pl.col("was")))
        changed = {c["fh_name"] for c in reads.revision_changes(db, number)}
        why = (f"revision of edition {number}: {len(changed)} entities changed, {moved.height} eligibility "
               f"change{'' if moved.height == 1 else 's'}")
        earlier = [e for e in reads.published_editions(db) if e < number]
        reasons = gate.check(scored.filter(pl.col("edition") == number),
                             stored_edition(db, earlier[-1], STATUSES) if earlier else None, policy)
        state = "held" if reasons else "proposed"
        version = build_version(db, scored, policy, number, state, None, None,
                                why + (f"; held: {'; '.join(reasons)}" if reasons else ""))
        if version is None:
            continue
        if old["state"] != "published":
            writes.withdraw(db, old["id"], "sovereign", f"replaced by list version {version}: {why}")
        outcome.versions.append(version)
        if reasons:
            outcome.gate_held.append(f"{words.title(number)}: {why}; held: {'; '.join(reasons)}")
        outcome.revisions.append({"edition": number, "replaces": old["id"], "replaced_state": old["state"],
                                  "version": version, "state": state, "reason": why,
                                  "eligibility_changes": sorted(moved["entity"].to_list())})


def publish(db: sqlite_utils.Database, policy: Policy, approved_by: str, effective_from: date,
            edition: int | None = None, accept_held: bool = False, backdate_reason: str | None = None,
            actor: str = "", minutes: str | None = None, os_user: str = "") -> Published:
    """Put the newest proposed version (of `edition`) in force from `effective_from`, or, when the policy
    asks for two approvers, record this approval and put it in force when a second, different person
    approves the same date. One transaction."""
    approved_by = one_line(approved_by, "--approved-by: name who approved the list, on one line")
    reason = check_backdate("--effective-from", effective_from, backdate_reason)
    row = reads.newest_version(db, edition, ("proposed", "held") if accept_held else ("proposed",))
    if row is None:
        held = reads.newest_version(db, edition, ("held",))
        if held:
            raise UserError(f"version {held['id']} is held ({held['reason']}); review it, then publish with --accept-held")
        raise UserError("nothing to publish: no proposed list version" + (f" for edition {edition}" if edition else ""))
    latest = reads.latest_effective(db)
    if latest and effective_from.isoformat() < latest:
        raise UserError(f"--effective-from {effective_from} is before the list in force from {latest}; "
                        "a new list cannot take effect in the past of the one it follows")
    staged = stage(reads.eligibility(db, row["id"]), previous_entries(db, effective_from + timedelta(days=1)),
                   effective_from, policy)
    staging = staged.filter(pl.col("divest_by").is_not_null()).select("entity", "no_new_buys_from", "divest_by").rows()
    subject = f"list version {row['id']} ({words.title(row['edition'])})"
    from sovereign import people

    approved_by, person_key = people.approver(db, approved_by, policy.approvals_required)
    minutes = one_line(minutes, "--minutes: one line") if minutes and minutes.strip() else None
    with db.atomic():
        agreeing, moved = people.record_approval(
            db, "approvals", reads.approvals(db, row["id"]), {"version_id": row["id"], "minutes": minutes},
            approved_by, person_key, effective_from.isoformat(), os_user or None)
        if len(agreeing) < policy.approvals_required:
            writes.audit(db, actor or approved_by, "approve", subject, effective_from.isoformat(), reason,
                         {"approved_by": approved_by, "os_user": os_user, "approvals": agreeing, "moved_from": moved,
                          "minutes": minutes, "required": policy.approvals_required})
            return Published(int(row["id"]), False, agreeing, policy.approvals_required, moved)
        approved_by = " and ".join(agreeing)
        noted = [a["minutes"] for a in reads.approvals(db, row["id"]) if a["minutes"]]
        minutes = "; ".join(dict.fromkeys(noted)) or None
        if not writes.mark_published(db, row["id"], approved_by, effective_from.isoformat(), staging, reason, minutes):
            raise UserError(f"list version {row['id']} was published or withdrawn meanwhile: nothing changed")
        writes.audit(db, actor or approved_by, "publish", subject, effective_from.isoformat(), reason,
                     {"approved_by": approved_by, "os_user": os_user, "state_before": row["state"],
                      "newly_excluded": len(staging), "minutes": minutes, "moved_from": moved})
    return Published(int(row["id"]), True, agreeing, policy.approvals_required, moved)


@dataclass(frozen=True)
class Published:
    """What a publish did: put the version in force, or (two approvers required) recorded one approval."""
    version: int
    in_force: bool
    approvers: list[str]
    required: int
    moved_from: str | None = None


def withdraw(db: sqlite_utils.Database, version_id: int, by: str, reason: str, actor: str = "") -> int | None:
    """Take a published version out before it takes effect (a mistyped date, a wrong list): recorded beside it,
    never by editing it. A version already in force is replaced by publishing a new one, not withdrawn."""
    by = one_line(by, "a withdrawal needs --by and a one-line --reason")
    reason = one_line(reason, "a withdrawal needs --by and a one-line --reason")
    row = reads.version(db, version_id)
    if row is None:
        raise UserError(f"no list version {version_id}")
    if row["state"] != "published" or row["withdrawn"]:
        raise UserError(f"list version {version_id} is {row['state']}{' and withdrawn' if row['withdrawn'] else ''}: "
                        "only a published version can be withdrawn")
    if row["effective_from"] <= clock.today().isoformat():
        raise UserError(f"list version {version_id} has been in force since {row['effective_from']}: publish its "
                        "successor instead of withdrawing what the desk was told")
    with db.atomic():
        writes.withdraw(db, version_id, by.strip(), reason.strip())
        again = repropose(db, row)
        writes.audit(db, actor or by.strip(), "withdraw", f"list version {version_id} ({words.title(row['edition'])})",
                     row["effective_from"], reason.strip(), {"withdrawn_by": by.strip(), "proposed_again_as": again})
    return again


def repropose(db: sqlite_utils.Database, withdrawn: dict) -> int | None:
    """A withdrawn version's list proposed again as a new version (its entries, its policy, no staging dates),
    so the edition can be published on the right date; nothing when a newer version of the edition awaits."""
    newest = reads.newest_version(db, withdrawn["edition"], ("proposed", "held"))
    if newest and newest["id"] > withdrawn["id"]:
        return None
    entries = pl.DataFrame(reads.entries(db, withdrawn["id"]), infer_schema_length=None).with_columns(
        no_new_buys_from=pl.lit(None, pl.String), divest_by=pl.lit(None, pl.String)).select(ENTRY_COLUMNS)
    return writes.add_version(db, {
        "edition": withdrawn["edition"], "policy_digest": withdrawn["policy_digest"], "policy": withdrawn["policy"],
        "entries_digest": digest(entries), "state": "proposed", "effective_from": None, "approved_by": None,
        "created_at": store.now(), "published_at": None,
        "reason": f"proposed again after list version {withdrawn['id']} was withdrawn",
    }, entries.with_columns(eligible=pl.col("eligible").cast(pl.Int8)).to_dicts())


def verify_stored(conn: reads.Connection, editions: list[int] | None = None) -> dict:
    """`verify.report` over what the database holds (all editions, or some), its conflicts included; for the
    whole database also every list version against its digest and SQLite's own quick_check."""
    from sovereign import archive
    from sovereign.verify import report

    result = report(reads.scores_frame(conn, editions), read_errata(), reads.conflicts_frame(conn, editions))
    if editions is None:
        result["tampered_versions"] = [
            {"list_version": v["id"], "edition": v["edition"], "state": v["state"]} for v in reads.versions(conn)
            if not reads.version_matches(conn, v)]
        result["stale_versions"] = stale_versions(conn)
        result["quick_check"] = reads.quick_check(conn)
        result["archive"] = archive.check(conn)
        result["ok"] = (result["ok"] and not result["tampered_versions"] and not result["stale_versions"]
                        and result["quick_check"] == "ok" and archive.consistent(result["archive"]))
    return result


def stale_versions(conn: reads.Connection) -> list[dict]:
    """The lists that answer today and tomorrow (the edition in force and any newer one): each edition's newest
    version built again from the scores stored for it, under its own recorded policy. Where an entity's
    eligibility or status differs, the list no longer agrees with the scores it claims to be built from (a
    revision that never reached the list). Older versions, and the history, are proven by their digests."""
    from sovereign.policy import stored_policy

    in_force = reads.version_in_force(conn, clock.today().isoformat())
    current = [e for e in {v["edition"] for v in reads.versions(conn)} if not in_force or e >= in_force["edition"]]
    scores = reads.scores_frame(conn, current) if current else pl.DataFrame()
    labelled = {e: (reads.edition(conn, e) or {}).get("label") for e in current}
    if scores.is_empty():
        return []
    out = []
    for number in sorted(current):
        newest = reads.newest_version(conn, number, ("proposed", "held", "published"))
        if newest is None:
            continue
        edition = scores.filter(pl.col("edition") == number).with_columns(
            edition_label=pl.lit(labelled[number], pl.String))
        checked = [newest]
        if in_force and in_force["edition"] == number and in_force["id"] != newest["id"]:
            checked.append(in_force)  # the desk's answers today come from this one, whatever is newer
        for version in checked:
            policy = stored_policy(version["policy"])
            built = evaluate(with_history(conn, edition, policy, number), policy, number).select(
                "entity", "eligible", "status")
            listed = pl.DataFrame(reads.entries(conn, version["id"]), infer_schema_length=None).select(
                "entity", pl.col("eligible").cast(pl.Boolean), "status")
            both = built.join(listed, on="entity", how="full", coalesce=True, suffix="_listed")
            differ = both.filter(pl.col("eligible").ne_missing(pl.col("eligible_listed"))
                                 | pl.col("status").ne_missing(pl.col("status_listed")))
            if not differ.is_empty():
                out.append({"list_version": version["id"], "edition": number, "state": version["state"],
                            "entities": sorted(differ["entity"].to_list()),
                            "in_force": version is in_force,
                            "successor": newest["id"] if version is not newest else None,
                            "successor_state": newest["state"] if version is not newest else None})
    return out

