"""The email preferences page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from reports.models import NotificationPreference

pytestmark = pytest.mark.django_db
URL = "/notifications/preferences/"


def test_the_page_needs_a_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    client.post(URL, {"digest": ""})
    assert not NotificationPreference.objects.exists()


def test_everything_is_on_until_switched_off(client, outsider):
    client.force_login(outsider)
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Email preferences" in page
    for name in ("digest", "scorecards", "reminders", "alerts"):
        assert f'name="{name}"' in page
    assert page.count('type="checkbox" name') == page.count("checked") - 3 == 4
    # Event emails: at once, for each of the three kinds.
    assert len(re.findall(r'value="now" [^>]*checked', page)) == 3
    assert "Breach notices always go out" in page
    assert not NotificationPreference.objects.exists()


def test_saving_changes_only_my_own_preferences(client, sales_lead, service_head):
    client.force_login(sales_lead)
    response = client.post(URL, {"scorecards": "on", "reminders": "on"}, follow=True)
    assert "Your email preferences were saved." in response.content.decode()
    mine = NotificationPreference.objects.get(user=sales_lead)
    assert (mine.digest, mine.scorecards, mine.reminders, mine.alerts) == (
        False,
        True,
        True,
        False,
    )
    assert not NotificationPreference.objects.filter(user=service_head).exists()


def test_the_user_menu_links_to_the_preferences(client, sales_lead):
    client.force_login(sales_lead)
    page = client.get(reverse("home")).content.decode()
    assert f'href="{URL}"' in page


def test_choosing_when_event_emails_go_out(client, sales_lead):
    client.force_login(sales_lead)
    client.post(
        URL,
        {
            "scorecards": "on",
            "friction_email": "daily",
            "agreement_email": "off",
            "breach_email": "now",
        },
    )
    mine = NotificationPreference.objects.get(user=sales_lead)
    assert (mine.friction_email, mine.agreement_email, mine.breach_email) == (
        "daily",
        "off",
        "now",
    )
    # A choice left out keeps its value; a made-up one is refused.
    client.post(URL, {"scorecards": "on", "friction_email": "hourly"})
    mine.refresh_from_db()
    assert mine.friction_email == "daily"
    client.post(URL, {"scorecards": "on"})
    mine.refresh_from_db()
    assert (mine.friction_email, mine.agreement_email) == ("daily", "off")
