"""How a command shows what it found: one choice of format (`--format`, or the suffix of `-o FILE`), one writer
per format, and every file read back before "Wrote" is said.

At the top only modules the command line has loaded already (`check` imports this on its fast path): csv is
imported when CSV is written, openpyxl when a workbook is written or read back."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from fiw.errors import UserError

ROWS = ("table", "csv", "json", "xlsx")
DOCUMENTS = ("md", "html", "json", "xlsx")
SUFFIXES = {".txt": "table", ".csv": "csv", ".json": "json", ".xlsx": "xlsx", ".md": "md", ".html": "html",
            ".htm": "html"}
FILES = {"table": "a text file", "csv": "a CSV file", "json": "a JSON file", "xlsx": "an XLSX workbook",
         "md": "a Markdown file", "html": "an HTML page"}
DAY = r"\d{4}-\d{2}-\d{2}"  # compiled when first used (re keeps it): nothing to do at start-up
MOMENT = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?"
WIDEST = 60
MAX_CELL = 32_767  # Excel's limits: a longer text is cut or the file "repaired" when opened
MAX_ROWS = 1_048_576


class Output:
    """Where a command's answer goes: standard output (path None) or a file, and in which format."""

    __slots__ = ("fmt", "path")

    def __init__(self, fmt: str, path: Path | None = None):
        self.fmt = fmt
        self.path = path


def choose(fmt: str | None, path: Path | None, formats: Sequence[str] = ROWS, default: str = "table") -> Output:
    """The format from --format or from the file's suffix; a suffix that contradicts --format is refused, never
    silently overridden (a .json file holding CSV is worse than no file)."""
    if path is None:
        chosen = fmt or default
        if chosen == "xlsx":
            raise UserError("--format xlsx needs -o FILE.xlsx: a workbook is written to a file")
        return Output(chosen)
    by_suffix = SUFFIXES.get(path.suffix.lower(), "")
    if by_suffix not in formats:
        wanted = ", ".join(s for s, f in SUFFIXES.items() if f in formats and s != ".htm")
        raise UserError(f"-o {path}: expected a file ending in {wanted}")
    if fmt is not None and fmt != by_suffix:
        raise UserError(f"-o {path} is {FILES[by_suffix]}, but --format {fmt} was given: drop one of them, "
                        "or make them agree")
    return Output(by_suffix, path)


def output_options(formats: Sequence[str] = ROWS, default: str = "table", flags: Sequence[str] = ()) -> Callable:
    """--format and -o FILE for a command, handed to it as one `out: Output`; `flags` keeps an older spelling
    (`--json`) working as the same choice."""
    import functools

    import click

    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def command(*args: Any, **kw: Any) -> Any:
            fmt = kw.pop("fmt")
            for flag in flags:
                if kw.pop(f"as_{flag}"):
                    if fmt not in (None, flag):
                        raise UserError(f"--{flag} and --format {fmt} disagree: give one of them")
                    fmt = flag
            return fn(*args, out=choose(fmt, kw.pop("output"), formats, default), **kw)

        options = [click.option("--format", "fmt", type=click.Choice(list(formats)),
                                help=f"Default: {default}, or what the suffix of -o says."),
                   click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                                help="Write to this file instead; its suffix (" + ", ".join(
                                    s for s, f in SUFFIXES.items() if f in formats and s != ".htm")
                                + ") chooses the format."),
                   *(click.option(f"--{flag}", f"as_{flag}", is_flag=True, help=f"The same as --format {flag}.")
                     for flag in flags)]
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


# ---- cells ----

