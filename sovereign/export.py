"""The answers as data, for engines that join them where the positions are (a warehouse, Spark, an order system).

`answers`: one row per entity (per mandate) per interval of validity, read from `listing.on_date` on every day an
answer can change, with what `check` says is coming (`lookup.next_changes`), so an as-of join of the table
(`valid_from <= D < valid_to`, `valid_to` empty: open) gives what `check --as-of D` gives. `register`: every ISIN
and LEI with its issuer, country and type. `restricted`: the ISIN-level (or country-level) restricted list a
pre-trade compliance tool imports, from the same intervals. Every export reads one consistent copy of the
database (SQLite's online backup), names its digest in `manifest.json`, and is read back before it is reported.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from fiw.errors import NotFound, UserError
from sovereign import __version__, keys, listing, lookup, store
from sovereign.cells import atomic_write, neutral_frame
from sovereign.resolve import Resolver, Target
from sovereign.store import reads
from sovereign.store.files import copy_to
from sovereign.store.reads import Connection, Row
from sovereign.store.schema import now

if TYPE_CHECKING:
    from sovereign.policy import Mandate, Policy

ANSWER_SCHEMA: dict[str, Any] = {
    "iso2": pl.String, "iso3": pl.String, "name": pl.String, "kind": pl.String, "covered_by": pl.String,
    "mandate": pl.String,
    "valid_from": pl.Date, "valid_to": pl.Date, "recorded_at": pl.String,
    "verdict": pl.String, "eligible": pl.Boolean, "status": pl.String, "pr": pl.Int64, "cl": pl.Int64,
    "total": pl.Int64, "reason": pl.String, "list_version": pl.Int64, "edition": pl.Int64,
    "no_new_buys_from": pl.Date, "divest_by": pl.Date, "by_committee": pl.String,
    "upcoming_verdict": pl.String, "upcoming_from": pl.Date, "upcoming_list_version": pl.Int64,
    "upcoming_edition": pl.Int64, "upcoming_no_new_buys_from": pl.Date, "upcoming_divest_by": pl.Date,
}
REGISTER_SCHEMA: dict[str, Any] = {
    "identifier": pl.String, "identifier_type": pl.String, "issuer": pl.String, "short_name": pl.String,
    "lei": pl.String, "iso2": pl.String, "iso3": pl.String, "country": pl.String, "type": pl.String,
}
RESTRICTED_SCHEMA: dict[str, Any] = {
    "identifier": pl.String, "identifier_type": pl.String, "issuer": pl.String, "country": pl.String,
    "country_name": pl.String, "restriction": pl.String, "from": pl.Date, "until": pl.Date, "reason": pl.String,
    "list_version": pl.Int64, "edition": pl.Int64, "mandate": pl.String,
}
NO_NEW_BUYS, SELL = "no new buys", "sell"
FORMATS = ("parquet", "csv")


# ---- a consistent copy to read from ----

@dataclass(frozen=True)
class Snapshot:
    conn: Connection
    sha256: str
    source: Path


@contextmanager
def snapshot(db: Path) -> Iterator[Snapshot]:
    """One consistent copy of the database (the online backup, whatever writes meanwhile): every row of an
    export comes from it, and its sha256 is the digest the manifest names."""
    with tempfile.TemporaryDirectory(prefix="sovereign-export-") as folder:
        copy = Path(folder) / "snapshot.db"
        with store.reader(db) as source:
            copy_to(source, copy)
            key_file = keys.file_for(source)  # the copy's digests are the database's: checked with its key
        digest = hashlib.sha256(copy.read_bytes()).hexdigest()
        with store.reader(copy, key_file=key_file) as conn:
            yield Snapshot(conn, digest, db)


# ---- the days an answer can change ----

def change_days(conn: Connection) -> list[str]:
    """Every day an answer can change, as now known: each published list's first day, each committee override's
    first day and the day after its last, each revocation's first day, each day a state ceased to exist. Before
    the first list nothing answers."""
    published = [v for v in reads.versions(conn) if v["state"] == "published" and not v["withdrawn"]
                 and v["effective_from"]]
    if not published:
        raise NotFound("nothing was published yet: there are no answers to export")
    days = {v["effective_from"] for v in published} | lookup.override_days(conn) | lookup.ceasing_days()
    first = min(v["effective_from"] for v in published)
    return sorted(d for d in days if d >= first)


def key_of(row: dict) -> str:
    """What the desk types to ask for an entity: its ISO code, or (a territory without one) its FH name."""
    return row["iso2"] or row["name"]


def _iso3(conn: Connection) -> dict[str, str]:
    codes = {r["iso2"]: r["iso3"] for r in reads.mapping(conn) if r["iso2"] and r["iso3"]}
    return codes | {r["iso2"]: r["iso3"] for r in reads.iso_codes(conn) if r["iso3"]}


def _iso3_by_name(conn: Connection) -> dict[str, str]:
    """FH name -> its own ISO3: a code two states carried (CS: Czechoslovakia CSK, Serbia and Montenegro SCG)
    is told apart by the state, never by the shared alpha-2."""
    return {r["fh_name"]: r["iso3"] for r in reads.mapping(conn) if r["iso3"]}


def _recorded(version: Row, row: dict, overrides: list[Row], day: str) -> str:
    """When this answer became known: its list's publication, and any override or revocation that shapes it."""
    times = [version["published_at"] or version["created_at"]]
    for o in overrides:
        if o["iso2"] != (row["covered_by"] or row["iso2"]):  # Puerto Rico: the United States' overrides
            continue
        if o["id"] in row["by_committee"]:
            times.append(o["created_at"])
        if o["revoked_at"] and o["revoked_from"] and o["revoked_from"] <= day:
            times.append(o["revoked_at"])
    return max(t for t in times if t)


