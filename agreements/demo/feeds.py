"""What the demo's record sources send, month by month: the requests of
Customer Service's helpdesk, and the status page's incidents and maintenance
windows (the CRM's leads are ``crm``'s).

Each month's rows come from a random source of their own, so a month looks
the same on every machine and whichever day the seed runs; what had not
happened by the cut-off (the seed's "now") is left out or left open.
"""

from __future__ import annotations

import datetime as dt
import random as random_module
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from ..calendars.time import CalendarSnapshot
from ..records.measure import due_at
from .common import rng

# Share of each month's requests answered after their target, oldest first;
# the last is the current month so far. The helpdesk wants 95 % on time (two
# months miss it).
HELPDESK_LATE = (0.02, 0.0, 0.03, 0.02, 0.1, 0.03, 0.0, 0.02, 0.03, 0.12, 0.02, 0.03)

# Status page, by the month's index in the year (0 the oldest): a long outage
# that takes the month under 99 %, a month near the warning threshold, two
# incidents overlapping, one running into the next month, and a maintenance
# window every quarter.
LONG_OUTAGE_MONTH = 3
CLOSE_CALL_MONTH = 7
OVERLAP_MONTH = 9
ACROSS_MONTHS_FROM = 8
MAINTENANCE = {
    1: "Database upgrade to the next major version.",
    4: "Operating system patches on every application server.",
    7: "Load balancer replaced; the portal was switched over.",
    10: "Storage moved to the new data centre.",
}
COMPONENTS = ("Portal", "Portal", "API", "Login", "")


# --- Requests -----------------------------------------------------------------


@dataclass(frozen=True)
class RequestFeed:
    """How one source's requests arrive and are answered."""

    prefix: str
    consumer: str  # the team slug that asks
    per_month: tuple[int, int]
    late: tuple[float, ...]  # by month, oldest first
    # segment, how common, business minutes to the first response
    segments: tuple[tuple[str, int, int], ...]
    paused: float = 0.0  # share waiting for the requester before an answer
    # Business minutes from the first response to the resolution.
    resolved_in_minutes: tuple[int, int] | None = None
    unresolved: float = 0.0  # share never resolved


HELPDESK_REQUESTS = RequestFeed(
    prefix="HD",
    consumer="sales",
    per_month=(30, 50),
    late=HELPDESK_LATE,
    segments=(("P1", 1, 60), ("P2", 3, 180), ("P3", 6, 180)),
    paused=0.08,
    resolved_in_minutes=(30, 960),
)


def calendar_days(month: dt.date) -> list[dt.date]:
    """Every day of ``month``, weekends and days to come too."""
    days = []
    day = month
    while day.month == month.month:
        days.append(day)
        day += dt.timedelta(days=1)
    return days


def arrival(random: random_module.Random, day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """Mostly office hours on a weekday; evenings and weekends too."""
    if day.weekday() < 5 and random.random() < 0.8:
        minute = random.randint(8 * 60, 18 * 60 - 1)
    else:
        minute = random.randint(7 * 60, 23 * 60 - 1)
    return dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=zone)


def response_delay(random: random_module.Random, goal: int, late: bool) -> dt.timedelta:
    """Business time to the first response: most well within the goal, the
    late ones up to twice it."""
    if late:
        minutes = goal + random.randint(15, goal)
    else:
        minutes = round(random.triangular(5, goal - 5, goal / 5))
    return dt.timedelta(minutes=minutes)


def happened(moment: dt.datetime | None, cut: dt.datetime) -> dt.datetime | None:
    return moment if moment is not None and moment <= cut else None


