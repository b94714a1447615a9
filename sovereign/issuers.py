"""The issuer register: who issued an ISIN, with which LEI, from which country, of which type.

An ISIN's prefix is its numbering agency's country (XS is international), not the issuer's; the
country the rule judges comes only from this register. An issuer has a key of its own (many sovereigns
have no LEI); an import merges into the register (or replaces it) in one transaction, after every row
has been checked.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from fiw.errors import NotFound, SourceError, UserError
from fiw.names import fold
from sovereign import identifiers
from sovereign.readers import find_column, read_table
from sovereign.store import reads, writes

if TYPE_CHECKING:
    import sqlite_utils

TYPES = ("sovereign", "agency", "sub-sovereign", "supranational")
# The headers a register or a vendor's export may use; `--map "Country of Risk=country"` adds more.
COLUMNS = {
    "name": ("issuer", "issuer name", "name", "issuer_name", "long name"),
    "short_name": ("short name", "short_name", "ticker", "issuer ticker", "abbreviation"),
    "lei": ("lei", "issuer lei", "lei code"),
    "iso2": ("country", "iso2", "country iso2", "issuer country", "country of risk", "cntry of risk",
             "country_of_risk"),
    "type": ("type", "issuer type", "issuer_type"),
    "isins": ("isins", "isin"),
}
REQUIRED = ("name", "iso2")
OPTIONS = {"lei": "--lei", "type": "--type", "country": "--country"}  # `issuers add`'s option for a field


def parse_mapping(specs: tuple[str, ...]) -> dict[str, str]:
    """`--map "Country of Risk=country"`: a file's header -> one of the register's fields."""
    out = {}
    for spec in specs:
        header, _, field = spec.partition("=")
        field = {"country": "iso2", "issuer": "name", "short": "short_name"}.get(field.strip().lower(),
                                                                               field.strip().lower())
        if not header.strip() or field not in COLUMNS:
            raise UserError(f"--map {spec!r}: expected HEADER=FIELD with FIELD one of issuer, short_name, lei, "
                            "country, type, isins")
        out[field] = header.strip()
    return out


def parse_register(path: Path, mapping: dict[str, str] | None = None, default_type: str | None = None,
                   sovereigns: dict[str, str] | None = None) -> list[dict]:
    """Every row checked (LEI and ISIN checksums, type, country) before anything is written. Rows of one
    issuer (a vendor's export has one row per ISIN) are gathered; an issuer without an LEI is keyed by name."""
    name = Path(path).name
    rows = register_cells(read_table(path), name, mapping or {}, default_type)
    problems: list[str] = []
    issuers: dict[str, dict] = {}
    isin_owner: dict[str, str] = {}
    for line, row in enumerate(rows.iter_rows(named=True), start=2):
        where = f"line {line}"
        text = {f: (row[f] or "").strip() for f in COLUMNS}
        kind = (text["type"] or default_type or "").lower()
        issuer = {"name": text["name"], "short_name": text["short_name"] or None,
                  "lei": identifiers.compact(text["lei"]) or None,
                  "iso2": issuer_country(text["iso2"]) if kind != "supranational" else None, "type": kind}
        problems += [f"{where}, column {field!r}: {why}"
                     for field, why in issuer_problems(issuer, text["iso2"], sovereigns or {})]
        key = issuer["lei"] or fold(text["name"])
        known = issuers.setdefault(key, issuer | {"isins": []})
        if any(known[f] != issuer[f] for f in ("iso2", "type", "lei")):
            problems.append(f"{where}: {text['name']!r} appears before with another country, type or LEI")
        problems += [f"{where}, column 'isins': {why}" for why in take_isins(text["isins"], key, known, isin_owner)]
    problems += clashes_in_file(list(issuers.values()))
    if problems:
        raise SourceError(name, problems)
    return list(issuers.values())


def register_cells(frame: pl.DataFrame, name: str, mapping: dict[str, str], default_type: str | None) -> pl.DataFrame:
    """The file's columns under the register's field names (a field the file lacks is empty), found by the
    headers registers and vendors use or by `--map`; the header's fault, or an empty file, said before any row."""
    lower = {c.strip().lower(): c for c in frame.columns}
    found = {k: lower.get(mapping.get(k, "").lower()) or find_column(frame, v) for k, v in COLUMNS.items()}
    missing = [f"{k if k != 'iso2' else 'country'} (one of {', '.join(COLUMNS[k])}, or --map)"
               for k in REQUIRED if found[k] is None]
    if found["type"] is None and default_type is None:
        missing.append("type (one of type, issuer type, or --type for every row)")
    if missing:
        raise SourceError(name, [f"line 1: expected column(s) {'; '.join(missing)}; found {frame.columns}"])
    if frame.is_empty():
        raise SourceError(name, ["no issuers in the file"])
    return frame.select([pl.col(column).cast(pl.String).alias(f) if (column := found[f])
                         else pl.lit(None, pl.String).alias(f) for f in COLUMNS])


def issuer_problems(issuer: dict, country: str, sovereigns: dict[str, str]) -> list[tuple[str, str]]:
    """What is wrong with one issuer (`country` as typed; `issuer["iso2"]` what it names), each with the field it
    is about: one set of rules for a register's rows and for `issuers add`."""
    name, kind, lei = issuer["name"], issuer["type"], issuer["lei"]
    found = []
    if not name:
        found.append(("issuer", "expected the issuer's name"))
    if lei and not identifiers.valid_lei(lei):
        found.append(("lei", f"{lei!r} is not a valid LEI (20 characters, check digits)"))
    if kind not in TYPES:
        found.append(("type", f"expected one of {', '.join(TYPES)}, found {kind!r}"))
    if kind == "supranational" and country:
        found.append(("country", f"a supranational issuer has no country (found {country!r}); if it is a national "
                                 "issuer, give its type (sovereign, agency or sub-sovereign)"))
    if kind != "supranational" and issuer["iso2"] is None:
        found.append(("country", f"expected the issuer's country (ISO code or name), found {country!r}"))
    if name and kind in TYPES and (clash := name_clash(name, kind, issuer["iso2"], sovereigns)):
        found.append(("issuer", clash))
    return found


def take_isins(cell: str, key: str, issuer: dict, owners: dict[str, str]) -> list[str]:
    """The ISINs a cell lists (spaces, commas or semicolons between them) added to the issuer once each; what is
    wrong with any of them. `owners` remembers which issuer of the file listed an ISIN first: it has no other."""
    found = []
    for code in filter(None, re.split(r"[\s;,]+", cell)):
        code = identifiers.compact(code)
        if not identifiers.valid_isin(code):
            found.append(f"{code!r} is not a valid ISIN (check digit)")
        elif owners.setdefault(code, key) != key:
            found.append(f"{code} is already listed for another issuer")
        elif code not in issuer["isins"]:
            issuer["isins"].append(code)
    return found


def clashes_in_file(issuers: list[dict]) -> list[str]:
    """A sovereign's name the file itself gives to an issuer of another type or country (the register's own
    sovereigns are checked row by row)."""
    in_file = {fold(i["name"]): i["iso2"] for i in issuers if i["type"] == "sovereign" and i["iso2"]}
    return [f"issuer {clash}" for i in issuers
            if fold(i["name"]) in in_file and (clash := name_clash(i["name"], i["type"], i["iso2"], in_file))]


def sovereign_names(db: Any) -> dict[str, str]:
    """The folded names the register's sovereigns carry, with their country."""
    return {fold(i["name"]): i["iso2"] for i in reads.issuers(db) if i["type"] == "sovereign" and i["iso2"]}


def name_clash(name: str, kind: str, iso2: str | None, sovereigns: dict[str, str]) -> str | None:
    """Why a row may not carry this name: it is a sovereign's (a country's name, or a sovereign issuer's in the
    register) while the row is of another type or country, so it could lend that sovereign's name, and with
    its ISINs its bonds, to an issuer the country rule does not judge. None when it may. A territory's own
    government ("Hong Kong SAR Government") is a sub-sovereign of that territory, and may carry its name so."""
    from sovereign.resolve import Gazetteer, country_code

    owner = sovereigns.get(fold(name)) or country_code(name)
    if owner is None or (iso2 == owner and kind == "sovereign"):
        return None
    if iso2 == owner and kind == "sub-sovereign":
        rows = [r for r in Gazetteer.bundled().mapping if r["iso2"] == owner]
        if rows and all(r["kind"] == "t" for r in rows):
            return None
    found = f"type {kind or 'none'}, {f'country {iso2}' if iso2 else 'no country'}"
    return (f"{name!r} is the name of the sovereign of {owner}: only a row of type sovereign with country {owner} "
            f"may carry it (found {found}); give the issuer its own name or correct its type and country")


def isin_taken(db: Any, isin: str, issuer: dict) -> str | None:
    """Why an ISIN may not move to this issuer: the register has it under a sovereign, and the incoming issuer is
    not that sovereign (same type and country). Moving it would take the bond out of its country's rule."""
    owner = reads.security(db, isin)
    if owner is None or owner["type"] != "sovereign" or (issuer["type"], issuer["iso2"]) == ("sovereign", owner["iso2"]):
        return None
    country = f", country {issuer['iso2']}" if issuer["iso2"] else ", no country"
    return (f"{isin} is registered to {owner['name']} (sovereign, {owner['iso2']}); an issuer of type {issuer['type']}"
            f"{country} cannot take it over: take it off there first (`sovereign issuers remove`) or import the "
            "whole register with --replace")


def issuer_country(country: str | None) -> str | None:
    """An issuer's country as typed (any code or spelling `check` reads) -> its ISO2, or None: the resolver's
    own function, so a register, `issuers add --country` and `check` never disagree on a name."""
    from sovereign.resolve import country_code

    text = (country or "").strip()
    return country_code(text) if text else None


def _match(existing: list[dict], issuer: dict) -> dict | None:
    """The stored issuer an incoming one is: same LEI, else (neither has one) same name."""
    if issuer["lei"]:
        return next((e for e in existing if e["lei"] == issuer["lei"]), None)
    return next((e for e in existing if not e["lei"] and fold(e["name"]) == fold(issuer["name"])), None)


def import_register(db: sqlite_utils.Database, path: Path, actor: str = "", replace: bool = False,
                    mapping: dict[str, str] | None = None, default_type: str | None = None) -> tuple[int, int]:
    """Merge the file into the register (or, with `replace`, make the register the file); one transaction.
    Returns (issuers, ISINs) the file holds."""
    if not reads.country_codes(db):
        raise UserError("the database has no country table yet: run `sovereign refresh --source bundled` first")
    incoming = parse_register(path, mapping, default_type, {} if replace else sovereign_names(db))
    if not replace:
        taken = [why for issuer in incoming for isin in issuer["isins"] if (why := isin_taken(db, isin, issuer))]
        if taken:
            raise SourceError(Path(path).name, taken)
    raw = Path(path).read_bytes()
    with db.atomic():
        source_id, _ = writes.add_source(db, "issuers", Path(path).name, hashlib.sha256(raw).hexdigest(), len(raw),
                                         None)
        if replace:
            writes.clear_register(db)
        existing = reads.issuers(db)
        for issuer in incoming:
            match = _match(existing, issuer)
            writes.put_issuer(db, issuer, issuer["isins"], source_id, match["id"] if match else None)
        isins = sum(len(i["isins"]) for i in incoming)
        writes.audit(db, actor, "issuers import", Path(path).name, None, None,
                     {"issuers": len(incoming), "isins": isins, "source_id": source_id,
                      "mode": "replace" if replace else "merge"})
    return len(incoming), isins


def add_issuer(db: sqlite_utils.Database, name: str, country: str | None, kind: str, lei: str | None = None,
               short_name: str | None = None, isins: tuple[str, ...] = (), actor: str = "") -> dict:
    """One issuer by hand (LEI optional); an issuer already there with that LEI or name is updated."""
    kind = kind.lower()
    issuer = {"name": name.strip(), "short_name": (short_name or "").strip() or None,
              "lei": identifiers.compact(lei) if lei else None,
              "iso2": issuer_country(country) if kind != "supranational" else None, "type": kind}
    problems = [f"{OPTIONS[field]}: {why}" if field in OPTIONS else why
                for field, why in issuer_problems(issuer, country or "", sovereign_names(db))]
    codes = [identifiers.compact(i) for i in isins]
    problems += [f"--isin: {c!r} is not a valid ISIN (check digit)" for c in codes if not identifiers.valid_isin(c)]
    problems += [why for c in codes if (why := isin_taken(db, c, issuer))]
    if problems:
        raise UserError("; ".join(problems))
    with db.atomic():
        match = _match(reads.issuers(db), issuer)
        issuer_id = writes.put_issuer(db, issuer, codes, None, match["id"] if match else None)
        writes.audit(db, actor, "issuers add", issuer["name"], None, None, issuer | {"isins": codes})
    return issuer | {"id": issuer_id, "isins": codes, "updated": match is not None}


def remove_issuer(db: sqlite_utils.Database, key: str, actor: str = "") -> dict:
    """An issuer (by LEI, name, short name or one of its ISINs) and its ISINs taken out of the register."""
    code = identifiers.compact(key)
    hits = [i for i in reads.issuers(db) if i["lei"] == code or fold(i["name"]) == fold(key)
            or (i["short_name"] and fold(i["short_name"]) == fold(key))]
    if not hits and identifiers.looks_like_isin(key):
        found = reads.security(db, code)
        hits = [found] if found else []
    if not hits:
        raise NotFound(f"{key!r}: no issuer in the register has that LEI, name or ISIN")
    if len(hits) > 1:
        raise UserError(f"{key!r} names {len(hits)} issuers; give the LEI")
    with db.atomic():
        writes.remove_issuer(db, hits[0]["id"])
        writes.audit(db, actor, "issuers remove", hits[0]["name"], None, None, dict(hits[0]))
    return dict(hits[0])
