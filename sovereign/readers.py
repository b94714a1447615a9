"""A table a user hands in (CSV, XLSX or Parquet) read as text cells, measured first (`sovereign.bounds`), and
every way it can fail said in one line naming the file. Nothing here knows what the table is about: the issuer
register reads through it, and a holdings book shares its errors."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl

from fiw.errors import UserError
from sovereign import bounds
from sovereign.bounds import COMMAND, Limits


@contextmanager
def readable(path: Path) -> Iterator[None]:
    """The readers' own errors (a missing file, a folder, a file that is not what its name says) as one line
    naming the file; an empty table is said as such."""
    suffix = path.suffix.lower()
    try:
        yield
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{path}: a folder, not a file") from None
    except pl.exceptions.NoDataError:
        raise UserError(f"{path.name}: the file is empty: no header and no rows") from None
    except UserError:
        raise
    except BaseException as exc:  # a panic in a reader is no Exception, and still one line
        if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)):
            raise
        raise UserError(f"{path.name}: cannot be read as {suffix.lstrip('.') or 'CSV'} ({bounds.damage(exc)})") from None


def count_line_ends(path: Path) -> tuple[int, bool]:
    """A file's line ends, counted in pieces the cache holds (never the whole file in memory), and whether its
    last byte is one."""
    buffer = bytearray(1 << 20)
    ends, last = 0, False
    with path.open("rb", buffering=0) as f:
        while n := f.readinto(buffer):
            ends += buffer.count(b"\n", 0, n)
            last = buffer[n - 1] == 10
    return ends, last


def read_table(path: Path, limits: Limits = COMMAND) -> pl.DataFrame:
    """CSV, XLSX or Parquet, every cell as text; row numbers as a person counts them (header = 1). The file is
    measured first (sovereign.bounds), as every table a user hands in is."""
    path = Path(path)
    suffix = path.suffix.lower()
    with readable(path):
        if suffix in (".xlsx", ".xlsm"):
            bounds.check_xlsx(path, limits)
            frame = pl.read_excel(path, engine="calamine", infer_schema_length=0)
        elif suffix == ".parquet":
            frame = bounds.check_parquet(path, limits).collect()
        else:
            data = utf8(path)
            head = data[:65536].decode("utf-8", errors="replace").lstrip("\ufeff").split("\n")[:1]
            bounds.check_header(len(next(csv.reader(head), [])), path.name, limits)
            bounds.check_csv_header(path, data[:65536], 0, ",", limits)
            frame = pl.read_csv(data, infer_schema_length=0, truncate_ragged_lines=True)
        bounds.check_rows(frame.height, path.name, limits)
        bounds.check_cells(frame, path.name, limits)
    return frame


def utf8(path: Path) -> bytes:
    """A text file's bytes as UTF-8: UTF-8 (with or without BOM) as it is, anything else read as Windows-1252
    (what Excel writes on Dutch and other Western machines), so names arrive intact, never mangled."""
    raw = path.read_bytes()
    bounds.check_uncompressed(raw[:8], path.name)  # before a Windows-1252 reading changes its first bytes
    try:
        raw.decode("utf-8")
        return raw
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace").encode("utf-8")


def find_column(frame: pl.DataFrame, names: tuple[str, ...]) -> str | None:
    """The first of `names` the header carries (case and surrounding spaces set aside), as the header spells it."""
    lower = {c.strip().lower(): c for c in frame.columns}
    return next((lower[n] for n in names if n in lower), None)