def answer_rows(conn: Connection, mandate: Mandate | None = None) -> list[dict]:
    """One row per entity and change day, then runs of equal answers folded into one interval."""
    days = change_days(conn)
    overrides = reads.overrides(conn)
    iso3, own_iso3 = _iso3(conn), _iso3_by_name(conn)
    resolver = Resolver(conn)
    targets: dict[str, Target] = {}
    listings: dict[str, listing.Listing] = {}

    def on(day: str) -> listing.Listing:
        if day not in listings:
            listings[day] = listing.on_date(conn, date.fromisoformat(day), mandate=mandate)
        return listings[day]

    staging = {d for day in days for r in on(day).rows for d in (r["no_new_buys_from"], r["divest_by"]) if d}
    days = sorted(set(days) | {d for d in staging if d > days[0]})
    out: list[dict] = []
    open_rows: dict[str, dict] = {}
    for i, day in enumerate(days):
        today = on(day)
        rows = today.rows
        for r in rows:
            if key_of(r) not in targets:
                targets[key_of(r)] = resolver.resolve(key_of(r))
        coming = lookup.next_changes(conn, [targets[key_of(r)] for r in rows], rows, today.on, mandate, None)
        end = date.fromisoformat(days[i + 1]) if i + 1 < len(days) else None
        seen = set()
        for r, up in zip(rows, coming, strict=True):
            key = key_of(r)
            seen.add(key)
            up = up or {}
            row = {
                "iso2": r["iso2"], "iso3": own_iso3.get(r["name"]) or iso3.get(r["iso2"] or ""), "name": r["name"],
                "kind": r["kind"], "covered_by": r["covered_by"],
                "mandate": today.mandate, "valid_from": today.on, "valid_to": end,
                "recorded_at": _recorded(today.version, r, overrides, day),
                "verdict": r["verdict"], "eligible": r["eligible"], "status": r["status"], "pr": r["pr"],
                "cl": r["cl"], "total": r["total"], "reason": "; ".join(r["reasons"]),
                "list_version": today.version["id"], "edition": today.version["edition"],
                "no_new_buys_from": _day(r["no_new_buys_from"]), "divest_by": _day(r["divest_by"]),
                "by_committee": " ".join(str(i) for i in r["by_committee"]) or None,
                "upcoming_verdict": up.get("verdict"), "upcoming_from": _day(up.get("effective_from")),
                "upcoming_list_version": up.get("list_version"), "upcoming_edition": up.get("edition"),
                "upcoming_no_new_buys_from": _day(up.get("no_new_buys_from")),
                "upcoming_divest_by": _day(up.get("divest_by")),
            }
            before = open_rows.get(key)
            if before is not None and before["valid_to"] == today.on and _same(before, row):
                before["valid_to"] = end
                before["recorded_at"] = max(before["recorded_at"], row["recorded_at"])
                continue
            out.append(row)
            open_rows[key] = row
        for key in set(open_rows) - seen:  # not rated in this list: no row (never eligible by the table)
            del open_rows[key]
    return out


