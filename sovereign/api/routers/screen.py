"""POST /api/v1/screen and /api/v1/screen/file: many identifiers, or a holdings file, in one call."""

import enum
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, File, UploadFile
from pydantic import BaseModel, Field

from fiw.errors import UserError
from sovereign.api.deps import ConnDep, PolicyDep, mandate_of
from sovereign.api.models import ERRORS, ScreenRow

MAX_IDS = 10_000
MAX_UPLOAD_ROWS = 200_000
MAX_UPLOAD_UNPACKED = 50_000_000


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
        from sovereign.screen import read_holdings, screen

        suffix = Path(file.filename or "holdings.csv").suffix.lower() or ".csv"
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"holdings{suffix}"
            path.write_bytes(file.file.read())
            frame, col = read_holdings(path, column, max_uncompressed=MAX_UPLOAD_UNPACKED)
        if frame.height > MAX_UPLOAD_ROWS:
            raise UserError(f"the file has {frame.height:,} rows, more than the {MAX_UPLOAD_ROWS:,} one upload may "
                            "hold; screen it with `sovereign screen` instead")
        return screen(conn, frame, col, as_of, None, mandate_of(policy, mandate)).to_dicts()

    @api.post("/impact/file", response_model=dict[str, Any], responses=ERRORS)
    def impact_file(conn: ConnDep, policy: PolicyDep, file: UploadFile = File(...), value_column: str = "",
                    portfolio_column: str | None = None, version: int | None = None, edition: int | None = None,
                    from_version: int | None = None, column: str | None = None) -> dict:
        """What a list (default: the newest proposed) would do to an uploaded book, as `sovereign impact` says."""
        import polars as pl

        from sovereign.holdings import read_book
        from sovereign.impact import impact

        if not value_column.strip():
            raise UserError("value_column: name the market-value column")
        suffix = Path(file.filename or "holdings.csv").suffix.lower() or ".csv"
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"holdings{suffix}"
            path.write_bytes(file.file.read())
            book = read_book(path, (column,) if column else (), max_uncompressed=MAX_UPLOAD_UNPACKED)
            book.frame = book.frame.collect().lazy()
        if book.frame.select(pl.len()).collect().item() > MAX_UPLOAD_ROWS:
            raise UserError(f"the file has more than the {MAX_UPLOAD_ROWS:,} rows one upload may hold; use "
                            "`sovereign impact` instead")
        return impact(conn, book, policy, value_column, portfolio_column, version, edition, from_version)

    return api
