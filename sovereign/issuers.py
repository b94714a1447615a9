"""The issuer register: who issued an ISIN, with which LEI, from which country, of which type.

An ISIN's prefix is its numbering agency's country (XS is international), not the issuer's; the
country the rule judges comes only from this register. Importing replaces the whole register in one
transaction, after every row has been checked.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from fiw.errors import SourceError, UserError
from sovereign import identifiers
from sovereign.store import reads, writes

if TYPE_CHECKING:
    import sqlite_utils

TYPES = ("sovereign", "agency", "sub-sovereign", "supranational")
COLUMNS = {
    "name": ("issuer", "issuer name", "name"),
    "lei": ("lei",),
    "iso2": ("country", "iso2", "country iso2", "issuer country"),
    "type": ("type", "issuer type"),
    "isins": ("isins", "isin"),
}


MAX_UNCOMPRESSED = 500_000_000


def check_workbook(path: Path, limit: int) -> None:
    """A workbook is a zip: refuse one that would unpack past `limit` bytes (one huge cell, a zip bomb)
    before any parser holds it in memory."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            unpacked = sum(i.file_size for i in z.infolist())
    except zipfile.BadZipFile:
        raise UserError(f"{path.name}: not an XLSX workbook (not a zip archive)") from None
    if unpacked > limit:
        raise UserError(f"{path.name}: the workbook unpacks to {unpacked:,} bytes, more than the {limit:,} allowed; "
                        "export the holdings as CSV or Parquet")


def read_table(path: Path, max_uncompressed: int = MAX_UNCOMPRESSED) -> pl.DataFrame:
    """CSV, XLSX or Parquet, every cell as text; row numbers as a person counts them (header = 1)."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            check_workbook(path, max_uncompressed)
            frame = pl.read_excel(path, engine="calamine", infer_schema_length=0)
        elif suffix == ".parquet":
            frame = pl.read_parquet(path)
            nested = [c for c, t in frame.schema.items() if t.is_nested()]
            if nested:
                raise UserError(f"{path.name}: column(s) {nested} hold lists or records; give a flat table")
        else:
            try:
                frame = pl.read_csv(path, infer_schema_length=0)
            except pl.exceptions.ComputeError as exc:  # not UTF-8: Windows-1252, as Excel writes it
                if "utf-8" not in str(exc).lower() and "utf8" not in str(exc).lower():
                    raise
                frame = pl.read_csv(utf8(path), infer_schema_length=0)
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{path}: a folder, not a file") from None
    except UserError:
        raise
    except Exception as exc:  # the readers' own error types: a file that is not what its name says
        raise UserError(f"{path.name}: cannot be read as {suffix.lstrip('.') or 'CSV'} ({exc.__class__.__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    return frame


def utf8(path: Path) -> bytes:
    """A text file's bytes as UTF-8: UTF-8 (with or without BOM) as it is, anything else read as Windows-1252
    (what Excel writes on Dutch and other Western machines), so names arrive intact, never mangled."""
    raw = path.read_bytes()
    try:
        raw.decode("utf-8")
        return raw
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace").encode("utf-8")


def find_column(frame: pl.DataFrame, names: tuple[str, ...]) -> str | None:
    lower = {c.strip().lower(): c for c in frame.columns}
    return next((lower[n] for n in names if n in lower), None)


def parse_register(path: Path, known_iso2: set[str]) -> tuple[list[dict], list[dict]]:
    """Check every row (LEI and ISIN checksums, type, country) before anything is written."""
    frame = read_table(path)
    found = {k: find_column(frame, v) for k, v in COLUMNS.items()}
    missing = [f"{k} (one of {', '.join(v)})" for k, v in COLUMNS.items() if found[k] is None]
    if missing:
        raise SourceError(Path(path).name, [f"line 1: expected column(s) {'; '.join(missing)}; found {frame.columns}"])
    if frame.is_empty():
        raise SourceError(Path(path).name, ["no issuers in the file"])
    problems: list[str] = []
    issuers: list[dict] = []
    securities: list[dict] = []
    seen_isin: dict[str, str] = {}
    cells = frame.select([pl.col(c).cast(pl.String) for c in found.values() if c is not None])
    for line, row in enumerate(cells.iter_rows(), start=2):
        name, lei, iso2, kind, isins = ((v or "").strip() for v in row)
        lei, iso2, kind = identifiers.compact(lei), iso2.upper(), kind.lower()
        where = f"line {line}"
        if not name:
            problems.append(f"{where}, column 'issuer': expected the issuer's name")
        if not identifiers.valid_lei(lei):
            problems.append(f"{where}, column 'lei': {lei!r} is not a valid LEI (20 characters, check digits)")
        if kind not in TYPES:
            problems.append(f"{where}, column 'type': expected one of {', '.join(TYPES)}, found {kind!r}")
        if kind == "supranational" and iso2:
            problems.append(f"{where}, column 'country': a supranational issuer has no country (found {iso2!r}); "
                            "if it is a national issuer, give its type (sovereign, agency or sub-sovereign)")
        if kind != "supranational" and iso2 not in known_iso2:
            problems.append(f"{where}, column 'country': expected the issuer's ISO2 country code, found {iso2!r}")
        for code in filter(None, re.split(r"[\s;,]+", isins)):
            code = identifiers.compact(code)
            if not identifiers.valid_isin(code):
                problems.append(f"{where}, column 'isins': {code!r} is not a valid ISIN (check digit)")
            elif code in seen_isin and seen_isin[code] != lei:
                problems.append(f"{where}, column 'isins': {code} is already listed for another issuer")
            else:
                seen_isin[code] = lei
                securities.append({"isin": code, "lei": lei})
        if any(i["lei"] == lei for i in issuers):
            problems.append(f"{where}, column 'lei': {lei} is listed twice")
        issuers.append({"lei": lei, "name": name, "iso2": iso2 or None, "type": kind})
    if problems:
        raise SourceError(Path(path).name, problems)
    return issuers, list({s["isin"]: s for s in securities}.values())


def import_register(db: sqlite_utils.Database, path: Path, actor: str = "") -> tuple[int, int]:
    """Replace the register with the file's content; returns (issuers, securities)."""
    known = reads.country_codes(db)
    if not known:
        raise UserError("the database has no country table yet: run `sovereign refresh --source bundled` first")
    issuers, securities = parse_register(path, known)
    raw = Path(path).read_bytes()
    with db.atomic():
        source_id, _ = writes.add_source(db, "issuers", Path(path).name, hashlib.sha256(raw).hexdigest(), len(raw),
                                         None)
        writes.replace_register(db, issuers, securities, source_id)
        writes.audit(db, actor, "issuers import", Path(path).name, None, None,
                     {"issuers": len(issuers), "isins": len(securities), "source_id": source_id})
    return len(issuers), len(securities)
