"""Screen a holdings file: every row gets iso2, eligible, status, reason, divest_by.

Each distinct identifier is resolved and answered once, through the same resolver and the same
answer as `check` (sovereign.lookup.answers), and the answers are joined back onto the rows. Rows
whose identifier cannot be read are not eligible and say why.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from fiw.errors import UserError
from sovereign.cells import atomic_write, neutral_frame
from sovereign.issuers import MAX_UNCOMPRESSED, find_column, read_table
from sovereign.lookup import UNKNOWN, UNRESOLVED, answers, pick_version
from sovereign.policy import Mandate
from sovereign.resolve import Resolver
from sovereign.store.reads import Connection

ID_COLUMNS = ("isin", "lei", "iso2", "country", "issuer_country", "identifier", "id")
OUT_COLUMNS = ("verdict", "iso2", "eligible", "status", "reason", "divest_by")
OUT_SCHEMA = {"_id": pl.String, "verdict": pl.String, "iso2": pl.String, "eligible": pl.Boolean, "status": pl.String,
              "reason": pl.String, "divest_by": pl.String}


def screen(conn: Connection, holdings: pl.DataFrame, column: str, as_of: date | None = None,
           edition: int | None = None, mandate: Mandate | None = None, version_id: int | None = None) -> pl.DataFrame:
    """The holdings with OUT_COLUMNS added; row order and the file's own columns are kept."""
    ids = holdings.get_column(column).cast(pl.String).fill_null("").alias("_id")
    resolver = Resolver(conn)
    targets, unreadable = [], {}
    for value in ids.unique().to_list():
        if not value.strip():
            unreadable[value] = "no identifier in this row"
            continue
        try:
            targets.append(resolver.resolve(value))
        except UserError as exc:
            unreadable[value] = str(exc)
    rows = [{"_id": a["query"], "verdict": a["verdict"], "iso2": a["iso2"], "eligible": a["eligible"],
             "status": a["status"],
             "reason": "; ".join(a["reasons"]) + (": not eligible" if a["kind"] == UNRESOLVED else ""),
             "divest_by": None if a["eligible"] else a["divest_by"]}
            for a in answers(conn, targets, edition, as_of, mandate, version_id)]
    rows += [{"_id": value, "verdict": UNKNOWN, "iso2": None, "eligible": False, "status": None,
              "reason": f"{why}: not eligible", "divest_by": None} for value, why in unreadable.items()]
    if not targets:
        pick_version(conn, edition, as_of, version_id)  # no list at all is its own error
    table = pl.DataFrame(rows, schema=OUT_SCHEMA)
    per_row = ids.to_frame().join(table, on="_id", how="left", maintain_order="left").drop("_id")
    kept = holdings.drop([c for c in OUT_COLUMNS if c in holdings.columns])
    return pl.concat([kept, per_row], how="horizontal")


def read_holdings(path: Path, column: str | None, max_uncompressed: int = MAX_UNCOMPRESSED
                  ) -> tuple[pl.DataFrame, str]:
    frame = read_table(path, max_uncompressed)
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
    """CSV on standard output, or a file written whole or not at all (a temporary name, then renamed);
    text a spreadsheet would run is neutralised in CSV and XLSX."""
    if out is None:
        import sys

        neutral_frame(frame, OUT_COLUMNS).write_csv(sys.stdout)
        return
    suffix = out.suffix.lower()

    def write(tmp: Path) -> None:
        if suffix == ".parquet":
            frame.write_parquet(tmp)
        elif suffix == ".xlsx":
            neutral_frame(frame, OUT_COLUMNS).write_excel(tmp, worksheet="screened")
        else:
            neutral_frame(frame, OUT_COLUMNS).write_csv(tmp)

    atomic_write(out, write)
