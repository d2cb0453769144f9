from __future__ import annotations

import datetime as dt
import logging
from datetime import UTC

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from agreements.calendars.models import WorkingCalendar, WorkingInterval
from agreements.models import FrictionReport
from agreements.tests.factories import AgreementFactory, FrictionReportFactory
from reports.models import ChannelDelivery, Notification, TeamChannel
from reports.notifications.channels.secrets import check_webhook, decrypt
from reports.notifications.channels.send import (
    channel_delivery_send,
    slack_payload,
    teams_payload,
)
from reports.notifications.channels.services import channel_add
from reports.notifications.events import Notice, notify
from reports.notifications.jobs import held_release
from reports.notifications.ledger import Result

Event = Notification.Event
SLACK = "https://hooks.slack.com/services/T000/B000/secretpart1234"
# A Wednesday, 10:00 UTC; and the same day at 20:00, after hours.
WORKING = dt.datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
EVENING = dt.datetime(2026, 3, 4, 20, 0, tzinfo=UTC)
NEXT_MORNING = dt.datetime(2026, 3, 5, 9, 0, tzinfo=UTC)


def _channel(team, head, url, events=(Event.AGREEMENT_ACTIVE,), kind="slack"):
    return channel_add(
        team=team, user=head, kind=kind, name="#sla", webhook_url=url, events=events
    )


def _active_notice(agreement, recipients, **fields):
    return Notice(
        event=Event.AGREEMENT_ACTIVE,
        key=f"agreement-{agreement.pk}-active",
        text=f"“{agreement.title}” is active: both parties signed.",
        url=reverse("agreements:detail", args=[agreement.pk]),
        recipients=recipients,
        agreement_id=agreement.pk,
        **fields,
    )


def _office_hours(team):
    calendar = WorkingCalendar.objects.create(team=team, name="Office", time_zone="UTC")
    for weekday in range(5):
        WorkingInterval.objects.create(
            calendar=calendar, weekday=weekday, start=dt.time(9), end=dt.time(17)
        )
    return calendar


# --- Addresses ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "url"),
    [
        ("slack", SLACK),
        ("teams", "https://prod-12.westeurope.logic.azure.com/workflows/abc/triggers"),
        ("teams", "https://x.environment.api.powerplatform.com/powerautomate/flows/1"),
    ],
)
def test_slack_and_teams_workflows_addresses_are_accepted(kind, url):
    assert check_webhook(kind, url) == url


def test_office_365_connectors_are_refused_as_retired():
    with pytest.raises(ValidationError, match="retired"):
        check_webhook("teams", "https://acme.webhook.office.com/webhookb2/abc")


@pytest.mark.parametrize(
    ("kind", "url"),
    [
        ("slack", "http://hooks.slack.com/services/T/B/x"),
        ("slack", "https://evil.example.com/services/T/B/x"),
        ("teams", "https://evil.example.com/flows/1"),
        ("slack", "ftp://hooks.slack.com/services/T/B/x"),
    ],
)
def test_other_addresses_are_refused(kind, url):
    with pytest.raises(ValidationError):
        check_webhook(kind, url)


def test_local_http_only_when_allowed(settings):
    settings.SLA_CHANNEL_ALLOW_LOCAL = False
    with pytest.raises(ValidationError, match="https"):
        check_webhook("slack", "http://127.0.0.1:9/services/x")


# --- The page ----------------------------------------------------------------


def _page(team):
    return reverse("notifications:team_channels", args=[team.slug])


def test_the_page_is_404_to_an_outsider_403_to_a_member(
    client, sales, outsider, sales_lead
):
    client.force_login(outsider)
    assert client.get(_page(sales)).status_code == 404
    client.force_login(sales_lead)
    assert client.get(_page(sales)).status_code == 403
    response = client.post(
        _page(sales),
        {"kind": "slack", "name": "#x", "webhook_url": SLACK, "events": []},
    )
    assert response.status_code == 403
    assert not TeamChannel.objects.exists()


def test_a_head_connects_a_channel_whose_address_is_never_shown_again(
    client, sales, sales_head, caplog
):
    client.force_login(sales_head)
    caplog.set_level(logging.DEBUG)
    response = client.post(
        _page(sales),
        {
            "kind": "slack",
            "name": "#sales-sla",
            "webhook_url": SLACK,
            "events": [Event.BREACH_OPENED, Event.FRICTION_FILED],
        },
    )
    assert response.status_code == 302
    channel = TeamChannel.objects.get()
    assert channel.events == [Event.FRICTION_FILED, Event.BREACH_OPENED]
    assert channel.webhook_end == "1234"
    assert SLACK not in channel.webhook_encrypted
    assert decrypt(channel.webhook_encrypted) == SLACK
    page = client.get(_page(sales)).content.decode()
    assert "…1234" in page
    assert "secretpart" not in page
    history = channel.history.get()
    assert not hasattr(history, "webhook_encrypted")
    assert "secretpart" not in caplog.text


