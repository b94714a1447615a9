"""FH names -> ISO codes, by a curated table keyed on (FH name, kind).

Name-matching libraries map Indian Kashmir to India; this table cannot, because a territory row
only ever carries its own code (or none) and names its parent separately. Unknown names stop the run.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

import polars as pl

from fiw.errors import SourceError, UnknownNames
from fiw.names import clean_name
from sovereign import paths

USER_ASSIGNED = {"XK": "XKX"}  # Kosovo: user-assigned, not in ISO 3166 or pycountry
MAPPING_SCHEMA = {
    "fh_name": pl.String, "kind": pl.String, "entity": pl.String,
    "iso2": pl.String, "iso3": pl.String, "parent_iso2": pl.String,
}


def _key(name: pl.Expr) -> pl.Expr:
    return name.map_elements(clean_name, return_dtype=pl.String).str.to_lowercase()


@lru_cache(maxsize=4)
def load_mapping(path: Path = paths.COUNTRIES) -> pl.DataFrame:
    """The table, checked: known codes (current, withdrawn, or user-assigned), one row per key."""
    frame = pl.read_csv(path, schema=MAPPING_SCHEMA).with_columns(
        pl.col("fh_name").map_elements(clean_name, return_dtype=pl.String)
    )
    problems = _check_mapping(frame)
    if problems:
        raise SourceError(path.name, problems)
    return frame


def _check_mapping(frame: pl.DataFrame) -> list[str]:
    import pycountry

    current = {c.alpha_2: c.alpha_3 for c in pycountry.countries} | USER_ASSIGNED
    withdrawn = {(c.alpha_2, c.alpha_3) for c in pycountry.historic_countries}
    problems = []
    for line, row in enumerate(frame.iter_rows(named=True), start=2):
        iso2, iso3 = row["iso2"], row["iso3"]
        if row["kind"] not in ("c", "t"):
            problems.append(f"line {line}, column 'kind': expected c or t, found {row['kind']!r}")
        if row["kind"] == "c" and not iso2:
            problems.append(f"line {line}: country {row['fh_name']!r} has no ISO code")
        if iso2 and current.get(iso2) != iso3 and (iso2, iso3) not in withdrawn:
            problems.append(f"line {line}: {iso2}/{iso3} for {row['fh_name']!r} is not an ISO 3166 code pair")
        if row["kind"] == "t" and row["parent_iso2"] not in current:
            problems.append(f"line {line}: territory {row['fh_name']!r} needs its parent's ISO2")
        if not row["entity"]:
            problems.append(f"line {line}: {row['fh_name']!r} has no entity key")
    dups = frame.group_by(_key(pl.col("fh_name")).alias("k"), "kind").len().filter(pl.col("len") > 1)
    problems += [f"{k!r} ({kind}) is listed {n} times" for k, kind, n in dups.iter_rows()]
    return problems


def normalise(frame: pl.DataFrame, mapping: pl.DataFrame | None = None, source: str = "") -> pl.DataFrame:
    """Add entity, iso2, iso3, parent_iso2 to a tidy frame; every name must be known."""
    mapping = load_mapping() if mapping is None else mapping
    keyed = mapping.select(_key(pl.col("fh_name")).alias("_key"), "kind", "entity", "iso2", "iso3", "parent_iso2")
    out = frame.drop("entity", "iso2", "iso3", "parent_iso2", strict=False).with_columns(_key=_key(pl.col("fh_name")))
    out = out.join(keyed, on=["_key", "kind"], how="left").drop("_key")
    unknown = out.filter(pl.col("entity").is_null()).select("fh_name", "kind").unique().sort("fh_name").rows()
    if unknown:
        raise UnknownNames(unknown, source)
    return parents_in_time(out) if "edition" in out.columns else out


def published_errata(frame: pl.DataFrame) -> pl.DataFrame:
    """A row whose published rating or status FH's own rule does not give (Transnistria 2005: CL rating 6 for
    a CL of 17) carries FH's erratum as its note, so the row and `history` say why the two differ. Applied once,
    to the bundled snapshot (scripts/build_snapshot.py)."""
    notes = {(edition, name): f"FH erratum ({column.removesuffix('_pub').replace('_', ' ')}): {reason}"
             for (edition, name, column), reason in read_errata().items() if column.endswith("_pub")}
    keyed = pl.DataFrame([{"edition": e, "fh_name": n, "_erratum": t} for (e, n), t in notes.items()],
                         schema={"edition": frame.schema["edition"], "fh_name": pl.String, "_erratum": pl.String})
    return (frame.join(keyed, on=["edition", "fh_name"], how="left", maintain_order="left")
            .with_columns(note=pl.concat_str(["note", "_erratum"], separator="; ", ignore_nulls=True).replace("", None))
            .drop("_erratum"))


def parents_in_time(frame: pl.DataFrame) -> pl.DataFrame:
    """A territory's parent is the state FH rated over it in that edition (data/parents.csv): Kosovo's is
    Yugoslavia, then Serbia and Montenegro, so `territories = "stricter"` has a parent to be stricter with."""
    with open(paths.PARENTS, newline="", encoding="utf-8") as f:
        spans = list(csv.DictReader(f))
    parent = pl.col("parent_iso2")
    for span in spans:
        inside = ((pl.col("fh_name") == span["fh_name"]) & (pl.col("kind") == span["kind"])
                  & pl.col("edition").is_between(int(span["from_edition"]), int(span["to_edition"])))
        parent = pl.when(inside).then(pl.lit(span["parent_iso2"])).otherwise(parent)
    return frame.with_columns(parent.alias("parent_iso2"))


def iso_table() -> list[dict]:
    """Every ISO 3166 country (and Kosovo), so lookups can tell 'not rated' from 'no such country'."""
    import pycountry

    rows = [
        {"iso2": c.alpha_2, "iso3": c.alpha_3, "name": getattr(c, "common_name", None) or c.name,
         "official_name": getattr(c, "official_name", None) or c.name}
        for c in pycountry.countries
    ]
    rows.append({"iso2": "XK", "iso3": "XKX", "name": "Kosovo", "official_name": "Republic of Kosovo"})
    return rows


def read_errata(path: Path = paths.ERRATA) -> dict[tuple[int, str, str], str]:
    with open(path, newline="", encoding="utf-8") as f:
        return {(int(r["edition"]), r["fh_name"], r["column"]): r["reason"] for r in csv.DictReader(f)}
