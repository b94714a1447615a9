"""Every read the surfaces and the pipeline make, as plain rows (dicts) or polars frames.

Each function takes an open connection: a read-only sqlite3 connection or a sqlite-utils Database
(a writer reading inside its own transaction). Stdlib only at import; frames load polars on call.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing import TypeAlias

    import polars as pl
    import sqlite_utils

    Connection: TypeAlias = sqlite3.Connection | sqlite_utils.Database
else:
    Connection = sqlite3.Connection


Row = dict[str, Any]

ENTRY_COLUMNS = ("entity", "iso2", "fh_name", "kind", "status", "eligible", "reasons", "pr", "cl", "total",
                 "pr_rating", "cl_rating", "no_new_buys_from", "divest_by")


def rows(conn: Connection, sql: str, args: list | tuple | dict = ()) -> list[Row]:
    cursor = conn.execute(sql, args if isinstance(args, dict) else list(args))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def one(conn: Connection, sql: str, args: list | tuple | dict = ()) -> Row | None:
    found = rows(conn, sql, args)
    return found[0] if found else None


def scalar(conn: Connection, sql: str, args: list | tuple = ()) -> Any:
    row = conn.execute(sql, list(args)).fetchone()
    return row[0] if row else None


# ---- reference: the mapping, ISO codes, the issuer register ----

def mapping(conn: Connection) -> list[Row]:
    """The curated FH name -> entity/ISO table as stored with the data it maps."""
    return rows(conn, "SELECT fh_name, kind, entity, iso2, iso3, parent_iso2 FROM countries ORDER BY fh_name, kind")


def iso_codes(conn: Connection) -> list[Row]:
    return rows(conn, "SELECT iso2, iso3, name, official_name FROM iso_codes ORDER BY iso2")


def country_codes(conn: Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT iso2 FROM iso_codes")}


ISSUER_COLUMNS = "i.id, i.name, i.short_name, i.lei, i.iso2, i.type, i.mac"
ISSUER = f"SELECT {ISSUER_COLUMNS} FROM issuers i"


def _proved_issuer(conn: Connection, row: Row | None, isin: str | None = None, security_mac: str | None = None
                   ) -> Row | None:
    """A register row only as sovereign wrote it (keyed): an issuer or an ISIN's tie to it written or edited
    outside sovereign would change what the desk is told, so it is an error naming it, never an answer."""
    if row is None:
        return None
    import hmac

    from fiw.errors import Unavailable
    from sovereign import keys, macs

    key = keys.of_cached(conn)
    mac = row.pop("mac")
    if not hmac.compare_digest(mac or "", macs.issuer_mac(key, row)) or (
            isin is not None and not hmac.compare_digest(security_mac or "", macs.security_mac(key, isin, row["id"]))):
        what = f"ISIN {isin} and its issuer" if isin else f"issuer {row['name']!r}"
        raise Unavailable(f"the issuer register's record of {what} was written or changed outside sovereign: no "
                          "answer is given from it; restore the database from a backup, or import the register again")
    return row


def security(conn: Connection, isin: str) -> Row | None:
    """The issuer behind an ISIN, from the register."""
    row = one(conn, f"SELECT {ISSUER_COLUMNS}, s.mac AS security_mac FROM issuers i "
                    "JOIN securities s ON s.issuer_id = i.id WHERE s.isin = ?", [isin])
    return None if row is None else _proved_issuer(conn, row, isin, row.pop("security_mac"))


def issuer(conn: Connection, lei: str) -> Row | None:
    return _proved_issuer(conn, one(conn, f"{ISSUER} WHERE i.lei = ?", [lei]))


def issuers(conn: Connection) -> list[Row]:
    """Every issuer, for matching names and merging imports (the register is small beside the desk's books)."""
    return [r for r in (_proved_issuer(conn, row) for row in rows(conn, f"{ISSUER} ORDER BY i.id")) if r]


def register_size(conn: Connection) -> int:
    return scalar(conn, "SELECT COUNT(*) FROM issuers")


def register(conn: Connection) -> list[Row]:
    """Every issuer with its ISINs, for `issuers list`."""
    return rows(conn, "SELECT i.name, i.short_name, i.lei, i.iso2 AS country, i.type, "
                      "group_concat(s.isin, ' ') AS isins FROM issuers i LEFT JOIN securities s ON s.issuer_id = i.id "
                      "GROUP BY i.id ORDER BY i.name")


def register_identifiers(conn: Connection) -> list[Row]:
    """Every ISIN and every LEI in the register with its issuer, for `export register` and the restricted list."""
    return rows(conn, "SELECT s.isin AS identifier, 'ISIN' AS identifier_type, i.name, i.short_name, i.lei, i.iso2, "
                      "i.type FROM securities s JOIN issuers i ON i.id = s.issuer_id "
                      "UNION ALL SELECT i.lei, 'LEI', i.name, i.short_name, i.lei, i.iso2, i.type FROM issuers i "
                      "WHERE i.lei IS NOT NULL ORDER BY 2, 1")


# ---- list versions and their entries ----
# A version counts as published, as known at a moment, when it was published before then and not
# withdrawn before then. `known` is an exclusive upper bound on recorded times (ISO text); None: now.

VERSION = ("SELECT v.*, w.recorded_at AS withdrawn, w.reason AS withdrawn_reason FROM list_versions v "
           "LEFT JOIN withdrawals w ON w.version_id = v.id")
PUBLISHED = ("v.state = 'published' AND v.published_at < :known "
             "AND (w.recorded_at IS NULL OR w.recorded_at >= :known)")
FOREVER = "9999-12-31"


def _k(known: str | None) -> str:
    return known or FOREVER


def version(conn: Connection, version_id: int) -> Row | None:
    return one(conn, f"{VERSION} WHERE v.id = ?", [version_id])


def version_in_force(conn: Connection, on: str, known: str | None = None) -> Row | None:
    """The published version whose effective date is the latest on or before `on` (ISO date)."""
    return one(conn, f"{VERSION} WHERE {PUBLISHED} AND v.effective_from <= :on "
                     "ORDER BY v.effective_from DESC, v.id DESC LIMIT 1", {"on": on, "known": _k(known)})


def upcoming(conn: Connection, after: str, known: str | None = None) -> Row | None:
    """The next published version taking effect after `after`: what the desk must know is coming."""
    return one(conn, f"{VERSION} WHERE {PUBLISHED} AND v.effective_from > :on "
                     "ORDER BY v.effective_from, v.id DESC LIMIT 1", {"on": after, "known": _k(known)})


def pending(conn: Connection, known: str | None = None) -> Row | None:
    """The newest version awaiting a decision (proposed or held, as known then), if newer than any published."""
    row = one(conn, f"""{VERSION} WHERE v.created_at < :known AND (w.recorded_at IS NULL OR w.recorded_at >= :known)
        AND NOT ({PUBLISHED}) AND v.state IN ('proposed', 'held', 'published')
        ORDER BY v.id DESC LIMIT 1""", {"known": _k(known)})
    if row is None:
        return None
    newest = one(conn, f"{VERSION} WHERE {PUBLISHED} ORDER BY v.id DESC LIMIT 1", {"known": _k(known)})
    if newest and newest["id"] > row["id"]:
        return None
    if row["state"] == "published":  # published later than `known`: then it was still awaiting a decision
        row["state"] = "proposed"
    return row


def published_before(conn: Connection, before: str) -> Row | None:
    """The version in force on the day before `before`: what a list taking effect then follows."""
    return one(conn, f"{VERSION} WHERE {PUBLISHED} AND v.effective_from < :on "
                     "ORDER BY v.effective_from DESC, v.id DESC LIMIT 1", {"on": before, "known": FOREVER})


def latest_published(conn: Connection, edition: int, known: str | None = None) -> Row | None:
    return one(conn, f"{VERSION} WHERE {PUBLISHED} AND v.edition = :edition ORDER BY v.id DESC LIMIT 1",
               {"edition": edition, "known": _k(known)})


def published_editions(conn: Connection) -> list[int]:
    return [r["edition"] for r in rows(conn, f"SELECT DISTINCT v.edition FROM list_versions v LEFT JOIN withdrawals w "
                                             f"ON w.version_id = v.id WHERE {PUBLISHED} ORDER BY 1",
                                       {"known": FOREVER})]


def first_effective(conn: Connection, known: str | None = None) -> str | None:
    found = one(conn, f"SELECT MIN(v.effective_from) AS first FROM list_versions v LEFT JOIN withdrawals w "
                      f"ON w.version_id = v.id WHERE {PUBLISHED}", {"known": _k(known)})
    return found["first"] if found else None


def latest_effective(conn: Connection) -> str | None:
    found = one(conn, f"SELECT MAX(v.effective_from) AS last FROM list_versions v LEFT JOIN withdrawals w "
                      f"ON w.version_id = v.id WHERE {PUBLISHED}", {"known": FOREVER})
    return found["last"] if found else None


def newest_version(conn: Connection, edition: int | None = None, states: tuple[str, ...] | None = None) -> Row | None:
    """The newest version (of an edition, in some states): what `diff` and `publish` default to."""
    where: list[str] = ["1"]
    args: list[object] = []
    if edition is not None:
        where.append("v.edition = ?")
        args.append(edition)
    if states:
        where.append(f"v.state IN ({','.join('?' * len(states))}) AND w.recorded_at IS NULL")
        args += list(states)
    return one(conn, f"{VERSION} WHERE {' AND '.join(where)} ORDER BY v.id DESC LIMIT 1", args)


def edition_version(conn: Connection, edition: int, prefer_published: bool) -> Row | None:
    """An edition's published version when asked to prefer one, else its newest."""
    order = "v.state = 'published' AND w.recorded_at IS NULL DESC, v.id DESC" if prefer_published else "v.id DESC"
    return one(conn, f"{VERSION} WHERE v.edition = ? ORDER BY {order} LIMIT 1", [edition])


def published_before_edition(conn: Connection, edition: int) -> Row | None:
    return one(conn, f"{VERSION} WHERE {PUBLISHED} AND v.edition < :edition ORDER BY v.edition DESC, v.id DESC "
                     "LIMIT 1", {"edition": edition, "known": FOREVER})


def versions(conn: Connection) -> list[Row]:
    return rows(conn, f"{VERSION} ORDER BY v.id")


def version_counts(conn: Connection) -> dict[int, tuple[int, int]]:
    """Per version: countries eligible and excluded (territories apart, as everywhere in the counts)."""
    return {r[0]: (r[1], r[2]) for r in conn.execute(
        "SELECT version_id, SUM(eligible), SUM(1 - eligible) FROM list_entries WHERE kind = 'c' GROUP BY 1")}


ENTRIES = f"SELECT {', '.join(ENTRY_COLUMNS)} FROM list_entries WHERE version_id = ?"


def entries(conn: Connection, version_id: int, entities: tuple[str, ...] | None = None) -> list[Row]:
    """A version's entries (all, or those of some entities), territories after countries, by name."""
    sql = ENTRIES
    args: list = [version_id]
    if entities is not None:
        sql += f" AND entity IN ({','.join('?' * len(entities))})"
        args.extend(entities)
    return [r | {"eligible": bool(r["eligible"])} for r in rows(conn, sql + " ORDER BY fh_name, kind", args)]


def canonical(entries: list[Row]) -> list[list]:
    """A version's entries in one order and form, whatever connection or frame they came from."""
    return _in_order([[r[c] for c in ENTRY_COLUMNS] for r in entries])


def _in_order(values: list[list]) -> list[list]:
    """The canonical form of entries given as ENTRY_COLUMNS values: eligible as 0/1, by entity and kind."""
    for v in values:
        v[_ELIGIBLE] = int(bool(v[_ELIGIBLE]))
    return sorted(values, key=lambda r: (r[0], r[3]))


_ELIGIBLE = ENTRY_COLUMNS.index("eligible")


def entries_check(entries: list[Row]) -> str:
    """The unkeyed digest older databases recorded: what their records are re-keyed against, as found."""
    import hashlib
    import json

    return hashlib.sha256(json.dumps(canonical(entries), ensure_ascii=False).encode()).hexdigest()


def version_check(conn: Connection, version_id: int) -> str | None:
    return scalar(conn, "SELECT digest FROM version_checks WHERE version_id = ?", [version_id])


def version_digest(conn: Connection, version: Row) -> str:
    """The keyed digest a version should carry, computed from what the database holds now."""
    from sovereign import keys, macs

    found = conn.execute(ENTRIES + " ORDER BY fh_name, kind", [version["id"]]).fetchall()  # as `entries`, without a dict a row
    return macs.version_digest(keys.of(conn), version, _in_order([list(r) for r in found]))


def version_matches(conn: Connection, version: Row) -> bool:
    """The version's decision and entries are as sovereign recorded them (its keyed digest agrees)."""
    import hmac

    recorded = version_check(conn, version["id"])
    return recorded is not None and hmac.compare_digest(recorded, version_digest(conn, version))


def keyring(conn: Connection) -> Row | None:
    """Which key the database's digests are made with, and how much of the older chain it seals."""
    return one(conn, "SELECT * FROM keyring WHERE id = 1")


def keyed(conn: Connection) -> bool:
    """The file records a key (of any schema: older ones have no keyring table)."""
    return bool(scalar(conn, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'keyring'")) \
        and keyring(conn) is not None


def has_records(conn: Connection) -> bool:
    return bool(scalar(conn, "SELECT EXISTS (SELECT 1 FROM list_versions) OR EXISTS (SELECT 1 FROM audit) "
                             "OR EXISTS (SELECT 1 FROM overrides)"))


def decisions(conn: Connection) -> list[Row]:
    """Every decision the trail must account for: list versions published, withdrawals, overrides added and
    revoked, each with the subject its audit row names."""
    return rows(conn, "SELECT 'publish' AS kind, id, edition AS detail FROM list_versions WHERE state = 'published' "
                      "UNION ALL SELECT 'withdraw', version_id, NULL FROM withdrawals "
                      "UNION ALL SELECT 'override add', id, iso2 FROM overrides "
                      "UNION ALL SELECT 'override revoke', id, iso2 FROM overrides WHERE revoked_at IS NOT NULL "
                      "ORDER BY 1, 2")


def entries_frame(conn: Connection, version_id: int) -> pl.DataFrame:
    import polars as pl

    schema = {"entity": pl.String, "iso2": pl.String, "fh_name": pl.String, "kind": pl.String, "status": pl.String,
              "eligible": pl.Boolean, "reasons": pl.String, "pr": pl.Int64, "cl": pl.Int64, "total": pl.Int64,
              "pr_rating": pl.Int64, "cl_rating": pl.Int64, "no_new_buys_from": pl.String, "divest_by": pl.String}
    return pl.DataFrame([tuple(r.values()) for r in entries(conn, version_id)], schema=schema, orient="row")


def eligibility(conn: Connection, version_id: int) -> pl.DataFrame:
    """entity -> eligible of one version: what staging compares against."""
    import polars as pl

    return pl.DataFrame(rows(conn, "SELECT entity, eligible FROM list_entries WHERE version_id = ?", [version_id]),
                        schema={"entity": pl.String, "eligible": pl.Boolean})


def staged_count(conn: Connection, version_id: int) -> int:
    return scalar(conn, "SELECT COUNT(*) FROM list_entries WHERE version_id = ? AND divest_by IS NOT NULL",
                  [version_id])


def history(conn: Connection, entities: tuple[str, ...]) -> list[Row]:
    """One row per edition: the entity in that edition's newest published list, with FH's published status."""
    if not entities:
        return []
    marks = ",".join("?" * len(entities))
    found = rows(conn, f"""
        SELECT v.edition, v.id AS list_version, v.effective_from, e.entity, e.fh_name AS name, e.status, e.pr, e.cl, e.total,
               e.pr_rating, e.cl_rating, e.eligible, e.reasons, s.status_pub, s.note, ed.year_under_review, ed.label
        FROM list_versions v JOIN list_entries e ON e.version_id = v.id
        LEFT JOIN scores s ON s.edition = v.edition AND s.entity = e.entity AND s.fh_name = e.fh_name
        LEFT JOIN editions ed ON ed.edition = v.edition
        WHERE e.entity IN ({marks}) AND v.id = (
            SELECT MAX(x.id) FROM list_versions x WHERE x.edition = v.edition AND x.state = 'published'
              AND x.id NOT IN (SELECT version_id FROM withdrawals))
        ORDER BY v.edition""", entities)
    return [r | {"eligible": bool(r["eligible"])} for r in found]


# ---- overrides ----

def overrides(conn: Connection) -> list[Row]:
    return rows(conn, "SELECT * FROM overrides ORDER BY id")


def override(conn: Connection, override_id: int) -> Row | None:
    return one(conn, "SELECT * FROM overrides WHERE id = ?", [override_id])


def active_overrides(conn: Connection, on: str, known: str | None = None) -> list[Row]:
    """Overrides in force on a date, as the records stood at `known`: recorded by then, started, not ended,
    and not revoked (as known then) from that date."""
    return rows(conn, "SELECT id, iso2, reason, decided_by, valid_from, valid_to, created_at FROM overrides "
                      "WHERE created_at < :known AND valid_from <= :on AND (valid_to IS NULL OR valid_to >= :on) "
                      "AND NOT (revoked_at IS NOT NULL AND revoked_at < :known AND revoked_from <= :on) ORDER BY id",
                {"on": on, "known": _k(known)})


# ---- editions, scores, sources ----

def latest_edition(conn: Connection) -> int:
    return scalar(conn, "SELECT MAX(edition) FROM editions") or 0


def edition(conn: Connection, number: int) -> Row | None:
    return one(conn, "SELECT * FROM editions WHERE edition = ?", [number])


def stored_editions(conn: Connection) -> list[int]:
    return [r[0] for r in conn.execute("SELECT edition FROM editions ORDER BY edition")]


def scores(conn: Connection, number: int, columns: tuple[str, ...] = ("*",)) -> list[Row]:
    return rows(conn, f"SELECT {', '.join(columns)} FROM scores WHERE edition = ?", [number])


def revision_changes(conn: Connection, number: int) -> list[dict]:
    """What the edition's latest revision changed, field by field."""
    import json

    text = scalar(conn, "SELECT changes FROM edition_revisions WHERE edition = ? ORDER BY revision DESC LIMIT 1",
                  [number])
    return json.loads(text) if text else []


def fields_present(conn: Connection, number: int, fields: tuple[str, ...]) -> set[str]:
    """Which of FH's published fields the stored edition carries (an import never replaces more with less)."""
    counts = conn.execute(f"SELECT {', '.join(f'COUNT({c})' for c in fields)} FROM scores WHERE edition = ?",
                          [number]).fetchone()
    return {c for c, n in zip(fields, counts, strict=True) if n}


def not_recomputed(conn: Connection, number: int) -> int:
    """Rows of an edition stored without PR or CL: their status is FH's as printed, never recomputed."""
    return int(scalar(conn, "SELECT COUNT(*) FROM scores WHERE edition = ? AND status_calc IS NULL", [number]) or 0)


def _where_editions(editions: list[int] | None) -> tuple[str, list]:
    if not editions:
        return "", []
    return f"WHERE edition IN ({','.join('?' * len(editions))})", list(editions)


def scores_frame(conn: Connection, editions: list[int] | None = None) -> pl.DataFrame:
    import polars as pl

    where, args = _where_editions(editions)
    return pl.DataFrame(rows(conn, f"SELECT * FROM scores {where}", args), infer_schema_length=None)


def conflicts_frame(conn: Connection, editions: list[int] | None = None) -> pl.DataFrame:
    import polars as pl

    where, args = _where_editions(editions)
    return pl.DataFrame(rows(conn, f'SELECT edition, entity, fh_name, field, "values", kept FROM conflicts {where}',
                             args),
                        schema={"edition": pl.Int64, "entity": pl.String, "fh_name": pl.String, "field": pl.String,
                                "values": pl.String, "kept": pl.String})


def missing_rows(conn: Connection, number: int) -> list[str]:
    """Entities FH rated that the stored source of an edition lacks (recorded as conflicts when built)."""
    return [r[0] for r in conn.execute("SELECT fh_name FROM conflicts WHERE edition = ? AND field = '(row)' "
                                       "AND kept LIKE 'missing%' ORDER BY fh_name", [number])]


def conflict_exists(conn: Connection, number: int, entity: str, field: str, values: str) -> bool:
    return conn.execute('SELECT 1 FROM conflicts WHERE edition = ? AND entity = ? AND field = ? AND "values" = ?',
                        [number, entity, field, values]).fetchone() is not None


def edition_sources(conn: Connection, editions: list[int]) -> list[Row]:
    marks = ",".join("?" * len(editions))
    return rows(conn, f"SELECT DISTINCT s.id, s.kind, s.uri, s.fetched_at, s.sha256, s.size, e.edition, e.revision, "
                      f"e.loaded_at FROM editions e JOIN sources s ON s.id = e.source_id "
                      f"WHERE e.edition IN ({marks}) ORDER BY e.edition", editions)


def run(conn: Connection, run_id: int) -> Row | None:
    return one(conn, "SELECT id, command, outcome, finished_at, message FROM runs WHERE id = ?", [run_id])


def source_path(conn: Connection, sha256: str) -> str | None:
    """Where the archived bytes of a payload are kept."""
    return scalar(conn, "SELECT path FROM sources WHERE sha256 = ? AND path IS NOT NULL ORDER BY id LIMIT 1", [sha256])


def archived_sources(conn: Connection) -> list[Row]:
    """Every source with archived bytes, and whether stored scores came from it."""
    return rows(conn, "SELECT s.id, s.kind, s.uri, s.sha256, s.size, s.path, "
                      "EXISTS (SELECT 1 FROM scores WHERE source_id = s.id) AS scored FROM sources s "
                      "WHERE s.path IS NOT NULL ORDER BY s.id")


def scores_from(conn: Connection, source: int) -> pl.DataFrame:
    """The stored score rows that came from one source, as a frame."""
    import polars as pl

    return pl.DataFrame(rows(conn, "SELECT * FROM scores WHERE source_id = ?", [source]), infer_schema_length=None)


def source_id(conn: Connection, sha256: str, uri: str) -> int | None:
    return scalar(conn, "SELECT id FROM sources WHERE sha256 = ? AND uri = ?", [sha256, uri])


def validator(conn: Connection, url: str) -> Row | None:
    """What the last fetch of a URL left for a conditional request."""
    return one(conn, "SELECT etag, last_modified, path, fetched_at FROM http_validators WHERE url = ?", [url])


# ---- runs ----

def last_finished_run(conn: Connection) -> Row | None:
    return one(conn, "SELECT command, outcome, finished_at, message FROM runs WHERE finished_at IS NOT NULL "
                     "ORDER BY id DESC LIMIT 1")


def audit(conn: Connection, start: str | None = None, end: str | None = None) -> list[Row]:
    """The audit trail in order, between two recorded dates (inclusive)."""
    return rows(conn, "SELECT * FROM audit WHERE recorded_at >= :start AND recorded_at < :end ORDER BY id",
                {"start": start or "", "end": end or FOREVER})


def last_audit(conn: Connection) -> Row | None:
    return one(conn, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1")


def database_identity(conn: Connection) -> str:
    """Which file a connection reads and as it stands now (path, inode, and the size and time of the last write to
    the file and its write-ahead log): what a per-process proof is remembered for, so a long-running service proves
    a list again after anything wrote to the database (an UPDATE outside sovereign included), never a stale proof."""
    import os

    path = conn.execute("PRAGMA database_list").fetchone()[2]
    stamps = []
    for name in (path, f"{path}-wal"):
        try:
            info = os.stat(name)
        except OSError:
            continue
        stamps.append(f"{info.st_ino}:{info.st_mtime_ns}:{info.st_size}")
    return ":".join([path, *stamps])


def token_person(conn: Connection, token_hash: str) -> str | None:
    """Whose token this is, if sovereign issued it and did not revoke it: a token row written or un-revoked
    with SQL alone (without the key) authenticates nobody."""
    import hmac

    from sovereign import keys, macs

    row = one(conn, "SELECT * FROM tokens WHERE hash = ? AND revoked_at IS NULL", [token_hash])
    if row is None or not hmac.compare_digest(row["mac"] or "", macs.token_mac(keys.of_cached(conn), row)):
        return None
    return row["person"]


def tokens(conn: Connection) -> list[Row]:
    return rows(conn, "SELECT id, person, created_at, revoked_at FROM tokens ORDER BY id")


def approvals(conn: Connection, version_id: int, current: bool = True) -> list[Row]:
    """A version's approvals (`current`: not replaced by the same person's later one)."""
    keep = " AND replaced_at IS NULL" if current else ""
    return rows(conn, "SELECT id, approved_by, person_key, os_user, effective_from, minutes, recorded_at, replaced_at "
                      f"FROM approvals WHERE version_id = ?{keep} ORDER BY recorded_at, id", [version_id])


def loosenings(conn: Connection, override_id: int, current: bool = True) -> list[Row]:
    keep = " AND replaced_at IS NULL" if current else ""
    return rows(conn, f"SELECT * FROM loosenings WHERE override_id = ?{keep} ORDER BY recorded_at, id", [override_id])


def people(conn: Connection, with_removed: bool = False) -> list[Row]:
    keep = "" if with_removed else " WHERE removed_at IS NULL"
    return rows(conn, f"SELECT * FROM people{keep} ORDER BY name, id")


def person(conn: Connection, key: str) -> Row | None:
    return one(conn, "SELECT * FROM people WHERE key = ? AND removed_at IS NULL", [key])


def quick_check(conn: Connection) -> str:
    """SQLite's own check of the file's structure: 'ok', or what is damaged."""
    return "; ".join(str(r[0]) for r in conn.execute("PRAGMA quick_check").fetchall())


def last_scheduled_start(conn: Connection) -> str | None:
    return scalar(conn, "SELECT MAX(started_at) FROM runs WHERE trigger IN ('schedule', 'catch-up')")


def runs(conn: Connection, limit: int = 5000) -> list[Row]:
    """The newest runs first (refreshes, imports, polls), for the console's runs table."""
    return rows(conn, "SELECT id, trigger, command, started_at, finished_at, outcome, message, edition_found "
                      "FROM runs ORDER BY id DESC LIMIT ?", [limit])
