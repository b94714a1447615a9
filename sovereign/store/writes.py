"""Every write, on a sqlite-utils Database. The caller holds the transaction (`db.atomic()`), so a
refresh, an import or a publish is one transaction however many of these it calls."""

from __future__ import annotations

import getpass
import json
import logging
import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fiw.errors import UserError
from sovereign import keys, macs
from sovereign.store import reads
from sovereign.store.schema import now, path_of

if TYPE_CHECKING:
    import sqlite_utils
    import sqlite_utils.db

log = logging.getLogger("sovereign.decisions")


def _pk(table: sqlite_utils.db.Table) -> int:
    """The rowid of the row just inserted (sqlite-utils types it loosely)."""
    assert table.last_pk is not None
    return int(table.last_pk)


def add_source(db: sqlite_utils.Database, kind: str, uri: str, sha256: str, size: int,
               path: str | None, meta: dict | None = None) -> tuple[int, bool]:
    """The existing row for the same payload, or a new one; returns (id, created)."""
    existing = reads.source_id(db, sha256, uri)
    if existing:
        return existing, False
    table = db.table("sources")
    table.insert({"kind": kind, "uri": uri, "fetched_at": now(), "sha256": sha256, "size": size,
                  "path": path, "meta": json.dumps(meta or {}, sort_keys=True)})
    return _pk(table), True


@dataclass
class Run:
    """What a recorded run ends with; set by the code inside `recorded_run`."""
    outcome: str = "ok"
    message: str = ""
    edition: int | None = None
    id: int | None = None


# What a run recorded without an audit row of its own (list versions added, versions withdrawn as replaced):
# its closing audit row names them, so the trail accounts for every decision.
_RECORDED: weakref.WeakKeyDictionary[sqlite_utils.Database, dict[str, list[int]]] = weakref.WeakKeyDictionary()


def _note(db: sqlite_utils.Database, kind: str, ident: int) -> None:
    if db in _RECORDED:
        _RECORDED[db].setdefault(kind, []).append(ident)


@contextmanager
def recorded_run(db: sqlite_utils.Database, trigger: str, command: str, actor: str) -> Iterator[Run]:
    """A `runs` row that is always finished, with what the block set or `failed` and why, and an audit row
    naming the list versions it added and withdrew."""
    table = db.table("runs")
    with db.atomic():
        table.insert({"trigger": trigger, "command": command, "started_at": now(), "pid": os.getpid()})
    run_id = _pk(table)
    run = Run(id=run_id)
    _RECORDED[db] = {}

    def finish(outcome: str, message: str, edition: int | None, recorded: dict[str, list[int]]) -> None:
        with db.atomic():
            table.update(run_id, {"finished_at": now(), "outcome": outcome, "message": message[:4000],
                                  "edition_found": edition})
            audit(db, actor, command.split()[0], command, None, None,
                  {"run": run_id, "trigger": trigger, "outcome": outcome, "edition": edition, "message": message[:4000]}
                  | recorded)

    try:
        yield run
    except BaseException as exc:
        _RECORDED.pop(db, None)
        finish("failed", str(exc) or exc.__class__.__name__, None, {})
        raise
    finish(run.outcome, run.message, run.edition, _RECORDED.pop(db, {}))


def replace_reference(db: sqlite_utils.Database, mapping: list[dict], iso_codes: list[dict]) -> None:
    """The mapping and ISO table that lookups resolve names and codes against."""
    db.execute("DELETE FROM countries")
    db.table("countries").insert_all(mapping)
    db.execute("DELETE FROM iso_codes")
    db.table("iso_codes").insert_all(iso_codes)


def replace_edition(db: sqlite_utils.Database, edition: dict, rows: list[dict], changes: list[dict]) -> None:
    """An edition's scores replaced whole, its revision counted and what changed recorded."""
    db.execute("DELETE FROM scores WHERE edition = ?", [edition["edition"]])
    db.table("editions").upsert(edition, pk="edition")
    db.table("edition_revisions").insert({"edition": edition["edition"], "revision": edition["revision"],
                                    "loaded_at": edition["loaded_at"], "source_id": edition["source_id"],
                                    "changes": json.dumps(changes)})
    db.table("scores").insert_all(rows, batch_size=2000)


def replace_conflicts(db: sqlite_utils.Database, conflicts: list[dict]) -> None:
    db.execute("DELETE FROM conflicts")
    db.table("conflicts").insert_all(conflicts)


def add_conflict(db: sqlite_utils.Database, conflict: dict) -> None:
    db.table("conflicts").insert(conflict)


