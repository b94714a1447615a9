"""The refresh pipeline: acquire -> parse/validate -> normalise -> score -> store -> list.

Each step but `store` is a pure function over frames; `refresh_*` runs them in order and writes the
result in one transaction, so a failure anywhere leaves the database as it was.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import sqlite_utils

from scrapers.freedomhouse.tidy import TIDY_SCHEMA, validate
from sovereign import methodology, paths, store
from sovereign.countries import iso_table, load_mapping, normalise, read_errata
from sovereign.eligibility import effective_date, evaluate, stage
from sovereign.policy import Policy, policy_text

ENTRY_COLUMNS = ("entity", "iso2", "fh_name", "kind", "status", "eligible", "reasons", "pr", "cl", "total",
                 "pr_rating", "cl_rating", "no_new_buys_from", "divest_by")


@dataclass
class Outcome:
    """What a refresh did, for the CLI's summary and the `runs` table."""
    source: str
    editions: dict[int, str] = field(default_factory=dict)  # edition -> new | revised | unchanged
    versions: list[int] = field(default_factory=list)
    entities: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.versions) or any(v != "unchanged" for v in self.editions.values())

    def record(self, run: store.Run) -> None:
        """What the `runs` row keeps of this outcome."""
        changed = sorted(e for e, v in self.editions.items() if v in ("new", "revised"))
        run.outcome = "ok" if self.changed else "unchanged"
        run.message = json.dumps({str(e): v for e, v in sorted(self.editions.items())})
        run.edition = changed[-1] if changed else None


def read_bundled() -> tuple[pl.DataFrame, bytes, dict, pl.DataFrame]:
    """The bundled snapshot, checked again on the way in (a hand-edited data/ file is caught here)."""
    raw = paths.SCORES.read_bytes()
    schema = {k: v for k, v in TIDY_SCHEMA.items() if k != "row"} | {"source": pl.String}
    frame = pl.read_csv(io.BytesIO(raw), schema=schema).with_row_index("row", offset=2).with_columns(
        pl.col("row").cast(pl.Int32))
    validate(frame, paths.SCORES.name, None, read_errata())
    manifest = json.loads(paths.MANIFEST.read_text(encoding="utf-8"))
    conflicts = pl.read_csv(paths.CONFLICTS, schema_overrides={"edition": pl.Int16})
    return frame.drop("row"), raw, manifest, conflicts


def prepare(tidy: pl.DataFrame, source: str) -> pl.DataFrame:
    """Normalise names to ISO codes and add the recomputed ratings and status."""
    return methodology.score(normalise(tidy, load_mapping(), source))


def digest(frame: pl.DataFrame) -> str:
    buf = io.BytesIO()
    frame.write_csv(buf)
    return hashlib.sha256(buf.getvalue()).hexdigest()


def archive(db_path: Path, raw: bytes, sha: str, suffix: str) -> str:
    """Raw bytes kept beside the database, named by their hash, so every source can be re-read."""
    folder = Path(db_path).parent / "archive"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{sha}{suffix}"
    if not target.exists():
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(raw)
        tmp.replace(target)
    return str(target)


def _score_rows(scored: pl.DataFrame, edition: int, source_id: int) -> pl.DataFrame:
    cols = ["edition", "fh_name", "kind", "entity", "iso2", "iso3", "parent_iso2", *store.SCORE_COLUMNS]
    return scored.filter(pl.col("edition") == edition).select(cols).with_columns(
        electoral_democracy=pl.col("electoral_democracy").cast(pl.Int8), source_id=pl.lit(source_id)
    ).sort("fh_name", "kind")


def _changes(db: sqlite_utils.Database, edition: int, new: pl.DataFrame) -> list[dict]:
    """Field by field, what a revised edition changes against what was stored."""
    old = pl.DataFrame(list(db.query("SELECT * FROM scores WHERE edition = ?", [edition])), infer_schema_length=None)
    cols = [c for c in store.SCORE_COLUMNS if c in old.columns]
    key = ["fh_name", "kind"]
    old, new = old.select(key + cols).cast({c: pl.String for c in cols}), new.select(key + cols).cast({c: pl.String for c in cols})
    out = [{"fh_name": n, "kind": k, "change": "added"} for n, k in new.join(old, on=key, how="anti").select(key).rows()]
    out += [{"fh_name": n, "kind": k, "change": "dropped"} for n, k in old.join(new, on=key, how="anti").select(key).rows()]
    both = old.join(new, on=key, suffix="_new")
    for c in cols:
        for row in both.filter(pl.col(c).ne_missing(pl.col(f"{c}_new"))).iter_rows(named=True):
            out.append({"fh_name": row["fh_name"], "kind": row["kind"], "field": c, "old": row[c], "new": row[f"{c}_new"]})
    return out


