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


def neutral_frame(frame: pl.DataFrame, ours: tuple[str, ...] = ()) -> pl.DataFrame:
    """Every text column of a frame made safe to open, in one vectorised pass. `ours`: columns the product
    wrote itself, whose text never starts with a trigger (they quote what a user typed)."""
    import polars as pl

    text = [c for c, t in frame.schema.items() if t == pl.String and c not in ours]
    if not text:
        return frame
    starts = "^[" + re.escape("".join(TRIGGERS)) + "]"
    risky = frame.select([pl.col(c).str.contains(starts).any().alias(c) for c in text]).row(0, named=True)
    columns = [c for c in text if risky[c]]  # most columns have no such cell: one cheap pass decides
    return frame.with_columns([
        pl.when(pl.col(c).str.contains(starts) & ~pl.col(c).str.strip_chars().str.contains(NUMBER.pattern))
        .then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c) for c in columns])


def neutral_lazy(frame: pl.LazyFrame, ours: tuple[str, ...] = ()) -> pl.LazyFrame:
    """`neutral_frame` for a streamed frame: the same rule, applied as the rows pass."""
    import polars as pl

    text = [c for c, t in frame.collect_schema().items() if t == pl.String and c not in ours]
    starts = "^[" + re.escape("".join(TRIGGERS)) + "]"
    return frame.with_columns([
        pl.when(pl.col(c).str.contains(starts) & ~pl.col(c).str.strip_chars().str.contains(NUMBER.pattern))
        .then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c) for c in text])


def atomic_write(out: Path, write: Callable[[Path], object]) -> None:
    """Write through a temporary file beside `out` and rename it: a failure leaves no partial file."""
    tmp = out.with_name(f".{out.name}.partial")
    try:
        write(tmp)
        tmp.replace(out)
    except Exception as exc:  # the writers' own errors (disk full, a folder that is missing): one line
        tmp.unlink(missing_ok=True)
        reason = getattr(exc, "strerror", None) or (str(exc).splitlines() or [exc.__class__.__name__])[0]
        raise UserError(f"cannot write {out}: {reason}") from None
