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


class RevokeRequest(BaseModel):
    reason: str = Field(min_length=1)
    revoked_from: date | None = None
    backdate_reason: str | None = None


class Message(BaseModel):
    detail: str


ERRORS: dict[int | str, dict] = {400: {"model": Message}, 404: {"model": Message}}