FOLDED = ("valid_from", "valid_to", "recorded_at")


def _same(a: dict, b: dict) -> bool:
    return all(a[k] == b[k] for k in a if k not in FOLDED)


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def answers_frame(conn: Connection, mandates: list[Mandate | None]) -> pl.DataFrame:
    rows = [r for m in mandates for r in answer_rows(conn, m)]
    return pl.DataFrame(rows, schema=ANSWER_SCHEMA).sort("mandate", "iso2", "name", "valid_from", nulls_last=False)


def chosen_mandates(policy: Policy, names: tuple[str, ...]) -> list[Mandate | None]:
    """The base list, and the mandates asked for (every mandate of the policy when none is named)."""
    if names:
        return [None, *(policy.mandate(n) for n in names)]
    return [None, *policy.mandates]


# ---- the register ----

def register_frame(conn: Connection) -> pl.DataFrame:
    """Every ISIN and every LEI in the register -> issuer -> country -> type."""
    iso3 = _iso3(conn)
    names = {r["iso2"]: r["name"] for r in reads.iso_codes(conn)}
    rows = []
    for r in reads.register_identifiers(conn):
        base = {"issuer": r["name"], "short_name": r["short_name"], "lei": r["lei"], "iso2": r["iso2"],
                "iso3": iso3.get(r["iso2"] or ""), "country": names.get(r["iso2"] or ""), "type": r["type"]}
        rows.append({"identifier": r["identifier"], "identifier_type": r["identifier_type"]} | base)
    return pl.DataFrame(rows, schema=REGISTER_SCHEMA).unique(maintain_order=True)


# ---- the restricted list ----

def country_restrictions(answers: pl.DataFrame, since: date | None) -> pl.DataFrame:
    """Each excluded interval of a country as restrictions: "no new buys" from its no-new-buys date until the day
    before divest-by, then "sell" (from the interval's start when the list carries no staging dates), ending the
    day before the interval does (`until` empty: open). With `since`, only what is still in force or coming."""
    rows = []
    for r in answers.filter(~pl.col("eligible") & pl.col("iso2").is_not_null()).iter_rows(named=True):
        last = r["valid_to"] - timedelta(days=1) if r["valid_to"] else None
        start = r["valid_from"]
        common = {"identifier": r["iso2"], "identifier_type": "country", "issuer": None, "country": r["iso2"],
                  "country_name": r["name"], "reason": r["reason"], "list_version": r["list_version"],
                  "edition": r["edition"], "mandate": r["mandate"]}
        sell_from = start
        if r["divest_by"] and r["divest_by"] > start:
            nnb_until = r["divest_by"] - timedelta(days=1)
            if last is not None and last < nnb_until:
                nnb_until = last
            rows.append(common | {"restriction": NO_NEW_BUYS, "from": max(start, r["no_new_buys_from"] or start),
                                  "until": nnb_until})
            sell_from = r["divest_by"]
        if last is None or sell_from <= last:
            rows.append(common | {"restriction": SELL, "from": sell_from, "until": last})
    frame = pl.DataFrame(_joined(rows), schema=RESTRICTED_SCHEMA)
    if since is not None:
        frame = frame.filter(pl.col("until").is_null() | (pl.col("until") >= since))
    return frame.sort("country", "from", "restriction")


def _joined(rows: list[dict]) -> list[dict]:
    """A restriction that goes on unbroken across list versions is one row: from its first day, with the reason
    and list version of the newest list that carries it."""
    out: list[dict] = []
    for r in sorted(rows, key=lambda r: (r["mandate"] or "", r["country"], r["from"])):
        last = out[-1] if out else None
        if (last is not None and (last["mandate"], last["country"], last["restriction"]) ==
                (r["mandate"], r["country"], r["restriction"])
                and last["until"] is not None and last["until"] + timedelta(days=1) == r["from"]):
            last |= {k: r[k] for k in ("until", "reason", "list_version", "edition", "country_name")}
            continue
        out.append(dict(r))
    return out


