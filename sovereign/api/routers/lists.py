"""GET /api/v1/lists/current and /api/v1/lists/{edition}: a whole list version, as `sovereign list`."""

import enum
from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi import Path as PathParam

from fiw import words
from sovereign import listing
from sovereign.api.deps import ConnDep, PolicyDep, mandate_of
from sovereign.api.models import ERRORS, ListVersion
from sovereign.policy import Policy
from sovereign.store.reads import Connection


def _list(conn: Connection, policy: Policy, mandate: Any, as_of: date | None = None,
          edition: int | None = None) -> dict:
    """The list on a date (`listing.on_date`), as `sovereign list --format json` gives it."""
    found = listing.on_date(conn, as_of, edition=edition, mandate=mandate_of(policy, mandate))
    version = found.version
    return {"edition": version["edition"], "list_version": version["id"], "state": version["state"],
            "effective_from": version["effective_from"], "mandate": getattr(mandate, "value", mandate),
            "attribution": words.attribution(version["edition"]),
            "entries": [{k: v for k, v in r.items() if k != "fh_excluded"} for r in found.rows]}


def router(Mandate: type[enum.Enum]) -> APIRouter:
    api = APIRouter(prefix="/api/v1/lists", tags=["lists"])

    @api.get("/current", response_model=ListVersion, responses=ERRORS)
    def current(conn: ConnDep, policy: PolicyDep, mandate: Mandate | None = None,  # type: ignore[valid-type]
                as_of: date | None = None) -> dict:
        return _list(conn, policy, mandate, as_of)

    @api.get("/{edition}", response_model=ListVersion, responses=ERRORS)
    def of_edition(conn: ConnDep, policy: PolicyDep, edition: int = PathParam(ge=1900, le=2200),
                   mandate: Mandate | None = None) -> dict:  # type: ignore[valid-type]
        return _list(conn, policy, mandate, edition=edition)

    return api
