"""The SQL floors give the app's rows: the benchmark checks it before it
times them, and so does the suite, on a small generated organisation, so
that a change to the app that the floors do not follow shows here first."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from agreements import periods
from benchmarks import floors
from reports.models import Breach, Notification
from reports.selectors import scorecards_for_months
from reports.services import scorecards_finalise

pytestmark = pytest.mark.django_db


def _month_generated(*, teams: int, agreements: int, objectives: int):
    """A generated organisation; its latest locked month."""
    call_command(
        "generate_org",
        teams=teams,
        agreements=agreements,
        objectives=objectives,
        months=2,
        stdout=None,
    )
    month = periods.previous_month(periods.current_month())
    if not periods.is_locked(month):
        month = periods.previous_month(month)
    return month


def _written(month, moment, *, notify: bool) -> tuple[dict, dict]:
    """The rows the app's finalise and the SQL floor's write, each rolled
    back."""
    p = floors.params(month, moment)

    def app():
        scorecards_finalise(month=month, now=moment)
        return floors.written(month)

    def sql():
        floors.finalise(p, floors.finalise_statements(notify=notify))
        return floors.written(month)

    return (
        floors.in_transaction(app, immediate=False),
        floors.in_transaction(sql, immediate=False),
    )


@pytest.mark.parametrize("now", ["2026-12-04T12:00Z", "2027-03-09T08:00Z"])
def test_the_sql_floors_compute_and_write_what_the_app_does(time_machine, now):
    time_machine.move_to(now, tick=False)
    month = _month_generated(teams=6, agreements=12, objectives=3)
    moment = timezone.now()

    cards = scorecards_for_months([month], now=moment)[month]
    assert len(cards) == 12
    rows = floors.compute(floors.params(month, moment))
    assert floors.check_compute(cards, rows) == []

    by_app, by_sql = _written(month, moment, notify=True)
    # The month has breaches, and their providers' leaders were told.
    assert by_app[Breach._meta.db_table]
    assert by_app[Notification._meta.db_table]
    assert floors.check_finalise(by_app, by_sql) == []


def test_a_floor_that_differs_from_the_app_is_caught(time_machine):
    now = "2026-12-04T12:00Z"
    time_machine.move_to(now, tick=False)
    month = _month_generated(teams=4, agreements=6, objectives=2)

    by_app, by_sql = _written(month, timezone.now(), notify=False)
    problems = floors.check_finalise(by_app, by_sql)
    assert [p for p in problems if p.startswith(Notification._meta.db_table)]
