"""When each edition of Freedom in the World became public: `data/releases.csv`, with its sources.

A list built from an edition takes effect on that date, never before. Where only the month or the
year of publication is known, the date is the last day of that month or year (the first day it can
be shown to be public); for editions known only to fall in FH's release window (mid-December to
early March since 2003), 10 March of the edition year. Stdlib only.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import cache

from fiw.errors import UserError
from sovereign import paths


@dataclass(frozen=True)
class Release:
    edition: int
    label: str
    covers: str
    published: date
    precision: str  # day | month | year | window | estimate
    source: str


@cache
def releases() -> dict[int, Release]:
    with open(paths.RELEASES, newline="", encoding="utf-8") as f:
        return {int(r["edition"]): Release(int(r["edition"]), r["label"], r["covers"],
                                           date.fromisoformat(r["published"]), r["precision"], r["source"])
                for r in csv.DictReader(f)}


def published(edition: int) -> date:
    """The day an edition of the bundled history takes effect."""
    release = releases().get(edition)
    if release is None:
        raise UserError(f"edition {edition} is not in {paths.RELEASES.name}: add its publication date and source")
    return release.published
