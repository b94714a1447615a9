"""Acquiring an edition: the bundled snapshot, FH's site (or a mirror), or an operator's file.

Each source yields `Payload`s (a tidy, validated frame and the raw bytes behind it, `sovereign.payload`) for
`pipeline.refresh`, and fills in an `Acquired` with what fetching saw. Web fetches are conditional and their
bytes archived with their URL and hash; country pages are kept as they arrive, so an interrupted
`--with-details` run resumes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from fiw import methodology
from fiw.errors import SourceError, UserError
from sovereign import clock
from sovereign.countries import read_errata
from sovereign.payload import Acquired, Payload, read_bundled, remember
from sovereign.store import reads

if TYPE_CHECKING:
    import sqlite_utils

    from scrapers.freedomhouse.scores_page import ScoresTable
    from scrapers.http import Fetched, PoliteClient
    from sovereign.settings import Settings

SCORES_PATHS = ("/countries/freedom-world/scores", "/country/scores")
DATA_PAGE_PATH = "/report/freedom-world"
SOURCES = ("bundled", "web", "workbooks")
PLACEHOLDER_CONTACT = "example.org"  # the default User-Agent's contact, until one is configured


def check_source(source: str) -> None:
    if source not in SOURCES and not Path(source).is_file():
        raise UserError(f"--source {source!r}: expected bundled, web, workbooks or an existing file")


def payloads(db: sqlite_utils.Database, settings: Settings, source: str, info: Acquired, *,
             edition: int | None = None, with_details: bool = False,
             progress: Callable | None = None, say: Callable[[str], None] | None = None) -> Iterator[Payload]:
    """What `source` holds, parsed and validated; `info` collects what fetching saw."""
    check_source(source)
    if source in ("web", "workbooks") and PLACEHOLDER_CONTACT in settings.user_agent:
        warning = (f"warning: the User-Agent still names the placeholder contact ({settings.user_agent}): set "
                   "SOVEREIGN_USER_AGENT (or --user-agent) to name who runs this and how FH can reach them")
        info.warnings.append(warning)
        if say:
            say(warning)
    if source == "bundled":
        yield bundled()
    elif source == "web":
        client = settings.client()
        try:
            yield from web(db, settings, client, info, with_details, progress, say)
        finally:
            info.requests = client.requests_made
    elif source == "workbooks":
        client = settings.client()
        try:
            yield from workbooks(db, settings, client, info)
        finally:
            info.requests = client.requests_made
    else:
        yield operator_file(Path(source), edition)


def bundled() -> Payload:
    from sovereign import paths

    tidy, raw, manifest, conflicts = read_bundled()
    return Payload(tidy, raw, "bundled", f"data/{paths.SCORES.name}", ".csv",
                   conflicts=conflicts.to_dicts(), manifest=manifest)


def operator_file(path: Path, edition: int | None = None) -> Payload:
    """An operator's file: any FH workbook (by its sheets) or a scores CSV in the web table's layout."""
    from scrapers.freedomhouse import read_scores_csv, read_workbook

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror})") from None
    errata = read_errata()
    if path.suffix.lower() in (".html", ".htm") or raw[:2000].lstrip().lower().startswith((b"<!doctype html", b"<html")):
        return scores_page_file(path, raw, edition)
    if raw[:4] == b"PK\x03\x04" or path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        frame = read_workbook(path, data=raw, errata=errata)
    else:
        frame = read_scores_csv(path, edition=edition, data=raw, errata=errata)
    return Payload(frame.drop("row"), raw, "file", path.name, path.suffix.lower())


def held_page(db: reads.Connection, run_id: int) -> tuple[Path, int]:
    """The archived page a held run did not store, and the edition it was held as."""
    import json

    run = reads.run(db, run_id)
    if run is None:
        raise UserError(f"--accept-held {run_id}: no such run (sovereign runs lists them)")
    try:
        held = (json.loads(run["message"] or "{}") or {}).get("held") or []
    except (ValueError, AttributeError):
        held = []
    if run["outcome"] != "held" or not held:
        raise UserError(f"--accept-held {run_id}: run {run_id} ({run['command']}) is {run['outcome']}, it held no "
                        "table of FH's: nothing to accept")
    found = held[-1]
    path = reads.source_path(db, found.get("sha256") or "")
    if not path or not Path(path).is_file():
        raise UserError(f"--accept-held {run_id}: the page it held ({found.get('source')}) is not in the archive")
    return Path(path), int(found["edition"])


def scores_page_file(path: Path, raw: bytes, edition: int | None) -> Payload:
    """FH's scores page saved as a file (or archived by a held run): read like the web page. Its edition is the
    operator's `--edition`, else what its country links and heading name."""
    from scrapers.freedomhouse.scores_page import parse_scores_page, read_table

    table = read_table(raw, path.name)
    if edition is None and table.hubs and not table.link_editions and not table.named_editions:
        raise UserError(f"{path.name}: its names link to country hub pages, which name the edition; give it "
                        "with --edition")
    page = parse_scores_page(raw, path.name, read_errata(), table=table, edition=edition)
    return Payload(page.frame, raw, "file", path.name, ".html")



