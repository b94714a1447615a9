"""A scores table in FH's web layout, as CSV: one row per entity with Total, status, PR and CL.

This is what FH's scores page shows (and what `fiw-2026.csv` transcribes): no ratings, no
subcategories. Territories are marked by `kind` or by FH's trailing `*`.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import polars as pl

from fiw.errors import SourceError
from fiw.tidy import Errata, clean_header, to_tidy
from fiw.words import STATUS_CODES

COLUMNS = {
    "fh_name": ("country", "country/territory", "name"),
    "total": ("score", "total", "total score"),
    "status_pub": ("status",),
    "pr": ("political_rights", "political rights", "pr"),
    "cl": ("civil_liberties", "civil liberties", "cl"),
}
OPTIONAL = {"kind": ("kind", "c/t", "c/t?"), "edition": ("edition",), "iso2": ("iso", "iso2")}


def read_scores_csv(
    path: Path | str, edition: int | None = None, data: bytes | None = None, errata: Errata | None = None
) -> pl.DataFrame:
    """Parse and validate; the edition comes from an `edition` column, the argument, or the file name."""
    path = Path(path)
    try:
        text = (data if data is not None else path.read_bytes()).decode("utf-8-sig")
        raw = pl.read_csv(io.StringIO(text), infer_schema_length=0)
    except (UnicodeDecodeError, pl.exceptions.PolarsError, OSError) as exc:
        raise SourceError(path.name, [f"not a readable CSV file ({exc})"]) from None
    found = {clean_header(c): c for c in raw.columns}
    columns, missing = {}, []
    for target, names in {**COLUMNS, **OPTIONAL}.items():
        hit = next((found[n] for n in names if n in found), None)
        if hit:
            columns[target] = hit
        elif target in COLUMNS:
            missing.append(f"{target} (one of {', '.join(names)})")
    if missing:
        raise SourceError(path.name, [f"line 1: expected column(s) {'; '.join(missing)}; found {raw.columns}"])
    if "edition" not in columns:
        year = edition or _edition_from_name(path.name)
        if year is None:
            raise SourceError(path.name, ["no edition column and none in the file name: give the edition (--edition)"])
    body = raw.with_row_index("row", offset=2).select(
        pl.col("row").cast(pl.Int32), *[pl.col(src).alias(dst) for dst, src in columns.items()]
    )
    if "edition" not in columns:
        body = body.with_columns(edition=pl.lit(str(year)))
    star = pl.col("fh_name").str.strip_chars().str.ends_with("*")
    kind = pl.col("kind").str.strip_chars().str.to_lowercase().str.slice(0, 1) if "kind" in columns else pl.lit(None, pl.String)
    body = body.with_columns(kind=pl.when(star).then(pl.lit("t")).otherwise(kind.fill_null("c")))
    words = body.get_column("status_pub").to_list()
    problems = [
        f"line {row}, column 'status': expected Free, Partly Free or Not Free, found {w!r}"
        for row, w in zip(body.get_column("row"), words, strict=True) if (w or "").strip().lower() not in STATUS_CODES
    ]
    if problems:
        raise SourceError(path.name, problems)
    body = body.with_columns(status_pub=pl.col("status_pub").str.strip_chars().str.to_lowercase().replace_strict(STATUS_CODES))
    return to_tidy(body.drop("iso2", strict=False), path.name, None, errata)


def _edition_from_name(name: str) -> int | None:
    years = re.findall(r"(?<!\d)(19[7-9]\d|20\d\d)(?!\d)", name)
    return int(years[-1]) if years else None