def store_editions(db: sqlite_utils.Database, scored: pl.DataFrame, source_id: int, outcome: Outcome) -> None:
    """Write each edition whose content differs from what is stored (new, or a revision)."""
    meta = scored.group_by("edition").agg(pl.col("year_under_review").first(), pl.col("edition_label").first(), pl.len())
    for edition, year, label, count in meta.sort("edition").iter_rows():
        if year is None:  # workbooks other than the ratings file carry no label: keep the stored one
            known = db.execute("SELECT year_under_review, label FROM editions WHERE edition = ?", [edition]).fetchone()
            year, label = known if known else (edition - 1, str(edition))
        rows = _score_rows(scored, edition, source_id)
        content = digest(rows.drop("source_id"))
        stored = db.execute("SELECT digest, revision FROM editions WHERE edition = ?", [edition]).fetchone()
        if stored and stored[0] == content:
            outcome.editions[edition] = "unchanged"
            continue
        revision = stored[1] + 1 if stored else 1
        changes = _changes(db, edition, rows) if stored else []
        db.execute("DELETE FROM scores WHERE edition = ?", [edition])
        db["editions"].upsert({"edition": edition, "year_under_review": year, "label": label, "entities": count,
                               "digest": content, "revision": revision, "loaded_at": store.now(),
                               "source_id": source_id}, pk="edition")
        db["edition_revisions"].insert({"edition": edition, "revision": revision, "loaded_at": store.now(),
                                        "source_id": source_id, "changes": json.dumps(changes)})
        db["scores"].insert_all(rows.to_dicts(), batch_size=2000)
        outcome.editions[edition] = "revised" if stored else "new"


def sync_reference(db: sqlite_utils.Database) -> None:
    """The mapping and ISO table that lookups resolve names and codes against."""
    db.execute("DELETE FROM countries")
    db["countries"].insert_all(load_mapping().to_dicts())
    db.execute("DELETE FROM iso_codes")
    db["iso_codes"].insert_all(iso_table())


def previous_entries(db: sqlite_utils.Database, before: date) -> pl.DataFrame | None:
    row = db.execute(
        "SELECT id FROM list_versions WHERE state = 'published' AND effective_from < ? "
        "ORDER BY effective_from DESC, id DESC LIMIT 1", [before.isoformat()]).fetchone()
    if not row:
        return None
    return pl.DataFrame(list(db.query("SELECT entity, eligible FROM list_entries WHERE version_id = ?", [row[0]])),
                        schema={"entity": pl.String, "eligible": pl.Boolean})


def build_version(db: sqlite_utils.Database, scored: pl.DataFrame, policy: Policy, edition: int, state: str,
                  effective_from: date | None, approved_by: str | None, reason: str | None = None) -> int | None:
    """A list version for one edition, unless the newest one for it already holds the same entries."""
    entries = evaluate(scored, policy, edition)
    if effective_from is not None:
        entries = stage(entries, previous_entries(db, effective_from), effective_from, policy)
    else:
        entries = entries.with_columns(no_new_buys_from=pl.lit(None, pl.String), divest_by=pl.lit(None, pl.String))
    entries = entries.select(ENTRY_COLUMNS)
    content = digest(entries)
    latest = db.execute("SELECT entries_digest, policy_digest, state FROM list_versions WHERE edition = ? "
                        "ORDER BY id DESC LIMIT 1", [edition]).fetchone()
    if latest and latest[0] == content and latest[1] == policy.digest and latest[2] == state:
        return None
    table = db["list_versions"]
    table.insert({
        "edition": edition, "policy_digest": policy.digest, "policy": policy_text(policy), "entries_digest": content,
        "state": state, "effective_from": effective_from.isoformat() if effective_from else None,
        "approved_by": approved_by, "created_at": store.now(),
        "published_at": store.now() if state == "published" else None, "reason": reason,
    })
    version = table.last_pk
    db["list_entries"].insert_all(
        entries.with_columns(version_id=pl.lit(version), eligible=pl.col("eligible").cast(pl.Int8)).to_dicts(),
        batch_size=2000,
    )
    return version


def refresh_bundled(db: sqlite_utils.Database, db_path: Path, policy: Policy) -> Outcome:
    """Load the bundled 1973-2026 history and publish one list version per edition (1 March)."""
    tidy, raw, manifest, conflicts = read_bundled()
    scored = prepare(tidy, paths.SCORES.name)
    sha = hashlib.sha256(raw).hexdigest()
    outcome = Outcome(source="bundled")
    with db.atomic():
        source_id, _ = store.add_source(
            db, "bundled", f"data/{paths.SCORES.name}", sha, len(raw), archive(db_path, raw, sha, ".csv"), manifest)
        sync_reference(db)
        store_editions(db, scored, source_id, outcome)
        if any(v != "unchanged" for v in outcome.editions.values()):
            db.execute("DELETE FROM conflicts")
            db["conflicts"].insert_all(conflicts.with_columns(source_id=pl.lit(source_id)).to_dicts())
        for edition in sorted(outcome.editions):
            version = build_version(db, scored, policy, edition, "published", effective_date(edition),
                                    "bundled history")
            if version:
                outcome.versions.append(version)
    outcome.entities = scored.height
    return outcome




