from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse

from reports.tasks import heartbeat
from slaportal.beat import TICK_KEY, beat_tick_note

pytestmark = pytest.mark.django_db


def test_home_needs_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_home_greets_with_teams_and_roles(client, sales_manager, sales, marketing):
    from agreements.tests.factories import MembershipFactory

    MembershipFactory(user=sales_manager, team=marketing, role="member")
    client.force_login(sales_manager)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    body = response.content.decode()
    assert f"Hello, {sales_manager.first_name}" in body
    assert "Sales" in body and "Manager" in body
    assert "Marketing" in body and "Member" in body
    assert "Executive access" not in body


def test_home_of_an_outsider_says_no_team(client, outsider):
    client.force_login(outsider)
    response = client.get(reverse("home"))
    assert b"You are not in a team yet" in response.content


def test_executive_is_told_of_org_wide_access(client, executive):
    client.force_login(executive)
    assert b"Executive access" in client.get(reverse("home")).content


def test_home_query_count_does_not_grow_with_teams(
    client, outsider, django_assert_max_num_queries
):
    from agreements.tests.factories import MembershipFactory

    for _ in range(10):
        MembershipFactory(user=outsider)
    client.force_login(outsider)
    # Session, user, memberships, two permission lookups, two for the
    # agreements card (counts, proposals awaiting a signature), the versions
    # in force this month and the reported month (and, once that has locked,
    # whether it is finalised), the navigation's team and head checks, and
    # the bell's unread count.
    with django_assert_max_num_queries(12):
        response = client.get(reverse("home"))
    assert response.content.count(b"list-group-item") == 10


def test_navigation_fits_the_role(client, outsider, admin_user):
    client.force_login(outsider)
    assert b'href="/admin/"' not in client.get(reverse("home")).content
    client.force_login(admin_user)
    assert b'href="/admin/"' in client.get(reverse("home")).content


def test_404_page_is_in_site_look(client, outsider):
    client.force_login(outsider)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content
    assert b"sp-navbar" in response.content


def test_500_page_renders_without_a_request_context():
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert "Something went wrong on our side" in html


def test_403_page_renders(rf, outsider):
    from django.core.exceptions import PermissionDenied
    from django.views.defaults import permission_denied

    request = rf.get("/")
    request.user = outsider
    response = permission_denied(request, PermissionDenied())
    assert response.status_code == 403
    assert b"You are not allowed to do that" in response.content


def test_admin_lists_teams_and_memberships(client, admin_user, sales_manager):
    client.force_login(admin_user)
    assert client.get("/admin/agreements/team/").status_code == 200
    response = client.get("/admin/agreements/membership/")
    assert response.status_code == 200
    assert b"sales-manager" in response.content


def test_admin_refuses_a_team_member(client, sales_manager):
    client.force_login(sales_manager)
    response = client.get("/admin/agreements/team/")
    assert response.status_code == 302


@pytest.fixture(autouse=True)
def _no_beat_tick():
    """Beat's last tick lives in the cache, which Redis keeps across tests."""
    cache.delete(TICK_KEY)
    yield
    cache.delete(TICK_KEY)


def test_health_reports_database_cache_and_last_heartbeat(client, settings):
    # Without a broker (the demo), tasks run in the web process.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json() == {
        "database": "ok",
        "cache": "ok",
        "last_worker_heartbeat": None,
        "last_beat_tick": None,
        "worker": "in-process",
        "beat": "in-process",
    }
    heartbeat()
    assert client.get(reverse("health")).json()["last_worker_heartbeat"] is not None


NOON = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def with_a_broker(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with time_machine.travel(NOON, tick=False):
        yield


def test_health_is_503_until_a_worker_and_beat_are_seen(client, with_a_broker):
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert (response.json()["worker"], response.json()["beat"]) == (
        "down: never seen",
        "down: never seen",
    )
    heartbeat()
    beat_tick_note()
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert (response.json()["worker"], response.json()["beat"]) == ("ok", "ok")
    assert response.json()["last_beat_tick"] == NOON.isoformat()


def test_the_load_balancers_check_leaves_the_worker_and_beat_out(client, with_a_broker):
    response = client.get(reverse("health_live"))
    assert response.status_code == 200
    assert (response.json()["database"], response.json()["cache"]) == ("ok", "ok")
    assert "worker" not in response.json()


@pytest.mark.parametrize(
    ("heartbeat_age", "tick_age", "worker", "beat"),
    [
        (dt.timedelta(minutes=10), dt.timedelta(minutes=2), "ok", "ok"),
        (
            dt.timedelta(minutes=12),
            dt.timedelta(minutes=2),
            "down: last seen 720 s ago",
            "ok",
        ),
        (
            dt.timedelta(minutes=1),
            dt.timedelta(minutes=4),
            "ok",
            "down: last seen 240 s ago",
        ),
    ],
)
def test_health_says_which_part_stopped(
    client, with_a_broker, heartbeat_age, tick_age, worker, beat
):
    with time_machine.travel(NOON - heartbeat_age, tick=False):
        heartbeat()
    beat_tick_note(NOON - tick_age)
    response = client.get(reverse("health"))
    assert (response.json()["worker"], response.json()["beat"]) == (worker, beat)
    assert response.status_code == (200 if worker == beat == "ok" else 503)


def test_beat_notes_its_ticks_at_most_every_30_seconds(monkeypatch):
    from celery.beat import PersistentScheduler

    from slaportal import beat

    monkeypatch.setattr(PersistentScheduler, "tick", lambda self, *a, **k: 60.0)
    notes: list[int] = []
    monkeypatch.setattr(beat, "beat_tick_note", lambda: notes.append(1))
    clock = iter([1000.0, 1000.0, 1010.0, 1031.0, 1031.0])
    monkeypatch.setattr(beat, "monotonic", lambda: next(clock))
    scheduler = beat.Scheduler.__new__(beat.Scheduler)
    assert [scheduler.tick(), scheduler.tick(), scheduler.tick()] == [60.0] * 3
    # Noted at 1000 and at 1031, not at 1010.
    assert len(notes) == 2
