"""Whole database files: an online copy and a look inside a copy before it replaces anything (for backup
and restore), so SQL stays in the store."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def copy_to(source: sqlite3.Connection, target: Path) -> None:
    """SQLite's online backup of an open connection into a new file, in rollback-journal mode so the copy
    is one self-contained file."""
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode = DELETE")
    finally:
        copy.close()


def integrity_and_schema(path: Path) -> tuple[str, int]:
    """SQLite's integrity check ("ok" or its first complaints) and the schema number of a file, read-only."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0], conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()
