"""The HTTP API and the desk's lookup page (FastAPI). `create_app` only assembles: settings, the answer
cache, the guards (limits, headers, errors) and one router per resource. Every endpoint calls the library the CLI calls."""

from __future__ import annotations

from fastapi import FastAPI

from fiw import words
from sovereign import __version__, replicas, store
from sovereign.api import access, guards
from sovereign.api.deps import AnswerCache, Desk, mandate_enum
from sovereign.api.routers import admin, check, countries, health, lists, page, reports, screen
from sovereign.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    settings.check()
    app = FastAPI(title="sovereign", version=__version__, description=(
        "Sovereign issuer eligibility from Freedom House's Freedom in the World. " + words.attribution() + "."),
        docs_url="/docs" if settings.api_docs else None, redoc_url=None)
    app.state.settings = settings
    app.state.desk = Desk(settings, AnswerCache(store.Watcher(settings.db, settings.key_file)))
    if replicas.read_only():  # inside the guards: a refusal carries the security headers too
        app.add_middleware(replicas.ReadOnly)
    guards.install(app, settings)
    access.install(app, settings)

    mandate = mandate_enum(settings.policy)
    for router in (health.router, page.router, check.router(mandate), screen.router(mandate), lists.router(mandate),
                   countries.router, reports.router, admin.router):
        app.include_router(router)
    from sovereign.api.routers import console

    console.install(app, settings)
    return app
