"""A holdings book as the desk exports it, read so that it can be written back intact.

CSV is read as text (every value comes back exactly as it was: no float noise, leading zeros kept) and
lazily, so a large file streams; its separator, header row and decimal comma are found or given. XLSX
keeps its types (numbers, dates) and its sheet name; a cover sheet or a title row above the header is
passed over. Parquet keeps its schema and streams. The identifier is the first identifier column with a
value in the row (ISIN or LEI, then the issuer's country), so an OMS export with `ISIN` and `Issuer
Country` is answered on every row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from fiw.errors import UserError
from sovereign import bounds
from sovereign.bounds import COMMAND, Limits
from sovereign.identifiers import CODE_SHAPE, ISIN_IN_TEXT, isin_inside
from sovereign.readers import count_line_ends, readable

# The identifier columns a header may name, in the order they are tried: ISIN, LEI, a security string that
# carries an ISIN (Bloomberg's `XS2100000012 Govt`), then the issuer's country and name; English, Dutch,
# German and French as desks export them.
ID_COLUMNS = ("isin", "id_isin", "isin code", "isin-code", "code isin", "lei", "identifier", "id", "security id",
              "security", "wertpapier", "titre", "iso2", "issuer country", "issuer_country", "country of risk",
              "country_of_risk", "cntry of risk", "country of issuer", "land van risico", "land van uitgifte",
              "risikoland", "land des emittenten", "pays de risque", "pays de l'émetteur", "country", "land", "pays",
              "issuer", "uitgevende instelling", "emittent", "émetteur", "emetteur")
EMBEDDED = ("security", "wertpapier", "titre")  # text around the identifier: the ISIN is taken out of it
# Columns that hold a security's own code: only a value shaped as an ISIN or an LEI counts there. "NA" (R's
# missing value), "no" or a position number is no country code, whatever the resolver would make of it. A
# generic name (ID, Identifier) is such a column when found in the header; named with --column, it holds
# whatever identifiers the desk put there (codes, country names), as a list handed to the API does.
CODE_COLUMNS = ("isin", "id_isin", "isin code", "isin-code", "code isin", "lei")
GENERIC_CODE_COLUMNS = ("identifier", "id", "security id")
HEADER_SEARCH = 20
ROW = "__sovereign_row"
STREAM_CSV_FROM = 1_000_000_000  # bytes: a text file larger than this is streamed (two parses, flat memory)
NUMBER_TEXT = re.compile(r"^\s*[-+]?(\d{1,3}([ .\u00a0']\d{3})+|\d+)(,\d+)?\s*$")


@dataclass
class Book:
    """A holdings file ready to screen: the rows (lazy where the format allows), where they came from, and
    what was found about their layout."""
    frame: pl.LazyFrame
    path: Path
    id_columns: list[str]
    sheet: str | None = None
    decimal_comma: bool = False
    separator: str = ","
    header_row: int = 1
    notes: list[str] = field(default_factory=list)
    streamed: bool = False      # read as the rows pass (Parquet, a very large CSV), never held whole
    typed: bool = True          # the cells carry their types (XLSX, Parquet); a CSV's are text
    encoding: str = "utf-8"     # a CSV goes back as it came: encoding, byte-order mark, line ending
    bom: bool = False
    newline: str = "\n"
    summaries: dict[str | None, pl.DataFrame] = field(default_factory=dict)  # value column -> summary rows
    code_columns: tuple[str, ...] = ()  # the identifier columns named as columns of codes (CODE_COLUMNS)
    scanned: pl.LazyFrame | None = None  # the same scan with the row number made by the reader (see `numbered`)
    line_ends: tuple[int, bool] | None = None  # a CSV read whole: its line ends, whether it ends with one,
    read_as: tuple[int, int, int, int] | None = None  # and the file's size, times and inode when the read began
    lines_are_rows: bool = False  # its line ends number exactly its rows, header and the lines above (read_book)

    def one_line_per_row(self) -> bool:
        """Whether no cell or column name of a CSV book holds a line end: its line ends number exactly its rows,
        its header and the lines above it (a cell holding one adds a line), so a written copy's line ends can
        stand for its records without asking every cell. The line ends are counted while polars parses the
        file, on the core it leaves idle, and stand only while the file is as it was when the read began; a
        blank line the reader passed over fails the match, and then the cells are asked."""
        try:
            return self.lines_are_rows and self.read_as == _identity(self.path)
        except OSError:
            return False

    def numbered(self) -> pl.LazyFrame:
        """The rows with their 0-based number in ROW. A scan numbers them itself, so a filter on it still
        reaches the reader (only the matching rows of the other columns are decoded)."""
        return self.scanned if self.scanned is not None else self.frame.with_row_index(ROW)

    @property
    def columns(self) -> list[str]:
        return self.frame.collect_schema().names()

    def identifier(self) -> pl.Expr:
        """The row's identifier: the first identifier column with a value."""
        parts = []
        for c in self.id_columns:
            text = pl.col(c).cast(pl.String).str.strip_chars()
            if c.strip().lower() in EMBEDDED:
                parts.append(text.map_batches(isins_inside, pl.String, is_elementwise=True))
            elif c in self.code_columns:  # anything else there is no identifier: the next column answers
                parts.append(pl.when(text.str.to_uppercase().str.replace_all(r"[\s-]", "").str.contains(CODE_SHAPE))
                             .then(text))
            else:
                parts.append(text.replace("", None))
        return pl.coalesce(parts)

    @property
    def codes_only(self) -> bool:
        """Whether the answers are keyed on one column of codes as it stands (see `key_column`): a value there that
        is no ISIN or LEI is then answered unknown, never looked up as a country."""
        return self.key_column is not None and self.key_column in self.code_columns

    @property
    def key_column(self) -> str | None:
        """The one text identifier column, joined on as it is (no computed copy of it), or None."""
        if (len(self.id_columns) == 1 and self.frame.collect_schema()[self.id_columns[0]] == pl.String
                and self.id_columns[0].strip().lower() not in EMBEDDED):
            return self.id_columns[0]
        return None

    def key(self) -> pl.Expr:
        """What the answers are keyed on: the identifier column's own value, or the computed identifier."""
        return pl.col(self.key_column) if self.key_column else self.identifier()

    def number(self, column: str) -> pl.Expr:
        """A value column as a number, whichever way the file writes it ("1.234.567,89" with a decimal comma,
        "(1,000.00)" as accountants write a negative one). NaN is no value: counted as a row without one, never
        carried into a total."""
        dtype = self.frame.collect_schema()[column]
        if dtype.is_numeric():
            return pl.col(column).cast(pl.Float64).fill_nan(None)
        raw = pl.col(column).cast(pl.String)
        text = raw.str.replace_all(r"[^\d,.\-+]", "")  # "€ 1.234,56", "1'234.56 USD"
        if self.decimal_comma:
            text = text.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True)
        else:
            text = text.str.replace_all(",", "", literal=True)
        amount = text.cast(pl.Float64, strict=False).fill_nan(None)
        return pl.when(raw.str.contains(r"^\s*\(.*\d.*\)\s*$")).then(-amount).otherwise(amount)


