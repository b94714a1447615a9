"""Acquiring an edition from freedomhouse.org (or a mirror): conditional fetches whose bytes are
archived, the scores table, the country pages (resumable), and the workbooks on FH's data page.

Each ends in `pipeline.ingest`, so validation, the anomaly gate and the one-transaction write are
the same as for a file an operator hands in.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import sqlite_utils

from sovereign import methodology, store
from sovereign.countries import read_errata
from sovereign.pipeline import Outcome, archive, ingest, prepare
from sovereign.policy import Policy

SCORES_PATH = "/countries/freedom-world/scores"
DATA_PAGE_PATH = "/report/freedom-world"


def _validators(db: sqlite_utils.Database, url: str) -> tuple[str | None, str | None, bytes | None, str | None]:
    row = db.execute("SELECT etag, last_modified, path, fetched_at FROM http_validators WHERE url = ?", [url]).fetchone()
    if not row or not Path(row[2]).exists():
        return None, None, None, None
    return row[0], row[1], Path(row[2]).read_bytes(), row[3]


def _remember(db: sqlite_utils.Database, db_path: Path, fetched, kind: str, suffix: str) -> int:
    """Archive a fetched payload (bytes, sha256, URL, time) and its validators; returns the source id."""
    sha = hashlib.sha256(fetched.content).hexdigest()
    path = archive(db_path, fetched.content, sha, suffix)
    source_id, _ = store.add_source(db, kind, fetched.url, sha, len(fetched.content), path,
                                    {"content_type": fetched.content_type})
    db["http_validators"].upsert({"url": fetched.url, "etag": fetched.etag, "last_modified": fetched.last_modified,
                                  "sha256": sha, "path": path, "fetched_at": store.now()}, pk="url")
    return source_id


def fetch_page(db, db_path: Path, client, url: str, expect: str = "text/html", reuse_since: str | None = None):
    """A conditional GET; a page fetched since `reuse_since` is taken from the archive with no request."""
    etag, modified, stored, fetched_at = _validators(db, url)
    if stored is not None and reuse_since and fetched_at and fetched_at >= reuse_since:
        from scrapers.http import Fetched

        return Fetched(url, 304, stored, expect, etag, modified)
    return client.get(url, etag, modified, stored, expect=expect)


def refresh_web(db: sqlite_utils.Database, db_path: Path, policy: Policy, client, base_url: str,
                with_details: bool = False, progress=None) -> tuple[Outcome, dict]:
    """FH's scores table (and country pages) -> validate -> map -> score -> store -> list, one transaction."""
    from datetime import datetime, timedelta, timezone

    from scrapers.freedomhouse.country_page import parse_country_page
    from scrapers.freedomhouse.scores_page import parse_scores_page

    url = base_url.rstrip("/") + SCORES_PATH
    fetched = fetch_page(db, db_path, client, url)
    info = {"url": url, "status": fetched.status, "pages": 0, "disagreements": []}
    if fetched.status == 304 and not with_details:
        return Outcome(source=url), info
    page = parse_scores_page(fetched.content, url, read_errata())
    tidy, conflicts = page.frame, []
    if with_details:
        since = (datetime.now(timezone.utc) - timedelta(days=1)).replace(microsecond=0).isoformat()
        details = {}
        names = sorted(page.slugs)
        for name in (progress(names, label="country pages") if progress else names):
            page_url = f"{base_url.rstrip('/')}/country/{page.slugs[name]}/freedom-world/{page.edition}"
            got = fetch_page(db, db_path, client, page_url, reuse_since=since)
            with db.atomic():  # kept as fetched, so an interrupted run resumes from here
                _remember(db, db_path, got, "web", ".html")
            details[name] = parse_country_page(got.content, page_url)
            info["pages"] += 1
        tidy, conflicts = merge_details(tidy, details, page.edition)
        info["disagreements"] = conflicts
    scored = prepare(tidy, url)
    entities = scored.select("fh_name", "entity").rows()
    conflict_rows = [c | {"entity": dict(entities).get(c["fh_name"], c["fh_name"])} for c in conflicts]
    outcome = ingest(db, db_path, scored, fetched.content, "web", url, ".html", policy, conflict_rows,
                     before_commit=lambda _sid: _remember(db, db_path, fetched, "web", ".html"))
    return outcome, info


def merge_details(tidy: pl.DataFrame, details: dict[str, dict], edition: int) -> tuple[pl.DataFrame, list[dict]]:
    """Indicators from the country pages, where their aggregates agree with the table's."""
    from scrapers.freedomhouse.tidy import validate

    rows, conflicts = [], []
    by_name = {r["fh_name"]: r for r in tidy.iter_rows(named=True)}
    for name, d in details.items():
        base = by_name.get(name)
        if base is None:
            continue
        disagree = [(k, base[k], d[k]) for k in ("pr", "cl", "status_pub") if d.get(k) is not None and d[k] != base[k]]
        if disagree:
            conflicts += [{"edition": edition, "fh_name": name, "field": k, "values": f"scores table: {a}; country page: {b}",
                           "kept": "scores table"} for k, a, b in disagree]
            continue
        extra = {c: d[c] for c in methodology.INDICATOR_COLUMNS} | {"add_q": d.get("add_q", 0)}
        for sub, parts in methodology.INDICATORS.items():
            extra[sub] = sum(d[p] for p in parts)
        rows.append({"fh_name": name, **extra})
    if not rows:
        return tidy, conflicts
    add = pl.DataFrame(rows).cast({c: pl.Int16 for c in rows[0] if c != "fh_name"})
    merged = tidy.drop([c for c in add.columns if c != "fh_name"]).join(add, on="fh_name", how="left").select(tidy.columns)
    validate(merged.with_row_index("row", 1).with_columns(pl.col("row").cast(pl.Int32)), "country pages", None, read_errata())
    return merged, conflicts


def refresh_workbooks(db: sqlite_utils.Database, db_path: Path, policy: Policy, client, base_url: str) -> list[Outcome]:
    """The workbooks linked from FH's data page, each read by its sheets and ingested."""
    from scrapers.freedomhouse.discover import workbook_links
    from scrapers.freedomhouse import read_workbook

    page_url = base_url.rstrip("/") + DATA_PAGE_PATH
    links = workbook_links(fetch_page(db, db_path, client, page_url).content, page_url)
    if not links:
        from sovereign.errors import SourceError

        raise SourceError(page_url, ["no .xlsx links on FH's Freedom in the World data page"])
    outcomes = []
    for link in links:
        got = client.get(link)
        name = Path(link).name
        tidy = read_workbook(Path(name), data=got.content, errata=read_errata()).drop("row")
        outcomes.append(ingest(db, db_path, prepare(tidy, name), got.content, "web", link, ".xlsx", policy))
    return outcomes
