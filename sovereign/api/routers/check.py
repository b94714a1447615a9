"""GET /api/v1/check/{identifier}: the desk's question, the same answer as `sovereign check --json`. A cached
answer is sent from the event loop; a lookup runs in a worker thread, so a slow one never holds up other requests."""

import enum
from datetime import date

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from sovereign import lookup, store
from sovereign.api.deps import Desk, mandate_of
from sovereign.api.models import ERRORS, Answer
from sovereign.resolve import Resolver, bounded


def router(Mandate: type[enum.Enum]) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["check"])

    @api.get("/check/{identifier}", response_model=Answer, responses=ERRORS)
    async def check(identifier: str, request: Request, as_of: date | None = None,
                    mandate: Mandate | None = None,  # type: ignore[valid-type]
                    version: int | None = Query(None, ge=1, le=2**62, description="Any list version, not in force"),
                    as_known_on: date | None = None) -> Response:
        desk: Desk = request.app.state.desk
        bounded(identifier)  # the resolver's one cap, before the cache or a worker thread is asked

        def compute() -> dict:
            with store.reader(desk.settings.db, snapshot=True, key_file=desk.settings.key_file) as conn:
                target = Resolver(conn).resolve(identifier)
                return lookup.answers(conn, [target], None, as_of, mandate_of(desk.settings.policy, mandate), version,
                                      as_known_on)[0]

        key = (identifier, as_of, getattr(mandate, "value", None), version, as_known_on)
        hit = desk.cache.cached(key)
        return hit if hit is not None else await run_in_threadpool(desk.cache.response, key, compute)

    return api
