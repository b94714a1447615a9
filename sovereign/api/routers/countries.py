"""GET /api/v1/countries/{id}/history: one country or territory over every edition."""

from __future__ import annotations

from fastapi import APIRouter

from sovereign import lookup
from sovereign.api.deps import ConnDep
from sovereign.api.models import ERRORS, HistoryRow

router = APIRouter(prefix="/api/v1/countries", tags=["countries"])


@router.get("/{identifier}/history", response_model=list[HistoryRow], responses=ERRORS)
def history(identifier: str, conn: ConnDep) -> list[dict]:
    return lookup.history(conn, identifier)[1]
