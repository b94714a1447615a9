"""The archived payloads read again: every stored score is compared with the FH payload it came from, and
every archived file with the sha256 recorded when it arrived. A score rewritten in the database, or a
payload rewritten in the archive, is named."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import polars as pl

from fiw.errors import SourceError, UserError
from sovereign.store import reads


def located(db_path: Path, recorded: str) -> Path:
    """The archive beside this database first (a restored or copied database brings its own), else the path
    recorded when the payload arrived."""
    beside = Path(db_path).parent / "archive" / Path(recorded).name
    return beside if beside.exists() else Path(recorded)


def parsed(kind: str, uri: str, path: Path, raw: bytes) -> pl.DataFrame:
    """The payload parsed as it was on the way in: the bundled snapshot, an FH workbook, a scores CSV or FH's
    scores page."""
    from sovereign.countries import read_errata

    if kind == "bundled":
        from sovereign.payload import read_bundled

        return read_bundled(raw)[0]
    if raw[:4] == b"PK\x03\x04":
        from scrapers.freedomhouse import read_workbook

        return read_workbook(Path(Path(uri).name), data=raw, errata=read_errata()).drop("row")
    if path.suffix == ".html":
        from scrapers.freedomhouse.scores_page import parse_scores_page

        return parse_scores_page(raw, uri, read_errata()).frame
    from scrapers.freedomhouse import read_scores_csv

    return read_scores_csv(Path(Path(uri).name), data=raw, errata=read_errata()).drop("row")


def check(conn: Any) -> dict:
    """`payloads`: archived files missing or no longer matching their sha256; `contradicted`: stored scores the
    payload they came from says otherwise (edition, country, field, stored, payload); `unread`: sources whose
    payload could not be parsed again (said, not counted as a failure of the data)."""
    from sovereign.pipeline import prepare
    from sovereign.verify import against_payload

    db_path = Path(conn.execute("PRAGMA database_list").fetchone()[2])
    payloads, contradicted, unread = [], [], []
    for source in reads.archived_sources(conn):
        path = located(db_path, source["path"])
        where = f"source {source['id']} ({source['uri']}, archived as {path})"
        try:
            raw = path.read_bytes()
        except OSError as exc:
            payloads.append({"source": source["id"], "uri": source["uri"], "path": str(path),
                             "problem": f"{where}: the archived payload cannot be read ({exc.strerror})"})
            continue
        if hashlib.sha256(raw).hexdigest() != source["sha256"]:
            payloads.append({"source": source["id"], "uri": source["uri"], "path": str(path),
                             "problem": f"{where}: its sha256 no longer matches the one recorded when it arrived "
                                        "(the archived file was changed)"})
            continue
        if not source["scored"]:
            continue
        try:
            payload = prepare(parsed(source["kind"], source["uri"], path, raw), source["uri"])
        except (SourceError, UserError) as exc:
            unread.append({"source": source["id"], "uri": source["uri"], "why": str(exc).splitlines()[0][:300]})
            continue
        found = against_payload(reads.scores_from(conn, source["id"]), payload)
        contradicted += [r | {"source": source["id"], "uri": source["uri"]} for r in found.to_dicts()]
    return {"payloads": payloads, "contradicted": contradicted, "unread": unread}


def consistent(found: dict) -> bool:
    return not found["payloads"] and not found["contradicted"]
