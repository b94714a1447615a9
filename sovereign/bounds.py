"""How much a file handed in may ask of the reader, checked before the reader allocates.

Every reader of a user's table (a holdings book, an issuer register; CLI and API alike) goes through here:
an XLSX is measured by inflating its zip and counting the bytes that actually come out (declared sizes are
not trusted), and its sheets' dimension and every far cell address are checked against the row and column
caps before calamine sizes its grid; a CSV's header may name at most `columns` fields and no cell may be
longer than `cell_chars`; a Parquet file's metadata (rows, columns) is read and checked before any data,
then its cells are measured as they stream past (its metadata can understate them), and a damaged one is a
one-line error."""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from fiw.errors import UserError

if TYPE_CHECKING:
    import polars as pl


@dataclass(frozen=True)
class Limits:
    rows: int = 100_000_000
    columns: int = 1_000
    cells: int = 20_000_000          # an XLSX sheet's rows x columns: what calamine's grid holds
    unpacked: int = 500_000_000      # bytes an XLSX may inflate to
    cell_chars: int = 1_000
    decoded: int = 50_000_000_000    # bytes a Parquet file's data decodes to, by its own metadata (streamed here)


COMMAND = Limits()
UPLOAD = Limits(rows=200_000, cells=5_000_000, unpacked=50_000_000, decoded=200_000_000)

CHUNK = 1 << 20
DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*?\bref=\"([^\"]+)\"")
# What a sheet's far corner can be read from without a match per cell: each row's number (`<row r="N">`), and
# the address of every cell past column Z or row 99,999. Cells in columns A-Z of rows under 100,000 that carry
# no row number cannot reach the smallest cap (26 x 99,999 cells).
ROW_NUMBER = re.compile(rb"<(?:\w+:)?row\b[^>]*?\br=\"(\d+)\"")
FAR_CELL = re.compile(rb"\br=\"([A-Z]{2,})(\d+)\"|\br=\"([A-Z])(\d{6,})\"")
ADDRESS = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})$")


def column_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _address(ref: str) -> tuple[int, int] | None:
    found = ADDRESS.match(ref.strip())
    return (int(found.group(2)), column_index(found.group(1))) if found else None


def _refuse_sheet(file: str, sheet: str, rows: int, columns: int, limits: Limits) -> None:
    if columns > limits.columns or rows > limits.rows or rows * columns > limits.cells:
        raise UserError(f"{file}: {sheet} reaches row {rows:,}, column {columns:,}; at most {limits.rows:,} rows, "
                        f"{limits.columns:,} columns and {limits.cells:,} cells are read: export the holdings as "
                        "CSV or Parquet, or clear the far cells")


def check_xlsx(path: Path, limits: Limits) -> None:
    """Inflate every member once from its raw bytes, counting what comes out and stopping at the cap (the
    sizes the zip declares are not trusted: a reader that trusts them can be made to inflate gigabytes); in
    each worksheet, the dimension and every far cell address checked against the caps. Nothing is kept."""
    name = path.name
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise UserError(f"{name}: not an XLSX workbook (not a zip archive)") from None
    total = 0
    with archive, path.open("rb") as raw:
        for info in archive.infolist():
            sheet = info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")
            label = f"sheet {Path(info.filename).stem}"
            tail, corner = b"", [0, 0]
            try:
                for chunk in _inflate(raw, info):
                    total += len(chunk)
                    if total > limits.unpacked:
                        raise UserError(f"{name}: the workbook unpacks to more than {limits.unpacked:,} bytes "
                                        "(counted while inflating); export the holdings as CSV or Parquet")
                    if sheet:
                        _scan_sheet(tail + chunk, name, label, limits, corner)
                        tail = chunk[-64:]
            except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, zlib.error, ValueError) as exc:
                raise UserError(f"{name}: the workbook is damaged ({info.filename}: {exc})") from None