def add_version(db: sqlite_utils.Database, version: dict, entries: list[dict]) -> int:
    table = db.table("list_versions")
    table.insert(version)
    version_id = _pk(table)
    db.table("list_entries").insert_all([e | {"version_id": version_id} for e in entries], batch_size=2000)
    _prove(db, version_id)
    _note(db, "versions", version_id)
    return version_id


def _prove(db: sqlite_utils.Database, version_id: int) -> None:
    """The version's keyed digest, from what was just written."""
    version = reads.version(db, version_id)
    assert version is not None
    db.execute("INSERT INTO version_checks VALUES (?, ?) ON CONFLICT(version_id) DO UPDATE SET digest = excluded.digest",
               [version_id, reads.version_digest(db, version)])


def mark_published(db: sqlite_utils.Database, version_id: int, approved_by: str, effective_from: str,
                   staging: list[tuple[str, str, str]], backdate_reason: str | None = None,
                   minutes: str | None = None) -> bool:
    """A proposed (or held) version put in force, only if it still awaits a decision: of two concurrent
    publishes exactly one wins. `staging` is (entity, no_new_buys_from, divest_by) of the newly excluded."""
    cursor = db.execute("UPDATE list_versions SET state = 'published', approved_by = ?, effective_from = ?, "
                        "published_at = ?, backdate_reason = ?, minutes = ? WHERE id = ? AND state IN ('proposed', 'held')",
                        [approved_by, effective_from, now(), backdate_reason, minutes, version_id])
    if cursor.rowcount != 1:
        return False
    for entity, no_new, divest in staging:
        db.execute("UPDATE list_entries SET no_new_buys_from = ?, divest_by = ? WHERE version_id = ? AND entity = ?",
                   [no_new, divest, version_id, entity])
    _prove(db, version_id)
    return True


def withdraw(db: sqlite_utils.Database, version_id: int, by: str, reason: str) -> None:
    """A version taken out of force, as a record beside it; the version itself is never edited."""
    db.table("withdrawals").insert({"version_id": version_id, "recorded_at": now(), "withdrawn_by": by,
                                    "reason": reason})
    _note(db, "withdrawn", version_id)


def remember_validator(db: sqlite_utils.Database, url: str, etag: str | None, last_modified: str | None,
                       sha256: str, path: str) -> None:
    db.table("http_validators").upsert({"url": url, "etag": etag, "last_modified": last_modified, "sha256": sha256,
                                  "path": path, "fetched_at": now()}, pk="url")


def add_override(db: sqlite_utils.Database, row: dict) -> int:
    table = db.table("overrides")
    table.insert(row | {"created_at": now()})
    return _pk(table)


def revoke_override(db: sqlite_utils.Database, override_id: int, revoked_by: str, revoked_from: str,
                    reason: str, kind: str = "revoked") -> bool:
    """Revocation fills the override's empty revocation fields once; a revoked override never changes again."""
    cursor = db.execute("UPDATE overrides SET revoked_at = ?, revoked_by = ?, revoked_from = ?, revoke_reason = ?, "
                        "revoke_kind = ? WHERE id = ? AND revoked_at IS NULL",
                        [now(), revoked_by, revoked_from, reason, kind, override_id])
    return cursor.rowcount == 1


def clear_register(db: sqlite_utils.Database) -> None:
    db.execute("DELETE FROM securities")
    db.execute("DELETE FROM issuers")


def put_issuer(db: sqlite_utils.Database, issuer: dict, isins: list[str], source_id: int | None,
               issuer_id: int | None = None) -> int:
    """An issuer added, or (with its id) updated, and its ISINs attached to it."""
    table = db.table("issuers")
    row = {k: issuer.get(k) for k in ("name", "short_name", "lei", "iso2", "type")} | {"source_id": source_id}
    if issuer_id is None:
        table.insert(row)
        issuer_id = _pk(table)
    else:
        table.update(issuer_id, row)
    key = keys.of_cached(db)
    db.execute("UPDATE issuers SET mac = ? WHERE id = ?", [macs.issuer_mac(key, row | {"id": issuer_id}), issuer_id])
    for isin in isins:
        db.execute("INSERT INTO securities (isin, issuer_id, source_id, mac) VALUES (?, ?, ?, ?) "
                   "ON CONFLICT(isin) DO UPDATE SET issuer_id = excluded.issuer_id, source_id = excluded.source_id, "
                   "mac = excluded.mac", [isin, issuer_id, source_id, macs.security_mac(key, isin, issuer_id)])
    return issuer_id


