"""The one clock: recorded times are instants in UTC; "today" is the calendar day in Amsterdam, where the manager
decides and where every effective date is a day (a list in force "from 1 March" is in force from midnight in
Amsterdam). Every surface asks here, so the desk's laptop west of UTC, a server in UTC and the committee's record
agree on which day it is around midnight.

`SOVEREIGN_NOW` (an ISO instant with its offset, e.g. 2027-02-28T23:30:00+00:00) fixes the clock, for tests and
rehearsals of a change date; it is said on every command's standard error. Stdlib only: `check` stays light."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import TYPE_CHECKING

from fiw.errors import UserError

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

ZONE = "Europe/Amsterdam"
FIXED = "SOVEREIGN_NOW"


@cache
def zone() -> ZoneInfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(ZONE)
    except ZoneInfoNotFoundError:
        raise UserError(f"the time zone {ZONE} is not installed (Debian: apt-get install tzdata; or pip install "
                        "tzdata): without it no date can be answered for") from None


def fixed() -> datetime | None:
    """The instant SOVEREIGN_NOW fixes, or None; a value without an offset is refused (it names no instant)."""
    text = os.environ.get(FIXED, "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise UserError(f"{FIXED}={text[:60]!r}: expected an instant with its offset, such as "
                        "2027-02-28T23:30:00+00:00")
    return moment.astimezone(UTC)


def now() -> datetime:
    """This instant, in UTC."""
    return fixed() or datetime.now(UTC)


def stamp() -> str:
    """A recorded time: this instant in UTC, to the second (ISO text, sorts as it reads)."""
    return now().replace(microsecond=0).isoformat()


# Amsterdam has been between 20 minutes and two hours ahead of UTC throughout the time-zone database: before
# 22:00 UTC it is the same calendar day there, so `check` loads the zone (and what zoneinfo imports) only late.
SAME_DAY_BEFORE_HOUR = 22


def today() -> date:
    """Today's calendar day in Amsterdam: the day effective dates, as-of dates and staging dates count from."""
    moment = now()
    if moment.hour < SAME_DAY_BEFORE_HOUR:
        return moment.date()
    return moment.astimezone(zone()).date()


def day_of(recorded: str) -> date:
    """The Amsterdam calendar day of a recorded UTC time (2027-02-28T23:30:00+00:00 is 1 March)."""
    return datetime.fromisoformat(recorded).astimezone(zone()).date()


def end_of(day: date) -> str:
    """The first instant after `day` ends in Amsterdam, as recorded-time text: an exclusive bound on what was
    recorded by the end of that day (`--as-known-on`)."""
    midnight = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone())
    return midnight.astimezone(UTC).isoformat()


def recorded_during(first: date | None, last: date | None) -> tuple[str | None, str | None]:
    """Bounds on recorded times for the Amsterdam days `first` to `last` (either open): from the first instant of
    `first`, up to the first instant after `last` (`sovereign audit --from --to`, the console's audit filter)."""
    return (end_of(first - timedelta(days=1)) if first else None), (end_of(last) if last else None)