def _inflate(raw: BinaryIO, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """A member's bytes as they inflate, read from its local header on: as many as the stream really holds."""
    raw.seek(info.header_offset)
    header = raw.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile("bad local header")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    raw.seek(name_len + extra_len, 1)
    if info.compress_type == zipfile.ZIP_STORED:
        left = info.compress_size
        while left > 0 and (chunk := raw.read(min(CHUNK, left))):
            left -= len(chunk)
            yield chunk
        return
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise NotImplementedError(f"compression method {info.compress_type}")
    inflater = zlib.decompressobj(-15)
    while not inflater.eof:
        data = inflater.unconsumed_tail or raw.read(CHUNK)
        if not data:
            raise EOFError("the member ends before its data does")
        out = inflater.decompress(data, CHUNK)
        if out:
            yield out


def _scan_sheet(chunk: bytes, file: str, sheet: str, limits: Limits, corner: list[int]) -> None:
    """The dimension the sheet declares, then the farthest row and column seen so far (`corner`, carried from
    chunk to chunk): a sheet whose cells reach row 99,999 and column ZZ is as large as its corner, dimension or
    not."""
    for ref in DIMENSION.findall(chunk):
        corners = [_address(part) for part in ref.decode("ascii", "replace").split(":")]
        if any(c is None for c in corners):
            raise UserError(f"{file}: {sheet}: dimension {ref.decode('ascii', 'replace')!r} is not a cell range")
        _refuse_sheet(file, sheet, max(c[0] for c in corners if c), max(c[1] for c in corners if c), limits)
    for match in FAR_CELL.finditer(chunk):
        corner[0] = max(corner[0], int(match.group(2) or match.group(4)))
        corner[1] = max(corner[1], column_index((match.group(1) or match.group(3)).decode()))
    for match in ROW_NUMBER.finditer(chunk):
        corner[0] = max(corner[0], int(match.group(1)))
    _refuse_sheet(file, sheet, corner[0], max(corner[1], 1), limits)


def check_header(fields: int, file: str, limits: Limits) -> None:
    if fields > limits.columns:
        raise UserError(f"{file}: the header has {fields:,} columns, more than the {limits.columns:,} read")


# What polars takes for a compressed file and unpacks by itself (gzip, zstd, zlib's three levels and none).
COMPRESSED = {b"\x1f\x8b": "gzip", b"\x28\xb5\x2f\xfd": "zstd", b"\x78\x01": "zlib", b"\x78\x5e": "zlib",
              b"\x78\x9c": "zlib", b"\x78\xda": "zlib"}


def check_uncompressed(head: bytes, file: str) -> None:
    """A text table that is really compressed is refused, by its first bytes: polars unpacks it by itself, past
    every bound taken from the file (a few kilobytes unpack to gigabytes) and past screen's read-back, which
    counts the file's own line ends."""
    head = head.removeprefix(b"\xef\xbb\xbf")
    kind = next((kind for magic, kind in COMPRESSED.items() if head.startswith(magic)), None)
    if kind:
        raise UserError(f"{file}: the file is compressed ({kind}), not a CSV; unpack it first")


def check_csv_header(path: Path, head: bytes, skip: int, separator: str, limits: Limits) -> None:
    """The header on line `skip` (0-based) of a CSV whose first bytes are `head`, measured to its end: when it
    runs past `head`, its separators are counted as it streams, and a header longer than the widest one allowed
    (every column at its longest cell) is refused without being read whole."""
    start = 0
    for _ in range(skip):
        start = head.find(b"\n", start) + 1
        if start == 0:
            return  # the header is not within the first read; the caller's own count stands
    sep = separator.encode("utf-8")
    widest = limits.columns * (limits.cell_chars + 3)
    fields, read = 1, 0
    with path.open("rb") as f:
        f.seek(start)
        while chunk := f.read(CHUNK):
            end = chunk.find(b"\n")
            part = chunk if end < 0 else chunk[:end]
            fields, read = fields + part.count(sep), read + len(part)
            check_header(fields, path.name, limits)
            if read > widest:
                raise UserError(f"{path.name}: the header line is longer than {widest:,} bytes, more than "
                                f"{limits.columns:,} columns of {limits.cell_chars:,} characters")
            if end >= 0:
                return


def check_cells(frame: pl.DataFrame, file: str, limits: Limits, first_row: int = 2) -> None:
    """No text cell longer than the cap; the first one over it is named by row and column."""
    import polars as pl

    text = [c for c, t in frame.schema.items() if t == pl.String]
    if not text:
        return
    longest = frame.select(pl.col(text).str.len_bytes().max()).row(0, named=True)
    for column in text:
        if (longest[column] or 0) <= limits.cell_chars:
            continue  # bytes bound characters: most books stop here
        chars = frame[column].str.len_chars()
        over = (chars > limits.cell_chars).arg_true()
        if over.len():
            index = int(over[0])
            raise UserError(f"{file}: row {index + first_row}, column {column!r}: {int(chars[index]):,} characters, "
                            f"more than the {limits.cell_chars:,} a cell may hold")


def check_rows(rows: int, file: str, limits: Limits, command: str | None = None) -> None:
    if rows > limits.rows:
        hint = f"; use `{command}` instead" if command else ""
        raise UserError(f"{file}: the file has {rows:,} rows, more than the {limits.rows:,} read{hint}")


def check_parquet(path: Path, limits: Limits) -> pl.LazyFrame:
    """The file's metadata (schema, row count) read and checked before any data; a damaged file in one line."""
    import polars as pl

    try:
        frame = pl.scan_parquet(path)
        schema = frame.collect_schema()
        check_header(len(schema), path.name, limits)
        rows = frame.select(pl.len()).collect().item()
    except UserError:
        raise
    except BaseException as exc:  # polars' errors, and a panic in its reader, which is no Exception
        if isinstance(exc, (KeyboardInterrupt, SystemExit, MemoryError)):
            raise
        raise UserError(f"{path.name}: not a readable Parquet file ({damage(exc)})") from None
    check_rows(rows, path.name, limits)
    size = parquet_decoded_size(path)
    if size > limits.decoded:
        raise UserError(f"{path.name}: the file's data decodes to {size:,} bytes by its own metadata, more than the "
                        f"{limits.decoded:,} read")
    nested = [c for c, t in schema.items() if t.is_nested()]
    if nested:
        raise UserError(f"{path.name}: column(s) {nested} hold lists or records; give a flat table")
    try:
        check_streamed_cells(frame, path.name, limits)
    except UserError:
        raise
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit, MemoryError)):
            raise
        raise UserError(f"{path.name}: not a readable Parquet file ({damage(exc)})") from None
    return frame


