"""The key file: the secret that keys list digests and the audit chain (`sovereign.macs`), kept outside the
database, and which key an open database was keyed with.

Write access to the database alone then cannot forge a list or the trail: a digest or chain hash
recomputed without the key does not match. The file is `SOVEREIGN_KEY_FILE`, by default `sovereign.key`
beside the database; it is made on first use (mode 600) and never made again for a database already
keyed with it: a missing key is an error, never a new key that would accept whatever the file holds.
Stdlib only: `check` proves the list it answers from with it.
"""

from __future__ import annotations

import hmac
import os
import stat
import weakref
from pathlib import Path
from typing import Any

from fiw.errors import Unavailable
from sovereign.macs import Key, keyring_seal

KEY_NAME = "sovereign.key"


def default_file(db: Path) -> Path:
    """Beside the database, never inside it."""
    return Path(db).parent / KEY_NAME


def file_for(conn: Any) -> Path:
    """The key file of an open connection: the one it was opened with, else the one `Settings` names."""
    bound = getattr(conn, "key_file", None)
    if bound is not None:
        return Path(bound)
    from sovereign.settings import Settings

    path = conn.execute("PRAGMA database_list").fetchone()[2]
    return Settings.load(db=path).key_file


def of(conn: Any) -> Key:
    """The key an open database's digests are checked with: its key file, which must be the key the database
    records (by fingerprint) and must vouch for that record. Never made here: readers only read."""
    from sovereign.store import reads

    ring = reads.keyring(conn)
    path = file_for(conn)
    if ring is None:
        raise Unavailable("the database has no record of the key its digests are made with (written by an older "
                        "sovereign, or the record was removed): open it for writing once with its key file "
                        f"({path}) or restore a backup")
    key = load(path)
    if not hmac.compare_digest(key.id, ring["key_id"]):
        raise Unavailable(f"key file {path} holds key {key.id}, but this database was keyed with key "
                        f"{ring['key_id']}: point SOVEREIGN_KEY_FILE at the database's own key file")
    if not hmac.compare_digest(ring["seal"], keyring_seal(key, ring["key_id"], ring["keyed_at"],
                                                          ring["sealed_through"], ring["head"])):
        raise Unavailable("the database's key record was changed outside sovereign: no answer is given from it; "
                        "restore the database from a backup")
    return key


_CACHE: dict[Path, tuple[tuple[int, int, int], Key]] = {}
_BY_CONNECTION: weakref.WeakKeyDictionary[Any, Key] = weakref.WeakKeyDictionary()


def of_cached(conn: Any) -> Key:
    """`of`, once per connection: the register's rows are proved on every read."""
    try:
        key = _BY_CONNECTION.get(conn)
        if key is None:
            key = _BY_CONNECTION[conn] = of(conn)
    except TypeError:  # a plain sqlite3 connection cannot be remembered weakly: proved each time
        return of(conn)
    return key


def load(path: Path, create: bool = False) -> Key:
    """The key in `path`; with `create`, a new one when there is none (the caller has checked that the
    database was never keyed). A key file others may read or write is refused, like ssh does."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        if not create:
            raise Unavailable(f"key file {path} is missing: the digests of this database were made with it. Put the "
                            "key file back (or point SOVEREIGN_KEY_FILE at it); sovereign never makes a new key for "
                            "a keyed database") from None
        return _create(path)
    except OSError as exc:
        raise Unavailable(f"key file {path}: {exc.strerror}") from None
    if info.st_mode & 0o077:
        raise Unavailable(f"key file {path} is readable or writable by others (mode {stat.S_IMODE(info.st_mode):o}): "
                        f"`chmod 600 {path}` first")
    stamp = (info.st_ino, info.st_mtime_ns, info.st_size)
    cached = _CACHE.get(path)
    if cached and cached[0] == stamp:
        return cached[1]
    try:
        secret = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (ValueError, UnicodeDecodeError):
        raise Unavailable(f"key file {path}: not a sovereign key (expected 64 hexadecimal digits)") from None
    if len(secret) != 32:
        raise Unavailable(f"key file {path}: not a sovereign key (expected 64 hexadecimal digits)")
    key = Key(secret, path)
    _CACHE[path] = (stamp, key)
    return key


def _create(path: Path) -> Key:
    import secrets  # only when a key is made: a lookup reads one

    secret = secrets.token_bytes(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it meanwhile: use theirs
        return load(path)
    except OSError as exc:
        raise Unavailable(f"cannot create the key file {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secret.hex() + "\n")
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise Unavailable(f"cannot write the key file {path}: {exc.strerror}") from None
    key = load(path)
    if key.secret != secret:
        raise Unavailable(f"key file {path} did not read back as written")
    return Key(key.secret, path, created=True)
