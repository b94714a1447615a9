"""Screen a holdings book: every row keeps its own columns and gets the answer added.

Each distinct identifier is resolved and answered once, through the same resolver and the same answer
as `check` (sovereign.lookup.answers), and the answers are joined back onto the rows. The book is read
twice at most, and streamed both times: once for its distinct identifiers (with positions and value per
portfolio and date, which is all a summary, `impact` or `pai` needs), once to write the rows back with
their answers. Rows whose identifier cannot be read are not eligible and say why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import polars as pl

from fiw.errors import UserError
from sovereign.cells import atomic_write, neutral_frame, neutral_lazy
from sovereign.holdings import Book, column_named
from sovereign.lookup import UNKNOWN, UNRESOLVED, answers, pick_version
from sovereign.policy import Mandate
from sovereign.resolve import Resolver
from sovereign.store.reads import Connection

OUT_COLUMNS = ("verdict", "eligible", "iso2", "country", "issuer", "status", "reason", "no_new_buys_from",
               "divest_by", "list_version", "edition")
# Answer columns of our own fixed words, codes and dates; country, issuer (from the register) and reason (which
# quotes what was typed) are text from elsewhere and are neutralised like the book's own columns.
OUR_WORDS = ("verdict", "eligible", "iso2", "status", "no_new_buys_from", "divest_by", "list_version", "edition")
OUT_SCHEMA = {"_id": pl.String, "verdict": pl.String, "eligible": pl.Boolean, "iso2": pl.String,
              "country": pl.String, "issuer": pl.String, "status": pl.String, "reason": pl.String,
              "no_new_buys_from": pl.String, "divest_by": pl.String, "list_version": pl.Int64, "edition": pl.Int64,
              "total": pl.Int64, "_kind": pl.String}
VERDICTS = ("eligible", "excluded", "unknown")


def answer_table(conn: Connection, ids: list[str | None], as_of: date | None = None, edition: int | None = None,
                 mandate: Mandate | None = None, version_id: int | None = None) -> pl.DataFrame:
    """One row per distinct identifier: `_id` and the answer columns. Eligible today but excluded by a list
    already published for a later date carries that list's no-new-buys and divest-by dates."""
    resolver = Resolver(conn)
    targets, unreadable = [], {}
    for value in ids:
        if value is None or not value.strip():
            unreadable[value] = "no identifier in this row"
            continue
        try:
            targets.append(resolver.resolve(value))
        except UserError as exc:
            unreadable[value] = str(exc)
    version = pick_version(conn, edition, as_of, version_id)  # no list at all is its own error
    rows = []
    for a in answers(conn, targets, edition, as_of, mandate, version_id):
        coming = a.get("upcoming") or {}
        staged = a["eligible"] and coming.get("verdict") == "excluded"
        reason = "; ".join(a["reasons"]) + (": not eligible" if a["kind"] == UNRESOLVED else "")
        if staged:
            reason += (f"; excluded by list version {coming['list_version']} ({coming['edition']}) from "
                       f"{coming['effective_from']}")
        rows.append({"_id": a["query"], "verdict": a["verdict"], "eligible": a["eligible"], "iso2": a["iso2"],
                     "country": a.get("name") if a["kind"] != UNRESOLVED else None,
                     "issuer": (a.get("issuer") or {}).get("name"), "status": a["status"],
                     "reason": reason,
                     "no_new_buys_from": coming.get("no_new_buys_from") if staged else
                     None if a["eligible"] else a.get("no_new_buys_from"),
                     "divest_by": coming.get("divest_by") if staged else None if a["eligible"] else a["divest_by"],
                     "list_version": a.get("list_version"), "edition": a.get("edition"), "total": a.get("total"),
                     "_kind": a["kind"]})
    rows += [{"_id": value, "verdict": UNKNOWN, "eligible": False, "reason": f"{why}: not eligible",
              "list_version": version["id"], "edition": version["edition"], "_kind": UNRESOLVED}
             for value, why in unreadable.items()]
    return pl.DataFrame(rows, schema=OUT_SCHEMA)


@dataclass
class Screened:
    """A screened book: the rows (lazy), the answers per identifier, and positions and value per answer."""
    rows: pl.LazyFrame
    answers: pl.DataFrame
    tally: pl.DataFrame         # _id, [portfolio], [date] -> positions, value
    value_column: str | None
    portfolio_column: str | None
    added: tuple[str, ...] = OUT_COLUMNS   # the answer columns' names in `rows`

    def summary(self) -> dict[str, Any]:
        return summarise(self.tally.join(self.answers, on="_id", how="left", nulls_equal=True), self.value_column,
                         self.portfolio_column)


