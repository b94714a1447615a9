"""GET /health: the list in force, the data's age, the last refresh; /metrics for Prometheus; a ping."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, Response

from fiw import words
from fiw.methodology import MECHANICAL_FROM
from sovereign import clock, lookup, replicas
from sovereign.api.deps import AdminDep, ConnDep, is_admin
from sovereign.api.models import Health
from sovereign.store import reads

router = APIRouter(tags=["health"])


STALE_AFTER_DAYS = 460  # FH publishes once a year: a list older than this means a release was missed


@router.get("/health", response_model=Health, response_model_exclude_none=True,
            responses={503: {"model": Health}})
def health(conn: ConnDep, authorization: str | None = Header(None)) -> JSONResponse:
    """ok or not ok (503), and since when, for anyone; why, the list in force, the last refresh and any list
    awaiting approval for an admin token."""
    version = reads.version_in_force(conn, clock.today().isoformat())
    run = reads.last_finished_run(conn)
    age = (clock.today() - date.fromisoformat(version["effective_from"])).days if version else None
    problems, since = [], version["effective_from"] if version else None
    if version is None:
        problems.append("no list is in force")
    if run and run["outcome"] == "failed":
        problems.append(f"the last refresh failed at {run['finished_at']}")
        since = run["finished_at"]
    if run and run["outcome"] == "held":
        problems.append(f"the last refresh at {run['finished_at']} was held: {_held_why(run['message'])} "
                        "(see sovereign runs)")
        since = run["finished_at"]
    newest = reads.latest_edition(conn)
    if newest and newest >= MECHANICAL_FROM and (unscored := reads.not_recomputed(conn, newest)):
        problems.append(f"{words.title(newest)} is stored without PR and CL for {unscored} entities: their status "
                        "is FH's as printed, not recomputed (refresh --with-details, or import FH's workbook)")
    if version is not None and (unproved := lookup.unproved(conn, version)):
        problems.append(unproved)
    if age is not None and age > STALE_AFTER_DAYS:
        problems.append(f"the list in force took effect {age} days ago: a Freedom in the World release was missed")
    answer: dict = {"status": "not ok" if problems else "ok", "since": since}
    if is_admin(conn, authorization):
        review = reads.pending(conn)
        answer |= {"problems": problems, "list_version": version["id"] if version else None,
                   "edition": version["edition"] if version else None,
                   "effective_from": version["effective_from"] if version else None, "data_age_days": age,
                   "last_refresh": run, "attribution": words.attribution(),
                   "awaiting_approval": {"list_version": review["id"], "edition": review["edition"],
                                         "state": review["state"]} if review else None}
    return JSONResponse({k: v for k, v in answer.items() if v is not None}, status_code=503 if problems else 200)


def _held_why(message: str | None) -> str:
    """The run's own reasons: a table not stored (label and numbers disagree) or a list the anomaly gate held."""
    import json

    try:
        recorded = json.loads(message or "{}")
    except ValueError:
        recorded = {}
    reasons = [h["reason"] for h in recorded.get("held") or []] + list(recorded.get("gate_held") or [])
    text = "; ".join(reasons) or "FH's table was not stored"
    return text if len(text) <= 600 else text[:597] + "..."


@router.get("/metrics", include_in_schema=False)
def metrics(conn: ConnDep, request: Request, _: AdminDep) -> Response:
    """Prometheus: the list in force, the data's age, the last run, lists awaiting approval, requests. The same
    rule as the admin view of /health: a bearer token (the scraper's `authorization` setting), never anonymous."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest

    registry = CollectorRegistry()
    version = reads.version_in_force(conn, clock.today().isoformat())
    run = reads.last_finished_run(conn)
    review = reads.pending(conn)
    gauges = {
        "sovereign_list_version": ("the list version in force", version["id"] if version else 0),
        "sovereign_list_edition": ("the Freedom in the World edition of the list in force",
                                   version["edition"] if version else 0),
        "sovereign_data_age_days": ("days since the list in force took effect",
                                    (clock.today() - date.fromisoformat(version["effective_from"])).days
                                    if version else -1),
        "sovereign_last_run_ok": ("1 if the last refresh or import neither failed nor held FH's table",
                                  0 if run and run["outcome"] in ("failed", "held") else 1),
        "sovereign_pending_versions": ("list versions awaiting a decision", 1 if review else 0),
        "sovereign_read_only": ("1 on a read-only replica (serve --read-only)", 1 if replicas.read_only() else 0),
        "sovereign_copy_age_seconds": ("seconds since the database file was last written (on a replica: the copy's age)",
                                       replicas.copy_age_seconds(request.app.state.settings.db)),
    }
    for name, (text, value) in gauges.items():
        Gauge(name, text, registry=registry).set(value)
    requests = Counter("sovereign_http_requests", "HTTP requests answered", ["method", "status"], registry=registry)
    for (method, status), n in sorted(request.app.state.request_counts.items()):
        requests.labels(method, str(status)).inc(n)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/api/v1/ping", include_in_schema=False)
async def ping() -> dict:
    return {"ok": True}
