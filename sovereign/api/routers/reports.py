"""The committee's view: GET /api/v1/diff (JSON) and GET /reports/{edition} (the HTML report)."""

from __future__ import annotations

import json

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse

from sovereign.api.deps import ConnDep, PolicyDep
from sovereign.api.models import ERRORS, errors

router = APIRouter(tags=["reports"])
SPEC = r"^(\d{4}|[vV]\d{1,18})$"


@router.get("/api/v1/diff", responses=ERRORS)
def diff(conn: ConnDep, policy: PolicyDep, from_: str | None = Query(None, alias="from", pattern=SPEC),
         to: str | None = Query(None, pattern=SPEC)) -> dict:
    from sovereign import report

    return json.loads(report.to_json(report.build(conn, policy, from_, to)))


@router.get("/reports/{edition}", response_class=HTMLResponse, responses=errors(400, 404, 503, json_only=True))
def committee_report(conn: ConnDep, policy: PolicyDep, edition: int = PathParam(ge=1900, le=2200)) -> str:
    from sovereign import report

    return report.to_html(report.with_charts(conn, report.build(conn, policy, None, str(edition))))
