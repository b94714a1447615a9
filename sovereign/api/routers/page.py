"""The desk's lookup page at / and its script: one form that asks GET /api/v1/check, for people without the CLI."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from fiw import words
from fiw.methodology import STATUS_WORDS
from sovereign import clock
from sovereign.api.deps import PolicyDep

router = APIRouter(tags=["page"])


@router.get("/static/lookup.js", include_in_schema=False)
def lookup_script() -> Response:
    from importlib.resources import files

    return Response(files("sovereign").joinpath("templates/lookup.js").read_text(encoding="utf-8"),
                    media_type="application/javascript", headers={"Cache-Control": "no-cache"})


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def page(policy: PolicyDep) -> str:
    from sovereign.templating import environment

    env = environment()
    return env.get_template("lookup.html.j2").render(mandates=policy.mandates, today=clock.today().isoformat(),
                                                     attribution=words.attribution(), status_words=STATUS_WORDS)
