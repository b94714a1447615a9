"""What the routers depend on, as named types: settings, the policy, a read connection per request,
the answer cache, the admin check."""

from __future__ import annotations

import enum
import hmac
import json
import os
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request
from fastapi.responses import Response

from sovereign import clock, store
from sovereign.policy import Mandate, Policy
from sovereign.settings import Settings
from sovereign.store.reads import Connection


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_policy(settings: SettingsDep) -> Policy:
    return settings.policy


PolicyDep = Annotated[Policy, Depends(get_policy)]


async def get_conn(settings: SettingsDep) -> AsyncIterator[Connection]:
    """One read-only connection per request, inside one read transaction, closed when the response is sent."""
    with store.reader(settings.db, check_same_thread=False, snapshot=True, key_file=settings.key_file) as conn:
        yield conn


ConnDep = Annotated[Connection, Depends(get_conn)]


def mandate_enum(policy: Policy) -> type[enum.Enum]:
    """The policy's mandates as an enum, so the schema itself says which names are valid (422 otherwise)."""
    names = {m.name: m.name for m in policy.mandates} or {"none": "none"}
    return enum.Enum("Mandate", names, type=str)  # type: ignore[return-value]


def mandate_of(policy: Policy, name: Any) -> Mandate | None:
    return policy.mandate(getattr(name, "value", name)) if name is not None else None


class AnswerCache:
    """Answers are a pure function of the request, the day and the database: their JSON is kept until
    another connection commits, the file is replaced, or the day changes. Bounded, least recently used
    out first: however many spellings a client sends, the cache holds at most MAX answers."""

    MAX = 10_000

    def __init__(self, watcher: store.Watcher):
        self.watcher = watcher
        self.generation: tuple | None = None
        self.bodies: OrderedDict[tuple, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def cached(self, key: tuple) -> Response | None:
        """The stored answer, or None: cheap enough for the event loop."""
        generation = (*self.watcher.generation(), clock.today())
        with self.lock:
            if generation != self.generation:
                self.bodies, self.generation = OrderedDict(), generation
            body = self.bodies.get(key)
            if body is not None:
                self.bodies.move_to_end(key)
        return None if body is None else Response(body, media_type="application/json")

    def response(self, key: tuple, compute: Callable[[], Any]) -> Response:
        """The stored answer, else `compute`'s, stored. Runs in a worker thread when `compute` may be slow."""
        hit = self.cached(key)
        if hit is not None:
            return hit
        generation = self.generation
        body = json.dumps(compute(), ensure_ascii=False, separators=(",", ":")).encode()
        with self.lock:
            if generation == self.generation:
                self.bodies[key] = body
                if len(self.bodies) > self.MAX:
                    self.bodies.popitem(last=False)
        return Response(body, media_type="application/json")


@dataclass(frozen=True)
class Desk:
    """What the desk's hot path needs: the settings and the answer cache. `check` reads it off
    `request.app.state` directly; a dependency there costs a tenth of its throughput."""
    settings: Settings
    cache: AnswerCache


SHARED = "admin (shared token)"


def person_of(conn: Connection, authorization: str | None) -> str | None:
    """Who a bearer token belongs to: a person's own token (`sovereign tokens add NAME`, stored as a hash),
    else the shared SOVEREIGN_ADMIN_TOKEN (compared in constant time); nobody otherwise."""
    import hashlib

    given = (authorization or "").removeprefix("Bearer ").strip()
    if not given:
        return None
    person = store.reads.token_person(conn, hashlib.sha256(given.encode()).hexdigest())
    if person:
        return person
    shared = os.environ.get("SOVEREIGN_ADMIN_TOKEN", "")
    return SHARED if shared and hmac.compare_digest(given.encode(), shared.encode()) else None


def is_admin(conn: Connection, authorization: str | None) -> bool:
    return person_of(conn, authorization) is not None


def require_admin(conn: ConnDep, authorization: str | None = Header(None)) -> str:
    """The authenticated person: what every admin action records as who decided, never the request body."""
    person = person_of(conn, authorization)
    if person:
        return person
    if not os.environ.get("SOVEREIGN_ADMIN_TOKEN") and not store.reads.tokens(conn):
        raise HTTPException(403, "admin endpoints are off: no tokens (`sovereign tokens add NAME`) and "
                                 "SOVEREIGN_ADMIN_TOKEN is not set")
    raise HTTPException(401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"})


AdminDep = Annotated[str, Depends(require_admin)]