def restricted_frame(countries: pl.DataFrame, register: pl.DataFrame, answered: set[str],
                     unrated_excluded: bool = True) -> pl.DataFrame:
    """The country-level restrictions carried to every ISIN and LEI whose issuer's country they name. An issuer
    with no country in the register is never eligible, and neither (unless the policy admits unrated places) is
    one whose country no list rates (`answered`: the countries the answers have rows for; Bermuda, Aruba): both
    are restricted from the start, so a system that reads "no row" as "allowed" never allows them."""
    issuers = register.filter(pl.col("type") != "supranational")
    linked = issuers.filter(pl.col("iso2").is_not_null()).select(
        "identifier", "identifier_type", "issuer", pl.col("iso2").alias("country")).join(
        countries.drop("identifier", "identifier_type", "issuer"), on="country", how="inner")
    stateless = issuers.filter(pl.col("iso2").is_null())
    mandates = countries["mandate"].unique().to_list() or [None]
    orphans = pl.DataFrame([{"identifier": r["identifier"], "identifier_type": r["identifier_type"],
                             "issuer": r["issuer"], "country": None, "country_name": None, "restriction": SELL,
                             "from": None, "until": None, "list_version": None, "edition": None, "mandate": m,
                             "reason": f"{r['issuer']} ({r['type']}) has no country in the issuer register"}
                            for r in stateless.iter_rows(named=True) for m in mandates], schema=RESTRICTED_SCHEMA)
    unrated = issuers.filter(pl.col("iso2").is_not_null() & ~pl.col("iso2").is_in(sorted(answered)))
    unrated_rows = pl.DataFrame([{"identifier": r["identifier"], "identifier_type": r["identifier_type"],
                                  "issuer": r["issuer"], "country": r["iso2"], "country_name": r["country"],
                                  "restriction": SELL, "from": None, "until": None, "list_version": None,
                                  "edition": None, "mandate": m,
                                  "reason": f"{r['iso2']}: Freedom House rates no such country or territory in any "
                                            "list; unrated places are not eligible under the policy"}
                                 for r in unrated.iter_rows(named=True) for m in mandates] if unrated_excluded else [],
                                schema=RESTRICTED_SCHEMA)
    return pl.concat([linked.select(list(RESTRICTED_SCHEMA)), orphans, unrated_rows]).sort(
        "identifier", "from", "restriction", nulls_last=False)


# ---- writing, reading back, the manifest ----

def write_table(frame: pl.DataFrame, path: Path) -> None:
    """Parquet, CSV or XLSX, written whole or not at all, then read back and compared before it counts."""
    suffix = path.suffix.lower()

    def write(tmp: Path) -> None:
        if suffix == ".parquet":
            frame.write_parquet(tmp)
            back = pl.read_parquet(tmp)
            if not back.equals(frame):
                raise UserError(f"{path}: what was read back differs from what was written")
        elif suffix == ".csv":
            neutral_frame(frame).write_csv(tmp)
            back = pl.read_csv(tmp, infer_schema=False)
            if back.shape != frame.shape or back.columns != frame.columns:
                raise UserError(f"{path}: read back {back.shape}, expected {frame.shape}")
        elif suffix == ".xlsx":
            from sovereign.tables import write_sheets

            write_sheets({"restricted": neutral_frame(frame)}, tmp)
            import fastexcel

            sheet = fastexcel.read_excel(str(tmp)).load_sheet(0, dtypes="string")
            if sheet.height != frame.height or sheet.width != frame.width:
                raise UserError(f"{path}: read back {sheet.height} rows, expected {frame.height}")
        else:
            raise UserError(f"{path}: give a .parquet, .csv or .xlsx file")

    atomic_write(path, write)
    if not path.exists():
        raise UserError(f"{path} was not written")


