"""The HTTP API and the desk's lookup page (FastAPI). Thin: every endpoint calls the library the CLI calls.

Lookups read through a read-only connection per worker thread, each request inside one read
transaction, so an answer never mixes two list versions while a refresh writes. Admin endpoints
need `Authorization: Bearer $SOVEREIGN_ADMIN_TOKEN` (compared in constant time); with no token set
they are off. Every admin action is recorded in `admin_actions` with who and when.
"""


import enum
import hmac
import json
import os
import tempfile
import threading
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, File, Header, HTTPException, Path as PathParam, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from sovereign import lookup, paths, store
from sovereign.errors import NotFound, UserError
from sovereign.policy import Policy, load_policy

ATTRIBUTION = "Source: Freedom House, Freedom in the World"


class Issuer(BaseModel):
    name: str
    lei: str
    type: str
    country: str | None = None
    isin: str | None = None


class Answer(BaseModel):
    query: str
    iso2: str | None
    name: str
    kind: str
    eligible: bool
    status: str | None
    edition: int
    list_version: int
    effective_from: str | None
    reasons: list[str]
    pr: int | None
    cl: int | None
    total: int | None
    pr_rating: int | None
    cl_rating: int | None
    no_new_buys_from: str | None
    divest_by: str | None
    mandate: str | None
    issuer: Issuer | None


class Entry(BaseModel):
    iso2: str | None
    name: str
    kind: str
    status: str | None
    eligible: bool
    pr: int | None
    cl: int | None
    total: int | None
    pr_rating: int | None
    cl_rating: int | None
    reasons: list[str]
    no_new_buys_from: str | None
    divest_by: str | None
    mandate: str | None = None


class ListVersion(BaseModel):
    edition: int
    list_version: int
    state: str
    effective_from: str | None
    mandate: str | None
    attribution: str
    entries: list[Entry]


class ScreenRow(BaseModel):
    id: str | None
    iso2: str | None
    eligible: bool
    status: str | None
    reason: str | None
    divest_by: str | None


class HistoryRow(BaseModel):
    edition: int
    list_version: int
    effective_from: str | None
    name: str
    status: str | None
    pr: int | None
    cl: int | None
    total: int | None
    pr_rating: int | None
    cl_rating: int | None
    eligible: bool
    reasons: str
    status_pub: str | None
    year_under_review: int | None


class Health(BaseModel):
    status: str
    list_version: int | None
    edition: int | None
    effective_from: str | None
    data_age_days: int | None
    last_refresh: dict | None
    attribution: str


class RefreshRequest(BaseModel):
    actor: str = Field(min_length=1)
    source: str = Field("web", pattern="^(web|bundled)$")
    base_url: str = "https://freedomhouse.org"


class PublishRequest(BaseModel):
    approved_by: str = Field(min_length=1)
    effective_from: date
    edition: int | None = None
    accept_held: bool = False


class OverrideRequest(BaseModel):
    country: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    decided_by: str = Field(min_length=1)
    valid_from: date | None = None
    valid_to: date | None = None


class RevokeRequest(BaseModel):
    revoked_by: str = Field(min_length=1)


class Message(BaseModel):
    detail: str


ERRORS = {400: {"model": Message}, 404: {"model": Message}}


