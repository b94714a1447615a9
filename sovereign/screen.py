"""Screen a holdings file: every row gets iso2, eligible, status, reason, divest_by.

Vectorised: the identifiers are normalised once, joined to a resolution table (ISIN and LEI through
the issuer register; ISO codes, FH names and common spellings through the mapping) and then to the
list version in force. Only the distinct identifiers that fail to resolve are looked at one by one,
to say why. Unresolved rows are not eligible.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import polars as pl

from sovereign import lookup, store
from sovereign.eligibility import apply_mandate, apply_overrides
from sovereign.errors import UserError
from sovereign.issuers import find_column, read_table
from sovereign.names import fold

ID_COLUMNS = ("isin", "lei", "iso2", "country", "issuer_country", "identifier", "id")
OUT_COLUMNS = ("iso2", "eligible", "status", "reason", "divest_by")


def _key(expr: pl.Expr) -> pl.Expr:
    """sovereign.names.fold, upper-cased like ISINs and codes; only ever run on distinct values."""
    return expr.map_elements(lambda v: fold(v).upper(), return_dtype=pl.String)


def resolution_table(conn: sqlite3.Connection) -> pl.DataFrame:
    """Every key a holdings file may carry -> (entity, iso2, issuer); entity null for supranationals."""
    def frame(sql: str, schema: dict) -> pl.DataFrame:
        return pl.DataFrame(conn.execute(sql).fetchall(), schema=schema, orient="row")

    s = {"key": pl.String, "entity": pl.String, "iso2": pl.String, "issuer": pl.String, "issuer_type": pl.String}
    by_code = frame("SELECT iso2, entity, iso2, NULL, NULL FROM countries WHERE iso2 IS NOT NULL "
                    "UNION SELECT iso3, entity, iso2, NULL, NULL FROM countries WHERE iso3 IS NOT NULL "
                    "UNION SELECT fh_name, entity, iso2, NULL, NULL FROM countries", s)
    iso_only = frame("SELECT k, iso3, iso2, NULL, NULL FROM (SELECT iso2 AS k, iso3, iso2 FROM iso_codes UNION "
                     "SELECT iso3, iso3, iso2 FROM iso_codes UNION SELECT name, iso3, iso2 FROM iso_codes UNION "
                     "SELECT official_name, iso3, iso2 FROM iso_codes WHERE official_name IS NOT NULL) "
                     "WHERE iso2 NOT IN (SELECT iso2 FROM countries WHERE iso2 IS NOT NULL)", s)
    issuers = frame("SELECT s.isin, NULL, i.iso2, i.name, i.type FROM securities s JOIN issuers i ON i.lei = s.lei "
                    "UNION SELECT lei, NULL, iso2, name, type FROM issuers", s)
    alias = pl.DataFrame({"key": list(lookup.aliases()), "iso2": list(lookup.aliases().values())})
    codes = pl.concat([by_code, iso_only]).select("iso2", "entity").unique()
    issuers = issuers.drop("entity").join(codes, on="iso2", how="left").select(list(s))
    aliases = alias.join(codes, on="iso2", how="inner").with_columns(
        issuer=pl.lit(None, pl.String), issuer_type=pl.lit(None, pl.String)).select(list(s))
    table = pl.concat([by_code, iso_only, issuers, aliases])
    return table.with_columns(key=_key(pl.col("key"))).unique(["key", "entity"])


def screen(conn: sqlite3.Connection, holdings: pl.DataFrame, column: str, as_of: date | None = None,
           edition: int | None = None, mandate=None) -> pl.DataFrame:
    """The holdings with OUT_COLUMNS added; row order and the file's own columns are kept."""
    version = lookup.pick_version(conn, edition, as_of)
    entries = pl.DataFrame(conn.execute(
        "SELECT entity, iso2, kind, status, eligible, reasons, pr, cl, total, divest_by FROM list_entries "
        "WHERE version_id = ?", [version["id"]]).fetchall(), orient="row", schema={
        "entity": pl.String, "e_iso2": pl.String, "kind": pl.String, "status": pl.String, "eligible": pl.Boolean,
        "base_reason": pl.String, "pr": pl.Int64, "cl": pl.Int64, "total": pl.Int64, "divest_by": pl.String})
    table = resolution_table(conn).join(entries.select("entity", pl.lit(True).alias("_in")), on="entity", how="left")
    # One target per key: the entity this edition rates, if several share a code across history (CS).
    table = table.sort("_in", nulls_last=True).unique("key", keep="first").drop("_in")
    ids = holdings.select(pl.col(column).cast(pl.String).fill_null("").alias("_id"))
    raw = ids.unique().with_columns(key=_key(pl.col("_id")))  # normalise each distinct value once, not per row
    distinct = raw.select("key").unique().join(table, on="key", how="left").join(entries, on="entity", how="left")
    fiw = f"Freedom in the World {version['edition']}"
    supra = (pl.col("issuer_type") == "supranational").fill_null(False)
    rated = pl.col("status").is_not_null()
    unrated_ok = lookup.json.loads(version["policy"]).get("unrated", "exclude") == "eligible"
    resolved = pl.col("iso2").is_not_null() | pl.col("entity").is_not_null() | supra
    distinct = distinct.with_columns(
        scope=pl.when(supra).then(pl.lit("supranational")).when(~resolved).then(pl.lit("unresolved"))
        .when(pl.col("kind") == "t").then(pl.lit("territory")).otherwise(pl.lit("country")),
        eligible=pl.when(supra).then(True).when(~resolved).then(False)
        .when(rated | pl.col("kind").is_not_null()).then(pl.col("eligible")).otherwise(pl.lit(unrated_ok)),
        iso2=pl.coalesce("e_iso2", "iso2"),
    ).with_columns(
        reasons=pl.when(supra).then(pl.concat_list(pl.format(
            "{} is a supranational issuer: out of scope of the Freedom House country rule", pl.col("issuer"))))
        .when(~resolved).then(pl.concat_list(pl.lit(None, pl.String)))
        .when(pl.col("base_reason").is_null()).then(pl.concat_list(pl.lit(f"Not rated in {fiw}")))
        .otherwise(pl.concat_list("base_reason")),
    )
    distinct = apply_overrides(distinct, store.active_overrides(conn, (as_of or date.today()).isoformat()))
    if mandate is not None:
        distinct = apply_mandate(distinct, mandate, version["edition"])
    unresolved = distinct.filter(pl.col("scope") == "unresolved")["key"].to_list()
    why = pl.DataFrame({"key": unresolved, "_why": [why_unresolved(conn, k) for k in unresolved]},
                       schema={"key": pl.String, "_why": pl.String})
    distinct = distinct.join(why, on="key", how="left").with_columns(
        reason=pl.when(pl.col("_why").is_not_null()).then(pl.col("_why")).otherwise(pl.col("reasons").list.join("; ")),
        divest_by=pl.when(pl.col("eligible")).then(None).otherwise(pl.col("divest_by")),
    ).select("key", *OUT_COLUMNS)
    per_id = raw.join(distinct, on="key", how="left").drop("key")
    out = holdings.drop([c for c in OUT_COLUMNS if c in holdings.columns])
    return pl.concat([out, ids.join(per_id, on="_id", how="left", maintain_order="left").drop("_id")],
                     how="horizontal")