def isins_inside(texts: pl.Series) -> pl.Series:
    """Each security string's one ISIN that passes its check digit, or null, so that a row whose `Security`
    describes the bond by ticker (`TURKEY 5 1/4 01/21/29 Govt`), or carries a word of an ISIN's shape that is
    none (`GOVTBOND2030`), is answered by the next identifier column (`Cntry of Risk`). Asked once per
    distinct text that holds such a word."""
    candidates = texts.filter(texts.str.to_uppercase().str.contains(ISIN_IN_TEXT)).unique()
    found = {text: isin_inside(text) for text in candidates.to_list()}
    return texts.replace_strict(found, default=None, return_dtype=pl.String)


def column_named(columns: list[str], name: str, file: str, what: str = "--column") -> str:
    """A column by its name, case and surrounding spaces ignored."""
    wanted = name.strip().lower()
    for c in columns:
        if c.strip().lower() == wanted:
            return c
    raise UserError(f"{file}: {what} {name!r}: no such column; the columns are {columns}")


def read_book(path: Path, columns: tuple[str, ...] = (), sheet: str | None = None, header_row: int | None = None,
              separator: str | None = None, decimal_comma: bool | None = None, limits: Limits = COMMAND) -> Book:
    """The book, measured before it is parsed (sovereign.bounds), its layout found or given."""
    path = Path(path)
    suffix = path.suffix.lower()
    xlsx, parquet = suffix in (".xlsx", ".xlsm"), suffix == ".parquet"
    if sheet is not None and not xlsx:
        raise UserError(f"{path.name}: --sheet {sheet!r}: only a workbook (.xlsx) has sheets")
    if separator is not None and (xlsx or parquet):
        raise UserError(f"{path.name}: --sep {separator!r}: only a CSV file has a separator")
    header_names = {n.strip().lower() for n in columns} | set(ID_COLUMNS)  # what a header row names
    with readable(path):
        if xlsx:
            book = _read_xlsx(path, sheet, header_row, limits, header_names)
        elif parquet:
            book = Book(bounds.check_parquet(path, limits), path, [], streamed=True,
                        scanned=pl.scan_parquet(path, row_index_name=ROW))
        else:
            book = _read_csv(path, header_row, separator, decimal_comma, header_names, limits)
        if decimal_comma is not None:  # numbers a workbook or Parquet file holds as text ("1.234,56") too
            book.decimal_comma = decimal_comma
        names = book.columns
        if not book.streamed:
            frame = book.frame.collect()
            bounds.check_rows(frame.height, path.name, limits)
            bounds.check_cells(frame, path.name, limits, book.header_row + 1)
            book.frame = frame.lazy()
            if book.line_ends is not None:
                ends, last = book.line_ends
                book.lines_are_rows = ends == book.header_row + frame.height - (0 if last else 1)
    if columns:
        book.id_columns = list(dict.fromkeys(column_named(names, c, path.name) for c in columns))
    else:
        lower = {c.strip().lower(): c for c in names}
        book.id_columns = [lower[n] for n in ID_COLUMNS if n in lower]
        if not book.id_columns:
            raise UserError(f"{path.name}: no identifier column found (looked for {', '.join(ID_COLUMNS)}); name it "
                            f"with --column. The columns are {names}")
    codes = CODE_COLUMNS if columns else CODE_COLUMNS + GENERIC_CODE_COLUMNS
    book.code_columns = tuple(c for c in book.id_columns if c.strip().lower() in codes)
    return book