# The published fields an edition can carry; an import never replaces stored data with less.
FH_FIELDS = ("status_pub", "pr_rating_pub", "cl_rating_pub", *methodology.INDICATOR_COLUMNS,
             *methodology.SUBCATEGORY_MAX, "pr", "cl", "total")


def carried(frame: pl.DataFrame) -> set[str]:
    return {c for c in FH_FIELDS if c in frame.columns and frame.get_column(c).is_not_null().any()}


def _stored_fields(db: sqlite_utils.Database, edition: int) -> set[str]:
    counts = db.execute(f"SELECT {', '.join(f'COUNT({c})' for c in FH_FIELDS)} FROM scores WHERE edition = ?",
                        [edition]).fetchone()
    return {c for c, n in zip(FH_FIELDS, counts) if n}


def read_file(path: Path, edition: int | None = None) -> tuple[pl.DataFrame, bytes]:
    """An operator's file: any FH workbook (by its sheets) or a scores CSV in the web table's layout."""
    from scrapers.freedomhouse import read_scores_csv, read_workbook

    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        from sovereign.errors import UserError

        raise UserError(f"{path}: cannot read ({exc.strerror})") from None
    errata = read_errata()
    if raw[:4] == b"PK\x03\x04" or path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        frame = read_workbook(path, data=raw, errata=errata)
    else:
        frame = read_scores_csv(path, edition=edition, data=raw, errata=errata)
    return frame.drop("row"), raw


def import_file(db: sqlite_utils.Database, db_path: Path, path: Path, policy: Policy,
                edition: int | None = None) -> Outcome:
    """Store what an operator's file adds or revises; propose a list for a new latest edition."""
    tidy, raw = read_file(path, edition)
    return ingest(db, db_path, prepare(tidy, Path(path).name), raw, "file", Path(path).name,
                  Path(path).suffix.lower(), policy)


def ingest(db: sqlite_utils.Database, db_path: Path, scored: pl.DataFrame, raw: bytes, kind: str, uri: str,
           suffix: str, policy: Policy, conflicts: list[dict] | None = None, before_commit=None) -> Outcome:
    """One transaction: the source, each edition (new, revised, or only compared when the file carries
    less than is stored), and for a new latest edition a list version through the anomaly gate."""
    from sovereign import gate

    sha = hashlib.sha256(raw).hexdigest()
    outcome = Outcome(source=uri)
    with db.atomic():
        source_id, _ = store.add_source(db, kind, uri, sha, len(raw), archive(db_path, raw, sha, suffix))
        sync_reference(db)
        latest_before = db.execute("SELECT MAX(edition) FROM editions").fetchone()[0] or 0
        previous = _stored_edition(db, latest_before)
        replace, compare = [], []
        for edition_ in sorted(scored["edition"].unique().to_list()):
            part = scored.filter(pl.col("edition") == edition_)
            (replace if carried(part) >= _stored_fields(db, edition_) else compare).append(edition_)
        store_editions(db, scored.filter(pl.col("edition").is_in(replace)), source_id, outcome)
        for edition_ in compare:
            _record_differences(db, scored.filter(pl.col("edition") == edition_), source_id, uri)
            outcome.editions[edition_] = "compared"
        for c in conflicts or []:
            db["conflicts"].insert(c | {"source_id": source_id})
        newest = max(outcome.editions)
        if newest > latest_before and outcome.editions[newest] == "new":
            new = scored.filter(pl.col("edition") == newest)
            reasons = gate.check(new, previous, policy)
            if reasons:
                state, eff, by, why = "held", None, None, "; ".join(reasons)
            elif policy.auto_publish:
                state, eff, by, why = "published", effective_date(newest), "auto_publish", None
            else:
                state, eff, by, why = "proposed", None, None, None
            version = build_version(db, scored, policy, newest, state, eff, by, why)
            if version:
                outcome.versions.append(version)
        if before_commit:
            before_commit(source_id)
    outcome.entities = scored.height
    return outcome


def _stored_edition(db: sqlite_utils.Database, edition: int) -> pl.DataFrame | None:
    rows = list(db.query("SELECT entity, fh_name, kind, status FROM scores WHERE edition = ?", [edition]))
    return pl.DataFrame(rows, schema={"entity": pl.String, "fh_name": pl.String, "kind": pl.String,
                                      "status": pl.String}) if rows else None


