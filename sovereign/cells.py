"""Outputs people open: written whole or not at all, and with no text cell a spreadsheet would run.

Text cells that a spreadsheet would run: a cell starting with =, +, -, @, a tab or a carriage return
is a formula to Excel and LibreOffice. Outputs (CSV and XLSX) carry such text with a leading apostrophe;
numbers, and text that reads as a number (-12.5), are left as they are."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fiw.errors import UserError

if TYPE_CHECKING:
    import polars as pl

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


def neutral(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(TRIGGERS) and not NUMBER.match(value.strip()):
        return "'" + value
    return value


STARTS = "^[" + re.escape("".join(TRIGGERS)) + "]"


def _text_columns(schema: Any, ours: tuple[str, ...]) -> list[str]:
    import polars as pl

    return [c for c, t in schema.items() if t == pl.String and c not in ours]


def _neutralised(column: str) -> pl.Expr:
    """The one rule, as an expression: a cell starting with a trigger, unless it reads as a number, gets a `'`."""
    import polars as pl

    col = pl.col(column)
    return (pl.when(col.str.contains(STARTS) & ~col.str.strip_chars().str.contains(NUMBER.pattern))
            .then(pl.lit("'") + col).otherwise(col).alias(column))


def _may_start_with_trigger(column: str) -> pl.Expr:
    """True when some cell of the column might start with a trigger: a superset, decided by comparing each
    cell with bounds (a string column's cells carry their first bytes inline, so no text is read). Every
    trigger sorts below "." (tab, CR, +, -) or in ["=", "A") (=, @); digits and letters sort elsewhere."""
    import polars as pl

    col = pl.col(column)
    return ((col < ".") | ((col >= "=") & (col < "A"))).any().alias(column)


def risky_columns(frame: pl.DataFrame, columns: list[str]) -> list[str]:
    """The columns with a cell the rule changes: two cheap comparisons rule most columns out (numbers, dates,
    codes, names); on the rest, the cells that start with a trigger are found and tested as numbers (a column
    of amounts with negative ones changes nothing)."""
    import polars as pl

    if not columns:
        return []
    maybe = frame.select([_may_start_with_trigger(c) for c in columns]).row(0, named=True)
    doubtful = [c for c in columns if maybe[c]]
    if not doubtful:
        return []
    found = frame.select([pl.col(c).filter(pl.col(c).str.contains(STARTS)).str.strip_chars()
                          .str.contains(NUMBER.pattern).not_().any().alias(c) for c in doubtful]).row(0, named=True)
    return [c for c in doubtful if found[c]]


def text_columns(frame: pl.DataFrame, ours: tuple[str, ...] = ()) -> list[str]:
    """The columns the rule applies to: text, other than `ours`."""
    return _text_columns(frame.schema, ours)


def neutralise(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    return frame.with_columns([_neutralised(c) for c in columns]) if columns else frame


def neutral_frame(frame: pl.DataFrame, ours: tuple[str, ...] = ()) -> pl.DataFrame:
    """Every text column of a frame made safe to open, in one vectorised pass. `ours`: columns whose text is
    known not to start with a trigger (the product's own words, or answers already tested)."""
    return neutralise(frame, risky_columns(frame, _text_columns(frame.schema, ours)))


def neutral_lazy(frame: pl.LazyFrame, ours: tuple[str, ...] = ()) -> pl.LazyFrame:
    """`neutral_frame` for a streamed frame: the same rule, applied as the rows pass."""
    return frame.with_columns([_neutralised(c) for c in _text_columns(frame.collect_schema(), ours)])


def atomic_write(out: Path, write: Callable[[Path], object], check: Callable[[Path], object] | None = None) -> None:
    """Write through a temporary file beside `out`, read it back (`check`), and rename it: a failure leaves no
    partial file, and a library's warning while writing is a failure, never a line on stderr."""
    import warnings

    tmp = out.with_name(f".{out.name}.partial")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            write(tmp)
        if check is not None:
            check(tmp)
        tmp.replace(out)
    except UserError:
        tmp.unlink(missing_ok=True)
        raise
    except Exception as exc:  # the writers' own errors (disk full, a folder that is missing): one line
        tmp.unlink(missing_ok=True)
        reason = getattr(exc, "strerror", None) or (str(exc).splitlines() or [exc.__class__.__name__])[0]
        raise UserError(f"cannot write {out}: {reason}") from None