def fetch_page(db: sqlite_utils.Database, client: PoliteClient, url: str, expect: str = "text/html",
               reuse_since: str | None = None) -> Fetched:
    """A conditional GET; a page fetched since `reuse_since` is taken from the archive with no request."""
    from scrapers.http import Fetched

    known = reads.validator(db, url)
    if not known or not Path(known["path"]).exists():
        return client.get(url, expect=expect)
    stored = Path(known["path"]).read_bytes()
    if reuse_since and known["fetched_at"] and known["fetched_at"] >= reuse_since:
        return Fetched(url, 304, stored, expect, known["etag"], known["last_modified"])
    return client.get(url, known["etag"], known["last_modified"], stored, expect=expect)


def scores_paths(settings: Settings) -> list[str]:
    """The configured scores page first, FH's other one after it."""
    configured = "/" + settings.scores_path.strip("/")
    return [configured] + [p for p in SCORES_PATHS if p != configured]


def _one_line(exc: Exception) -> str:
    lines = str(exc).splitlines() or [exc.__class__.__name__]
    return lines[0] + (f" (and {len(lines) - 1} more line(s))" if len(lines) > 1 else "")


def scores_table(db: sqlite_utils.Database, settings: Settings, client: PoliteClient, info: Acquired,
                 say: Callable[[str], None] | None = None) -> tuple[Fetched, ScoresTable]:
    """The first scores page that answers with a scores table. A page that fails is said in one line (and kept
    in `info` for the run's record) before the next is tried; both failing is one error naming both."""
    from scrapers.freedomhouse.scores_page import read_table
    from scrapers.http import FetchError, Unreachable

    base = settings.base_url.rstrip("/")
    failures: list[str] = []
    paths = scores_paths(settings)
    for n, path in enumerate(paths):
        url = base + path
        try:
            fetched = fetch_page(db, client, url)
            table = read_table(fetched.content, fetched.url)
        except (FetchError, SourceError) as exc:
            line = _one_line(exc)
            failures.append(line if line.startswith(url) else f"{url}: {line}")
            if isinstance(exc, Unreachable):  # the other page is on the same host: said once, not tried
                raise UserError(f"FH's site could not be reached: {failures[-1]}") from None
            if say and n + 1 < len(paths):
                say(f"{failures[-1]}; trying {base + paths[n + 1]} instead")
            continue
        info.url, info.status, info.asked = fetched.url, fetched.status, url
        if failures:
            info.first_page_failure = failures[0]
        return fetched, table
    raise UserError("neither of FH's scores pages could be read:\n  " + "\n  ".join(dict.fromkeys(failures)))


def hub_editions(db: sqlite_utils.Database, settings: Settings, client: PoliteClient, hubs: dict[str, str],
                 info: Acquired, wanted: int = 3) -> dict[str, int]:
    """Names link to the country hub, which links to the current report: ask a few hubs, politely."""
    from scrapers.freedomhouse.scores_page import hub_edition
    from scrapers.http import FetchError

    base = settings.base_url.rstrip("/")
    names = sorted(hubs)
    spread = (0, 1, 0.5, 0.25, 0.75, 0.125, 0.875)  # across the alphabet; a hub that fails, the next one
    picks = dict.fromkeys(names[round(f * (len(names) - 1))] for f in spread)
    found: dict[str, int] = {}
    failed: list[str] = []
    for name in picks:
        if len(found) == wanted or len(failed) > wanted:
            break
        try:
            got = fetch_page(db, client, f"{base}/country/{hubs[name]}")
        except FetchError as exc:
            failed.append(str(exc))
            continue
        edition = hub_edition(got.content, hubs[name])
        if edition is not None:
            found[name] = edition
    info.hub_pages = len(found)
    if not found and failed:
        raise UserError("the scores table links names to country hub pages, and none answered: "
                        + "; ".join(failed[:3]))
    return found


def web(db: sqlite_utils.Database, settings: Settings, client: PoliteClient, info: Acquired,
        with_details: bool, progress: Callable | None, say: Callable[[str], None] | None = None) -> Iterator[Payload]:
    """FH's scores table (and, with details, every country page); nothing when the table is unchanged.

    A country page that cannot be fetched or read is reported and skipped: the details are optional,
    the table is not."""
    from scrapers.freedomhouse.country_page import parse_country_page
    from scrapers.freedomhouse.scores_page import parse_scores_page
    from scrapers.http import FetchError

    base = settings.base_url.rstrip("/")
    fetched, table = scores_table(db, settings, client, info, say)
    url = fetched.url
    if info.first_page_failure and not table.has_pr_cl and not with_details:
        raise UserError(f"{info.first_page_failure}; the other scores page, {url}, prints no PR and CL: storing it "
                        "would keep less than the scores page gives (no ratings, no recomputed status), so nothing "
                        "was stored. Run again with --with-details (PR and CL from the country pages), or import "
                        "FH's workbook (sovereign import FILE)")
    if fetched.status == 304 and not with_details:
        return
    hubs = hub_editions(db, settings, client, table.hubs, info) if table.hubs and not table.link_editions else None
    page = parse_scores_page(fetched.content, url, read_errata(), hub_editions=hubs, table=table)
    info.edition, info.signals, info.not_covered = page.edition, page.signals, page.not_covered
    tidy, conflicts = page.frame, list[dict]()
    if with_details:
        since = (clock.now() - timedelta(days=1)).replace(microsecond=0).isoformat()
        details = {}
        names = sorted(page.slugs)
        for name in (progress(names, label="country pages") if progress else names):
            page_url = f"{base}/country/{page.slugs[name]}/freedom-world/{page.edition}"
            try:
                got = fetch_page(db, client, page_url, reuse_since=since)
                with db.atomic():  # kept as fetched, so an interrupted run resumes from here
                    remember(db, settings.db, got, "web", ".html", page_url)
                details[name] = parse_country_page(got.content, page_url)
            except (FetchError, SourceError) as exc:
                info.skipped_pages.append(f"{name}: {str(exc).splitlines()[0]}")
                continue
            info.pages += 1
        tidy, conflicts = merge_details(tidy, details, page.edition)
        info.disagreements = conflicts
    yield Payload(tidy, fetched.content, "web", url, ".html", conflicts=conflicts, fetched=fetched, asked=info.asked)


