"""Files built to take a reader down, made the way an attacker or an accident makes them: small on disk, huge
once read. The tests and `scripts/attack.py` upload the same files."""

from __future__ import annotations

import io


def far_corner_xlsx(*rows: list[str]) -> bytes:
    """A real workbook with `rows` from A1 on and one cell at XFD1048576: 5 KB that a reader allocating the
    sheet's dimension asks 512 GiB for."""
    import xlsxwriter

    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf)
    sheet = book.add_worksheet()
    for i, row in enumerate(rows):
        sheet.write_row(i, 0, row)
    sheet.write(1_048_575, 16_383, "x")
    book.close()
    return buf.getvalue()


def wide_csv(header: str = "isin", row: str = "NL0011223342") -> bytes:
    """A 4.8 MB CSV of 2,400,000 empty columns, as a desk's export gone wrong would be."""
    return header.encode() + b"," * 2_400_000 + b"\n" + row.encode() + b"," * 2_400_000 + b"\n"


def long_cell_parquet() -> bytes:
    """20,000 rows of one 200 KB identifier, dictionary-encoded as Parquet writers store a repeated value: 270
    bytes on disk, within every bound its metadata states, 4 GB read. Built without holding the 4 GB here."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    column = pa.DictionaryArray.from_arrays(pa.array([0] * 20_000, pa.int32()), pa.array(["X" * 200_000]))
    pq.write_table(pa.table({"isin": column}), buf, compression="zstd", store_schema=False)
    return buf.getvalue()


def packed_csv(rows: int = 2_000_000) -> bytes:
    """A book gzipped and named .csv: 60 KB that polars, reading a CSV, unpacks by itself to 30 MB (or, with more
    rows, to anything), where every bound was taken from the 60 KB."""
    import gzip

    return gzip.compress(b"ISIN,MV\n" + b"NL0011223342,1\n" * rows, compresslevel=9)


def zeros_parquet(columns: int = 998, rows: int = 200_000) -> bytes:
    """A thousand columns of zeros beside an ISIN column: 1 MB on disk, run-length encoded so that even the
    footer's uncompressed page sizes say 0.8 MB, and 1.6 GB once decoded."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    zeros = pa.array([0] * rows, pa.int64())
    buf = io.BytesIO()
    pq.write_table(pa.table({f"c{i}": zeros for i in range(columns)} | {"isin": pa.array(["NL0011223342"] * rows)}),
                   buf, compression="zstd")
    return buf.getvalue()
