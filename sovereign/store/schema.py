"""The schema, its migrations, and the one way connections are opened and closed.

One file, WAL, foreign keys on. Readers get a plain read-only sqlite3 connection (no heavy imports,
so `check` starts fast); writers get a sqlite-utils Database that migrates the file first.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fiw import methodology as m
from fiw.errors import Unavailable, UserError

if TYPE_CHECKING:  # sqlite-utils (and the numpy it loads) stays off the desk-lookup path
    import sqlite_utils

SCORE_COLUMNS = (
    "region", "status_pub", "pr_rating_pub", "cl_rating_pub", *m.INDICATOR_COLUMNS, *m.SUBCATEGORY_MAX,
    "add_q", "add_a", "pr", "cl", "total", "pr_rating_calc", "cl_rating_calc", "status_calc",
    "pr_rating", "cl_rating", "status", "electoral_democracy", "note",
)
_INT = {c for c in SCORE_COLUMNS if c not in ("region", "status_pub", "status_calc", "status", "note")}

MIGRATIONS: list[str] = [
    # 1: the FIW data core
    f"""
    CREATE TABLE sources (
        id INTEGER PRIMARY KEY, kind TEXT NOT NULL, uri TEXT NOT NULL, fetched_at TEXT NOT NULL,
        sha256 TEXT NOT NULL, size INTEGER NOT NULL, path TEXT, meta TEXT
    );
    CREATE INDEX sources_sha ON sources(sha256);
    CREATE TABLE editions (
        edition INTEGER PRIMARY KEY, year_under_review INTEGER, label TEXT, entities INTEGER NOT NULL,
        digest TEXT NOT NULL, revision INTEGER NOT NULL, loaded_at TEXT NOT NULL,
        source_id INTEGER NOT NULL REFERENCES sources(id)
    );
    CREATE TABLE edition_revisions (
        id INTEGER PRIMARY KEY, edition INTEGER NOT NULL REFERENCES editions(edition), revision INTEGER NOT NULL,
        loaded_at TEXT NOT NULL, source_id INTEGER NOT NULL REFERENCES sources(id), changes TEXT NOT NULL
    );
    CREATE TABLE scores (
        edition INTEGER NOT NULL REFERENCES editions(edition), fh_name TEXT NOT NULL, kind TEXT NOT NULL,
        entity TEXT NOT NULL, iso2 TEXT, iso3 TEXT, parent_iso2 TEXT,
        {", ".join(f"{c} {'INTEGER' if c in _INT else 'TEXT'}" for c in SCORE_COLUMNS)},
        source_id INTEGER NOT NULL REFERENCES sources(id),
        PRIMARY KEY (edition, fh_name, kind)
    );
    CREATE INDEX scores_iso2 ON scores(iso2);
    CREATE INDEX scores_entity ON scores(entity);
    CREATE TABLE conflicts (
        id INTEGER PRIMARY KEY, edition INTEGER NOT NULL, entity TEXT NOT NULL, fh_name TEXT NOT NULL,
        field TEXT NOT NULL, "values" TEXT NOT NULL, kept TEXT NOT NULL,
        source_id INTEGER NOT NULL REFERENCES sources(id)
    );
    CREATE TABLE countries (
        fh_name TEXT NOT NULL, kind TEXT NOT NULL, entity TEXT NOT NULL, iso2 TEXT, iso3 TEXT, parent_iso2 TEXT,
        PRIMARY KEY (fh_name, kind)
    );
    CREATE TABLE iso_codes (iso2 TEXT PRIMARY KEY, iso3 TEXT NOT NULL, name TEXT NOT NULL, official_name TEXT);
    CREATE TABLE list_versions (
        id INTEGER PRIMARY KEY, edition INTEGER NOT NULL REFERENCES editions(edition),
        policy_digest TEXT NOT NULL, policy TEXT NOT NULL, entries_digest TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('proposed', 'published', 'held')),
        effective_from TEXT, approved_by TEXT, created_at TEXT NOT NULL, published_at TEXT, reason TEXT
    );
    CREATE INDEX list_versions_effective ON list_versions(state, effective_from);
    CREATE TABLE list_entries (
        version_id INTEGER NOT NULL REFERENCES list_versions(id), entity TEXT NOT NULL, iso2 TEXT,
        fh_name TEXT NOT NULL, kind TEXT NOT NULL, status TEXT, eligible INTEGER NOT NULL, reasons TEXT NOT NULL,
        pr INTEGER, cl INTEGER, total INTEGER, pr_rating INTEGER, cl_rating INTEGER,
        no_new_buys_from TEXT, divest_by TEXT,
        PRIMARY KEY (version_id, fh_name, kind)
    );
    CREATE INDEX list_entries_iso2 ON list_entries(version_id, iso2);
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY, trigger TEXT NOT NULL, command TEXT NOT NULL, started_at TEXT NOT NULL,
        finished_at TEXT, outcome TEXT, message TEXT, edition_found INTEGER
    );
    """,
    # 2: committee overrides and the issuer register
    """
    CREATE TABLE overrides (
        id INTEGER PRIMARY KEY, iso2 TEXT NOT NULL, reason TEXT NOT NULL, decided_by TEXT NOT NULL,
        valid_from TEXT NOT NULL, valid_to TEXT, created_at TEXT NOT NULL, revoked_at TEXT, revoked_by TEXT
    );
    CREATE TRIGGER overrides_append_only BEFORE DELETE ON overrides
        BEGIN SELECT RAISE(ABORT, 'overrides are append-only: revoke instead'); END;
    CREATE TABLE issuers (
        lei TEXT PRIMARY KEY, name TEXT NOT NULL, iso2 TEXT, type TEXT NOT NULL
            CHECK (type IN ('sovereign', 'agency', 'sub-sovereign', 'supranational')),
        source_id INTEGER REFERENCES sources(id)
    );
    CREATE TABLE securities (
        isin TEXT PRIMARY KEY, lei TEXT NOT NULL REFERENCES issuers(lei), source_id INTEGER REFERENCES sources(id)
    );
    """,
    # 3: validators for conditional requests (the bytes themselves are in the archive)
    """
    CREATE TABLE http_validators (
        url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, sha256 TEXT NOT NULL, path TEXT NOT NULL,
        fetched_at TEXT NOT NULL
    );
    """,
    # 4: who did what through the API's admin endpoints
    """
    CREATE TABLE admin_actions (
        id INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, payload TEXT NOT NULL,
        outcome TEXT NOT NULL, message TEXT
    );
    """,
    # 5: a record that cannot be rewritten: recorded times beside effective dates, reasons for anything
    # back-dated or revoked, withdrawals as records, and an audit trail chained by hashes. Rows written
    # before this schema keep the times they were recorded with.
    """
    ALTER TABLE list_versions ADD COLUMN backdate_reason TEXT;
    ALTER TABLE overrides ADD COLUMN backdate_reason TEXT;
    ALTER TABLE overrides ADD COLUMN revoked_from TEXT;
    ALTER TABLE overrides ADD COLUMN revoke_reason TEXT;
    UPDATE overrides SET revoked_from = substr(revoked_at, 1, 10),
        revoke_reason = 'revoked before revocation reasons were recorded' WHERE revoked_at IS NOT NULL;
    CREATE TABLE withdrawals (
        version_id INTEGER PRIMARY KEY REFERENCES list_versions(id), recorded_at TEXT NOT NULL,
        withdrawn_by TEXT NOT NULL, reason TEXT NOT NULL
    );
    CREATE TRIGGER published_versions_stay BEFORE UPDATE ON list_versions WHEN OLD.state = 'published'
        BEGIN SELECT RAISE(ABORT, 'a published list version is never edited: publish a new one or withdraw it'); END;
    CREATE TRIGGER revocations_stay BEFORE UPDATE ON overrides WHEN OLD.revoked_at IS NOT NULL
        BEGIN SELECT RAISE(ABORT, 'a revoked override is never edited'); END;
    CREATE TRIGGER overrides_keep_their_terms BEFORE UPDATE ON overrides
        WHEN NEW.iso2 IS NOT OLD.iso2 OR NEW.reason IS NOT OLD.reason OR NEW.decided_by IS NOT OLD.decided_by
          OR NEW.valid_from IS NOT OLD.valid_from OR NEW.valid_to IS NOT OLD.valid_to OR NEW.created_at IS NOT OLD.created_at
        BEGIN SELECT RAISE(ABORT, 'an override is never edited: revoke it and add another'); END;
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY, recorded_at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
        subject TEXT, effective_from TEXT, reason TEXT, details TEXT NOT NULL, prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    """,
    # 6: a list that proves itself (a digest over each version's entries, checked before they answer),
    # and runs that name their process, so one a crash left unfinished is seen as such.
    """
    CREATE TABLE version_checks (version_id INTEGER PRIMARY KEY REFERENCES list_versions(id), digest TEXT NOT NULL);
    ALTER TABLE runs ADD COLUMN pid INTEGER;
    """,
    # 7: an issuer has a key of its own (many sovereigns have no LEI) and a short name to be asked by
    """
    CREATE TABLE issuers_v7 (
        id INTEGER PRIMARY KEY, name TEXT NOT NULL, short_name TEXT, lei TEXT UNIQUE, iso2 TEXT, type TEXT NOT NULL
            CHECK (type IN ('sovereign', 'agency', 'sub-sovereign', 'supranational')),
        source_id INTEGER REFERENCES sources(id)
    );
    INSERT INTO issuers_v7 (name, lei, iso2, type, source_id) SELECT name, lei, iso2, type, source_id FROM issuers;
    CREATE TABLE securities_v7 (
        isin TEXT PRIMARY KEY, issuer_id INTEGER NOT NULL REFERENCES issuers_v7(id),
        source_id INTEGER REFERENCES sources(id)
    );
    INSERT INTO securities_v7 SELECT s.isin, i.id, s.source_id FROM securities s JOIN issuers_v7 i ON i.lei = s.lei;
    DROP TABLE securities;
    DROP TABLE issuers;
    ALTER TABLE issuers_v7 RENAME TO issuers;
    ALTER TABLE securities_v7 RENAME TO securities;
    CREATE INDEX securities_issuer ON securities(issuer_id);
    """,
    # 8: people, not a shared token: admin tokens per person (only their hashes), and approvals of a
    # list version recorded one by one when the policy asks for more than one approver
    """
    CREATE TABLE tokens (
        id INTEGER PRIMARY KEY, person TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE TABLE approvals (
        version_id INTEGER NOT NULL REFERENCES list_versions(id), approved_by TEXT NOT NULL,
        effective_from TEXT NOT NULL, recorded_at TEXT NOT NULL, PRIMARY KEY (version_id, approved_by)
    );
    """,
    # 9: the committee's minutes reference beside each approval, for the approval pack
    """
    ALTER TABLE list_versions ADD COLUMN minutes TEXT;
    """,
    # 10: people behind decisions: a register of people matched by a normalised key (sovereign.people); approvals
    # by person (an approval for another date replaces the earlier one, marked, never deleted), with the OS user
    # and minutes; approvals of loosening decisions (revoking an override); an override's public reasons in
    # Dutch and English apart from its internal note, and the kind of its revocation (entered in error)
    """
    CREATE TABLE people (
        id INTEGER PRIMARY KEY, name TEXT NOT NULL, key TEXT NOT NULL, email TEXT, role TEXT,
        created_at TEXT NOT NULL, recorded_by TEXT, removed_at TEXT, removed_by TEXT
    );
    CREATE UNIQUE INDEX people_key ON people(key) WHERE removed_at IS NULL;
    CREATE TABLE approvals_by_person (
        id INTEGER PRIMARY KEY, version_id INTEGER NOT NULL REFERENCES list_versions(id), approved_by TEXT NOT NULL,
        person_key TEXT NOT NULL, os_user TEXT, effective_from TEXT NOT NULL, minutes TEXT, recorded_at TEXT NOT NULL,
        replaced_at TEXT
    );
    INSERT INTO approvals_by_person (version_id, approved_by, person_key, effective_from, recorded_at)
        SELECT version_id, approved_by, lower(trim(approved_by)), effective_from, recorded_at FROM approvals;
    DROP TABLE approvals;
    ALTER TABLE approvals_by_person RENAME TO approvals;
    CREATE TABLE loosenings (
        id INTEGER PRIMARY KEY, override_id INTEGER NOT NULL REFERENCES overrides(id), approved_by TEXT NOT NULL,
        person_key TEXT NOT NULL, os_user TEXT, kind TEXT NOT NULL, revoked_from TEXT NOT NULL, reason TEXT NOT NULL,
        recorded_at TEXT NOT NULL, replaced_at TEXT
    );
    ALTER TABLE overrides ADD COLUMN public_reason_nl TEXT;
    ALTER TABLE overrides ADD COLUMN public_reason_en TEXT;
    ALTER TABLE overrides ADD COLUMN revoke_kind TEXT;
    """,
    # 11: list digests, the audit chain, the issuer register's rows and admin tokens keyed with a secret kept outside the
    # database (`sovereign.keys`):
    # the keyring row names the key and seals the older, unkeyed part of the chain. Filled on first opening
    # for writing (`settle`), where the records of an older database are re-keyed as found, in the trail.
    """
    CREATE TABLE keyring (
        id INTEGER PRIMARY KEY CHECK (id = 1), key_id TEXT NOT NULL, keyed_at TEXT NOT NULL,
        sealed_through INTEGER NOT NULL, head TEXT NOT NULL, seal TEXT NOT NULL
    );
    ALTER TABLE issuers ADD COLUMN mac TEXT;
    ALTER TABLE securities ADD COLUMN mac TEXT;
    ALTER TABLE tokens ADD COLUMN mac TEXT;
    """,
]


BUSY_TIMEOUT_MS = 10_000


def now() -> str:
    """A recorded time: the one clock's instant in UTC (`sovereign.clock`)."""
    from sovereign import clock

    return clock.stamp()


def _database_class() -> type[sqlite_utils.Database]:
    import sqlite_utils

    class Database(sqlite_utils.Database):
        committed_lines: list[str] = []

        """sqlite-utils' Database whose transactions take the write lock when they begin (BEGIN IMMEDIATE),
        so a writer that meets another one waits out the busy timeout instead of failing on its first write."""

        @contextmanager
        def atomic(self) -> Iterator[sqlite_utils.Database]:
            if self.conn.in_transaction:
                with super().atomic():
                    yield self
                return
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self
            except BaseException:
                self.conn.rollback()
                self.committed_lines = []
                raise
            else:
                self.conn.commit()
                if self.committed_lines:  # the chain's head, logged only once it is on disk
                    import logging  # here, not at the top: a lookup never writes, and logging costs its start-up

                    for line in self.committed_lines:
                        logging.getLogger("sovereign.audit").info("%s", line)
                self.committed_lines = []

    return Database


def open_db(path: Path, create: bool = True, key_file: Path | None = None,
            rekey_found: bool = False) -> sqlite_utils.Database:
    """Open (and migrate) the database for writing. Prefer `writer()`, which also closes it. `key_file`: the
    key its digests are made with (default: the one `Settings` names for this database)."""
    path = Path(path)
    if not create and not path.exists():
        raise UserError(f"no database at {path}: run `sovereign refresh --source bundled` first")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create the database folder {path.parent}: {exc.strerror}") from None
    if path.exists() and not os.access(path, os.W_OK):
        raise UserError(f"{path} is read-only: lookups work, changes need write access to the file and its folder")
    try:
        db = _database_class()(path)
        db.key_file = key_file  # type: ignore[attr-defined]
        db.execute("PRAGMA foreign_keys = ON")
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if db.journal_mode != "wal":
            db.enable_wal()
        migrate(db, path)
        settle(db, rekey_found)
    except UserError:
        db.close()
        raise
    except sqlite3.OperationalError as exc:
        raise (Unavailable if "locked" in str(exc) or "busy" in str(exc) else UserError)(f"{path}: {busy_or(exc)}") from None
    except sqlite3.DatabaseError as exc:
        raise UserError(f"{path}: not a sovereign database, or not writable ({exc})") from None
    return db


def busy_or(exc: Exception) -> str:
    """A locked database in the words an operator acts on."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return f"another process kept the database busy for longer than {BUSY_TIMEOUT_MS // 1000} s; try again"
    return f"cannot use the database ({text})"


DatabaseError = sqlite3.Error  # for the surfaces that catch SQLite's errors without importing sqlite3
OperationalError = sqlite3.OperationalError  # a lock held past the busy timeout, among others


def is_database_error(exc: BaseException) -> bool:
    """SQLite's own errors, for the surfaces that turn them into one line without importing sqlite3."""
    return isinstance(exc, sqlite3.Error)


class KeyedConnection(sqlite3.Connection):
    """A read-only connection that knows the key file its database's digests are checked with."""
    key_file: Path | None = None


def connect_readonly(path: Path, check_same_thread: bool = True, key_file: Path | None = None) -> sqlite3.Connection:
    """A plain read-only connection for lookups: no migrations, no heavy imports. Prefer `reader()`."""
    path = Path(path)
    if not path.exists():
        raise Unavailable(f"no database at {path}: run `sovereign refresh --source bundled` first")
    # In a folder nobody may write to (a read-only mount), nobody can change the file either: read it
    # as immutable, which needs no lock files beside it.
    mode = "ro" if os.access(path.parent, os.W_OK) else "ro&immutable=1"
    try:
        conn = sqlite3.connect(f"file:{path}?mode={mode}", uri=True, check_same_thread=check_same_thread,
                               factory=KeyedConnection)
        conn.key_file = key_file
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.OperationalError as exc:
        raise Unavailable(f"{path}: {busy_or(exc)}") from None
    except sqlite3.DatabaseError as exc:
        raise Unavailable(f"{path}: not a sovereign database ({exc})") from None
    if version > len(MIGRATIONS):
        conn.close()
        raise UserError(f"{path} was written by a newer sovereign (schema {version}); upgrade sovereign to read it")
    if version == 0:
        conn.close()
        raise UserError(f"{path}: empty database: run `sovereign refresh --source bundled` first")
    if version < len(MIGRATIONS):
        conn.close()
        raise UserError(f"{path}: written by an older sovereign (schema {version} of {len(MIGRATIONS)}); "
                        "run `sovereign refresh --source bundled` once to migrate it")
    return conn


@contextmanager
def reader(path: Path, check_same_thread: bool = True, snapshot: bool = False,
           key_file: Path | None = None) -> Iterator[sqlite3.Connection]:
    """A read-only connection for the length of a block (a command, a request). With `snapshot`, one read
    transaction, so an answer never mixes two list versions while a refresh writes."""
    conn = connect_readonly(path, check_same_thread, key_file)
    try:
        if snapshot:
            conn.execute("BEGIN")
        yield conn
    finally:
        conn.close()


class Watcher:
    """Tells a long-running process when the database changed under it: another connection committed
    (SQLite's data_version) or the file was replaced (its inode)."""

    def __init__(self, path: Path, key_file: Path | None = None):
        self.path, self.key_file = Path(path), key_file
        self._conn: sqlite3.Connection | None = None
        self._inode: int | None = None
        self._lock = threading.Lock()

    def generation(self) -> tuple[int, int]:
        with self._lock:
            try:
                inode = self.path.stat().st_ino
            except FileNotFoundError:
                raise Unavailable(f"no database at {self.path}: run `sovereign refresh --source bundled` first") from None
            if self._conn is None or inode != self._inode:
                if self._conn is not None:
                    self._conn.close()
                self._conn, self._inode = connect_readonly(self.path, False, self.key_file), inode
            return inode, self._conn.execute("PRAGMA data_version").fetchone()[0]


@contextmanager
def writer(path: Path, create: bool = True, key_file: Path | None = None,
           rekey_found: bool = False) -> Iterator[sqlite_utils.Database]:
    """A migrated write connection for the length of a block; each write inside is its own transaction."""
    from sovereign import replicas  # the read-only switch and the replicas' paths

    if replicas.read_only():
        raise UserError(f"{path}: this process serves a read-only replica and never writes; "
                        "write on the primary (its changes reach the replicas)")
    db = open_db(path, create, key_file, rekey_found)
    before = db.conn.total_changes
    try:
        yield db
    finally:
        changed = db.conn.total_changes != before
        db.close()
        if changed:  # what was committed reaches the replicas, even when the block failed after it
            replicas.after_write(Path(path))


def path_of(db: sqlite_utils.Database) -> Path:
    """The file behind a write connection, for opening a read-only one beside it."""
    return Path(db.execute("PRAGMA database_list").fetchone()[2])


def migrate(db: sqlite_utils.Database, path: Path) -> None:
    current = db.execute("PRAGMA user_version").fetchone()[0]
    if current > len(MIGRATIONS):
        raise UserError(f"{path} was written by a newer sovereign (schema {current}); upgrade first")
    for number, script in enumerate(MIGRATIONS[current:], start=current + 1):
        with db.atomic():
            for statement in statements(script):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {number}")


def settle(db: sqlite_utils.Database, rekey_found: bool = False) -> None:
    """On opening for writing: the key the digests are made with (made on first use, when an older
    database's records are re-keyed as found; `rekey_found`: with the key in place, for a backup an operator
    restores), and runs whose process is gone marked interrupted."""
    from sovereign.store import writes

    writes.key_database(db, rekey_found)
    unfinished = [(r[0], r[1]) for r in db.execute("SELECT id, pid FROM runs WHERE finished_at IS NULL")]
    dead = [run for run, pid in unfinished if not _alive(pid)]
    if not dead:
        return
    with db.atomic():
        for run in dead:
            db.execute("UPDATE runs SET finished_at = ?, outcome = 'interrupted', message = ? WHERE id = ?",
                       [now(), "the process ended before the run finished (killed, or the machine stopped); "
                        "nothing it was writing was kept", run])


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def identify(path: Path) -> int:
    """The schema of a file that claims to be a sovereign database, read without changing it: SQLite's
    integrity check passes and its tables are exactly those its schema number stands for. Anything else
    (another application's SQLite file, a damaged copy, a newer sovereign's) is refused by name."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            header = f.read(16)
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror})") from None
    if header != b"SQLite format 3\x00":
        raise UserError(f"{path}: not a SQLite database, so not a sovereign database")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        schema = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")}
    except sqlite3.DatabaseError as exc:
        raise UserError(f"{path}: not a readable SQLite database ({exc})") from None
    finally:
        conn.close()
    if check != "ok":
        raise UserError(f"{path}: SQLite's integrity check fails ({check[:200]})")
    if schema > len(MIGRATIONS):
        raise UserError(f"{path} was written by a newer sovereign (schema {schema}); upgrade sovereign first")
    if schema < 1 or tables != _objects(schema):
        raise UserError(f"{path}: not a sovereign database of a known schema (schema number {schema}; its tables "
                        "are not that schema's)")
    return schema


@contextmanager
def plain_reader(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection with no schema or key checks, for looking at a file before it is trusted."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        yield conn
    finally:
        conn.close()


def copy_consistent(source: Path, dest: Path) -> None:
    """One consistent copy of a database (SQLite's online backup: whatever writes meanwhile), as one file."""
    with plain_reader(source) as conn:
        copy = sqlite3.connect(dest)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")
        finally:
            copy.close()


def _objects(schema: int) -> set[str]:
    """The tables and triggers a database of a schema number holds."""
    conn = sqlite3.connect(":memory:")
    try:
        for script in MIGRATIONS[:schema]:
            for statement in statements(script):
                conn.execute(statement)
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")}
    finally:
        conn.close()


def statements(script: str) -> list[str]:
    """Split a script into whole statements (trigger bodies hold `;` of their own)."""
    out, buf = [], ""
    for piece in script.split(";"):
        buf += piece + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \n;"):
                out.append(buf.strip())
            buf = ""
    return out