def _record_differences(db: sqlite_utils.Database, incoming: pl.DataFrame, source_id: int, name: str) -> None:
    """A less detailed file for a stored edition: its published values are compared, never imposed."""
    edition = incoming["edition"][0]
    stored = pl.DataFrame(list(db.query("SELECT entity, status_pub, pr_rating_pub, cl_rating_pub, pr, cl, total "
                                        "FROM scores WHERE edition = ?", [edition])), infer_schema_length=None)
    joined = incoming.join(stored, on="entity", how="inner", suffix="_stored")
    for column in ("status_pub", "pr_rating_pub", "cl_rating_pub", "pr", "cl", "total"):
        diff = joined.filter(pl.col(column).is_not_null() & pl.col(f"{column}_stored").is_not_null()
                             & (pl.col(column).cast(pl.String) != pl.col(f"{column}_stored").cast(pl.String)))
        for row in diff.iter_rows(named=True):
            values = f"{name}: {row[column]}; stored: {row[f'{column}_stored']}"
            seen = db.execute('SELECT 1 FROM conflicts WHERE edition = ? AND entity = ? AND field = ? AND "values" = ?',
                              [edition, row["entity"], column, values]).fetchone()
            if not seen:
                db["conflicts"].insert({"edition": edition, "entity": row["entity"], "fh_name": row["fh_name"],
                                        "field": column, "values": values, "kept": "stored (more detailed)",
                                        "source_id": source_id})


def publish(db: sqlite_utils.Database, policy: Policy, approved_by: str, effective_from: date,
            edition: int | None = None, accept_held: bool = False) -> int:
    """Put the newest proposed version (of `edition`) in force from `effective_from`. One transaction."""
    from sovereign.errors import UserError

    states = ("proposed", "held") if accept_held else ("proposed",)
    where = "state IN (%s)" % ",".join("?" * len(states)) + (" AND edition = ?" if edition else "")
    row = db.execute(f"SELECT id, edition, state, reason FROM list_versions WHERE {where} ORDER BY id DESC LIMIT 1",
                     [*states, *([edition] if edition else [])]).fetchone()
    if row is None:
        held = db.execute("SELECT id, reason FROM list_versions WHERE state = 'held'"
                          + (" AND edition = ?" if edition else "") + " ORDER BY id DESC LIMIT 1",
                          [edition] if edition else []).fetchone()
        if held:
            raise UserError(f"version {held[0]} is held ({held[1]}); review it, then publish with --accept-held")
        raise UserError("nothing to publish: no proposed list version" + (f" for edition {edition}" if edition else ""))
    version = row[0]
    latest = db.execute("SELECT MAX(effective_from) FROM list_versions WHERE state = 'published'").fetchone()[0]
    if latest and effective_from.isoformat() < latest:
        raise UserError(f"--effective-from {effective_from} is before the list in force from {latest}; "
                        "a new list cannot take effect in the past of the one it follows")
    entries = pl.DataFrame(list(db.query("SELECT entity, eligible FROM list_entries WHERE version_id = ?", [version])),
                           schema={"entity": pl.String, "eligible": pl.Boolean})
    staged = stage(entries, previous_entries(db, effective_from + timedelta(days=1)), effective_from, policy)
    with db.atomic():
        for entity, no_new, divest in staged.filter(pl.col("divest_by").is_not_null()).select(
                "entity", "no_new_buys_from", "divest_by").iter_rows():
            db.execute("UPDATE list_entries SET no_new_buys_from = ?, divest_by = ? WHERE version_id = ? AND entity = ?",
                       [no_new, divest, version, entity])
        db["list_versions"].update(version, {"state": "published", "approved_by": approved_by,
                                             "effective_from": effective_from.isoformat(), "published_at": store.now()})
    return version


def verify_stored(conn, editions: list[int] | None = None) -> dict:
    """`verify.report` over what the database holds (all editions, or some), its conflicts included.
    `conn` is a plain sqlite3 connection or a sqlite-utils Database."""
    from sovereign.verify import report

    where, args = ("WHERE edition IN (%s)" % ",".join("?" * len(editions)), list(editions)) if editions else ("", [])

    def frame(sql: str, schema: dict | None = None) -> pl.DataFrame:
        cursor = conn.execute(sql, args)
        names = [c[0] for c in cursor.description]
        rows = [dict(zip(names, r)) for r in cursor.fetchall()]
        return pl.DataFrame(rows, schema=schema, infer_schema_length=None)

    conflicts = frame(f'SELECT edition, entity, fh_name, field, "values", kept FROM conflicts {where}',
                      {"edition": pl.Int64, "entity": pl.String, "fh_name": pl.String, "field": pl.String,
                       "values": pl.String, "kept": pl.String})
    return report(frame(f"SELECT * FROM scores {where}"), read_errata(), conflicts)