def test_the_page_refuses_a_retired_connector_and_writes_nothing(
    client, sales, sales_head
):
    client.force_login(sales_head)
    response = client.post(
        _page(sales),
        {
            "kind": "teams",
            "name": "#x",
            "webhook_url": "https://acme.webhook.office.com/webhookb2/abc",
        },
    )
    assert response.status_code == 200
    assert "retired" in response.content.decode()
    assert not TeamChannel.objects.exists()


def test_a_head_chooses_events_tests_and_removes(client, sales, sales_head, sink):
    channel = _channel(sales, sales_head, sink.url)
    client.force_login(sales_head)
    url = reverse("notifications:team_channel_action", args=[sales.slug, channel.pk])
    field = f"c{channel.pk}-events"
    client.post(url, {"action": "events", field: [Event.REVIEW_DUE]})
    channel.refresh_from_db()
    assert channel.events == [Event.REVIEW_DUE]

    client.post(url, {"action": "test"})
    assert "test message" in sink.received[-1]["text"]

    sink.answers = [404]
    client.post(url, {"action": "test"})
    channel.refresh_from_db()
    assert "404" in channel.last_error
    assert "404" in client.get(_page(sales)).content.decode()

    client.post(url, {"action": "remove"})
    assert not TeamChannel.objects.exists()
    assert channel.history.count() == 3  # connected, events chosen, removed


# --- Messages ----------------------------------------------------------------


def test_slack_message_is_one_line_and_a_link(settings):
    body = slack_payload("A <b> & c", "/agreements/3/")
    assert body == {
        "text": "A &lt;b&gt; &amp; c <https://sla.example.com/agreements/3/|"
        "Open in the portal>"
    }


def test_teams_message_is_an_adaptive_card():
    body = teams_payload("Text", "/agreements/3/")
    assert body["type"] == "message"
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["body"][0]["text"] == "Text"
    assert card["actions"][0]["url"] == "https://sla.example.com/agreements/3/"


# --- Delivery ----------------------------------------------------------------


@time_machine.travel(WORKING, tick=False)
def test_an_event_is_posted_once_to_the_channels_of_its_teams(
    sales, service, marketing, sales_head, service_head, marketing_head, sink, commit
):
    agreement = AgreementFactory(provider=sales, consumer=service)
    _channel(sales, sales_head, sink.url)
    _channel(marketing, marketing_head, sink.url)  # not a party: hears nothing
    notice = _active_notice(agreement, [sales_head, service_head])
    with commit(execute=True):
        notify([notice])
    with commit(execute=True):
        notify([notice])  # announced again: posted nothing again
    (delivery,) = ChannelDelivery.objects.all()
    assert delivery.channel.team == sales
    assert delivery.status == ChannelDelivery.Status.SENT
    assert len(sink.received) == 1
    assert "is active" in sink.received[0]["text"]
    assert f"/agreements/{agreement.pk}/" in sink.received[0]["text"]


@time_machine.travel(WORKING, tick=False)
def test_figures_missing_are_posted_to_the_team_that_owes_them(
    sales, service, sales_lead, sales_head, service_head, sink, commit
):
    from agreements.tests.factories import ObjectiveFactory
    from reports.notifications import notices
    from reports.notifications.jobs import REMINDER_ROLES

    agreement = AgreementFactory(provider=sales, consumer=service, title="Handover")
    objective = ObjectiveFactory(agreement=agreement, name="Customers closed")
    _channel(sales, sales_head, sink.url, events=[Event.FIGURES_MISSING])
    # The consumer's channel, even hearing of it, is not told what Sales owes.
    _channel(service, service_head, sink.url, events=[Event.FIGURES_MISSING])
    month = dt.date(2026, 2, 1)
    for _ in range(2):
        with commit(execute=True):
            notices.figures_missing(
                month=month, missing={sales.pk: [objective]}, roles=REMINDER_ROLES
            )
    (delivery,) = ChannelDelivery.objects.all()
    assert delivery.channel.team == sales
    assert len(sink.received) == 1
    text = sink.received[0]["text"]
    assert "Figures missing for February 2026: Customers closed of “Handover”" in text
    assert f"/figures/{sales.slug}/" in text
    (entry,) = Notification.objects.filter(event=Event.FIGURES_MISSING)
    assert entry.recipient == sales_lead


