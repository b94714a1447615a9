"""GET /health: the list in force, the data's age, the last refresh; and the lookup page at /."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from fiw import words
from fiw.methodology import STATUS_WORDS
from sovereign.api.deps import ConnDep, PolicyDep
from sovereign.api.models import Health
from sovereign.store import reads

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
def health(conn: ConnDep) -> dict:
    version = reads.version_in_force(conn, date.today().isoformat())
    run = reads.last_finished_run(conn)
    return {"status": "ok" if version else "no list in force",
            "list_version": version["id"] if version else None, "edition": version["edition"] if version else None,
            "effective_from": version["effective_from"] if version else None,
            "data_age_days": (date.today() - date.fromisoformat(version["effective_from"])).days if version else None,
            "last_refresh": run, "attribution": words.attribution()}


@router.get("/api/v1/ping", include_in_schema=False)
async def ping() -> dict:
    return {"ok": True}


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def page(policy: PolicyDep) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("sovereign", "templates"), autoescape=select_autoescape(["html", "j2"]))
    return env.get_template("lookup.html.j2").render(mandates=policy.mandates, today=date.today().isoformat(),
                                                     attribution=words.attribution(), status_words=STATUS_WORDS)
