"""Quiet hours: outside a team's working hours only critical events (a
critical friction report, a new breach) are emailed or posted; the others
wait for the start of its next working period (``not_before`` on the ledger
rows). The inbox entry appears at once whatever the time.

A team's working hours are its own working-hours calendar, the first by
name, as pace chooses it among a team's own calendars; a team without one
is always at work. A person is at work when any of their teams is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from agreements.calendars import time as business
from agreements.calendars.models import WorkingCalendar
from agreements.models import Membership

TICK = timedelta(microseconds=1)


def team_calendars(team_ids: Iterable[int]) -> dict[int, business.CalendarSnapshot]:
    """Each team's own working-hours calendar (the first by name), for the
    teams that have one. Three queries."""
    wanted = set(team_ids)
    if not wanted:
        return {}
    found: dict[int, business.CalendarSnapshot] = {}
    calendars = (
        WorkingCalendar.objects.filter(
            team_id__in=wanted, kind=WorkingCalendar.Kind.HOURS
        )
        .order_by("name", "pk")
        .prefetch_related("intervals", "holidays")
    )
    for calendar in calendars:
        if calendar.team_id not in found:
            found[calendar.team_id] = calendar.snapshot()
    return found


def next_working(calendar: business.CalendarSnapshot, now: datetime) -> datetime:
    """``now`` when the calendar is at work then, otherwise the start of its
    next working period. A calendar with no working time at all never holds
    anything back: a message late for ever is worse than one at night."""
    try:
        return business.add_business_time(calendar, now, TICK) - TICK
    except ValueError:
        return now


def team_not_before(team_ids: Iterable[int], now: datetime) -> datetime | None:
    """When a message to someone of ``team_ids`` may go: ``None`` (at once)
    when any of them is at work or has no calendar, else the earliest next
    working start among them."""
    ids = set(team_ids)
    if not ids:
        return None
    calendars = team_calendars(ids)
    if ids - set(calendars):
        return None
    starts = [next_working(calendars[pk], now) for pk in ids]
    first = min(starts)
    return None if first <= now else first


def people_not_before(user_ids: Iterable[int], now: datetime) -> dict[int, datetime]:
    """For each of ``user_ids`` outside the working hours of all their teams,
    when their messages may go. People at work, and people in no team, are
    left out. Four queries."""
    teams: dict[int, set[int]] = defaultdict(set)
    for user_id, team_id in Membership.objects.filter(
        user_id__in=set(user_ids)
    ).values_list("user_id", "team_id"):
        teams[user_id].add(team_id)
    all_teams = {pk for ids in teams.values() for pk in ids}
    calendars = team_calendars(all_teams)
    starts = {pk: next_working(calendar, now) for pk, calendar in calendars.items()}
    held = {}
    for user_id, ids in teams.items():
        if ids - set(starts):
            continue  # a team without a calendar is always at work
        first = min(starts[pk] for pk in ids)
        if first > now:
            held[user_id] = first
    return held
