"""What acquiring hands the refresh flow: `Payload`s (a tidy, validated frame and the raw bytes behind it) and
`Acquired` (what fetching saw), and the archive both keep their bytes in.

`sovereign.acquire` produces these and `sovereign.pipeline` stores them; neither imports the other's side,
so this module is the seam between them (an import-linter contract keeps it that way).
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from fiw.errors import UserError
from sovereign.countries import read_errata
from sovereign.store import writes

if TYPE_CHECKING:
    import sqlite_utils

    from scrapers.http import Fetched


@dataclass
class Payload:
    """One acquired source: the tidy frame parsed (and validated) from it, and the raw bytes behind it. A page
    fetched from the web carries its response (`fetched`, asked for as `asked`), whose validators are kept once
    the payload is stored, so the next run asks FH whether it changed."""
    frame: pl.DataFrame
    raw: bytes
    kind: str                      # bundled | web | file
    uri: str
    suffix: str
    conflicts: list[dict] = field(default_factory=list)
    manifest: dict | None = None
    fetched: Fetched | None = None
    asked: str | None = None

    @property
    def bundled(self) -> bool:
        return self.kind == "bundled"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()


@dataclass
class Acquired:
    """What acquiring saw, for the operator's summary and the run's record. `status` is set once a scores page
    answered; `requests` once a client asked anything."""
    url: str | None = None                 # where the scores table came from
    asked: str | None = None               # the URL asked for (a redirect may serve it from elsewhere)
    status: int | None = None              # its HTTP status (304: not modified)
    requests: int | None = None            # requests made, the robots.txt included
    first_page_failure: str | None = None  # the configured scores page failed, the other answered
    edition: int | None = None             # the edition the page named
    signals: dict[str, int] = field(default_factory=dict)   # what named it -> the edition it named
    not_covered: list[str] = field(default_factory=list)    # rows FH's Freedom in the World does not cover
    pages: int = 0                                          # country pages read
    hub_pages: int | None = None                            # country hub pages that named the edition
    disagreements: list[dict] = field(default_factory=list)  # country page against the table
    skipped_pages: list[str] = field(default_factory=list)  # country pages that could not be read
    skipped_files: list[str] = field(default_factory=list)  # workbook links that held no scores
    warnings: list[str] = field(default_factory=list)       # said to the operator before anything was fetched


def read_bundled(raw: bytes | None = None) -> tuple[pl.DataFrame, bytes, dict, pl.DataFrame]:
    """The bundled snapshot (or an archived copy of it), checked again on the way in (a hand-edited data/ file
    is caught here)."""
    from fiw.tidy import TIDY_SCHEMA, validate
    from sovereign import paths

    raw = paths.SCORES.read_bytes() if raw is None else raw
    schema = {k: v for k, v in TIDY_SCHEMA.items() if k != "row"} | {"source": pl.String}
    frame = pl.read_csv(io.BytesIO(raw), schema=schema).with_row_index("row", offset=2).with_columns(
        pl.col("row").cast(pl.Int32))
    validate(frame, paths.SCORES.name, None, read_errata())
    manifest = json.loads(paths.MANIFEST.read_text(encoding="utf-8"))
    conflicts = pl.read_csv(paths.CONFLICTS, schema_overrides={"edition": pl.Int16})
    return frame.drop("row"), raw, manifest, conflicts


def archive(db_path: Path, raw: bytes, sha: str, suffix: str) -> str:
    """Raw bytes kept beside the database, named by their hash, so every source can be re-read."""
    folder = Path(db_path).parent / "archive"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{sha}{suffix}"
        if not target.exists():
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(raw)
            tmp.replace(target)
    except OSError as exc:
        raise UserError(f"cannot keep the raw payload in {folder}: {exc.strerror or exc}") from None
    return str(target)


def remember(db: sqlite_utils.Database, db_path: Path, fetched: Fetched, kind: str, suffix: str,
             asked: str | None = None) -> int:
    """Archive a fetched payload (bytes, sha256, URL, time) and its validators; returns the source id. The
    validators are kept under the URL asked for (`asked`), the one the next run looks up, even when a redirect
    served the page from elsewhere; the source records where the bytes came from."""
    sha = hashlib.sha256(fetched.content).hexdigest()
    path = archive(db_path, fetched.content, sha, suffix)
    source_id, _ = writes.add_source(db, kind, fetched.url, sha, len(fetched.content), path,
                                     {"content_type": fetched.content_type})
    writes.remember_validator(db, asked or fetched.url, fetched.etag, fetched.last_modified, sha, path)
    return source_id