def merge_details(tidy: pl.DataFrame, details: dict[str, dict], edition: int) -> tuple[pl.DataFrame, list[dict]]:
    """Indicators from the country pages, where their aggregates agree with the table's."""
    from fiw.tidy import validate

    rows, conflicts = [], []
    by_name = {r["fh_name"]: r for r in tidy.iter_rows(named=True)}
    for name, d in details.items():
        base = by_name.get(name)
        if base is None:
            continue
        disagree = [(k, base[k], d[k]) for k in ("pr", "cl", "status_pub")
                    if d.get(k) is not None and base[k] is not None and d[k] != base[k]]
        if disagree:
            conflicts += [{"edition": edition, "fh_name": name, "field": k,
                           "values": f"scores table: {a}; country page: {b}", "kept": "scores table"}
                          for k, a, b in disagree]
            continue
        extra = {c: d[c] for c in methodology.INDICATOR_COLUMNS} | {"add_q": d.get("add_q", 0)}
        extra |= {k: d[k] for k in ("pr", "cl")}  # the combined scores page prints only the total
        for sub, parts in methodology.INDICATORS.items():
            extra[sub] = sum(d[p] for p in parts)
        rows.append({"fh_name": name, **extra})
    if not rows:
        return tidy, conflicts
    add = pl.DataFrame(rows).cast({c: pl.Int16 for c in rows[0] if c != "fh_name"})
    details_only = [c for c in add.columns if c not in ("fh_name", "pr", "cl")]
    merged = tidy.drop(details_only).join(add, on="fh_name", how="left", suffix="_page").with_columns(
        pr=pl.coalesce("pr", "pr_page"), cl=pl.coalesce("cl", "cl_page")).select(tidy.columns)
    validate(merged.with_row_index("row", 1).with_columns(pl.col("row").cast(pl.Int32)), "country pages", None,
             read_errata())
    return merged, conflicts


def workbooks(db: sqlite_utils.Database, settings: Settings, client: PoliteClient,
              info: Acquired) -> Iterator[Payload]:
    """The workbooks linked from FH's data page, each read by its sheets. A link that answers a web page (FH's
    request form: "data on request") or a workbook that holds no scores (the list of electoral democracies) is
    noted and skipped; no score workbook at all is an error that says to import FH's e-mailed file by hand."""
    from scrapers.freedomhouse import read_workbook
    from scrapers.freedomhouse.discover import workbook_links
    from scrapers.freedomhouse.workbooks import workbook_kind
    from scrapers.http import FetchError

    page_url = settings.base_url.rstrip("/") + DATA_PAGE_PATH
    links = workbook_links(fetch_page(db, client, page_url).content, page_url)
    notes = info.skipped_files
    found = 0
    for link in links:
        try:
            got = client.get(link)
        except FetchError as exc:
            notes.append(f"{link}: {str(exc).split(': ', 1)[-1]}")
            continue
        if not got.content.startswith(b"PK\x03\x04"):
            kind = "a web page" if b"<html" in got.content[:2000].lower() else got.content_type or "not a workbook"
            notes.append(f"{link}: answered {kind} (at {got.url}), not a workbook: FH's data is on request")
            continue
        name = Path(Path(link).name)
        try:
            workbook_kind(name, got.content)
        except SourceError as exc:
            notes.append(f"{link}: not a Freedom in the World score workbook ({str(exc).splitlines()[-1].strip()[:160]})")
            continue
        tidy = read_workbook(name, data=got.content, errata=read_errata()).drop("row")  # a score file that fails, fails
        found += 1
        yield Payload(tidy, got.content, "web", got.url, ".xlsx")
    if not found:
        raise SourceError(page_url, [f"no Freedom in the World score workbook linked ({len(links)} workbook link(s) "
                                     "checked" + (": " + "; ".join(notes) if notes else "") + "). Since 2026 FH sends "
                                     "its workbooks on request: import the file by hand (sovereign import FILE)"])