def remove_issuer(db: sqlite_utils.Database, issuer_id: int) -> None:
    db.execute("DELETE FROM securities WHERE issuer_id = ?", [issuer_id])
    db.execute("DELETE FROM issuers WHERE id = ?", [issuer_id])


def audit(db: sqlite_utils.Database, actor: str, action: str, subject: str | None = None,
          effective_from: str | None = None, reason: str | None = None, details: dict | None = None) -> str:
    """One decision in the audit trail, inside the caller's transaction, chained (keyed) to the previous row.
    Returns the new head of the chain."""
    from sovereign.audit import row_hash

    last = reads.last_audit(db)
    prev, row_id = (last["hash"], last["id"] + 1) if last else (macs.GENESIS, 1)
    row = {"recorded_at": now(), "actor": actor, "action": action, "subject": subject,
           "effective_from": effective_from, "reason": reason,
           "details": json.dumps(details or {}, sort_keys=True, default=str, ensure_ascii=False)}
    head = row_hash(keys.of(db), prev, row_id, row)
    db.table("audit").insert(row | {"id": row_id, "prev_hash": prev, "hash": head})
    log.info("%s by %s%s%s%s %s", action, actor, f": {subject}" if subject else "",
             f", effective {effective_from}" if effective_from else "", f" ({reason})" if reason else "", row["details"])
    db.committed_lines = [*getattr(db, "committed_lines", []),  # type: ignore[attr-defined]
                          f"audit row {row_id} ({action}{': ' + subject if subject else ''}): "
                          f"audit trail head {head}"]
    return head


def record_restore(db: sqlite_utils.Database, actor: str, command: str, message: str, details: dict) -> None:
    """A restore's own record in the database it put in place: a finished run and its audit row, in one
    transaction."""
    with db.atomic():
        table = db.table("runs")
        at = now()
        table.insert({"trigger": "restore", "command": command, "started_at": at, "finished_at": at, "outcome": "ok",
                      "message": message[:4000], "pid": os.getpid()})
        audit(db, actor, "restore", command, None, message[:4000], {"run": _pk(table), "outcome": "ok"} | details)


def key_database(db: sqlite_utils.Database, rekey_found: bool = False) -> None:
    """The key the database's digests are made with. A keyed database needs its key file (never a new one);
    a database not yet keyed gets one on first use and, when it holds records (written by an older
    sovereign), they are re-keyed as found, in the audit trail. An existing key file is not used to re-key
    records as found: that would let anyone who can write the file alone have forged records keyed."""
    ring = reads.keyring(db)
    path = keys.file_for(db)
    if ring is not None:
        keys.of(db)
        return
    records = reads.has_records(db)
    if records and path.exists() and not rekey_found:
        raise UserError(f"{path_of(db)} holds records whose digests are not keyed (written by an older "
                        f"sovereign, or its key record was removed), and key file {path} already exists. Records "
                        "are re-keyed as found only with a key made for them: give this database a key file of its "
                        "own (SOVEREIGN_KEY_FILE naming a file that does not exist yet), or restore a backup")
    key = keys.load(path, create=True)
    with db.atomic():
        if reads.keyring(db) is None:  # another writer may have keyed it meanwhile
            rekey_as_found(db, key, getpass_user(), "a backup restored by an operator" if rekey_found and not key.created
                           else "first use of the key")