def _header_index(rows: list[list[str]], file: str, header_row: int | None, header_names: set[str]) -> int:
    """0-based index of the header: given, or the first of the top rows that names an identifier column."""
    if header_row is not None:
        if header_row < 1 or header_row > len(rows):
            raise UserError(f"{file}: --header-row {header_row}: the file has {len(rows)} row(s) at the top")
        return header_row - 1
    for i, row in enumerate(rows[:HEADER_SEARCH]):
        if any(str(v or "").strip().lower() in header_names for v in row):
            return i
    return 0


def _top_lines(sample: str) -> list[str]:
    """The first lines as polars reads them: ended by LF (or CRLF) only. A lone CR, a form feed or U+2028
    in a title is text to polars, and so here (str.splitlines and the csv module would end a line there,
    and the header would be looked for one line too far)."""
    return [line.removesuffix("\r").replace("\r", " ") for line in sample.split("\n")[:HEADER_SEARCH]]


def _sniff(sample: str) -> str:
    lines = [line for line in _top_lines(sample) if line.strip()]
    counts = {sep: sum(line.count(sep) for line in lines) for sep in (";", "\t", ",", "|")}
    return max(counts, key=lambda s: counts[s]) if any(counts.values()) else ","


def _read_csv(path: Path, header_row: int | None, separator: str | None, decimal_comma: bool | None,
              header_names: set[str], limits: Limits) -> Book:
    import csv

    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(65536)
    bounds.check_uncompressed(head, path.name)
    bom = head.startswith(b"\xef\xbb\xbf")
    newline = "\r\n" if b"\r\n" in head else "\n"
    sample = head[3 if bom else 0:].decode("utf-8", errors="replace")
    sep = {"tab": "\t", "\\t": "\t"}.get(separator or "", separator) or _sniff(sample)
    if len(sep) != 1:
        raise UserError(f"{path.name}: --sep {separator!r}: expected one character (or 'tab')")
    top = list(csv.reader(_top_lines(sample), delimiter=sep))
    skip = _header_index(top, path.name, header_row, header_names)
    bounds.check_header(len(top[skip]) if skip < len(top) else 0, path.name, limits)
    bounds.check_csv_header(path, head, skip, sep, limits)
    options: dict = {"separator": sep, "skip_rows": skip, "infer_schema": False, "truncate_ragged_lines": True}
    encoding = "utf-8"
    streamed = size > STREAM_CSV_FROM and not bom
    scanned, read_as, line_ends = None, None, None
    if streamed:
        frame = pl.scan_csv(path, **options)  # two parses, flat memory
        scanned = pl.scan_csv(path, row_index_name=ROW, **options)
    else:  # read once, in memory: parsed once, not once per pass
        from concurrent.futures import ThreadPoolExecutor

        read_as = _identity(path)
        with ThreadPoolExecutor(1) as pool:
            counted = pool.submit(count_line_ends, path)
            try:  # the file itself, not a copy of its bytes, unless a byte-order mark is to be passed over
                frame = pl.read_csv(path.read_bytes()[3:] if bom else path, **options).lazy()
            except pl.exceptions.ComputeError as exc:
                if "utf" not in str(exc).lower():
                    raise
                encoding = "cp1252"  # as Excel writes it on Dutch and other Western machines
                frame = pl.read_csv(path.read_bytes().decode("cp1252", errors="replace").encode("utf-8"),
                                    **options).lazy()
        line_ends = None if counted.exception() else counted.result()
    if decimal_comma is None:
        cells = [v for row in top[skip + 1:] for v in row if NUMBER_TEXT.match(v) and ("," in v)]
        decimal_comma = sep != "," and bool(cells)
    notes = [f"header on row {skip + 1}"] if skip else []
    return Book(frame, path, [], None, decimal_comma, sep, skip + 1, notes, streamed=streamed, typed=False,
                encoding=encoding, bom=bom, newline=newline, scanned=scanned, line_ends=line_ends, read_as=read_as)


