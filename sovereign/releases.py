"""When each edition of Freedom in the World became public: `data/releases.csv`, with its sources.

A list built from an edition takes effect on that date, never before, and as soon as it can be shown
public: every day late answers the desk from an older edition. Precision says how the date is known:
- `day`: a dated release or a dated report of it (the source names it);
- `month`: only the month is known; the date is that month's last day (the first day it is shown public);
- `year-end`: the surveys from 1978 to 2001-02 were released at the turn of the year (FIW.md section 2);
  without a found day the rule is 31 January after the last year the survey covers;
- `estimate`: an approximate day ("about 1 March 2026").
Stdlib only.
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
    precision: str  # day | month | year-end | estimate
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