def list_versions(conn: Connection) -> list[dict]:
    return [{"list_version": v["id"], "edition": v["edition"], "state": v["state"],
             "effective_from": v["effective_from"], "published_at": v["published_at"],
             "withdrawn": v["withdrawn"], "digest": reads.version_check(conn, v["id"])}
            for v in reads.versions(conn)]


def update_manifest(folder: Path, snap: Snapshot, files: dict[str, dict]) -> Path:
    """`manifest.json` beside the files: the list versions, the database's digest and the export time; each
    export adds or replaces its own files' entries (rows, columns, sha256)."""
    path = folder / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (OSError, ValueError):
        manifest = {}
    if not isinstance(manifest, dict):
        manifest = {}
    manifest |= {"exported_at": now(), "sovereign": __version__, "database": {"path": str(snap.source),
                 "sha256": snap.sha256}, "list_versions": list_versions(snap.conn),
                 "attribution": "Freedom House, Freedom in the World"}
    manifest.setdefault("files", {}).update(files)
    text = json.dumps(manifest, indent=2, default=str)
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    if json.loads(path.read_text(encoding="utf-8"))["database"]["sha256"] != snap.sha256:
        raise UserError(f"{path}: what was read back differs from what was written")
    return path


def file_entry(path: Path, frame: pl.DataFrame, **extra: Any) -> dict:
    return {"rows": frame.height, "columns": frame.columns, "bytes": path.stat().st_size,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest()} | extra


def folder(out: Path) -> Path:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create {out}: {exc.strerror}") from None
    if not out.is_dir():
        raise UserError(f"{out} is not a folder: -o names the folder the files go to")
    return out


# ---- the commands ----

def export_answers(db: Path, out: Path, fmt: str, policy: Policy, mandate_names: tuple[str, ...] = ()) -> dict:
    """DIR/answers.parquet (or .csv) and DIR/manifest.json; returns what was written."""
    mandates = chosen_mandates(policy, mandate_names)
    target = folder(out) / f"answers.{fmt}"
    with snapshot(db) as snap:
        frame = answers_frame(snap.conn, mandates)
        write_table(frame, target)
        manifest = update_manifest(out, snap, {target.name: file_entry(
            target, frame, mandates=[m.name if m else None for m in mandates],
            join="valid_from <= D and (valid_to is null or D < valid_to); no row: not rated then, never eligible")})
    return {"path": target, "rows": frame.height, "bytes": target.stat().st_size, "manifest": manifest}


def export_register(db: Path, out: Path, fmt: str) -> dict:
    target = folder(out) / f"register.{fmt}"
    with snapshot(db) as snap:
        frame = register_frame(snap.conn)
        write_table(frame, target)
        manifest = update_manifest(out, snap, {target.name: file_entry(target, frame)})
    return {"path": target, "rows": frame.height, "bytes": target.stat().st_size, "manifest": manifest}


def export_restricted(db: Path, out: Path, policy: Policy, mandate_names: tuple[str, ...] = (),
                      level: str = "isin", since: date | None = None) -> list[dict]:
    """One file per list: the base list to FILE, or each mandate named to FILE (FILE-<mandate> for several)."""
    if out.suffix.lower() not in (".csv", ".xlsx"):
        raise UserError(f"{out}: give a .csv or .xlsx file for the restricted list")
    chosen: list[Mandate | None] = [policy.mandate(n) for n in mandate_names] or [None]
    done = []
    with snapshot(db) as snap:
        register = register_frame(snap.conn) if level == "isin" else None
        if register is not None and register.is_empty():
            raise UserError("the issuer register is empty, so no ISIN can be listed: import one with `sovereign "
                            "issuers import`, or give --level country")
        for m in chosen:
            path = out if len(chosen) == 1 else out.with_name(f"{out.stem}-{m.name if m else 'base'}{out.suffix}")
            answers = answers_frame(snap.conn, [m])
            countries = country_restrictions(answers, since)
            unrated_excluded = "exclude" in (policy.unrated, m.unrated if m else policy.unrated)
            frame = countries if register is None else restricted_frame(
                countries, register, set(answers["iso2"].drop_nulls().to_list()), unrated_excluded)
            write_table(frame, path)
            done.append({"path": path, "rows": frame.height, "mandate": m.name if m else None})
    return done
