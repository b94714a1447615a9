"""POST /api/v1/screen, /api/v1/screen/file and /api/v1/impact/file: many identifiers, or a holdings book, in one call."""

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, File, Query, UploadFile
from pydantic import BaseModel, Field

from fiw.errors import NotFound, UserError
from sovereign.api.deps import ConnDep, PolicyDep, mandate_of
from sovereign.api.models import BODY_ERRORS, ScreenRow

if TYPE_CHECKING:
    from sovereign.holdings import Book

MAX_IDS = 10_000


# A book is a non-empty CSV, XLSX or Parquet file. What the schema cannot say (that the bytes parse as one)
# is a 400 naming the file.
BOOK = File(..., description="A holdings book: CSV, XLSX or Parquet, with a header row",
            json_schema_extra={"minLength": 1})


def router(Mandate: type[enum.Enum]) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["screen"])

    class ScreenRequest(BaseModel):
        ids: list[str] = Field(max_length=MAX_IDS)
        mandate: Mandate | None = None  # type: ignore[valid-type]
        as_of: date | None = None

    @api.post("/screen", response_model=list[ScreenRow], responses=BODY_ERRORS)
    def screen_ids(body: ScreenRequest, conn: ConnDep, policy: PolicyDep) -> list[dict]:
        import polars as pl

        from sovereign.screen import screen

        frame = pl.DataFrame({"id": body.ids}, schema={"id": pl.String})
        return screen(conn, frame, "id", body.as_of, None, mandate_of(policy, body.mandate)).to_dicts()

    @api.post("/screen/file", response_model=list[dict[str, Any]], responses=BODY_ERRORS)
    def screen_file(conn: ConnDep, policy: PolicyDep, file: UploadFile = BOOK, column: str | None = None,
                    mandate: Mandate | None = None, as_of: date | None = None,  # type: ignore[valid-type]
                    value_column: str | None = Query(None, min_length=1, pattern=r"\S", description=(
                        "The market-value column: a row without an identifier whose value is the sum of the rows "
                        "above it is then a summary row, as in `sovereign screen --value-column`"))) -> list[dict]:
        from sovereign.screen import screen_book

        with api_words():
            book = uploaded_book(file, column, "sovereign screen")
            return screen_book(conn, book, as_of, None, mandate_of(policy, mandate),
                               value=value_column).rows.collect().to_dicts()

    @api.post("/impact/file", response_model=dict[str, Any], responses=BODY_ERRORS)
    def impact_file(conn: ConnDep, policy: PolicyDep, file: UploadFile = BOOK,
                    value_column: str = Query(min_length=1, pattern=r"\S", description="The market-value column"),
                    portfolio_column: str | None = None, version: int | None = None, edition: int | None = None,
                    from_version: int | None = None, column: str | None = None) -> dict:
        """What a list (default: the newest proposed) would do to an uploaded book, as `sovereign impact` says."""
        from sovereign.impact import impact

        with api_words():
            book = uploaded_book(file, column, "sovereign impact")
            return impact(conn, book, policy, value_column, portfolio_column, version, edition, from_version)

    return api


OPTION_WORDS = {"--value-column": "value_column", "--portfolio-column": "portfolio_column", "--column": "column"}


@contextmanager
def api_words() -> Iterator[None]:
    """The readers' errors name the CLI's options; here they name the request's parameters."""
    try:
        yield
    except UserError as exc:
        message = str(exc)
        for option, parameter in OPTION_WORDS.items():
            message = message.replace(option, f"the `{parameter}` parameter")
        if message == str(exc):
            raise  # its own class keeps its status: 413 for a book too heavy to read, 503 while every slot is taken
        raise (NotFound if isinstance(exc, NotFound) else UserError)(message) from None


def uploaded_book(file: UploadFile, column: str | None, command: str) -> "Book":
    """An uploaded book, read in a child process (memory, time) within the upload's bounds (sovereign.bounds.UPLOAD:
    rows, columns, cells, unpacked and decoded size, cell length), each checked before the reader allocates."""
    from sovereign.sandbox import read_upload

    return read_upload(file.file, file.filename, column, command)