def text_cell(value: Any) -> Any:
    """A value as one flat cell: lists joined with "; ", objects as JSON, nothing as empty."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "; ".join("" if v is None else str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]], delimiter: str = ",", newline: str = "\n",
             bom: bool = False) -> str:
    """The one CSV writer: every cell flattened and, where a spreadsheet would run it, neutralised."""
    import csv
    import io

    from sovereign.cells import neutral

    buf = io.StringIO()
    plain = csv.writer(buf, delimiter=delimiter, lineterminator=newline)
    quoted = csv.writer(buf, delimiter=delimiter, lineterminator=newline, quoting=csv.QUOTE_ALL)
    for row in [header, *rows]:
        cells = [neutral(text_cell(v)) for v in row]
        # the csv module quotes a line break only if it is part of the line ending: a lone \r would split the row
        (quoted if any(isinstance(c, str) and "\r" in c for c in cells) else plain).writerow(cells)
    return ("\ufeff" if bom else "") + buf.getvalue()


def columns_of(rows: Sequence[dict]) -> list[str]:
    return list(dict.fromkeys(k for r in rows for k in r))


def _cells(rows: Sequence[dict], columns: Sequence[str]) -> list[list[Any]]:
    return [[r.get(c) for c in columns] for r in rows]


def table_text(rows: Sequence[dict], columns: Sequence[str], empty: str = "None.") -> str:
    """Aligned columns for a terminal, each at most 60 characters wide."""
    if not rows:
        return empty + "\n"

    def shown(value: Any, blank: str) -> str:
        return blank if value is None else str(text_cell(value))

    widths = {c: min(max([len(c), *(len(shown(r.get(c), "")) for r in rows)]), WIDEST) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns).rstrip()]
    lines += ["  ".join(shown(r.get(c), "-")[:WIDEST].ljust(widths[c]) for c in columns).rstrip() for r in rows]
    return "\n".join(lines) + "\n"


def json_text(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n"


# ---- workbooks ----

def _typed(values: list[Any]) -> str:
    """How a column's text is typed in a workbook: a column of ISO days holds dates, one of ISO moments holds
    times (in UTC); any other text stays text, so a reason that happens to read as a date is not changed."""
    texts = [v for v in values if v is not None and v != ""]
    if texts and all(isinstance(v, str) and re.fullmatch(DAY, v) for v in texts):
        return "day"
    if texts and all(isinstance(v, str) and re.fullmatch(MOMENT, v) for v in texts):
        return "moment"
    return "as is"


def _moment(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def xlsx_cell(value: Any, kind: str = "as is") -> Any:
    """A value as a workbook holds it: numbers as numbers, days and moments as dates, text neutralised."""
    from sovereign.cells import neutral

    if isinstance(value, (int, float)):  # bool too
        return value
    if value is None or value == "":
        return None
    if kind == "day":
        return date.fromisoformat(value)
    if kind == "moment":
        return _moment(value)
    return neutral(text_cell(value))


DATE_FORMATS = {"day": "yyyy-mm-dd", "moment": "yyyy-mm-dd hh:mm:ss"}


def write_xlsx(path: Path, sheet: str, columns: Sequence[str], rows: Sequence[dict]) -> None:
    """One sheet, header bold, frozen and filtered; numbers and dates typed; text a spreadsheet would run
    neutralised (the same rule as CSV)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    from sovereign.cells import neutral

    book = Workbook()
    ws = book.active
    ws.title = sheet[:31]
    ws.append([neutral(c) for c in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    if len(rows) >= MAX_ROWS:
        raise UserError(f"{len(rows):,} rows are more than a worksheet holds ({MAX_ROWS - 1:,} below its header): "
                        "use --format csv or json")
    kinds = [_typed([r.get(c) for r in rows]) for c in columns]
    for n, r in enumerate(rows, start=1):
        cells = [xlsx_cell(r.get(c), kind) for c, kind in zip(columns, kinds, strict=True)]
        for c, value in zip(columns, cells, strict=True):
            if isinstance(value, str) and len(value) > MAX_CELL:
                raise UserError(f"row {n}, {c}: {len(value):,} characters, more than the {MAX_CELL:,} a spreadsheet "
                                "cell holds; use --format csv or json")
        ws.append(cells)
    for i, (c, kind) in enumerate(zip(columns, kinds, strict=True), start=1):
        letter = get_column_letter(i)
        if kind in DATE_FORMATS:
            for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = DATE_FORMATS[kind]
        shown = [len(str(text_cell(r.get(c)))) for r in rows[:200]]
        ws.column_dimensions[letter].width = min(max([len(c), 8, *shown]) + 2, WIDEST)
    ws.freeze_panes = "A2"
    if rows and columns:
        ws.auto_filter.ref = ws.dimensions
    book.save(path)


def xlsx_shape(path: Path) -> dict[str, tuple[int, int]]:
    """Each sheet's rows (the header included) and widest row, as read from the file."""
    from openpyxl import load_workbook

    with path.open("rb") as f:  # a file object: openpyxl judges a path by its suffix, and ours is `.partial`
        book = load_workbook(f, read_only=True)
        try:
            shapes = {}
            for ws in book.worksheets:  # a blank row between others counts (it was written); trailing ones are none
                height = width = 0
                for n, row in enumerate(ws.iter_rows(values_only=True), start=1):
                    filled = [i + 1 for i, v in enumerate(row) if v is not None]
                    if filled:
                        height, width = n, max(width, filled[-1])
                shapes[ws.title] = (height, width)
            return shapes
        finally:
            book.close()


def sheets_back(path: Path, expected: dict[str, tuple[int, int]]) -> None:
    """Every sheet written holds its rows (header included) and columns when read again."""
    found = xlsx_shape(path)
    for name, shape in expected.items():
        if found.get(name[:31]) != shape:
            got = found.get(name[:31])
            raise UserError(f"{path.name}: sheet {name!r} read back as "
                            + (f"{got[0]} rows and {got[1]} columns" if got else "missing")
                            + f", expected {shape[0]} rows and {shape[1]} columns")


def frames_shape(sheets: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """The shapes `tables.write_sheets` writes: the frames it keeps, each with a header row."""
    return {name: (frame.height + 1, frame.width) for name, frame in sheets.items()
            if frame.width and not (frame.is_empty() and len(sheets) > 1)}


# ---- the answer ----

def _csv_back(path: Path, rows: int, columns: int) -> None:
    import csv

    with path.open(encoding="utf-8-sig", newline="") as f:
        read = list(csv.reader(f))
    widths = {len(r) for r in read}
    if len(read) != rows + 1 or widths != {columns}:
        raise UserError(f"{path.name}: read back as {len(read)} lines of {sorted(widths)} fields, expected "
                        f"{rows + 1} of {columns}")


def _json_back(path: Path, value: Any) -> None:
    back = json.loads(path.read_text(encoding="utf-8"))
    if len(back) != len(value):
        raise UserError(f"{path.name}: read back with {len(back)} items, expected {len(value)}")


def text_back(path: Path, text: str) -> None:
    if path.read_bytes() != text.encode("utf-8"):  # bytes: line endings are part of what was written
        raise UserError(f"{path.name}: the file read back differs from what was written")


def rows(out: Output, found: Sequence[dict], columns: Sequence[str] | None = None, *, text: str | None = None,
         empty: str = "None.", as_json: Any = None, sheet: str = "rows", say: Callable[[str], Any] | None = None) -> None:
    """Rows in the chosen format. `text`: the command's own table (default: aligned columns); `as_json`: what
    JSON holds, when it is more than the flat rows (lists kept as lists)."""
    import click

    from sovereign.cells import atomic_write

    cols = list(columns) if columns is not None else columns_of(found)
    say = say or (lambda line: click.echo(line, err=True))
    value = list(found) if as_json is None else as_json
    if out.fmt == "xlsx":
        assert out.path is not None
        atomic_write(out.path, lambda tmp: write_xlsx(tmp, sheet, cols, found),
                     lambda tmp: sheets_back(tmp, {sheet: (len(found) + 1, len(cols))} if cols else {}))
    else:
        body = (csv_text(cols, _cells(found, cols), newline="\r\n" if out.path else "\n", bom=out.path is not None)
                if out.fmt == "csv" else json_text(value) if out.fmt == "json"
                else text if text is not None else table_text(found, cols, empty))
        if out.path is None:
            click.echo(body, nl=False)
            return
        path = out.path
        checks: dict[str, Callable[[Path], object]] = {
            "csv": lambda tmp: _csv_back(tmp, len(found), len(cols)),
            "json": lambda tmp: _json_back(tmp, value),
        }
        atomic_write(path, lambda tmp: tmp.write_text(body, encoding="utf-8", newline=""),
                     checks.get(out.fmt, lambda tmp: text_back(tmp, body)))
    say(f"Wrote {out.path}: {len(found)} row(s), {len(cols)} column(s).")


def document(out: Output, render: Callable[[str], str], sheets: Callable[[], dict[str, Any]] | None = None,
             say: Callable[[str], Any] | None = None) -> None:
    """A report (diff, impact, pai, whatif) as Markdown, HTML or JSON text, or an XLSX of its tables, written
    whole and read back."""
    import click

    from sovereign.cells import atomic_write

    say = say or (lambda line: click.echo(line, err=True))
    if out.fmt == "xlsx":
        from sovereign.tables import write_sheets

        assert out.path is not None and sheets is not None
        frames = sheets()
        atomic_write(out.path, lambda tmp: write_sheets(frames, tmp),
                     lambda tmp: sheets_back(tmp, frames_shape(frames)))
        say(f"Wrote {out.path}: {len(frames_shape(frames))} sheet(s).")
        return
    body = render(out.fmt)
    if out.path is None:
        click.echo(body)
        return

    def check(tmp: Path) -> None:
        text_back(tmp, body)
        if out.fmt == "json":
            json.loads(body)

    atomic_write(out.path, lambda tmp: tmp.write_text(body, encoding="utf-8", newline=""), check)
    say(f"Wrote {out.path}.")
