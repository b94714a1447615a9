"""The API's response and request bodies (the OpenAPI schema other tools rely on)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class Issuer(BaseModel):
    name: str
    lei: str | None = None
    type: str
    country: str | None = None
    isin: str | None = None


class Coming(BaseModel):
    verdict: str
    eligible: bool
    status: str | None
    list_version: int
    edition: int
    effective_from: str | None = None
    no_new_buys_from: str | None = None
    divest_by: str | None = None
    state: str | None = None
    reason: str | None = None
    by_committee: list[int] = Field(default_factory=list, description="Committee overrides excluding it then")
    change: str | None = Field(None, description="A pending list against today's answer: would exclude, "
                                                 "would re-admit, no change")


class Answer(BaseModel):
    query: str
    verdict: str
    iso2: str | None
    name: str
    kind: str
    eligible: bool
    status: str | None
    edition: int
    list_version: int
    state: str
    in_force: bool
    effective_from: str | None
    as_of: str
    as_known_on: str
    reasons: list[str]
    pr: int | None
    cl: int | None
    total: int | None
    pr_rating: int | None
    cl_rating: int | None
    no_new_buys_from: str | None
    divest_by: str | None
    mandate: str | None
    by_committee: list[int] = Field(default_factory=list, description="Committee overrides excluding it")
    covered_by: str | None = Field(None, description="ISO2 of the country whose FH report answers for this place")
    issuer: Issuer | None
    upcoming: Coming | None
    pending: Coming | None


class Entry(BaseModel):
    iso2: str | None
    name: str
    kind: str
    status: str | None
    verdict: str
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
    by_committee: list[int] = Field(default_factory=list, description="Committee overrides excluding it")
    covered_by: str | None = Field(None, description="ISO2 of the country whose FH report answers for this place")


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
    verdict: str
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
    label: str | None = None
    predecessor: str | None = None
    ceased: str | None = None  # "not eligible: USSR ceased to exist on 1991-12-26; its successor is Russia"
    note: str | None = None  # FH's erratum where its published rating is not its rule's
    covered_by: str | None = None  # ISO2 of the country whose FH report answers for this place in that edition


class Health(BaseModel):
    status: str
    since: str | None = None
    list_version: int | None = None
    edition: int | None = None
    effective_from: str | None = None
    data_age_days: int | None = None
    last_refresh: dict | None = None
    attribution: str | None = None
    problems: list[str] | None = None
    awaiting_approval: dict | None = None


class RefreshRequest(BaseModel):
    source: str = Field("web", pattern="^(web|bundled)$")
    base_url: str | None = None


class PublishRequest(BaseModel):
    effective_from: date
    edition: int | None = None
    accept_held: bool = False
    backdate_reason: str | None = None
    minutes: str | None = Field(default=None, max_length=200)


class OverrideRequest(BaseModel):
    country: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    valid_from: date | None = None
    valid_to: date | None = None
    backdate_reason: str | None = None
    public_reason_nl: str | None = Field(None, description="The reason the public list shows, in Dutch")
    public_reason_en: str | None = Field(None, description="The reason the public list shows, in English")


class RevokeRequest(BaseModel):
    reason: str = Field(min_length=1)
    revoked_from: date | None = None
    backdate_reason: str | None = None
    entered_in_error: bool = Field(False, description="Removed from its first day, as if it never applied")


class Message(BaseModel):
    detail: str


WHY = {
    400: "The request cannot be answered as asked; `detail` says why (an unreadable identifier or file, a rule broken)",
    401: "A valid bearer token is required (`sovereign tokens add NAME`)",
    403: "Admin endpoints are off: no tokens exist and SOVEREIGN_ADMIN_TOKEN is not set",
    404: "Nothing answers this: an unknown country or identifier, no list for that edition or date",
    409: "The same person already approved this for the same date: it counts once; a different person approves",
    413: "The request body is larger than the service accepts (SOVEREIGN_MAX_BODY)",
    503: "The database is missing, being replaced or busy; try again",
}


def errors(*statuses: int, json_only: bool = False) -> dict[int | str, dict]:
    """The error answers a route gives, each a JSON `{"detail": ...}`. `json_only` for a route whose success is
    not JSON (the HTML report): its errors are still JSON, and the document must say so."""
    if json_only:
        ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Message"}}}
        return {s: {"description": WHY[s], "content": ref} for s in statuses}
    return {s: {"model": Message, "description": WHY[s]} for s in statuses}


ERRORS = errors(400, 404, 503)               # every route that reads the database
BODY_ERRORS = errors(400, 404, 413, 503)     # and takes a request body
ADMIN_ERRORS = errors(400, 401, 403, 404, 409, 413, 503)