def check_streamed_cells(frame: pl.LazyFrame, file: str, limits: Limits, first_row: int = 2) -> None:
    """A streamed table measured as its rows pass, before any work is done on them: no text cell longer than the
    cap, and the rows within the bytes a file may decode to (text as long as it is, every other cell counted at
    8 bytes). A Parquet file's metadata can understate both: one 200 KB value in a dictionary page that 20,000
    rows repeat is 270 bytes on disk and 4 GB once the rows are written out; a thousand columns of zeros are
    run-length encoded to almost nothing. Lengths are read from the strings' headers, so the pass costs about a
    fortieth of screening the same file."""
    import polars as pl

    schema = frame.collect_schema()
    text = [c for c, t in schema.items() if t == pl.String or isinstance(t, (pl.Categorical, pl.Enum))]
    lengths = [pl.col(c).cast(pl.String).str.len_bytes() for c in text]
    found = frame.select([length.max().alias(f"longest_{i}") for i, length in enumerate(lengths)]
                         + [pl.sum_horizontal([length.cast(pl.UInt64).sum() for length in lengths] or [pl.lit(0)])
                            .alias("text"), pl.len().alias("rows")]).collect(engine="streaming").row(0)
    for column, longest in zip(text, found, strict=False):
        if (longest or 0) <= limits.cell_chars:
            continue  # bytes bound characters: most columns stop here
        chars = pl.col(column).cast(pl.String).str.len_chars()
        over = (frame.with_row_index("_row").filter(chars > limits.cell_chars).select("_row", chars.alias("_chars"))
                .head(1).collect(engine="streaming"))
        if over.height:
            row, count = over.row(0)
            raise UserError(f"{file}: row {row + first_row}, column {column!r}: {count:,} characters, more than the "
                            f"{limits.cell_chars:,} a cell may hold")
    decoded = (found[-2] or 0) + found[-1] * 8 * (len(schema) - len(text))
    if decoded > limits.decoded:
        raise UserError(f"{file}: its rows decode to {decoded:,} bytes, more than the {limits.decoded:,} read")


