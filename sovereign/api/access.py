"""The service's access log: who asked what, one INFO line a request on the `sovereign.access` logger (to
standard error and `--log-file`). Who is the holder of the bearer token (never the token itself), else
"anonymous". Off with SOVEREIGN_ACCESS_LOG=off."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from sovereign.settings import Settings

log = logging.getLogger("sovereign.access")


def who(settings: Settings, authorization: str | None) -> str:
    if not authorization:
        return "anonymous"
    from sovereign import store
    from sovereign.api.deps import person_of

    try:
        with store.reader(settings.db) as conn:
            return person_of(conn, authorization) or "unauthenticated"
    except Exception:  # the log line never fails the request it describes
        return "unknown"


def install(app: FastAPI, settings: Settings) -> None:
    if not settings.access_log:
        return

    @app.middleware("http")
    async def access(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            query = f"?{request.url.query}" if request.url.query else ""
            log.info("%s %s %s%s %d %.0fms by %s", request.client.host if request.client else "-", request.method,
                     request.url.path, query[:500], status, (time.perf_counter() - started) * 1000,
                     who(settings, request.headers.get("authorization")))
