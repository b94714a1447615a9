"""Backup and restore: the database through SQLite's online backup (consistent while `serve` and the
scheduler run), and the archive of raw payloads beside it, so every source stays re-readable."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from fiw.errors import UserError
from sovereign import store
from sovereign.store import reads, writes
from sovereign.store.schema import MIGRATIONS, DatabaseError, now

DB_NAME = "sovereign.db"


def backup(db: Path, dest: Path) -> dict:
    """DEST/sovereign.db (one consistent copy, whatever writes meanwhile), DEST/archive/, DEST/backup.json."""
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create {dest}: {exc.strerror}") from None
    target = dest / DB_NAME
    if target.exists():
        raise UserError(f"{target} exists: give an empty folder, so no backup is overwritten")
    tmp = dest / f".{DB_NAME}.partial"
    had_archive = (dest / "archive").exists()
    with store.reader(db):  # a sovereign database of this schema, or a one-line error
        pass
    try:
        store.schema.copy_consistent(db, tmp)
        tmp.replace(target)
        archived = _copy_archive(db.parent / "archive", dest / "archive")
        manifest = {"made_at": now(), "database": DB_NAME, "schema": len(MIGRATIONS), "sha256": _sha(target),
                    "bytes": target.stat().st_size, "archived_payloads": archived, "from": str(db)}
        (dest / "backup.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    except (DatabaseError, OSError) as exc:  # out of space, most often: nothing half-written stays behind
        for leftover in (tmp, Path(f"{tmp}-journal"), target, dest / "backup.json"):
            leftover.unlink(missing_ok=True)
        if not had_archive:
            shutil.rmtree(dest / "archive", ignore_errors=True)
        reason = getattr(exc, "strerror", None) or str(exc)
        raise UserError(f"cannot write the backup to {dest}: {reason}; the partial copy was removed") from None
    return manifest


def restore(src: Path, db: Path, key_file: Path, actor: str, as_found: bool = False) -> dict:
    """Check the backup whole before anything is replaced: its hash, that it is a sovereign database of a known
    schema, and the full verify (scores, every list against its keyed digest, the archived payloads, the audit
    chain and the decisions it must account for) on a copy. The restore is then recorded in that copy (who,
    when, from which backup, which decisions made since the backup it rolls back), the database it replaces is
    kept beside the backup, and the copy is put in place in one rename. Stop the scheduler and other writers
    first. `as_found`: a backup taken before digests were keyed is re-keyed as found (said in its record)."""
    manifest_path, copy = src / "backup.json", src / DB_NAME
    if not copy.exists() or not manifest_path.exists():
        raise UserError(f"{src}: not a sovereign backup (expected {DB_NAME} and backup.json)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{manifest_path}: not readable JSON ({exc}); the backup is damaged") from None
    if not isinstance(manifest, dict):
        raise UserError(f"{manifest_path}: expected a JSON object with the backup's sha256; the backup is damaged")
    if _sha(copy) != manifest.get("sha256"):
        raise UserError(f"{copy}: does not match the hash recorded in backup.json; the backup is damaged")
    schema = store.schema.identify(copy)
    db.parent.mkdir(parents=True, exist_ok=True)
    tmp = db.with_name(f".{db.name}.restoring")
    shutil.copyfile(copy, tmp)
    try:
        if not _keyed(tmp, schema) and not as_found:
            raise UserError(f"{copy} was taken before its digests were keyed: its lists and trail can only be taken "
                            "as found. Give --as-found to restore it so (the restore records it)")
        archived = _copy_archive(src / "archive", db.parent / "archive")
        with store.writer(tmp, create=False, key_file=key_file, rekey_found=as_found):
            pass  # migrated and keyed as the database it will become
        problems = _verify(tmp, key_file)
        if problems:
            raise UserError(f"{copy} fails verification, so nothing was replaced: " + "; ".join(problems[:5])
                            + (f" and {len(problems) - 5} more" if len(problems) > 5 else ""))
        rolled_back, kept, unread = _replaced(db, tmp, key_file, src)
        rolled = "; ".join(f"{kind} {', '.join(map(str, ids))}" for kind, ids in rolled_back.items())
        message = (f"restored from {src} (made {manifest.get('made_at')}); "
                   + (f"rolled back: {rolled}" if rolled else unread or "no decision made since the backup is rolled back")
                   + (f"; the replaced database is kept as {kept}" if kept else "")
                   + ("; taken as found (a backup from before digests were keyed)" if as_found else ""))
        record = {"backup": str(src), "made_at": manifest.get("made_at"), "sha256": manifest.get("sha256"),
                  "schema": schema, "replaced": str(db) if kept else None, "kept_as": str(kept) if kept else None,
                  "rolled_back": rolled_back, "taken_as_found": as_found}
        with store.writer(tmp, create=False, key_file=key_file) as conn:
            writes.record_restore(conn, actor, f"restore {src}", message, record)
        os.replace(tmp, db)
    finally:
        tmp.unlink(missing_ok=True)
        for suffix in ("-wal", "-shm"):
            Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):  # they belonged to the file that was replaced
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return manifest | {"restored_to": str(db), "archived_payloads": archived} | record


def _keyed(path: Path, schema: int) -> bool:
    with store.schema.plain_reader(path) as conn:
        return reads.keyed(conn)


def _verify(path: Path, key_file: Path) -> list[str]:
    """The full verify, in words: what `verify` and `audit verify` would fail on."""
    from sovereign import archive, keys
    from sovereign import audit as trail
    from sovereign.pipeline import verify_stored

    with store.reader(path, key_file=key_file) as conn:
        report = verify_stored(conn)
        found = trail.review(reads.audit(conn), keys.of(conn), reads.keyring(conn), reads.decisions(conn))
    problems = [f"list version {v['list_version']} does not match its digest" for v in report["tampered_versions"]]
    problems += [f"list version {v['list_version']} does not agree with the stored scores of edition {v['edition']}"
                 for v in report["stale_versions"]]
    problems += [f"{len(report['errors'])} rating or status mismatch(es) from 2004 on"] if report["errors"] else []
    problems += [] if report["quick_check"] == "ok" else [f"the file is damaged ({report['quick_check'][:200]})"]
    problems += [p["problem"] for p in report["archive"]["payloads"]]
    problems += [f"{r['edition']} {r['fh_name']} {r['field']} stored {r['stored']}, payload {r['payload']}"
                 for r in report["archive"]["contradicted"]]
    problems += [f"audit trail: {p}" for p in found]
    assert archive.consistent(report["archive"]) or problems
    return problems


def _replaced(db: Path, restored: Path, key_file: Path,
              src: Path) -> tuple[dict[str, list[int]], Path | None, str | None]:
    """The decisions the database being replaced holds and the backup does not, by id, and a copy of that
    database kept beside the backup (SQLite's online backup, so a running service's last writes are in it)."""
    if not db.exists():
        return {}, None, None
    with store.reader(restored, key_file=key_file) as conn:
        before = {(d["kind"], d["id"]) for d in reads.decisions(conn)}
    rolled_back: dict[str, list[int]] = {}
    unread = None
    try:
        with store.schema.plain_reader(db) as conn:
            for d in reads.decisions(conn):
                if (d["kind"], d["id"]) not in before:
                    rolled_back.setdefault(d["kind"], []).append(d["id"])
    except (DatabaseError, UserError) as exc:  # a damaged or foreign file is replaced: said, and still kept
        unread = f"the replaced database could not be read for its decisions ({str(exc)[:200]})"
    kept = src / f"replaced-{now()[:19].replace(':', '')}-{DB_NAME}"
    store.schema.copy_consistent(db, kept)
    return rolled_back, kept, unread


def _copy_archive(source: Path, target: Path) -> int:
    if not source.is_dir():
        return 0
    target.mkdir(parents=True, exist_ok=True)
    copied = 0
    for item in source.iterdir():
        if item.is_file() and not (target / item.name).exists():
            shutil.copy2(item, target / item.name)
            copied += 1
    return copied


def _sha(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
