"""Reading an uploaded holdings book in a child process with a memory and a time limit, so that a file built
to exhaust memory or CPU costs that child, never the service: `/health` and `check` keep answering, and the
child is killed on overrun. Inside it the readers measure the file first, within the upload's bounds
(sovereign.bounds.UPLOAD: rows, columns, cells, unpacked and decoded size); the child's limits catch what a
reader may still allocate. The parent gets back the rows (at most MAX_FRAME_BYTES) as Arrow IPC and the book's
layout as JSON; every failure is one line (400 unreadable or out of bounds, 413 too heavy, 503 busy).

    python -m sovereign.sandbox SOURCE FRAME_OUT [COLUMN]   (the child; stdout: the layout as JSON)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from fiw.errors import Unavailable, UserError
from sovereign.bounds import UPLOAD
from sovereign.decisions import unprintable

if TYPE_CHECKING:
    from sovereign.holdings import Book

MEMORY_LIMIT = 1_536 * 2**20   # address space of the child: polars alone maps ~400 MiB of it
TIME_LIMIT = 60.0              # seconds the child may take, start-up included
MAX_FRAME_BYTES = UPLOAD.decoded  # the rows handed back to the service: what an uploaded Parquet file may decode to
MAX_NAME = 255                 # characters of an uploaded file's name
CONCURRENT = 2                 # uploads read at once; more wait up to BUSY_WAIT seconds, then 503
BUSY_WAIT = 10.0
SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".parquet")

EXIT_USER, EXIT_MEMORY, EXIT_SIZE = 2, 3, 4
_slots = threading.BoundedSemaphore(CONCURRENT)


class TooHeavy(UserError):
    """The upload needs more memory or time than one upload may have (413)."""


class Busy(Unavailable):
    """Every reading slot is taken (503, with Retry-After)."""


@dataclass(frozen=True)
class Limits:
    """The child process's own limits; what the file may hold is sovereign.bounds.UPLOAD."""
    memory: int = MEMORY_LIMIT
    seconds: float = TIME_LIMIT


def upload_name(filename: str | None) -> str:
    """The uploaded file's name as our messages may show it: its last part, printable, at most MAX_NAME
    characters (longer is refused rather than cut, so no message names a file that was not sent)."""
    name = re.split(r"[\\/]", filename or "")[-1].strip() or "holdings.csv"
    if len(name) > MAX_NAME:
        raise UserError(f"the file name is {len(name):,} characters long; at most {MAX_NAME} are accepted")
    if unprintable(name):
        raise UserError(f"the file name carries {unprintable(name)}, a control or formatting character; rename the file")
    return name


def read_upload(stream: IO[bytes], filename: str | None, column: str | None, command: str,
                limits: Limits = Limits()) -> Book:
    """The uploaded book, read by a child within `limits`, as a Book of collected rows."""
    import polars as pl

    from sovereign.holdings import Book

    name = upload_name(filename)
    suffix = Path(name).suffix.lower()
    suffix = suffix if suffix in SUFFIXES else ".csv"
    if not _slots.acquire(timeout=BUSY_WAIT):
        raise Busy(f"{CONCURRENT} uploads are being read; try again in a minute")
    try:
        with tempfile.TemporaryDirectory(prefix="sovereign-upload-") as tmp:
            source, frame_out = Path(tmp) / f"holdings{suffix}", Path(tmp) / "rows.arrow"
            with source.open("wb") as out:
                while chunk := stream.read(1 << 20):
                    out.write(chunk)
            layout = _run_child(source, frame_out, column, name, limits, command)
            frame = pl.read_ipc(frame_out)
    finally:
        _slots.release()
    if frame.is_empty():
        raise UserError(f"{name}: the file has no holdings rows")
    return Book(frame.lazy(), Path(name), layout["id_columns"], sheet=layout["sheet"],
                decimal_comma=layout["decimal_comma"], separator=layout["separator"], header_row=layout["header_row"],
                notes=[n.replace("holdings" + suffix, name) for n in layout["notes"]], streamed=False,
                typed=layout["typed"], encoding=layout["encoding"], bom=layout["bom"], newline=layout["newline"],
                code_columns=tuple(layout["code_columns"]))


def _run_child(source: Path, frame_out: Path, column: str | None, name: str, limits: Limits, command: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOVEREIGN_")}  # no token reaches the child
    env |= {"SOVEREIGN_SANDBOX": json.dumps(limits.__dict__), "POLARS_MAX_THREADS": "2"}
    args = [sys.executable, "-m", "sovereign.sandbox", str(source), str(frame_out), *([column] if column else [])]
    try:
        done = subprocess.run(args, capture_output=True, timeout=limits.seconds, env=env, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise TooHeavy(f"{name}: reading the file took longer than {limits.seconds:.0f} s and was stopped; "
                       f"use `{command}` on your own machine") from None
    said = _one_line(done.stderr.decode("utf-8", "replace")).replace(source.name, name)
    if done.returncode == 0:
        return json.loads(done.stdout)
    if done.returncode == EXIT_USER:
        raise UserError(said or f"{name}: the file could not be read")
    if done.returncode == EXIT_SIZE:
        raise TooHeavy(f"{name}: {said}; use `{command}` instead")
    if done.returncode == EXIT_MEMORY or done.returncode < 0:
        raise TooHeavy(f"{name}: reading the file needs more than {limits.memory // 2**20:,} MiB of memory and was "
                       f"stopped; use `{command}` on your own machine")
    raise UserError(f"{name}: the file could not be read ({said or f'exit {done.returncode}'})")


def _one_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def _child(source: str, frame_out: str, column: str | None) -> int:
    """Sets its own limits first, then reads; every way out is an exit code and at most one line on stderr."""
    import resource

    limits = Limits(**json.loads(os.environ.get("SOVEREIGN_SANDBOX", "{}")))
    os.nice(10)  # the service's own answers come first on a busy machine
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory, limits.memory))
    cpu = int(limits.seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FRAME_BYTES * 2, MAX_FRAME_BYTES * 2))
    try:
        from sovereign.holdings import read_book

        book = read_book(Path(source), (column,) if column else (), limits=UPLOAD)  # rows, columns, cells, bytes
        frame = book.frame.collect()
        if frame.estimated_size() > MAX_FRAME_BYTES:
            print(f"the rows take {frame.estimated_size() / 1e6:,.0f} MB, more than one upload may", file=sys.stderr)
            return EXIT_SIZE
        frame.write_ipc(frame_out)
    except MemoryError:
        return EXIT_MEMORY
    except UserError as exc:
        print(_one_line(str(exc)), file=sys.stderr)
        return EXIT_USER
    except Exception as exc:  # a damaged file a reader did not foresee is still the file's fault, said in one line
        if "memory" in str(exc).lower() and "alloc" in str(exc).lower():
            return EXIT_MEMORY
        print(f"{Path(source).name}: the file is damaged or not a holdings book ({exc.__class__.__name__}: "
              f"{_one_line(str(exc))[:200]})", file=sys.stderr)
        return EXIT_USER
    print(json.dumps({"id_columns": book.id_columns, "sheet": book.sheet, "decimal_comma": book.decimal_comma,
                      "separator": book.separator, "header_row": book.header_row, "notes": book.notes,
                      "typed": book.typed, "encoding": book.encoding, "bom": book.bom, "newline": book.newline,
                      "code_columns": book.code_columns}))
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None))
