"""Backup and restore: the database through SQLite's online backup (consistent while `serve` and the
scheduler run), and the archive of raw payloads beside it, so every source stays re-readable."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from pathlib import Path

from fiw.errors import UserError
from sovereign import store
from sovereign.store.schema import MIGRATIONS, now

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
    try:
        with store.reader(db) as source:
            copy = sqlite3.connect(tmp)
            try:
                source.backup(copy)
                copy.execute("PRAGMA journal_mode = DELETE")
            finally:
                copy.close()
        tmp.replace(target)
        archived = _copy_archive(db.parent / "archive", dest / "archive")
        manifest = {"made_at": now(), "database": DB_NAME, "schema": len(MIGRATIONS), "sha256": _sha(target),
                    "bytes": target.stat().st_size, "archived_payloads": archived, "from": str(db)}
        (dest / "backup.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    except (sqlite3.Error, OSError) as exc:  # out of space, most often: nothing half-written stays behind
        for leftover in (tmp, Path(f"{tmp}-journal"), target, dest / "backup.json"):
            leftover.unlink(missing_ok=True)
        if not had_archive:
            shutil.rmtree(dest / "archive", ignore_errors=True)
        reason = getattr(exc, "strerror", None) or str(exc)
        raise UserError(f"cannot write the backup to {dest}: {reason}; the partial copy was removed") from None
    return manifest


def restore(src: Path, db: Path) -> dict:
    """Check the backup (its hash, SQLite's integrity check, a schema this sovereign reads), then put it in
    place in one rename and bring its archive along. Stop the scheduler and other writers first."""
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
    conn = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    try:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        schema = conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()
    if check != "ok":
        raise UserError(f"{copy}: SQLite's integrity check fails ({check[:200]})")
    if schema > len(MIGRATIONS):
        raise UserError(f"{copy} was written by a newer sovereign (schema {schema}); upgrade sovereign first")
    db.parent.mkdir(parents=True, exist_ok=True)
    tmp = db.with_name(f".{db.name}.restoring")
    shutil.copyfile(copy, tmp)
    os.replace(tmp, db)
    for suffix in ("-wal", "-shm"):  # they belonged to the file that was replaced
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    archived = _copy_archive(src / "archive", db.parent / "archive")
    return manifest | {"restored_to": str(db), "archived_payloads": archived}


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
