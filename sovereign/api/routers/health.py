"""GET /health: the list in force, the data's age, the last refresh; and the lookup page at /."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Header
from fastapi.responses import HTMLResponse, Response

from fiw import words
from fiw.methodology import STATUS_WORDS
from sovereign.api.deps import ConnDep, PolicyDep, is_admin
from sovereign.api.models import Health
from sovereign.store import reads

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, response_model_exclude_none=True)
def health(conn: ConnDep, authorization: str | None = Header(None)) -> dict:
    """ok or not ok, and since when, for anyone; the list in force and the last refresh for an admin token."""
    version = reads.version_in_force(conn, date.today().isoformat())
    answer: dict = {"status": "ok" if version else "not ok",
                    "since": version["effective_from"] if version else None}
    if not is_admin(authorization):
        return answer
    return answer | {
        "list_version": version["id"] if version else None, "edition": version["edition"] if version else None,
        "effective_from": version["effective_from"] if version else None,
        "data_age_days": (date.today() - date.fromisoformat(version["effective_from"])).days if version else None,
        "last_refresh": reads.last_finished_run(conn), "attribution": words.attribution()}


@router.get("/api/v1/ping", include_in_schema=False)
async def ping() -> dict:
    return {"ok": True}


@router.get("/static/lookup.js", include_in_schema=False)
def lookup_script() -> Response:
    from importlib.resources import files

    return Response(files("sovereign").joinpath("templates/lookup.js").read_text(encoding="utf-8"),
                    media_type="application/javascript", headers={"Cache-Control": "no-cache"})


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def page(policy: PolicyDep) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("sovereign", "templates"), autoescape=select_autoescape(["html", "j2"]))
    return env.get_template("lookup.html.j2").render(mandates=policy.mandates, today=date.today().isoformat(),
                                                     attribution=words.attribution(), status_words=STATUS_WORDS)