@time_machine.travel(WORKING, tick=False)
def test_a_5xx_is_retried_and_posted_once_a_4xx_fails_with_its_reason(
    sales, service, sales_head, sink, commit
):
    agreement = AgreementFactory(provider=sales, consumer=service)
    channel = _channel(sales, sales_head, sink.url)
    sink.answers = [500]
    with commit(execute=True):
        notify([_active_notice(agreement, [sales_head])])
    delivery = ChannelDelivery.objects.get()
    assert delivery.status == ChannelDelivery.Status.PENDING
    assert "500" in delivery.last_error
    later = WORKING + dt.timedelta(minutes=1)
    assert channel_delivery_send(delivery_id=delivery.pk, now=later).result == (
        Result.SENT
    )
    assert channel_delivery_send(delivery_id=delivery.pk, now=later).result == (
        Result.BUSY
    )
    delivery.refresh_from_db()
    assert delivery.status == ChannelDelivery.Status.SENT
    assert delivery.attempts == 2
    assert len(sink.received) == 2  # the 500 and the one that went through

    other = AgreementFactory(provider=sales, consumer=service)
    sink.answers = [400]
    with commit(execute=True):
        notify([_active_notice(other, [sales_head])])
    failed = ChannelDelivery.objects.get(agreement_id=other.pk)
    assert failed.status == ChannelDelivery.Status.FAILED
    assert failed.attempts == 1
    channel.refresh_from_db()
    assert "400" in channel.last_error and "no_text" in channel.last_error


@time_machine.travel(WORKING, tick=False)
def test_a_message_about_what_the_team_cannot_see_is_withheld(
    sales, service, marketing, sales_head, sink, commit
):
    channel = _channel(sales, sales_head, sink.url)
    # Moved to another team's agreement after it was written.
    agreement = AgreementFactory(provider=sales, consumer=service)
    with commit(execute=True):
        notify([_active_notice(agreement, [sales_head])])
    sink.received.clear()
    foreign = AgreementFactory(provider=marketing, consumer=service)
    ChannelDelivery.objects.create(
        channel=channel,
        event=Event.AGREEMENT_ACTIVE,
        key="forged",
        text="secret",
        url="/",
        agreement_id=foreign.pk,
    )
    pk = ChannelDelivery.objects.get(key="forged").pk
    assert channel_delivery_send(delivery_id=pk).result == Result.FAILED
    assert sink.received == []


# --- Quiet hours -------------------------------------------------------------


def test_after_hours_posts_and_emails_wait_for_the_morning(
    sales, service, sales_head, sink, mailoutbox, commit
):
    _office_hours(sales)
    agreement = AgreementFactory(provider=sales, consumer=service)
    _channel(sales, sales_head, sink.url)
    with time_machine.travel(EVENING, tick=False), commit(execute=True):
        notify([_active_notice(agreement, [sales_head])])
    assert Notification.objects.filter(recipient=sales_head).exists()
    delivery = ChannelDelivery.objects.get()
    assert delivery.not_before == NEXT_MORNING
    assert sink.received == [] and mailoutbox == []
    with time_machine.travel(EVENING, tick=False), commit(execute=True):
        assert held_release() == 0
    with time_machine.travel(NEXT_MORNING, tick=False), commit(execute=True):
        assert held_release() == 2  # the post and the email
    delivery.refresh_from_db()
    assert delivery.status == ChannelDelivery.Status.SENT
    assert len(sink.received) == 1
    assert len(mailoutbox) == 1
    assert sales_head.email in mailoutbox[0].to[0]


def test_critical_reports_go_out_at_night(
    sales, service, service_head, sink, mailoutbox, commit
):
    _office_hours(service)
    channel = _channel(service, service_head, sink.url, events=[Event.FRICTION_FILED])
    report = FrictionReportFactory(
        reporting_team=sales,
        addressed_team=service,
        severity=FrictionReport.Severity.CRITICAL,
    )
    with time_machine.travel(EVENING, tick=False), commit(execute=True):
        notify(
            [
                Notice(
                    event=Event.FRICTION_FILED,
                    key=f"friction-{report.pk}",
                    text="Sales filed a critical-severity friction report.",
                    url=reverse("friction:detail", args=[report.pk]),
                    recipients=[service_head],
                    urgent=True,
                    critical=True,
                    friction_report_id=report.pk,
                )
            ]
        )
    assert ChannelDelivery.objects.get(channel=channel).not_before is None
    assert len(sink.received) == 1
    assert len(mailoutbox) == 1


def test_heads_find_their_teams_channels_from_their_preferences(
    client, sales, sales_head, sales_lead
):
    client.force_login(sales_head)
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert _page(sales) in page
    client.force_login(sales_lead)
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert _page(sales) not in page


def test_the_admin_lists_channels_without_their_address(
    admin_client, sales, sales_head
):
    channel = _channel(sales, sales_head, SLACK)
    for name in ("teamchannel", "channeldelivery"):
        assert (
            admin_client.get(reverse(f"admin:reports_{name}_changelist")).status_code
            == 200
        )
    page = admin_client.get(
        reverse("admin:reports_teamchannel_change", args=[channel.pk])
    ).content.decode()
    assert "1234" in page
    assert "secretpart" not in page and channel.webhook_encrypted not in page