def rekey_as_found(db: sqlite_utils.Database, key: macs.Key, actor: str, why: str = "first use of the key") -> dict:
    """Every version whose unkeyed digest still matches its entries is re-keyed, the older chain is sealed as it
    stands, and one audit row says what was taken as found and what was not."""
    from sovereign.audit import chain_hash

    trusted, refused = [], []
    for version in reads.versions(db):
        recorded = reads.version_check(db, version["id"])
        if recorded is None or recorded == reads.entries_check(reads.entries(db, version["id"])):
            trusted.append(version["id"])
        else:
            refused.append(version["id"])
    trail = reads.audit(db)
    broken = [r["id"] for prev, r in zip([{"hash": macs.GENESIS}, *trail], trail, strict=False)
              if r["prev_hash"] != prev["hash"] or chain_hash(r["prev_hash"], r) != r["hash"]]
    last = trail[-1] if trail else None
    sealed, head, keyed_at = (last["id"] if last else 0), (last["hash"] if last else macs.GENESIS), now()
    db.execute("INSERT INTO keyring VALUES (1, ?, ?, ?, ?, ?)",
               [key.id, keyed_at, sealed, head, macs.keyring_seal(key, key.id, keyed_at, sealed, head)])
    for version_id in trusted:
        _prove(db, version_id)
    for issuer in reads.rows(db, "SELECT id, name, short_name, lei, iso2, type FROM issuers"):
        db.execute("UPDATE issuers SET mac = ? WHERE id = ?", [macs.issuer_mac(key, issuer), issuer["id"]])
    for isin, issuer_id in db.execute("SELECT isin, issuer_id FROM securities").fetchall():
        db.execute("UPDATE securities SET mac = ? WHERE isin = ?", [macs.security_mac(key, isin, issuer_id), isin])
    _seal_tokens(db, "1")
    as_found: dict[str, list[int]] = {}
    for d in reads.decisions(db):  # the decisions stand as recorded; whether a list still matches is `verify`'s
        as_found.setdefault(d["kind"], []).append(d["id"])
    details = {"key_id": key.id, "key_file": str(key.path), "key_created": key.created,
               "versions_rekeyed": trusted, "versions_refused": refused, "audit_rows_sealed": sealed,
               "audit_head_before": head, "audit_rows_broken": broken, "as_found": as_found}
    if trail or trusted or refused:
        audit(db, actor, "rekey", f"key {key.id}", None,
              f"{why}: the records were re-keyed as found"
              + (f"; list versions {', '.join(map(str, refused))} did not match their digest and were not" if refused
                 else ""), details)
    else:
        audit(db, actor, "key", f"key {key.id}", None, "a new database: its digests are keyed from the start",
              {"key_id": key.id, "key_file": str(key.path), "key_created": key.created})
    return details


def getpass_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def add_token(db: sqlite_utils.Database, person: str, token_hash: str) -> None:
    table = db.table("tokens")
    table.insert({"person": person, "hash": token_hash, "created_at": now()})
    _seal_tokens(db, f"id = {_pk(table)}")


def revoke_tokens(db: sqlite_utils.Database, person: str) -> int:
    revoked = db.execute("UPDATE tokens SET revoked_at = ? WHERE person = ? AND revoked_at IS NULL",
                         [now(), person]).rowcount
    _seal_tokens(db, "person = ?", [person])
    return revoked


def _seal_tokens(db: sqlite_utils.Database, where: str, args: list | None = None) -> None:
    key = keys.of_cached(db)
    for token in reads.rows(db, f"SELECT id, person, hash, created_at, revoked_at FROM tokens WHERE {where}", args or []):
        db.execute("UPDATE tokens SET mac = ? WHERE id = ?", [macs.token_mac(key, token), token["id"]])


def add_approval(db: sqlite_utils.Database, version_id: int, approved_by: str, person_key: str, effective_from: str,
                 os_user: str | None, minutes: str | None) -> None:
    db.table("approvals").insert({"version_id": version_id, "approved_by": approved_by, "person_key": person_key,
                                  "os_user": os_user, "effective_from": effective_from, "minutes": minutes,
                                  "recorded_at": now()})


def replace_approval(db: sqlite_utils.Database, table: str, row_id: int) -> None:
    """An approval for another date replaces the earlier one: marked replaced, kept on record."""
    assert table in ("approvals", "loosenings")
    db.execute(f"UPDATE {table} SET replaced_at = ? WHERE id = ? AND replaced_at IS NULL", [now(), row_id])


def add_loosening(db: sqlite_utils.Database, row: dict) -> None:
    db.table("loosenings").insert(row | {"recorded_at": now()})


def add_person(db: sqlite_utils.Database, row: dict) -> int:
    table = db.table("people")
    table.insert(row | {"created_at": now()})
    return _pk(table)


def update_person(db: sqlite_utils.Database, person_id: int, values: dict) -> None:
    """Fill in a person's e-mail or role (only those columns)."""
    fields = {k: v for k, v in values.items() if k in ("email", "role")}
    db.execute(f"UPDATE people SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?", [*fields.values(), person_id])


def remove_person(db: sqlite_utils.Database, person_id: int, by: str) -> bool:
    return db.execute("UPDATE people SET removed_at = ?, removed_by = ? WHERE id = ? AND removed_at IS NULL",
                      [now(), by, person_id]).rowcount == 1


def record_admin_action(db: sqlite_utils.Database, actor: str, action: str, payload: Any, outcome: str,
                        message: str) -> None:
    db.table("admin_actions").insert({"at": now(), "actor": actor, "action": action,
                                "payload": json.dumps(payload, default=str), "outcome": outcome, "message": message})
