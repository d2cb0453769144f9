"""A source's webhook page: a head of its team sets, rotates or turns off
the secret, sees it once, and the tool signing with it is let in."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from agreements.models import Membership
from conftest import make_member

from .test_records_webhook import ROWS, _july, post  # noqa: F401 (the clock)

pytestmark = pytest.mark.django_db


def page(source) -> str:
    return reverse("records:webhook", args=[source.pk])


@pytest.fixture
def head_client(client, service_head):
    client.force_login(service_head)
    return client


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("service_head", 200),
        ("service_lead", 403),
        ("service_member", 403),
        ("sales_head", 404),
        ("executive", 403),
    ],
)
def test_only_a_head_of_the_team_sets_up_the_webhook(
    client, helpdesk, request, persona, status
):
    if persona == "service_member":
        user = make_member("service-member", helpdesk.team, Membership.Role.MEMBER)
    else:
        user = request.getfixturevalue(persona)
    client.force_login(user)
    assert client.get(page(helpdesk)).status_code == status
    posted = client.post(page(helpdesk), {"action": "rotate"})
    helpdesk.refresh_from_db()
    if status == 200:
        assert posted.status_code == 302 and helpdesk.webhook_secret
    else:
        assert posted.status_code == status and helpdesk.webhook_secret == ""


def test_the_new_secret_is_shown_once_and_lets_the_tool_in(head_client, helpdesk):
    first = head_client.get(page(helpdesk)).content.decode()
    assert 'data-testid="webhook-state">○ Off' in first
    assert f"POST http://testserver/hooks/records/{helpdesk.pk}/" in first

    response = head_client.post(page(helpdesk), {"action": "rotate"}, follow=True)
    helpdesk.refresh_from_db()
    secret = helpdesk.webhook_secret
    shown = response.content.decode()
    assert secret and secret in shown
    assert response.headers["Cache-Control"].startswith("max-age=0")
    assert f"ending in <code>…{secret[-4:]}</code>" in shown
    # Once: the next visit shows its last four characters only.
    assert secret not in head_client.get(page(helpdesk)).content.decode()

    assert post(Client(), helpdesk, {"records": ROWS}, secret=secret).status_code == (
        200
    )


def test_rotating_stops_the_old_secret_and_turning_off_stops_all(
    head_client, helpdesk, service_head
):
    head_client.post(page(helpdesk), {"action": "rotate"})
    helpdesk.refresh_from_db()
    old = helpdesk.webhook_secret
    head_client.post(page(helpdesk), {"action": "rotate"})
    helpdesk.refresh_from_db()
    new = helpdesk.webhook_secret
    assert new != old
    tool = Client()
    assert post(tool, helpdesk, {"records": ROWS}, secret=old).status_code == 401
    assert post(tool, helpdesk, {"records": ROWS}, secret=new).status_code == 200

    off = head_client.post(page(helpdesk), {"action": "off"}, follow=True)
    assert 'data-testid="webhook-state">○ Off' in off.content.decode()
    assert post(tool, helpdesk, {"records": ROWS}, secret=new).status_code == 401
    reasons = list(
        helpdesk.history.order_by("history_date").values_list(
            "history_change_reason", "history_user"
        )
    )
    assert reasons[-3:] == [
        ("webhook secret set", service_head.pk),
        ("webhook secret rotated", service_head.pk),
        ("webhook turned off", service_head.pk),
    ]
    assert "Webhook turned off" in off.content.decode()


def test_an_unknown_action_changes_nothing(head_client, helpdesk):
    assert head_client.post(page(helpdesk), {"action": "delete"}).status_code == 400
    assert head_client.get(page(helpdesk)).status_code == 200
    helpdesk.refresh_from_db()
    assert helpdesk.webhook_secret == ""


def test_the_sources_list_links_heads_to_the_webhook(
    head_client, client, helpdesk, service_lead
):
    listed = head_client.get(reverse("records:sources")).content.decode()
    assert page(helpdesk) in listed
    client.force_login(service_lead)
    assert page(helpdesk) not in client.get(reverse("records:sources")).content.decode()
