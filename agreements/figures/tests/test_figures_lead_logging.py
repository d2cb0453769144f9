"""Logging leads through the services: who may log and who reads the log,
what is refused, the same form posted twice, and edits and deletes while
the month is open."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from agreements.figures.services import figure_delete, figure_update
from agreements.figures.tests.figure_services import TODAY, _log, _written
from agreements.models import ClosedCustomer, LeadLogEntry
from agreements.rules import can
from agreements.tests.factories import (
    AgreementFactory,
    ClosedCustomerFactory,
    LeadLogEntryFactory,
    MembershipFactory,
    UserFactory,
)
from agreements.tests.moments import THIS_MONTH, local

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "chain")]


@pytest.mark.parametrize("role", ["lead", "manager", "head"])
def test_leading_roles_log_leads_for_their_team(marketing, role):
    user = UserFactory()
    MembershipFactory(user=user, team=marketing, role=role)
    entry = _log(marketing, user, source="Spring webinar", note="From the webinar")

    entry.refresh_from_db()
    assert (entry.leads_delivered, entry.qualified_leads) == (40, 12)
    assert entry.month == THIS_MONTH
    assert entry.created_by == user
    record = entry.history.get()
    assert record.history_user == user
    assert record.history_change_reason == "logged"


def test_a_team_member_cannot_log_leads(marketing, marketing_member):
    before = _written()
    with pytest.raises(PermissionDenied):
        _log(marketing, marketing_member)
    assert _written() == before


def test_a_lead_cannot_log_for_another_team(marketing, sales_lead, outsider):
    before = _written()
    for user in (sales_lead, outsider):
        with pytest.raises(PermissionDenied):
            _log(marketing, user)
    assert _written() == before


def test_an_executive_reads_but_cannot_log(marketing, executive):
    assert can(executive, "view_team", marketing)
    with pytest.raises(PermissionDenied):
        _log(marketing, executive)


# --- Bad input --------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("leads_delivered", -1, "Leads cannot be negative."),
        ("qualified_leads", -3, "Qualified leads cannot be negative."),
        ("leads_delivered", "forty", "must be an integer"),
        ("qualified_leads", "1.5", "must be an integer"),
    ],
)
def test_negative_or_non_numeric_counts_are_refused(
    marketing, marketing_lead, field, value, message
):
    before = _written()
    with pytest.raises(ValidationError) as caught:
        _log(marketing, marketing_lead, **{field: value})
    assert message in " ".join(caught.value.message_dict[field])
    assert _written() == before


def test_more_qualified_than_delivered_leads_is_refused(marketing, marketing_lead):
    before = _written()
    with pytest.raises(ValidationError) as caught:
        _log(marketing, marketing_lead, leads_delivered=10, qualified_leads=11)
    assert caught.value.message_dict["qualified_leads"] == [
        "Qualified leads (11) cannot be more than the leads delivered (10)."
    ]
    assert _written() == before


def test_every_problem_is_reported_at_once(marketing, marketing_lead):
    with pytest.raises(ValidationError) as caught:
        _log(
            marketing,
            marketing_lead,
            date=dt.date(2026, 2, 10),
            leads_delivered=-1,
        )
    assert set(caught.value.message_dict) == {"date", "leads_delivered"}


def test_a_date_in_a_future_month_is_refused(marketing, marketing_lead):
    before = _written()
    with pytest.raises(ValidationError) as caught:
        _log(marketing, marketing_lead, date=dt.date(2026, 4, 2))
    error = caught.value.error_dict["date"][0]
    assert error.code == "future_month"
    assert "April 2026 has not begun yet" in error.message
    assert _written() == before


def test_a_later_day_of_the_current_month_is_refused(marketing, marketing_lead):
    with pytest.raises(ValidationError) as caught:
        _log(marketing, marketing_lead, date=dt.date(2026, 3, 16))
    assert caught.value.error_dict["date"][0].code == "future_date"
    assert not LeadLogEntry.objects.exists()


def test_a_date_in_a_locked_month_is_refused(marketing, marketing_lead):
    before = _written()
    with pytest.raises(ValidationError) as caught:
        _log(marketing, marketing_lead, date=dt.date(2026, 2, 27))
    error = caught.value.error_dict["date"][0]
    assert error.code == "locked"
    assert error.message == (
        "February 2026 is locked: its figures were due by Tue 3 Mar "
        "2026, end of day. Only a head of Marketing or an administrator can still "
        "correct it, giving a reason."
    )
    assert _written() == before


def test_the_previous_month_stays_open_during_the_grace_period(
    frozen, marketing, marketing_lead
):
    frozen.move_to(local(2026, 4, 3, 23, 59, 59))
    entry = _log(marketing, marketing_lead, date=dt.date(2026, 3, 31))
    assert entry.month == THIS_MONTH
    frozen.move_to(local(2026, 4, 4, 0, 0))
    with pytest.raises(ValidationError):
        _log(marketing, marketing_lead, date=dt.date(2026, 3, 31))
    assert LeadLogEntry.objects.count() == 1


def test_text_with_html_is_stored_as_written(marketing, marketing_lead):
    note = '<script>alert("x")</script> & <b>bold</b>'
    entry = _log(marketing, marketing_lead, note=note, source="<i>Ads</i>")
    entry.refresh_from_db()
    assert entry.note == note
    assert entry.source == "<i>Ads</i>"


def test_the_database_refuses_more_qualified_than_delivered(marketing, marketing_lead):
    with pytest.raises(IntegrityError), transaction.atomic():
        LeadLogEntryFactory(team=marketing, leads_delivered=3, qualified_leads=4)


def test_the_database_refuses_negative_counts(marketing):
    with pytest.raises(IntegrityError), transaction.atomic():
        LeadLogEntryFactory(team=marketing, leads_delivered=-1, qualified_leads=0)


# --- The same form posted twice ---------------------------------------------


def test_posting_the_same_client_token_twice_logs_once(marketing, marketing_lead):
    token = uuid.uuid4()
    first = _log(marketing, marketing_lead, client_token=token)
    before = _written()
    second = _log(marketing, marketing_lead, client_token=token, leads_delivered=99)
    assert second.pk == first.pk
    assert second.leads_delivered == 40
    assert _written() == before


def test_a_repeated_post_is_answered_even_after_the_month_locked(
    frozen, marketing, marketing_lead
):
    token = uuid.uuid4()
    first = _log(marketing, marketing_lead, client_token=token)
    frozen.move_to(dt.datetime(2026, 5, 1, tzinfo=dt.UTC))
    assert _log(marketing, marketing_lead, client_token=token).pk == first.pk


def test_a_client_token_is_unique_per_team(
    marketing, sales, marketing_lead, sales_lead
):
    token = uuid.uuid4()
    _log(marketing, marketing_lead, client_token=token)
    _log(sales, sales_lead, client_token=token)
    assert LeadLogEntry.objects.count() == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        LeadLogEntryFactory(team=marketing, client_token=token)


def test_entries_without_client_token_are_all_kept(marketing, marketing_lead):
    _log(marketing, marketing_lead)
    _log(marketing, marketing_lead)
    assert LeadLogEntry.objects.count() == 2


# --- Editing and deleting in an open month ---------------------------------


def test_editing_an_entry_records_old_and_new_values(marketing, marketing_lead):
    entry = _log(marketing, marketing_lead)
    figure_update(row=entry, user=marketing_lead, leads_delivered=45, note="recounted")
    entry.refresh_from_db()
    assert entry.leads_delivered == 45
    latest = entry.history.first()
    assert latest.history_user == marketing_lead
    assert latest.history_change_reason == (
        "edited: leads delivered 40 → 45; note changed"
    )


def test_an_edit_that_changes_nothing_writes_nothing(marketing, marketing_lead):
    entry = _log(marketing, marketing_lead)
    figure_update(row=entry, user=marketing_lead, leads_delivered=40)
    assert entry.history.count() == 1


def test_an_edit_is_validated_like_a_new_entry(marketing, marketing_lead):
    entry = _log(marketing, marketing_lead)
    with pytest.raises(ValidationError) as caught:
        figure_update(row=entry, user=marketing_lead, qualified_leads=41)
    assert "qualified_leads" in caught.value.message_dict
    entry.refresh_from_db()
    assert entry.qualified_leads == 12
    assert entry.history.count() == 1


def test_an_entry_cannot_be_moved_into_a_locked_month(marketing, marketing_lead):
    entry = _log(marketing, marketing_lead)
    with pytest.raises(ValidationError) as caught:
        figure_update(row=entry, user=marketing_lead, date=dt.date(2026, 2, 20))
    assert caught.value.error_dict["date"][0].code == "locked"
    entry.refresh_from_db()
    assert entry.date == TODAY


def test_another_teams_lead_cannot_edit_or_delete(
    marketing, marketing_lead, sales_lead
):
    entry = _log(marketing, marketing_lead)
    with pytest.raises(PermissionDenied):
        figure_update(row=entry, user=sales_lead, note="x")
    with pytest.raises(PermissionDenied):
        figure_delete(row=entry, user=sales_lead)
    assert entry.history.count() == 1


def test_deleting_an_entry_keeps_who_deleted_it(marketing, marketing_lead):
    entry = _log(marketing, marketing_lead)
    figure_delete(row=entry, user=marketing_lead)
    assert not LeadLogEntry.objects.exists()
    gone = LeadLogEntry.history.first()
    assert gone.history_type == "-"
    assert gone.history_user == marketing_lead


def test_entries_of_a_locked_month_cannot_be_edited_or_deleted(
    marketing, marketing_lead
):
    entry = LeadLogEntryFactory(team=marketing, date=dt.date(2026, 2, 10))
    before = _written()
    with pytest.raises(ValidationError) as caught:
        figure_update(row=entry, user=marketing_lead, note="late")
    assert "February 2026 is locked" in caught.value.messages[0]
    with pytest.raises(ValidationError):
        figure_delete(row=entry, user=marketing_lead)
    assert _written() == before


# --- Who reads what ----------------------------------------------------------


def test_lead_logs_are_read_by_the_team_partners_and_executives(
    marketing,
    marketing_member,
    sales_member,
    service_head,
    executive,
    outsider,
):
    entry = LeadLogEntryFactory(team=marketing)
    visible = LeadLogEntry.objects.visible_to
    assert list(visible(marketing_member)) == [entry]
    assert list(visible(sales_member)) == [entry]  # sales consumes marketing's leads
    assert list(visible(executive)) == [entry]
    assert not visible(service_head).exists()  # no agreement with marketing
    assert not visible(outsider).exists()
    assert can(sales_member, "view_submission", entry)
    assert not can(service_head, "view_submission", entry)
    assert not can(outsider, "view_submission", entry)


def test_a_draft_agreement_does_not_open_a_teams_figures(
    marketing, service, service_head
):
    AgreementFactory(provider=marketing, consumer=service, status="draft")
    LeadLogEntryFactory(team=marketing)
    assert not LeadLogEntry.objects.visible_to(service_head).exists()
    assert not can(service_head, "view_team", marketing)


def test_anonymous_users_see_no_submissions():
    from django.contrib.auth.models import AnonymousUser

    LeadLogEntryFactory()
    ClosedCustomerFactory()
    assert not LeadLogEntry.objects.visible_to(AnonymousUser()).exists()
    assert not ClosedCustomer.objects.visible_to(AnonymousUser()).exists()


def test_for_month_filters_by_month(marketing):
    this = LeadLogEntryFactory(team=marketing)
    LeadLogEntryFactory(team=marketing, date=dt.date(2026, 2, 1))
    assert list(LeadLogEntry.objects.for_month(THIS_MONTH)) == [this]