def _identity(path: Path) -> tuple[int, int, int, int]:
    found = path.stat()
    return found.st_size, found.st_mtime_ns, found.st_ctime_ns, found.st_ino  # a time put back changes ctime


def _read_xlsx(path: Path, sheet: str | None, header_row: int | None, limits: Limits,
               header_names: set[str]) -> Book:
    bounds.check_xlsx(path, limits)
    import logging

    import fastexcel

    # calamine says when an empty column is read as text; that is the right reading, and no line for the desk
    logging.getLogger("fastexcel").setLevel(logging.ERROR)

    reader = fastexcel.read_excel(path)
    sheets = reader.sheet_names
    if sheet is None:  # a hidden sheet (a lookup table, a macro's scratch) is never taken for the book
        shown = [s for s in sheets if reader.load_sheet(s, n_rows=0, header_row=None).visible == "visible"]
        sheets = shown or sheets
    if sheet is not None:
        chosen = [s for s in sheets if s.strip().lower() == sheet.strip().lower()]
        if not chosen:
            raise UserError(f"{path.name}: --sheet {sheet!r}: no such sheet; the sheets are {sheets}")
        candidates = chosen
    else:
        candidates = sheets
    headed = []  # (sheet, header index, whether the header names an identifier column)
    for name in candidates:
        raw = reader.load_sheet(name, header_row=None, n_rows=HEADER_SEARCH).to_polars()
        rows = [[str(v) if v is not None else "" for v in r] for r in raw.rows()]
        index = _header_index(rows, path.name, header_row, header_names)
        headed.append((name, index, any(str(v).strip().lower() in header_names for v in (rows[index] if rows else []))))
    named = [h for h in headed if h[2]]
    if sheet is None and len(named) > 1:  # one fund per sheet, or a cover table: never one taken for the whole
        raise UserError(f"{path.name}: the sheets {[h[0] for h in named]} each have an identifier column; a workbook is "
                        "screened one sheet at a time: name it with --sheet")
    for name, index, has_names in headed:
        if has_names or sheet is not None or header_row is not None:
            frame = reader.load_sheet(name, header_row=index).to_polars()
            notes = ([f"sheet {name!r}"] if name != sheets[0] else []) + ([f"header on row {index + 1}"] if index else [])
            return Book(frame.lazy(), path, [], name, False, ",", index + 1, notes)
    first = reader.load_sheet(sheets[0]).to_polars()
    return Book(first.lazy(), path, [], sheets[0])
