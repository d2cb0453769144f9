"""The moments CI runs the suite at, one per line:
``TIME_ZONE NOW DATABASE TIERS``.

Counted from the real today, so every run checks the month ahead:

- the 1st at 00:30 UTC, just after the month turns (and the grace period
  begins);
- the 3rd at 23:30 UTC, the last half hour of the grace period;
- the next day the clocks change in Europe/Berlin, at noon there (the
  month before locked and closed, an ordinary Sunday of the running one);
- 29 February 2028 at 23:40 in Europe/Berlin: the last minutes of a month
  (its shortest, in a leap year), in a zone where it is still 22:40 UTC,
  so the organisation's month and UTC's disagree. The session's clock
  ticks from there, so it starts with room for the run (about 5 minutes)
  to end before midnight: a test that straddles the turn of the month
  would compare one month's data with the next month's expectations.

DATABASE is ``sqlite`` or ``postgresql``: the suite's run on PostgreSQL
with Redis is the one at the end of the grace period, so that each run of
the default tier is at a different moment (today's is on SQLite).

TIERS is a pytest marker expression. The browser tier, the slowest per test,
runs at the 1st just after midnight on SQLite, where the most pages change
their words, and at the end of the grace period on PostgreSQL; the default
tier runs at every moment, its API fuzzing (``fuzz``) at the first two. The
state after a close (the month before locked and finalised) is today's on
most days, and the two Berlin moments'.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

GRACE_DAYS = 3  # SLA_GRACE_DAYS's default
UTC = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
SQLITE, POSTGRESQL = "sqlite", "postgresql"
# The API's fuzzing, the slowest part of the default tier, at the moments
# where what the API accepts changes (the month turns, its grace period
# ends) and today; the others run the rest of the tier.
WITHOUT_FUZZ = "not services and not browser and not fuzz"
# The audit of every page (axe-core, the CSP) runs once, in today's run.
WITH_BROWSER = "not services and not audit"


def first_of_next_month(today: dt.date) -> dt.date:
    return (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def next_clock_change(zone: ZoneInfo, after: dt.date) -> dt.date:
    day = after
    while True:
        day += dt.timedelta(days=1)
        start = dt.datetime(day.year, day.month, day.day, tzinfo=zone)
        end = start + dt.timedelta(days=1)
        if start.utcoffset() != end.replace(hour=0).utcoffset():
            return day


def moments(today: dt.date) -> list[tuple[str, dt.datetime, str, str]]:
    first = first_of_next_month(today)
    change = next_clock_change(BERLIN, today)

    def at(day: dt.date, hour: int, minute: int, zone=UTC) -> dt.datetime:
        return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)

    return [
        ("UTC", at(first, 0, 30), SQLITE, WITH_BROWSER),
        ("UTC", at(first.replace(day=GRACE_DAYS), 23, 30), POSTGRESQL, WITH_BROWSER),
        ("Europe/Berlin", at(change, 12, 0, BERLIN), SQLITE, WITHOUT_FUZZ),
        (
            "Europe/Berlin",
            at(dt.date(2028, 2, 29), 23, 40, BERLIN),
            SQLITE,
            WITHOUT_FUZZ,
        ),
    ]


if __name__ == "__main__":
    for zone, moment, database, tiers in moments(dt.date.today()):
        print(zone, moment.isoformat(), database, tiers)