def create_app(db_path: Path | None = None, policy_path: Path | None = None) -> FastAPI:
    db_path = Path(db_path or paths.default_db())
    policy_file = Path(policy_path or os.environ.get("SOVEREIGN_POLICY") or paths.POLICY)
    policy: Policy = load_policy(policy_file)
    local = threading.local()
    app = FastAPI(title="sovereign", version="1", description=(
        "Sovereign issuer eligibility from Freedom House's Freedom in the World. " + ATTRIBUTION + "."))

    @contextmanager
    def snapshot():
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = store.connect_readonly(db_path)
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    @app.exception_handler(UserError)
    async def user_error(_: Request, exc: UserError):
        return JSONResponse({"detail": str(exc)}, status_code=404 if isinstance(exc, NotFound) else 400)

    # The policy's mandates, so the schema itself says which names are valid (FastAPI answers 422 otherwise).
    Mandate = enum.Enum("Mandate", {m.name: m.name for m in policy.mandates} or {"none": "none"}, type=str)

    class ScreenRequest(BaseModel):
        ids: list[str] = Field(max_length=100_000)
        mandate: Mandate | None = None
        as_of: date | None = None

    def mandate_of(name) -> object:
        return policy.mandate(getattr(name, "value", name)) if name else None

    @app.get("/api/v1/ping", include_in_schema=False)
    async def ping() -> dict:
        return {"ok": True}

    def cached(key: tuple, compute) -> Response:
        """Answers are a pure function of the request, the date and the database: keep their JSON until
        another connection commits (SQLite's data_version changes) or the day changes."""
        conn = getattr(local, "conn", None) or snapshot_conn()
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        cache = getattr(local, "cache", None)
        if cache is None or local.cache_version != version or len(cache) > 20_000:
            cache = local.cache = {}
            local.cache_version = version
        key = key + (date.today(),)
        body = cache.get(key)
        if body is None:
            body = cache[key] = json.dumps(compute(), ensure_ascii=False, separators=(",", ":")).encode()
        return Response(body, media_type="application/json")

    def snapshot_conn():
        local.conn = store.connect_readonly(db_path)
        return local.conn

    @app.get("/health", response_model=Health)
    def health() -> dict:
        with snapshot() as conn:
            version = store.version_in_force(conn, date.today().isoformat())
            run = conn.execute("SELECT command, outcome, finished_at, message FROM runs WHERE finished_at IS NOT NULL "
                               "ORDER BY id DESC LIMIT 1").fetchone()
        age = (date.today() - date.fromisoformat(version["effective_from"])).days if version else None
        return {"status": "ok" if version else "no list in force", "list_version": version["id"] if version else None,
                "edition": version["edition"] if version else None,
                "effective_from": version["effective_from"] if version else None, "data_age_days": age,
                "last_refresh": dict(run) if run else None, "attribution": ATTRIBUTION}

    @app.get("/api/v1/check/{identifier}", response_model=Answer, responses=ERRORS)
    async def check(identifier: str, as_of: date | None = None, mandate: Mandate | None = None) -> Response:
        def compute() -> dict:
            with snapshot() as conn:
                return lookup.check(conn, [identifier], None, as_of, mandate_of(mandate))[0]

        return cached((identifier, as_of, getattr(mandate, "value", None)), compute)

    @app.post("/api/v1/screen", response_model=list[ScreenRow], responses=ERRORS)
    def screen_json(body: ScreenRequest) -> list[dict]:
        import polars as pl

        return _screen(pl.DataFrame({"id": body.ids}, schema={"id": pl.String}), "id", body.as_of, body.mandate)

    @app.post("/api/v1/screen/file", response_model=list[dict[str, Any]], responses=ERRORS)
    def screen_file(file: UploadFile = File(...), column: str | None = None, mandate: Mandate | None = None,
                    as_of: date | None = None) -> list[dict]:
        from sovereign.screen import read_holdings

        suffix = Path(file.filename or "holdings.csv").suffix.lower() or ".csv"
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"holdings{suffix}"
            path.write_bytes(file.file.read())
            frame, col = read_holdings(path, column)
        return _screen(frame, col, as_of, mandate)

    def _screen(frame, column: str, as_of: date | None, mandate: str | None) -> list[dict]:
        from sovereign.screen import screen

        with snapshot() as conn:
            return screen(conn, frame, column, as_of, None, mandate_of(mandate)).to_dicts()

    def _list(conn, version, mandate: str | None, on: date | None) -> dict:
        rows = lookup.list_entries(conn, version, on, mandate_of(mandate))
        return {"edition": version["edition"], "list_version": version["id"], "state": version["state"],
                "effective_from": version["effective_from"], "mandate": getattr(mandate, "value", mandate),
                "attribution": f"{ATTRIBUTION} {version['edition']}", "entries": rows}

    @app.get("/api/v1/lists/current", response_model=ListVersion, responses=ERRORS)
    def list_current(mandate: Mandate | None = None, as_of: date | None = None) -> dict:
        with snapshot() as conn:
            return _list(conn, lookup.pick_version(conn, None, as_of), mandate, as_of)

    @app.get("/api/v1/lists/{edition}", response_model=ListVersion, responses=ERRORS)
    def list_edition(edition: int = PathParam(ge=1900, le=2200), mandate: Mandate | None = None) -> dict:
        with snapshot() as conn:
            return _list(conn, lookup.pick_version(conn, edition, None), mandate, None)

    @app.get("/api/v1/diff", responses=ERRORS)
    def diff(from_: str | None = Query(None, alias="from", pattern=r"^(\d{4}|[vV]\d{1,18})$"),
             to: str | None = Query(None, pattern=r"^(\d{4}|[vV]\d{1,18})$")) -> dict:
        from sovereign import report

        with snapshot() as conn:
            return json.loads(report.to_json(report.build(conn, policy, from_, to)))

    @app.get("/api/v1/countries/{iso2}/history", response_model=list[HistoryRow], responses=ERRORS)
    def history(iso2: str) -> list[dict]:
        with snapshot() as conn:
            return lookup.history(conn, iso2)[1]

    @app.get("/reports/{edition}", response_class=HTMLResponse, responses=ERRORS)
    def committee_report(edition: int = PathParam(ge=1900, le=2200)) -> str:
        from sovereign import report

        with snapshot() as conn:
            result = report.build(conn, policy, None, str(edition))
            return report.to_html(report.with_charts(conn, result))

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> str:
        from jinja2 import Environment, PackageLoader, select_autoescape

        env = Environment(loader=PackageLoader("sovereign", "templates"), autoescape=select_autoescape(["html", "j2"]))
        return env.get_template("lookup.html.j2").render(mandates=policy.mandates, today=date.today().isoformat())

    # ---- admin ----
    def admin(authorization: str | None = Header(None)) -> None:
        token = os.environ.get("SOVEREIGN_ADMIN_TOKEN", "")
        if not token:
            raise HTTPException(403, "admin endpoints are off: SOVEREIGN_ADMIN_TOKEN is not set")
        given = (authorization or "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise HTTPException(401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"})

    def record(actor: str, action: str, payload: dict, work):
        db = store.open_db(db_path, create=False)
        try:
            result = work(db)
            outcome, message = "ok", json.dumps(result, default=str)[:2000]
            return result
        except UserError as exc:
            outcome, message = "refused", str(exc)
            raise
        finally:
            with db.atomic():
                db["admin_actions"].insert({"at": store.now(), "actor": actor, "action": action,
                                            "payload": json.dumps(payload, default=str), "outcome": outcome,
                                            "message": message})
            db.close()

    @app.post("/api/v1/admin/refresh", dependencies=[Depends(admin)], responses=ERRORS)
    def admin_refresh(body: RefreshRequest) -> dict:
        from scrapers.http import PoliteClient
        from sovereign import acquire, pipeline

        def work(db):
            if body.source == "bundled":
                outcome = pipeline.refresh_bundled(db, db_path, policy)
            else:
                outcome, _ = acquire.refresh_web(db, db_path, policy, PoliteClient(), body.base_url)
            return {"editions": {str(k): v for k, v in outcome.editions.items()}, "versions": outcome.versions}

        return record(body.actor, "refresh", body.model_dump(), work)

    @app.post("/api/v1/admin/publish", dependencies=[Depends(admin)], responses=ERRORS)
    def admin_publish(body: PublishRequest) -> dict:
        from sovereign import pipeline

        def work(db):
            version = pipeline.publish(db, policy, body.approved_by, body.effective_from, body.edition, body.accept_held)
            return {"list_version": version, "effective_from": body.effective_from.isoformat()}

        return record(body.approved_by, "publish", body.model_dump(), work)

    @app.post("/api/v1/admin/overrides", dependencies=[Depends(admin)], responses=ERRORS)
    def admin_override(body: OverrideRequest) -> dict:
        from sovereign import overrides

        return record(body.decided_by, "override add", body.model_dump(), lambda db: overrides.add(
            db, body.country, body.reason, body.decided_by, body.valid_from, body.valid_to))

    @app.post("/api/v1/admin/overrides/{override_id}/revoke", dependencies=[Depends(admin)], responses=ERRORS)
    def admin_revoke(body: RevokeRequest, override_id: int = PathParam(ge=1, le=2**62)) -> dict:
        from sovereign import overrides

        def work(db):
            overrides.revoke(db, override_id, body.revoked_by)
            return {"revoked": override_id}

        return record(body.revoked_by, "override revoke", {"id": override_id} | body.model_dump(), work)

    return app


