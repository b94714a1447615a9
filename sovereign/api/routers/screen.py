"""POST /api/v1/screen, /api/v1/screen/file and /api/v1/impact/file: many identifiers, or a holdings book, in one call."""

import enum
from datetime import date
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, File, UploadFile
from pydantic import BaseModel, Field

from fiw.errors import UserError
from sovereign.api.deps import ConnDep, PolicyDep, mandate_of
from sovereign.api.models import ERRORS, ScreenRow

if TYPE_CHECKING:
    from sovereign.holdings import Book

MAX_IDS = 10_000


def router(Mandate: type[enum.Enum]) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["screen"])

    class ScreenRequest(BaseModel):
        ids: list[str] = Field(max_length=MAX_IDS)
        mandate: Mandate | None = None  # type: ignore[valid-type]
        as_of: date | None = None

    @api.post("/screen", response_model=list[ScreenRow], responses=ERRORS)
    def screen_ids(body: ScreenRequest, conn: ConnDep, policy: PolicyDep) -> list[dict]:
        import polars as pl

        from sovereign.screen import screen

        frame = pl.DataFrame({"id": body.ids}, schema={"id": pl.String})
        return screen(conn, frame, "id", body.as_of, None, mandate_of(policy, body.mandate)).to_dicts()

    @api.post("/screen/file", response_model=list[dict[str, Any]], responses=ERRORS)
    def screen_file(conn: ConnDep, policy: PolicyDep, file: UploadFile = File(...), column: str | None = None,
                    mandate: Mandate | None = None, as_of: date | None = None) -> list[dict]:  # type: ignore[valid-type]
        from sovereign.screen import screen

        book = uploaded_book(file, column, "sovereign screen")
        return screen(conn, book.frame.collect(), book.id_columns, as_of, None, mandate_of(policy, mandate)).to_dicts()

    @api.post("/impact/file", response_model=dict[str, Any], responses=ERRORS)
    def impact_file(conn: ConnDep, policy: PolicyDep, file: UploadFile = File(...), value_column: str = "",
                    portfolio_column: str | None = None, version: int | None = None, edition: int | None = None,
                    from_version: int | None = None, column: str | None = None) -> dict:
        """What a list (default: the newest proposed) would do to an uploaded book, as `sovereign impact` says."""
        from sovereign.impact import impact

        if not value_column.strip():
            raise UserError("value_column: name the market-value column")
        book = uploaded_book(file, column, "sovereign impact")
        return impact(conn, book, policy, value_column, portfolio_column, version, edition, from_version)

    return api


def uploaded_book(file: UploadFile, column: str | None, command: str) -> "Book":
    """An uploaded book, read in a child process within the upload's bounds (memory, time, rows, unpacked size)."""
    from sovereign.sandbox import read_upload

    return read_upload(file.file, file.filename, column, command)