def why_unresolved(conn: sqlite3.Connection, key: str | None) -> str:
    """In the desk's words, what was wrong with an identifier no table knew: `lookup.resolve` says."""
    if not key:
        return "no identifier in this row: not eligible"
    try:
        target = lookup.resolve(conn, key)
    except UserError as exc:
        return f"{exc}: not eligible"
    return f"{target.unregistered or f'{key!r} names nothing on this list'}: not eligible"


def read_holdings(path: Path, column: str | None) -> tuple[pl.DataFrame, str]:
    frame = read_table(path)
    if frame.is_empty():
        raise UserError(f"{Path(path).name}: the file has no holdings rows")
    if column:
        if column not in frame.columns:
            raise UserError(f"{Path(path).name}: no column {column!r}; the columns are {frame.columns}")
        return frame, column
    found = find_column(frame, ID_COLUMNS)
    if found is None:
        raise UserError(f"{Path(path).name}: no identifier column found (looked for {', '.join(ID_COLUMNS)}); "
                        f"name it with --column. The columns are {frame.columns}")
    return frame, found


def write_result(frame: pl.DataFrame, out: Path | None) -> None:
    if out is None:
        import sys

        frame.write_csv(sys.stdout)
        return
    writers = {".parquet": frame.write_parquet, ".xlsx": frame.write_excel}
    try:
        writers.get(out.suffix.lower(), frame.write_csv)(out)
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
