"""Screen a holdings book: every row keeps its own columns and gets the answer added.

Each distinct identifier is resolved and answered once, through the same resolver and the same answer
as `check` (sovereign.lookup.answers), and the answers are joined back onto the rows. The book is read
twice at most, and streamed both times: once for its distinct identifiers (with positions and value per
portfolio and date, which is all a summary, `impact` or `pai` needs), once to write the rows back with
their answers. Rows whose identifier cannot be read are not eligible and say why.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

import polars as pl

from fiw.errors import UserError
from sovereign.bounds import damage
from sovereign.cells import atomic_write, neutral_frame, neutral_lazy, neutralise, risky_columns, text_columns
from sovereign.holdings import CODE_COLUMNS, ROW, Book, column_named
from sovereign.identifiers import isin_inside, looks_like_code
from sovereign.lookup import UNKNOWN, UNRESOLVED, answers, pick_version
from sovereign.policy import Mandate
from sovereign.resolve import Resolver, bounded
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
SUMMARY = "summary"  # the verdict column of a totals, subtotal or blank row: not a position
DATES = ("no_new_buys_from", "divest_by")
# A label in the first cell of a row that carries no identifier: Total, Totaal, Subtotal, Grand total, Sum,
# Summe, Gesamt, Zwischensumme, Somme, Sous-total, Totale, Eindtotaal, Totalt (Nordic).
LABEL_WORDS = (r"(grand[\s-]*|sub[\s-]*|eind|zwischen|sous[\s-]*|end)?"
               r"(totaal|totale|totaux|totalt|totals?|summe|somme|sum|gesamtsumme|gesamt)\b")
SUMMARY_LABEL = r"(?i)^\s*" + LABEL_WORDS
EMPTY_OR_LABEL = r"(?i)^\s*($|" + LABEL_WORDS + ")"  # one pass over a text identifier column
# In an identifier's own cell a label is the whole cell, or ends it as Excel's Data > Subtotal writes one
# ("Turkey Total", "Grand Total"): an issuer called "Total Capital International" is a position.
WHOLE_LABEL = r"(?i)(^\s*" + LABEL_WORDS + r"\s*[:.]?\s*$|\S\s+(grand[\s-]*)?(totaal|totale|totalt|total|summe|gesamt)\s*$)"


def added_names(columns: list[str], rescreened: bool = False) -> dict[str, str]:
    """Our columns' names in the output: each unique ignoring case against the book's own names and each
    other (`Country` in the book, so ours is `sovereign_country`; `sovereign_country` there too: `_2`)."""
    taken = {c.strip().lower() for c in columns if not (rescreened and _ours(c))}
    out = {}
    for c in OUT_COLUMNS:
        name, n = c, 1
        while name.lower() in taken:
            n += 1
            name = f"sovereign_{c}" if n == 2 else f"sovereign_{c}_{n - 1}"
        taken.add(name.lower())
        out[c] = name
    return out


def _ours(column: str) -> bool:
    import re

    return bool(re.fullmatch(r"(sovereign_)?(" + "|".join(OUT_COLUMNS) + r")(_\d+)?", column))


def summary_rows(book: Book, value: str | None, ids: pl.Series | None = None) -> pl.DataFrame:
    """The rows that are not positions: blank rows, and rows without an identifier that a label (Total,
    Totaal, Subtotal...) in their first cell or a value equal to the sum of the rows above (since the last
    summary row, or since the top) marks as a total. `_row` (0-based), `why`. Kept in the output, marked;
    left out of every tally. Rows without an identifier that are neither stay positions (unknown).
    The labels are sought among the book's distinct identifiers (`ids`, from the tally that asks first), so
    a book without an empty or labelled one is not read again, and one with some is filtered on equality."""
    cached = book.summaries.get(value)
    if cached is not None:
        return cached
    names = book.columns
    engine: Literal["streaming", "in-memory"] = "streaming" if book.streamed else "in-memory"
    try:
        if ids is None:
            ids = book.frame.select(book.key()).collect(engine=engine).to_series()
        distinct = ids.unique()
    except pl.exceptions.PolarsError as exc:
        raise UserError(f"{book.path.name}: cannot be read ({damage(exc)})") from None
    labels = distinct.filter(distinct.str.contains(EMPTY_OR_LABEL if book.key_column else SUMMARY_LABEL)
                             | distinct.str.contains(WHOLE_LABEL))
    if labels.is_empty() and not distinct.has_nulls():
        result = pl.DataFrame(schema={"_row": pl.UInt32, "why": pl.String})
        book.summaries[value] = result
        return result
    candidate = book.key().pipe(lambda k: k.is_null() | k.is_in(labels.implode()))
    def first_of(columns: list[str]) -> pl.Expr:
        return pl.coalesce([pl.col(c).cast(pl.String).str.strip_chars().replace("", None) for c in columns]
                           or [pl.lit(None, pl.String)])

    first = first_of(names)
    amount = book.number(column_named(names, value, book.path.name, "--value-column")) if value else pl.lit(None,
                                                                                                         pl.Float64)
    try:
        found = (book.numbered().filter(candidate)
                 .select(pl.col(ROW).alias("_row"), first.alias("_first"),
                         first_of([c for c in names if c not in book.id_columns]).alias("_lead"),
                         first_of(book.id_columns).alias("_ident"), amount.alias("_value")).collect(engine=engine))
    except pl.exceptions.PolarsError as exc:
        raise UserError(f"{book.path.name}: cannot be read ({damage(exc)})") from None
    # A label starts the first other cell ("Subtotal A", "Total EUR"), or is the whole of an identifier's cell
    # ("Total" in the country column): an issuer named "Total Capital International" is a position.
    whole = found["_ident"].str.contains(WHOLE_LABEL).fill_null(False)
    labelled = found["_lead"].str.contains(SUMMARY_LABEL).fill_null(False) | whole
    found = found.with_columns(_label=pl.when(whole).then(pl.col("_ident")).otherwise(pl.col("_lead")))
    blank = found["_first"].is_null()
    rest = found.filter(~labelled & ~blank & found["_value"].is_not_null())
    sums: list[float] = []
    if value and not rest.is_empty():  # the data rows' value between one candidate and the next
        starts = pl.Series(found["_row"].to_list(), dtype=pl.UInt32)
        sums_frame = (book.numbered().filter(~candidate)
                      .group_by(pl.lit(starts).search_sorted(pl.col(ROW)).alias("_bucket"))
                      .agg(amount.sum().alias("_sum"), pl.len().alias("_n")).collect(engine=engine))
        by_bucket = {b: (v or 0.0, n) for b, v, n in sums_frame.iter_rows()}
        sums = [by_bucket.get(i, (0.0, 0))[0] for i in range(len(starts))]
        counts = [by_bucket.get(i, (0.0, 0))[1] for i in range(len(starts))]
    if not sums:  # no value to compare with the rows above: blank and labelled rows only, without a loop
        result = found.filter(blank | labelled).select(
            pl.col("_row").cast(pl.UInt32),
            pl.when(pl.col("_first").is_null()).then(pl.lit("blank row"))
            .otherwise(pl.format("summary row ({})", pl.coalesce("_label", "_first"))).alias("why"))
        book.summaries[value] = result
        return result
    rows, whys = [], []
    above = seg = 0.0
    rows_above = rows_seg = 0
    for i, (row, text, label, amount_, is_label, is_blank) in enumerate(zip(
            found["_row"], found["_first"], found["_label"], found["_value"], labelled, blank, strict=True)):
        above, seg = above + sums[i], seg + sums[i]
        rows_above, rows_seg = rows_above + counts[i], rows_seg + counts[i]
        total = is_label or (amount_ is not None and value is not None and any(  # a sum of one row is no total
            n >= 2 and abs(amount_ - s) <= 0.005 + 1e-9 * abs(s) for s, n in ((seg, rows_seg), (above, rows_above))))
        if is_blank or total:
            rows.append(row)
            whys.append("blank row" if is_blank else f"summary row ({label or text})" if is_label else
                        f"summary row (value {amount_:,.2f} = the sum of the rows above)")
            if total:
                seg, rows_seg = 0.0, 0
        elif amount_ is not None:
            above, seg = above + amount_, seg + amount_
            rows_above, rows_seg = rows_above + 1, rows_seg + 1
    result = pl.DataFrame({"_row": rows, "why": whys}, schema={"_row": pl.UInt32, "why": pl.String})
    book.summaries[value] = result
    return result


def answer_table(conn: Connection, ids: list[str | None], as_of: date | None = None, edition: int | None = None,
                 mandate: Mandate | None = None, version_id: int | None = None, on: date | None = None,
                 codes_only: bool = False) -> pl.DataFrame:
    """One row per distinct identifier: `_id` and the answer columns. Eligible today but excluded by a list
    already published for a later date carries that list's no-new-buys and divest-by dates. `codes_only`: the
    identifiers come from a column of ISINs or LEIs (`Book.codes_only`), where anything else is unknown."""
    resolver = Resolver(conn)
    targets, unreadable = [], {}
    for value in ids:
        if value is None or not value.strip():
            unreadable[value] = "no identifier in this row"
            continue
        try:
            bounded(value)  # one identifier cap, the resolver's: a long text is refused before any ISIN is sought in it
        except UserError as exc:
            unreadable[value] = str(exc)
            continue
        if codes_only and not (looks_like_code(value) or isin_inside(value)):
            unreadable[value] = f"{value!r} is neither an ISIN nor an LEI, in a column of them"
            continue
        try:
            targets.append(resolver.resolve(value))
        except UserError as exc:
            inside = isin_inside(value)
            if inside is None:
                unreadable[value] = str(exc)
                continue
            targets.append(replace(resolver.resolve(inside), query=value))  # answered for the book's own text
    version = pick_version(conn, edition, as_of, version_id)  # no list at all is its own error
    rows = []
    for a in answers(conn, targets, edition, as_of, mandate, version_id, on=on):
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
    skipped: pl.DataFrame | None = None    # the summary rows: `_row`, `why`

    def summary(self) -> dict[str, Any]:
        result = summarise(self.tally.join(self.answers, on="_id", how="left", nulls_equal=True), self.value_column,
                           self.portfolio_column)
        result["summary_rows"] = 0 if self.skipped is None else self.skipped.height
        return result


def tally(book: Book, value: str | None = None, portfolio: str | None = None, when: str | None = None) -> pl.DataFrame:
    """Positions (and value) per identifier, portfolio and date, in one streamed pass; summary rows left
    out (sought among the identifiers that pass found, and counted again without them only if there are any)."""
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

    def grouped(frame: pl.LazyFrame) -> pl.DataFrame:
        try:
            return frame.group_by(keys).agg(aggs).collect(engine="streaming" if book.streamed else "in-memory")
        except pl.exceptions.PolarsError as exc:  # a row the reader cannot take: the file, and the reader's words
            raise UserError(f"{book.path.name}: cannot be read ({damage(exc)})") from None

    counted = grouped(book.frame)
    skipped = summary_rows(book, value, counted["_id"])["_row"]
    if skipped.is_empty():
        return counted
    return grouped(book.numbered().filter(~pl.col(ROW).is_in(skipped.implode())).drop(ROW))


def screen_book(conn: Connection, book: Book, as_of: date | None = None, edition: int | None = None,
                mandate: Mandate | None = None, version_id: int | None = None, value: str | None = None,
                portfolio: str | None = None) -> Screened:
    counted = tally(book, value, portfolio)
    table = answer_table(conn, counted["_id"].unique().to_list(), as_of, edition, mandate, version_id,
                         codes_only=book.codes_only)
    columns = book.columns
    rescreened = {"verdict", "list_version"} <= set(columns)  # our own output again: its answers are replaced
    kept = [c for c in columns if not (rescreened and _ours(c))]
    added = added_names(columns, rescreened)
    answers_ = table.select("_id", *OUT_COLUMNS).rename(added).lazy()
    key = book.key_column
    if key in kept:  # joined on the book's own column: nothing computed per row
        rows = book.frame.select(kept).join(answers_, left_on=key, right_on="_id", how="left", maintain_order="left",
                                            nulls_equal=True)
    else:
        rows = (book.frame.with_columns(book.identifier().alias("_id")).select(*kept, "_id")
                .join(answers_, on="_id", how="left", maintain_order="left", nulls_equal=True).drop("_id"))
    skipped = summary_rows(book, value)
    if not skipped.is_empty():  # marked, not answered: a totals row is no position
        marked = rows.with_row_index("_row").join(skipped.lazy(), on="_row", how="left", maintain_order="left")
        is_summary = pl.col("why").is_not_null()
        rows = marked.with_columns(
            [pl.when(is_summary).then(None).otherwise(pl.col(added[c])).alias(added[c]) for c in OUT_COLUMNS
             if c not in ("verdict", "reason")]
            + [pl.when(is_summary).then(pl.lit(SUMMARY)).otherwise(pl.col(added["verdict"])).alias(added["verdict"]),
               pl.when(is_summary).then(pl.col("why") + ": not a position, left out of every tally")
               .otherwise(pl.col(added["reason"])).alias(added["reason"])]).drop("_row", "why")
    return Screened(rows, table, counted, value, portfolio, tuple(added.values()), skipped)


def screen(conn: Connection, holdings: pl.DataFrame, column: str | list[str], as_of: date | None = None,
           edition: int | None = None, mandate: Mandate | None = None, version_id: int | None = None) -> pl.DataFrame:
    """An in-memory frame screened on one or more identifier columns (the API's path)."""
    columns = [column] if isinstance(column, str) else column
    book = Book(holdings.lazy(), Path("request"), columns,
                code_columns=tuple(c for c in columns if c.strip().lower() in CODE_COLUMNS))  # named, as --column
    book.summaries[None] = pl.DataFrame(schema={"_row": pl.UInt32, "why": pl.String})  # a list of IDs has no totals
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
        staged = frame.filter((pl.col("verdict") == "eligible") & pl.col("no_new_buys_from").is_not_null())
        out["eligible_excluded_later"] = {"positions": int(staged["positions"].sum())}
        if value:
            out["eligible_excluded_later"]["value"] = float(staged["value"].sum())
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
    """CSV on standard output, or a file written whole or not at all and read back (rows, columns) before it
    is put in place. CSV goes back in the book's own encoding, byte-order mark and line ending, and streams;
    XLSX keeps the sheet's name, with the header frozen, a filter and widths, and a CSV book's numbers and
    dates as numbers and dates; our own dates are dates in XLSX and Parquet. Text a spreadsheet would run is
    neutralised."""
    rows = screened.rows
    engine: Literal["streaming", "in-memory"] = "streaming" if book.streamed else "in-memory"  # fastest where it is
    exempt = _exempt(screened)
    if out is None:
        import sys

        neutral_frame(rows.collect(engine=engine), exempt).write_csv(sys.stdout)
        return
    suffix = out.suffix.lower()
    names = rows.collect_schema().names()
    expected = int(screened.tally["positions"].sum()) + (0 if screened.skipped is None else screened.skipped.height)
    ours = dict(zip(OUT_COLUMNS, screened.added, strict=True))
    as_dates = [pl.col(ours[c]).str.to_date("%Y-%m-%d", strict=False) for c in DATES]
    if suffix == ".xlsx":
        clash = _case_clash(names)
        if clash:
            raise UserError(f"{book.path.name}: columns {clash[0]!r} and {clash[1]!r} differ only in case, which a "
                            "spreadsheet table cannot hold; write .csv or .parquet, or rename one")

    followed: list[_LineEnds] = []

    def write(tmp: Path) -> None:
        if suffix == ".parquet":
            rows.with_columns(as_dates).sink_parquet(tmp)
        elif suffix == ".xlsx":
            frame = rows.collect(engine=engine)
            if not book.typed:
                frame = typed(frame, [c for c in names if c not in screened.added], book.decimal_comma)
            write_xlsx(neutral_frame(frame.with_columns(as_dates), exempt), tmp, book.sheet or "screened")
        elif book.streamed and book.encoding == "utf-8":
            with _LineEnds.following(tmp, followed):
                neutral_lazy(rows, exempt).sink_csv(tmp, separator=book.separator, include_bom=book.bom,
                                                    line_terminator=book.newline)
        else:  # in memory already: written while a second core looks for cells to neutralise (rarely any)
            frame = rows.collect(engine=engine)
            with ThreadPoolExecutor(1) as pool:
                risky = pool.submit(risky_columns, frame, text_columns(frame, exempt))
                breaks = pool.submit(_breaks_in_cells, frame, screened, book)
                with _LineEnds.following(tmp, followed):
                    _write_csv(frame, tmp, book)
                found = risky.result()
                followed[-1].breaks_in_cells = breaks.result()
            if found:  # a cell a spreadsheet would run: the file is written again, those columns neutralised
                followed.clear()
                with _LineEnds.following(tmp, followed):
                    _write_csv(neutralise(frame, found), tmp, book)
                followed[-1].breaks_in_cells = breaks.result()

    atomic_write(out, write, lambda tmp: read_back(tmp, suffix, book, names, expected,
                                                   followed[0] if followed else None))


def _breaks_in_cells(frame: pl.DataFrame, screened: Screened, book: Book) -> bool:
    """Whether a text cell or a column name holds a line end: only then can a file's line ends number more
    than its records. A CSV book read as one line per row has none of its own, so only the answers are asked
    (one row per identifier; a summary row's reason is our words around the book's own label)."""
    if any("\n" in name for name in frame.columns):
        return True
    if book.one_line_per_row():
        frame = screened.answers
    texts = [c for c, kind in frame.schema.items() if kind == pl.String]
    return bool(texts) and bool(frame.select(pl.any_horizontal(
        [pl.col(c).str.contains("\n", literal=True).any() for c in texts])).item())


def _exempt(screened: Screened) -> tuple[str, ...]:
    """The added columns that need no formula pass over every row: our own words, and the answers' text
    columns (country, issuer, reason) when no answer in them starts with a trigger. The answers are one row
    per identifier, so testing them costs nothing; a summary row's reason starts with our own words."""
    risky = set(risky_columns(screened.answers, [c for c in OUT_COLUMNS if c not in OUR_WORDS]))
    return tuple(name for column, name in zip(OUT_COLUMNS, screened.added, strict=True) if column not in risky)


def _case_clash(names: list[str]) -> tuple[str, str] | None:
    seen: dict[str, str] = {}
    for n in names:
        if n.strip().lower() in seen:
            return seen[n.strip().lower()], n
        seen[n.strip().lower()] = n
    return None


def _write_csv(frame: pl.DataFrame, path: Path, book: Book) -> None:
    """The book's own encoding: UTF-8 (with its BOM if it had one) as polars writes it, or Windows-1252."""
    if book.encoding == "utf-8":
        frame.write_csv(path, separator=book.separator, include_bom=book.bom, line_terminator=book.newline)
        return
    text = frame.write_csv(separator=book.separator, line_terminator=book.newline)
    try:
        path.write_bytes(text.encode(book.encoding))
    except UnicodeEncodeError as exc:
        raise UserError(f"{book.path.name}: {text[exc.start:exc.end]!r} cannot be written in {book.encoding}, the "
                        "book's own encoding; write .xlsx or .parquet") from None


def read_back(path: Path, suffix: str, book: Book, names: list[str], rows: int,
              followed: _LineEnds | None = None) -> None:
    """The written file, read again: every row and every column there, or the write failed."""
    if suffix == ".parquet":
        found = pl.scan_parquet(path)
        got_names, got = found.collect_schema().names(), found.select(pl.len()).collect().item()
    elif suffix == ".xlsx":
        import fastexcel

        sheet = fastexcel.read_excel(path).load_sheet(0, dtypes="string")
        got_names, got = [c.name for c in sheet.available_columns()], sheet.height
        # a spacer column's empty header is named as a spreadsheet table names it (Column2), or by the reader
        got_names = ["" if want == "" and re.fullmatch(rf"Column{i + 1}|__UNNAMED__\d+", name) else name
                     for i, (name, want) in enumerate(zip(got_names, [*names, *[None] * len(got_names)], strict=False))]
    else:
        got_names, got = _csv_shape(path, book, rows, followed)
    shown = path.name.removeprefix(".").removesuffix(".partial")  # the output's own name, not the one written first
    if got != rows or len(got_names) != len(names):
        raise UserError(f"{shown}: read back {got:,} rows and {len(got_names)} columns, expected {rows:,} and "
                        f"{len(names)}; nothing was written")
    differs = next(((i, g, w) for i, (g, w) in enumerate(zip(got_names, names, strict=True)) if g != w), None)
    if differs:
        raise UserError(f"{shown}: column {differs[0] + 1} read back as {differs[1]!r}, written as {differs[2]!r}; "
                        "nothing was written")


FLUSH_EVERY = 1 << 23  # bytes of a written CSV handed to the disk at a time (see _LineEnds)


class _LineEnds(threading.Thread):
    """A CSV's line ends, counted by reading the file behind its writer while it is written: polars writes
    without holding the interpreter, so the count takes a core the writer leaves idle rather than time of its
    own. The file is made empty first, so nothing an earlier write left there is counted. What has been
    counted is handed to the disk as the count goes (POSIX_FADV_DONTNEED starts its write-back): ext4 writes
    out a file renamed over another before the rename returns, which for a large book was a tenth of a
    second of waiting after the write, now spent beside it."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        path.write_bytes(b"")
        self._file = path.open("rb", buffering=0)
        self._written = threading.Event()
        self.ends = self.size = 0
        self.breaks_in_cells: bool | None = None  # set by the writer when it knows; unknown counts as yes
        self.failed: OSError | None = None

    @classmethod
    @contextmanager
    def following(cls, path: Path, into: list[_LineEnds]) -> Iterator[None]:
        counter = cls(path)
        into.append(counter)
        counter.start()
        try:
            yield
        finally:  # written or failed: the reader drains what is there and stops
            counter._written.set()
            counter.join()

    def run(self) -> None:
        buffer = bytearray(1 << 18)  # a size the cache holds, read into in place
        view = memoryview(buffer)
        flushed = 0
        try:
            while True:
                written = self._written.is_set()
                n = self._file.readinto(view) or 0
                if n:
                    self.ends += buffer.count(b"\n", 0, n)
                    self.size += n
                    if self.size - flushed >= FLUSH_EVERY and hasattr(os, "posix_fadvise"):
                        os.posix_fadvise(self._file.fileno(), flushed, self.size - flushed, os.POSIX_FADV_DONTNEED)
                        flushed = self.size
                elif written:
                    return
                else:
                    time.sleep(0.001)
        except OSError as exc:
            self.failed = exc
        finally:
            view.release()
            self._file.close()


def _csv_shape(path: Path, book: Book, expected: int, followed: _LineEnds | None) -> tuple[list[str], int]:
    """A written CSV's header (read with the csv module, in the book's encoding, however wide) and its number
    of records. A file that ends with its line end, whose every byte was read as it was written, with no line end
    inside a cell (known from the frame written) and one line per expected record, is whole. Otherwise polars'
    CSV reader counts the records, where a line break inside a quoted cell is no record; a last record without
    its line end was cut short and is not counted."""
    import csv
    import io

    header: list[str] = []
    with path.open("rb") as f:
        head = b""
        while chunk := f.read(1 << 16):
            head += chunk
            text = head.decode(book.encoding, errors="replace").removeprefix("\ufeff")
            lines = io.StringIO(text)
            header = next(csv.reader(lines, delimiter=book.separator), [])
            if lines.tell() < len(text):  # the header's record ended inside what was read
                break
        size = f.seek(0, 2)
        if not size:
            return header, 0
        f.seek(max(size - len(book.newline), 0))
        whole = f.read() == book.newline.encode(book.encoding)
    if (whole and followed is not None and followed.failed is None and followed.size == size
            and followed.breaks_in_cells is False and followed.ends - 1 == expected):  # every line end ends a record
        return header, expected
    records = (pl.scan_csv(path, separator=book.separator, infer_schema=False, encoding="utf8-lossy")
               .select(pl.len()).collect(engine="streaming").item())
    return header, records - (0 if whole else 1)


DATE_TEXT = (("%Y-%m-%d", r"^\d{4}-\d{2}-\d{2}$"), ("%d-%m-%Y", r"^\d{2}-\d{2}-\d{4}$"),
             ("%d.%m.%Y", r"^\d{2}\.\d{2}\.\d{4}$"), ("%d/%m/%Y", r"^\d{2}/\d{2}/\d{4}$"),
             ("%m/%d/%Y", r"^\d{2}/\d{2}/\d{4}$"))
NUMBER_POINT = r"^[-+]?(\d{1,3}(,\d{3})+|0|[1-9]\d*)(\.\d+)?$"
NUMBER_COMMA = r"^[-+]?(\d{1,3}(\.\d{3})+|0|[1-9]\d*)(,\d+)?$"


def typed(frame: pl.DataFrame, columns: list[str], decimal_comma: bool) -> pl.DataFrame:
    """A CSV book's text columns whose every value reads, in the book's locale, as a number (no leading zeros:
    codes stay text) or as a date of exactly one format, as numbers and dates; anything else stays text (a
    point-decimal book's dates that read both day-first and month-first among them)."""
    changes = []
    day_first = ("%d/%m/%Y",) if decimal_comma else ("%m/%d/%Y", "%d/%m/%Y")
    for c in columns:
        if frame.schema[c] != pl.String:
            continue
        text = frame[c].str.strip_chars().replace("", None).drop_nulls()
        if text.is_empty():
            continue
        if text.str.contains(NUMBER_COMMA if decimal_comma else NUMBER_POINT).all():
            plain = pl.col(c).str.strip_chars()
            plain = (plain.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True) if decimal_comma
                     else plain.str.replace_all(",", "", literal=True))
            if (text.str.len_chars() > 18).any():  # an account or security number, not an amount
                continue
            whole = not text.str.contains(r",\d+$" if decimal_comma else r"\.\d+$").any()
            changes.append(plain.replace("", None).cast(pl.Int64 if whole else pl.Float64, strict=False).alias(c))
            continue
        fits = [fmt for fmt, shape in DATE_TEXT if (fmt not in ("%d/%m/%Y", "%m/%d/%Y") or fmt in day_first)
                and text.str.contains(shape).all() and text.str.to_date(fmt, strict=False).null_count() == 0]
        if len(fits) == 1:  # 03/04/2031 in a book that could be British or American is left as it was written
            changes.append(pl.col(c).str.strip_chars().replace("", None).str.to_date(fits[0]).alias(c))
    return frame.with_columns(changes) if changes else frame


def write_xlsx(frame: pl.DataFrame, path: Path, sheet: str) -> None:
    """The book as the desk opens it: its own sheet name, header frozen, a filter, widths that fit."""
    from sovereign.tables import write_sheets

    write_sheets({sheet: frame}, path)