def damage(exc: BaseException) -> str:
    first = (str(exc).splitlines() or [""])[0][:200]
    return f"{exc.__class__.__name__}: {first}" if first else exc.__class__.__name__


def parquet_decoded_size(path: Path) -> int:
    """The sum of the row groups' `total_byte_size` (their uncompressed size), read from the footer alone:
    the Thrift compact encoding of FileMetaData, walked without a Thrift library."""
    with path.open("rb") as f:
        f.seek(0, 2)
        end = f.tell()
        if end < 12:
            raise UserError(f"{path.name}: not a readable Parquet file (too short)")
        f.seek(end - 8)
        length, magic = struct.unpack("<I4s", f.read(8))
        if magic != b"PAR1" or length > end - 12:
            raise UserError(f"{path.name}: not a readable Parquet file (no footer)")
        f.seek(end - 8 - length)
        footer = f.read(length)
    try:
        groups = _Compact(footer).struct().get(4)
        sizes = [g.get(2) for g in groups if isinstance(g, dict)] if isinstance(groups, list) else []
        return sum(s for s in sizes if isinstance(s, int))
    except (IndexError, ValueError, RecursionError):
        raise UserError(f"{path.name}: not a readable Parquet file (its footer is damaged)") from None


class _Compact:
    """Just enough of Thrift's compact protocol to read a Parquet footer: structs as {field id: value}."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at, self.depth = data, 0, 0

    def byte(self) -> int:
        b = self.data[self.at]
        self.at += 1
        return b

    def varint(self) -> int:
        shift = result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
            if shift > 70:
                raise ValueError("varint too long")

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def value(self, kind: int) -> object:
        if kind in (1, 2):
            return kind == 1
        if kind == 3:
            return self.byte()
        if kind in (4, 5, 6):
            return self.zigzag()
        if kind == 7:
            self.at += 8
            return None
        if kind == 8:
            n = self.varint()
            if self.at + n > len(self.data):
                raise ValueError("binary past the end")
            self.at += n
            return None
        if kind in (9, 10):
            head = self.byte()
            size, element = head >> 4, head & 0x0F
            if size == 15:
                size = self.varint()
            if size > len(self.data):
                raise ValueError("list longer than the footer")
            return [self.byte() == 1 if element in (1, 2) else self.value(element) for _ in range(size)]
        if kind == 11:
            size = self.varint()
            if size > len(self.data):
                raise ValueError("map larger than the footer")
            types = self.byte() if size else 0
            for _ in range(size):
                self.value(types >> 4)
                self.value(types & 0x0F)
            return None
        if kind == 12:
            return self.struct()
        raise ValueError(f"unknown Thrift type {kind}")

    def struct(self) -> dict[int, object]:
        self.depth += 1
        if self.depth > 64:
            raise ValueError("nested too deep")
        fields: dict[int, object] = {}
        last = 0
        while True:
            head = self.byte()
            if head == 0:
                break
            delta, kind = head >> 4, head & 0x0F
            last = last + delta if delta else self.zigzag()
            fields[last] = self.value(kind)
        self.depth -= 1
        return fields