def request_rows(
    feed: RequestFeed,
    *,
    month: dt.date,
    index: int,
    calendar: CalendarSnapshot,
    cut: dt.datetime,
) -> list[dict[str, Any]]:
    """One month's requests of ``feed``, as far as they had happened by
    ``cut``: not yet started ones left out, later answers left open."""
    random = rng(f"records:{feed.prefix}:{month:%Y-%m}")
    days = calendar_days(month)
    weights = [1.0 if day.weekday() < 5 else 0.25 for day in days]
    count = random.randint(*feed.per_month)
    starts = sorted(
        arrival(random, day, calendar.zone)
        for day in random.choices(days, weights, k=count)
    )
    late = set(random.sample(range(count), round(count * feed.late[index])))
    segments = [segment for segment, *_ in feed.segments]
    shares = [share for _, share, _ in feed.segments]
    goal_of = {segment: goal for segment, _, goal in feed.segments}
    rows = []
    for number, started in enumerate(starts, start=1):
        segment = random.choices(segments, shares)[0]
        delay = response_delay(random, goal_of[segment], number - 1 in late)
        pauses: list[tuple[dt.datetime, dt.datetime | None]] = []
        if random.random() < feed.paused:
            waiting = dt.timedelta(hours=random.randint(2, 30))
            paused_at = started + dt.timedelta(minutes=2)
            pauses.append((paused_at, paused_at + waiting))
        answered = due_at(calendar, started, delay, pauses)
        resolved = None
        if (
            answered is not None
            and random.random() >= feed.unresolved
            and feed.resolved_in_minutes
        ):
            resolved = due_at(
                calendar,
                answered,
                dt.timedelta(minutes=random.randint(*feed.resolved_in_minutes)),
            )
        if started > cut:
            continue
        answered = happened(answered, cut)
        resolved = happened(resolved, cut) if answered else None
        pauses = [
            (first, happened(last, cut)) for first, last in pauses if first <= cut
        ]
        moments = [started, answered, resolved, *(m for p in pauses for m in p)]
        rows.append(
            {
                "external_id": f"{feed.prefix}-{month:%y%m}-{number:03d}",
                "started_at": started,
                "first_response_at": answered,
                "resolved_at": resolved,
                "segment": segment,
                "consumer": feed.consumer,
                "pauses": [
                    {"started_at": first, "ended_at": last} for first, last in pauses
                ],
                "updated_at": max(m for m in moments if m is not None),
            }
        )
    return rows


# --- Incidents ----------------------------------------------------------------


def _at(day: dt.date, hour: int, minute: int, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)


def _incident(
    external_id: str,
    started: dt.datetime,
    minutes: int,
    *,
    impact: str = "major",
    component: str = "",
) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "impact": impact,
        "component": component,
        "started_at": started,
        "ended_at": started + dt.timedelta(minutes=minutes),
    }


def status_page_rows(
    month: dt.date, index: int, zone: ZoneInfo
) -> list[dict[str, Any]]:
    """One month's incidents and maintenance windows, in full: a handful of
    short ones, and the month's special events (see the constants)."""
    random = rng(f"records:status:{month:%Y-%m}")
    key = f"{month:%y%m}"
    days = calendar_days(month)
    rows = []
    for number in range(1, random.randint(2, 5) + 1):
        minutes = random.randint(3, 25)
        if number == 1 and random.random() < 0.4:
            minutes = random.randint(30, 55)
        started = _at(
            random.choice(days), random.randint(0, 23), random.randint(0, 59), zone
        )
        rows.append(
            _incident(
                f"INC-{key}-{number}",
                started,
                minutes,
                impact="partial" if random.random() < 0.3 else "major",
                component=random.choice(COMPONENTS),
            )
        )
    if index == LONG_OUTAGE_MONTH:
        rows.append(
            _incident(
                f"INC-{key}-db",
                _at(month.replace(day=12), 6, 50, zone),
                8 * 60 + 40,
                component="Portal",
            )
        )
    if index == CLOSE_CALL_MONTH:
        rows += [
            _incident(
                f"INC-{key}-login",
                _at(month.replace(day=18), 10, 5, zone),
                100,
                component="Login",
            ),
            _incident(
                f"INC-{key}-slow",
                _at(month.replace(day=20), 13, 0, zone),
                4 * 60,
                impact="partial",
                component="Portal",
            ),
        ]
    if index == OVERLAP_MONTH:
        # The API failed first; the portal, which uses it, slowed down.
        day = month.replace(day=14)
        rows += [
            _incident(f"INC-{key}-api", _at(day, 14, 5, zone), 40, component="API"),
            _incident(
                f"INC-{key}-portal",
                _at(day, 14, 20, zone),
                50,
                impact="partial",
                component="Portal",
            ),
        ]
    if index == ACROSS_MONTHS_FROM:
        rows.append(
            _incident(
                f"INC-{key}-night", _at(days[-1], 23, 30, zone), 105, component="API"
            )
        )
    if index in MAINTENANCE:
        sunday = next(day for day in days if day.weekday() == 6)
        started = _at(sunday, 2, 0, zone)
        rows.append(
            {
                "type": "maintenance",
                "external_id": f"MNT-{key}",
                "started_at": started,
                "ended_at": started + dt.timedelta(hours=2),
                "reason": MAINTENANCE[index],
                # Announced a week ahead.
                "updated_at": started - dt.timedelta(days=7),
            }
        )
    return rows


def as_sent(rows: list[dict[str, Any]], cut: dt.datetime) -> list[dict[str, Any]]:
    """The rows as the status page had sent them by ``cut``: nothing that
    had not started; an incident not over yet still open."""
    sent = []
    for row in rows:
        if row["started_at"] > cut:
            continue
        if row.get("type") == "maintenance":
            if row["ended_at"] > cut:
                continue
        else:
            ended = happened(row["ended_at"], cut)
            row = {**row, "ended_at": ended, "updated_at": ended or row["started_at"]}
        sent.append(row)
    return sent