def tally(book: Book, value: str | None = None, portfolio: str | None = None, when: str | None = None) -> pl.DataFrame:
    """One streamed pass: positions (and value) per identifier, portfolio and date."""
    keys = [book.key().alias("_id")]
    names = book.columns
    if portfolio:
        keys.append(pl.col(column_named(names, portfolio, book.path.name, "--portfolio-column")).cast(pl.String)
                    .alias("_portfolio"))
    if when:
        keys.append(pl.col(column_named(names, when, book.path.name, "--date-column")).alias("_date"))
    aggs = [pl.len().alias("positions")]
    if value:
        amount = book.number(column_named(names, value, book.path.name, "--value-column"))
        aggs += [amount.sum().alias("value"), amount.is_null().sum().alias("no_value")]
    try:
        return book.frame.group_by(keys).agg(aggs).collect(engine="streaming" if book.streamed else "in-memory")
    except pl.exceptions.PolarsError as exc:  # a row the reader cannot take: the file, and the reader's words
        raise UserError(f"{book.path.name}: cannot be read ({exc.__class__.__name__}: "
                        f"{(str(exc).splitlines() or [''])[0][:300]})") from None


def screen_book(conn: Connection, book: Book, as_of: date | None = None, edition: int | None = None,
                mandate: Mandate | None = None, version_id: int | None = None, value: str | None = None,
                portfolio: str | None = None) -> Screened:
    counted = tally(book, value, portfolio)
    table = answer_table(conn, counted["_id"].unique().to_list(), as_of, edition, mandate, version_id)
    columns = book.columns
    rescreened = {"verdict", "list_version"} <= set(columns)  # our own output again: its answers are replaced
    kept = [c for c in columns if not (rescreened and c in OUT_COLUMNS)]
    added = {c: f"sovereign_{c}" if c in kept else c for c in OUT_COLUMNS}  # a book's own `country` stays its own
    answers_ = table.select("_id", *OUT_COLUMNS).rename(added).lazy()
    key = book.key_column
    if key in kept:  # joined on the book's own column: nothing computed per row
        rows = book.frame.select(kept).join(answers_, left_on=key, right_on="_id", how="left", maintain_order="left",
                                            nulls_equal=True)
    else:
        rows = (book.frame.with_columns(book.identifier().alias("_id")).select(*kept, "_id")
                .join(answers_, on="_id", how="left", maintain_order="left", nulls_equal=True).drop("_id"))
    return Screened(rows, table, counted, value, portfolio, tuple(added.values()))


def screen(conn: Connection, holdings: pl.DataFrame, column: str | list[str], as_of: date | None = None,
           edition: int | None = None, mandate: Mandate | None = None, version_id: int | None = None) -> pl.DataFrame:
    """An in-memory frame screened on one or more identifier columns (the API's path)."""
    columns = [column] if isinstance(column, str) else column
    book = Book(holdings.lazy(), Path("request"), columns)
    return screen_book(conn, book, as_of, edition, mandate, version_id).rows.collect(engine="in-memory")


def summarise(tallied: pl.DataFrame, value: str | None, portfolio: str | None) -> dict[str, Any]:
    """Positions (and value) by verdict, overall and per portfolio."""
    def by_verdict(frame: pl.DataFrame) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for verdict in VERDICTS:
            part = frame.filter(pl.col("verdict") == verdict)
            out[verdict] = {"positions": int(part["positions"].sum())}
            if value:
                out[verdict]["value"] = float(part["value"].sum())
        out["positions"] = int(frame["positions"].sum())
        if value:
            out["value"] = float(frame["value"].sum())
            out["rows_without_value"] = int(frame["no_value"].sum())
        return out

    result: dict[str, Any] = {"overall": by_verdict(tallied), "value_column": value, "portfolio_column": portfolio}
    if portfolio:
        result["by_portfolio"] = [{"portfolio": p} | by_verdict(tallied.filter(pl.col("_portfolio").eq_missing(p)))
                                  for p in sorted(tallied["_portfolio"].unique().to_list(), key=lambda x: (x is None, x))]
    return result


def write_book(screened: Screened, book: Book, out: Path | None) -> None:
    """CSV on standard output, or a file written whole or not at all. CSV and Parquet stream; XLSX keeps the
    sheet's name, with the header frozen, a filter and widths. Text a spreadsheet would run is neutralised."""
    rows = screened.rows
    engine: Literal["streaming", "in-memory"] = "streaming" if book.streamed else "in-memory"  # fastest where it is
    ours = tuple(name for column, name in zip(OUT_COLUMNS, screened.added, strict=True) if column in OUR_WORDS)
    if out is None:
        import sys

        neutral_frame(rows.collect(engine=engine), ours).write_csv(sys.stdout)
        return
    suffix = out.suffix.lower()

    def write(tmp: Path) -> None:
        if suffix == ".parquet":
            rows.sink_parquet(tmp)
        elif suffix == ".xlsx":
            write_xlsx(neutral_frame(rows.collect(engine=engine), ours), tmp, book.sheet or "screened")
        elif book.streamed:
            neutral_lazy(rows, ours).sink_csv(tmp, separator=book.separator)
        else:  # in memory already: one cheap pass finds the few columns that need neutralising
            neutral_frame(rows.collect(engine="in-memory"), ours).write_csv(tmp, separator=book.separator)

    atomic_write(out, write)


def write_xlsx(frame: pl.DataFrame, path: Path, sheet: str) -> None:
    """The book as the desk opens it: its own sheet name, header frozen, a filter, widths that fit."""
    from sovereign.tables import write_sheets

    write_sheets({sheet: frame}, path)
