from __future__ import annotations

import re

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_page_renders_in_site_look(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b"Log in to slaportal" in response.content
    assert b"vendor/bootstrap-5.3.9/bootstrap.min.css" in response.content


def test_login_with_right_password_goes_home(client, marketing_lead):
    response = client.post(
        reverse("login"), {"username": "marketing-lead", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.get(reverse("home")).context["user"] == marketing_lead


def test_wrong_password_shows_a_clear_message(client, marketing_lead):
    response = client.post(
        reverse("login"), {"username": "marketing-lead", "password": "wrong"}
    )
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert "_auth_user_id" not in client.session


def test_repeated_failures_are_throttled(client, marketing_lead, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "marketing-lead", "password": "x"})
    # Even the right password is refused while the lock lasts.
    response = client.post(
        reverse("login"), {"username": "marketing-lead", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert b"Too many failed log-ins" in response.content
    assert "_auth_user_id" not in client.session
    assert AccessAttempt.objects.filter(username="marketing-lead").exists()


def test_throttling_is_per_username(client, marketing_lead, sales_lead, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "marketing-lead", "password": "x"})
    response = client.post(
        reverse("login"), {"username": "sales-lead", "password": PASSWORD}
    )
    assert response.status_code == 302


def test_logout_needs_post_and_ends_the_session(client, marketing_lead):
    client.force_login(marketing_lead)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 200
    assert b"You have been logged out" in response.content
    assert client.get(reverse("home")).status_code == 302


def test_password_change(client, marketing_lead):
    client.force_login(marketing_lead)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-long-passphrase",
            "new_password2": "a-new-long-passphrase",
        },
    )
    assert response.status_code == 302
    marketing_lead.refresh_from_db()
    assert marketing_lead.check_password("a-new-long-passphrase")


def test_password_change_with_wrong_old_password_changes_nothing(
    client, marketing_lead
):
    client.force_login(marketing_lead)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "wrong",
            "new_password1": "a-new-long-passphrase",
            "new_password2": "a-new-long-passphrase",
        },
    )
    assert response.status_code == 200
    assert b"Your old password was entered incorrectly" in response.content
    marketing_lead.refresh_from_db()
    assert marketing_lead.check_password(PASSWORD)


def test_password_reset_by_email(client, marketing_lead, mailoutbox):
    response = client.post(
        reverse("password_reset"), {"email": "marketing-lead@example.com"}
    )
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["marketing-lead@example.com"]
    assert "Reset your slaportal password" in mail.subject
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.body).group(1)

    form_url = client.get(link).url  # the token moves into the session
    response = client.post(
        form_url,
        {
            "new_password1": "brand-new-passphrase",
            "new_password2": "brand-new-passphrase",
        },
    )
    assert response.status_code == 302
    marketing_lead.refresh_from_db()
    assert marketing_lead.check_password("brand-new-passphrase")


def test_password_reset_for_unknown_address_sends_nothing(client, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302  # no hint whether the address exists
    assert mailoutbox == []


def test_a_forged_forwarded_for_does_not_reset_the_counter(
    client, marketing_lead, settings
):
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("login"),
            {"username": "marketing-lead", "password": "x"},
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        )
    response = client.post(
        reverse("login"),
        {"username": "marketing-lead", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.1",
    )
    assert response.status_code == 429
