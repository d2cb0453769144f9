from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from agreements import services
from agreements.models import ClosedCustomer, LeadLogEntry, Membership
from agreements.rules import can
from agreements.tests.conftest import LOCKED_MONTH, THIS_MONTH, local
from agreements.tests.factories import (
    AgreementFactory,
    ClosedCustomerFactory,
    LeadLogEntryFactory,
    MembershipFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "chain")]

TODAY = dt.date(2026, 3, 15)


def _written():
    """Every row and history row of the submission tables."""
    return (
        LeadLogEntry.objects.count(),
        LeadLogEntry.history.count(),
        ClosedCustomer.objects.count(),
        ClosedCustomer.history.count(),
    )


def _log(team, user, **overrides):
    fields = {"date": TODAY, "leads_delivered": 40, "qualified_leads": 12}
    fields.update(overrides)
    return services.lead_log_entry_create(team=team, user=user, **fields)


# --- Who may log ------------------------------------------------------------


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
    services.lead_log_entry_update(
        entry=entry, user=marketing_lead, leads_delivered=45, note="recounted"
    )
    entry.refresh_from_db()
    assert entry.leads_delivered == 45
    latest = entry.history.first()
    assert latest.history_user == marketing_lead
    assert latest.history_change_reason == (
        "edited: leads delivered 40 → 45; note changed"
    )


def test_an_edit_that_changes_nothing_writes_nothing(marketing, marketing_lead):
    entry = _log(marketing, marketing_lead)
    services.lead_log_entry_update(entry=entry, user=marketing_lead, leads_delivered=40)
    assert entry.history.count() == 1


def test_an_edit_is_validated_like_a_new_entry(marketing, marketing_lead):
    entry = _log(marketing, marketing_lead)
    with pytest.raises(ValidationError) as caught:
        services.lead_log_entry_update(
            entry=entry, user=marketing_lead, qualified_leads=41
        )
    assert "qualified_leads" in caught.value.message_dict
    entry.refresh_from_db()
    assert entry.qualified_leads == 12
    assert entry.history.count() == 1


def test_an_entry_cannot_be_moved_into_a_locked_month(marketing, marketing_lead):
    entry = _log(marketing, marketing_lead)
    with pytest.raises(ValidationError) as caught:
        services.lead_log_entry_update(
            entry=entry, user=marketing_lead, date=dt.date(2026, 2, 20)
        )
    assert caught.value.error_dict["date"][0].code == "locked"
    entry.refresh_from_db()
    assert entry.date == TODAY


def test_another_teams_lead_cannot_edit_or_delete(
    marketing, marketing_lead, sales_lead
):
    entry = _log(marketing, marketing_lead)
    with pytest.raises(PermissionDenied):
        services.lead_log_entry_update(entry=entry, user=sales_lead, note="x")
    with pytest.raises(PermissionDenied):
        services.lead_log_entry_delete(entry=entry, user=sales_lead)
    assert entry.history.count() == 1


def test_deleting_an_entry_keeps_who_deleted_it(marketing, marketing_lead):
    entry = _log(marketing, marketing_lead)
    services.lead_log_entry_delete(entry=entry, user=marketing_lead)
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
        services.lead_log_entry_update(entry=entry, user=marketing_lead, note="late")
    assert "February 2026 is locked" in caught.value.messages[0]
    with pytest.raises(ValidationError):
        services.lead_log_entry_delete(entry=entry, user=marketing_lead)
    assert _written() == before


# --- Corrections after the lock --------------------------------------------


@pytest.fixture
def locked_entry(marketing):
    return LeadLogEntryFactory(
        team=marketing,
        date=dt.date(2026, 2, 10),
        leads_delivered=40,
        qualified_leads=12,
    )


def test_a_head_corrects_a_locked_month_with_a_reason(
    marketing_head, marketing_lead, locked_entry
):
    services.lead_log_entry_correct(
        entry=locked_entry,
        user=marketing_head,
        reason="webinar leads were counted twice",
        leads_delivered=30,
    )
    locked_entry.refresh_from_db()
    assert locked_entry.leads_delivered == 30
    # The clock is frozen: order by id, not by time.
    previous, record = locked_entry.history.order_by("history_id")
    assert record.history_user == marketing_head
    assert record.history_change_reason == (
        "correction: webinar leads were counted twice (leads delivered 40 → 30)"
    )
    delta = record.diff_against(previous, excluded_fields=["updated_at"])
    assert [(c.field, c.old, c.new) for c in delta.changes] == [
        ("leads_delivered", 40, 30)
    ]


def test_an_administrator_may_correct_without_being_in_the_team(
    admin_user, locked_entry
):
    services.lead_log_entry_correct(
        entry=locked_entry, user=admin_user, reason="typo", qualified_leads=10
    )
    locked_entry.refresh_from_db()
    assert locked_entry.qualified_leads == 10


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_correction_needs_a_reason(marketing_head, locked_entry, reason):
    before = _written()
    with pytest.raises(ValidationError) as caught:
        services.lead_log_entry_correct(
            entry=locked_entry, user=marketing_head, reason=reason, leads_delivered=1
        )
    assert "Say why" in caught.value.message_dict["reason"][0]
    assert _written() == before


def test_a_lead_cannot_correct_a_locked_month(marketing_lead, executive, locked_entry):
    before = _written()
    for user in (marketing_lead, executive):
        with pytest.raises(PermissionDenied):
            services.lead_log_entry_correct(
                entry=locked_entry, user=user, reason="typo", leads_delivered=1
            )
    assert _written() == before


def test_an_open_month_is_edited_not_corrected(marketing, marketing_head):
    entry = _log(marketing, marketing_head)
    with pytest.raises(ValidationError) as caught:
        services.lead_log_entry_correct(
            entry=entry, user=marketing_head, reason="typo", leads_delivered=1
        )
    assert caught.value.code == "not_locked"
    assert (
        "March 2026 is still open: figures due by Fri 3 Apr 2026, end of day"
        in (caught.value.messages[0])
    )


def test_a_correction_is_validated_like_an_entry(marketing_head, locked_entry):
    with pytest.raises(ValidationError) as caught:
        services.lead_log_entry_correct(
            entry=locked_entry, user=marketing_head, reason="x", qualified_leads=99
        )
    assert "qualified_leads" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.lead_log_entry_correct(
            entry=locked_entry,
            user=marketing_head,
            reason="x",
            date=dt.date(2026, 4, 1),
        )
    assert caught.value.error_dict["date"][0].code == "future_month"
    locked_entry.refresh_from_db()
    assert locked_entry.qualified_leads == 12
    assert locked_entry.history.count() == 1


def test_a_correction_may_delete_an_entry(marketing_head, locked_entry):
    services.lead_log_entry_correct(
        entry=locked_entry, user=marketing_head, reason="duplicate row", delete=True
    )
    assert not LeadLogEntry.objects.exists()
    gone = LeadLogEntry.history.first()
    assert gone.history_type == "-"
    assert gone.history_change_reason == "correction: duplicate row (deleted)"


def test_a_correction_may_add_a_missing_entry(marketing, marketing_head):
    entry = services.lead_log_entry_correct(
        team=marketing,
        user=marketing_head,
        reason="trade fair leads arrived late",
        date=dt.date(2026, 2, 20),
        leads_delivered=25,
        qualified_leads=5,
    )
    assert entry.month == LOCKED_MONTH
    assert entry.history.get().history_change_reason == (
        "correction: trade fair leads arrived late (added late)"
    )


def test_a_missing_entry_for_an_open_month_is_logged_normally(
    marketing, marketing_head
):
    with pytest.raises(ValidationError) as caught:
        services.lead_log_entry_correct(
            team=marketing,
            user=marketing_head,
            reason="late",
            date=TODAY,
            leads_delivered=25,
        )
    assert caught.value.code == "not_locked"
    assert not LeadLogEntry.objects.exists()


# --- Closed customers --------------------------------------------------------


def _close(team, user, **overrides):
    fields = {
        "customer": "Acme GmbH",
        "closed_on": TODAY,
        "deal_value": Decimal("25000"),
        "handover_notes": "Needs SSO on day one.",
    }
    fields.update(overrides)
    return services.closed_customer_create(team=team, user=user, **fields)


def test_sales_records_a_closed_customer(sales, sales_manager):
    customer = _close(sales, sales_manager, customer="  Acme GmbH ")
    customer.refresh_from_db()
    assert customer.customer == "Acme GmbH"
    assert customer.month == THIS_MONTH
    assert customer.history.get().history_user == sales_manager
    assert not customer.is_acknowledged


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (Decimal("-1"), "The deal value cannot be negative."),
        ("lots", "must be a decimal number"),
    ],
)
def test_a_bad_deal_value_is_refused(sales, sales_lead, value, message):
    before = _written()
    with pytest.raises(ValidationError) as caught:
        _close(sales, sales_lead, deal_value=value)
    assert message in caught.value.message_dict["deal_value"][0]
    assert _written() == before


def test_a_closed_customer_needs_a_name_and_an_open_date(sales, sales_lead):
    with pytest.raises(ValidationError) as caught:
        _close(sales, sales_lead, customer="", closed_on=dt.date(2026, 1, 5))
    assert set(caught.value.message_dict) == {"customer", "closed_on"}
    assert not ClosedCustomer.objects.exists()


def test_marketing_cannot_record_sales_customers(sales, marketing_lead):
    with pytest.raises(PermissionDenied):
        _close(sales, marketing_lead)
    assert not ClosedCustomer.objects.exists()


def test_a_repeated_closed_customer_post_records_once(sales, sales_lead):
    token = uuid.uuid4()
    first = _close(sales, sales_lead, client_token=token)
    assert _close(sales, sales_lead, client_token=token).pk == first.pk
    assert ClosedCustomer.history.count() == 1


def test_closed_customer_edit_delete_and_correction(sales, sales_lead, sales_head):
    customer = _close(sales, sales_lead)
    services.closed_customer_update(
        closed_customer=customer, user=sales_lead, deal_value=Decimal("26000")
    )
    assert customer.history.first().history_change_reason == (
        "edited: deal value 25000 → 26000"
    )
    old = ClosedCustomerFactory(team=sales, closed_on=dt.date(2026, 2, 3))
    with pytest.raises(ValidationError):
        services.closed_customer_update(
            closed_customer=old, user=sales_lead, customer="X"
        )
    services.closed_customer_correct(
        closed_customer=old,
        user=sales_head,
        reason="wrong customer",
        customer="Initech",
    )
    old.refresh_from_db()
    assert old.customer == "Initech"
    services.closed_customer_delete(closed_customer=customer, user=sales_lead)
    assert list(ClosedCustomer.objects.all()) == [old]


def test_the_receiving_team_acknowledges_the_handover(sales, sales_lead, service_head):
    customer = _close(sales, sales_lead)
    services.closed_customer_acknowledge(closed_customer=customer, user=service_head)
    customer.refresh_from_db()
    assert customer.acknowledged_by == service_head
    assert customer.acknowledged_at is not None
    assert customer.history.first().history_change_reason == "handover acknowledged"


def test_acknowledging_twice_keeps_the_first(sales, sales_lead, service_head, service):
    customer = _close(sales, sales_lead)
    services.closed_customer_acknowledge(closed_customer=customer, user=service_head)
    other = UserFactory()
    MembershipFactory(user=other, team=service, role=Membership.Role.MANAGER)
    services.closed_customer_acknowledge(closed_customer=customer, user=other)
    customer.refresh_from_db()
    assert customer.acknowledged_by == service_head
    assert customer.history.count() == 2


def test_only_a_team_receiving_the_customers_acknowledges(
    sales, sales_lead, marketing_lead, outsider, executive
):
    customer = _close(sales, sales_lead)
    for user in (sales_lead, marketing_lead, outsider, executive):
        with pytest.raises(PermissionDenied):
            services.closed_customer_acknowledge(closed_customer=customer, user=user)
    customer.refresh_from_db()
    assert not customer.is_acknowledged


def test_a_service_member_cannot_acknowledge(sales, sales_lead, service):
    member = UserFactory()
    MembershipFactory(user=member, team=service, role=Membership.Role.MEMBER)
    customer = _close(sales, sales_lead)
    with pytest.raises(PermissionDenied):
        services.closed_customer_acknowledge(closed_customer=customer, user=member)


def test_a_handover_can_be_acknowledged_after_the_month_locked(sales, service_head):
    customer = ClosedCustomerFactory(team=sales, closed_on=dt.date(2026, 1, 30))
    services.closed_customer_acknowledge(closed_customer=customer, user=service_head)
    customer.refresh_from_db()
    assert customer.is_acknowledged


def test_the_database_requires_who_and_when_of_an_acknowledgement(sales, service_head):
    with pytest.raises(IntegrityError), transaction.atomic():
        ClosedCustomerFactory(team=sales, acknowledged_by=service_head)


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


# --- Month boundaries in the organisation's time zone --------------------------


def test_in_berlin_the_last_second_of_march_still_logs_march(
    settings, frozen, marketing, marketing_lead
):
    settings.TIME_ZONE = "Europe/Berlin"
    berlin = ZoneInfo("Europe/Berlin")
    frozen.move_to(dt.datetime(2026, 3, 31, 23, 59, 59, tzinfo=berlin))
    assert _log(marketing, marketing_lead, date=dt.date(2026, 3, 31)).month == (
        THIS_MONTH
    )
    with pytest.raises(ValidationError) as caught:
        _log(marketing, marketing_lead, date=dt.date(2026, 4, 1))
    assert caught.value.error_dict["date"][0].code == "future_month"
    frozen.move_to(dt.datetime(2026, 4, 1, 0, 0, 0, tzinfo=berlin))
    assert _log(marketing, marketing_lead, date=dt.date(2026, 4, 1)).month == (
        dt.date(2026, 4, 1)
    )


def test_in_berlin_march_locks_at_local_midnight_after_its_grace(
    settings, frozen, marketing, marketing_lead, marketing_head
):
    settings.TIME_ZONE = "Europe/Berlin"
    berlin = ZoneInfo("Europe/Berlin")
    frozen.move_to(dt.datetime(2026, 4, 3, 23, 59, 59, tzinfo=berlin))
    entry = _log(marketing, marketing_lead, date=dt.date(2026, 3, 31))
    frozen.move_to(dt.datetime(2026, 4, 4, 0, 0, 0, tzinfo=berlin))
    with pytest.raises(ValidationError):
        services.lead_log_entry_update(entry=entry, user=marketing_lead, note="x")
    services.lead_log_entry_correct(
        entry=entry, user=marketing_head, reason="late count", leads_delivered=41
    )
    entry.refresh_from_db()
    assert entry.leads_delivered == 41


def test_in_new_york_october_locks_three_calendar_days_after_the_clocks_go_back(
    settings, frozen, marketing, marketing_lead
):
    # Summer time ends on 1 November 2026: October's grace period lasts 73
    # hours and ends at midnight, New York time (05:00 UTC on 4 November).
    settings.TIME_ZONE = "America/New_York"
    frozen.move_to(dt.datetime(2026, 11, 4, 4, 59, 59, tzinfo=dt.UTC))
    _log(marketing, marketing_lead, date=dt.date(2026, 10, 31))
    frozen.move_to(dt.datetime(2026, 11, 4, 5, 0, 0, tzinfo=dt.UTC))
    with pytest.raises(ValidationError) as caught:
        _log(marketing, marketing_lead, date=dt.date(2026, 10, 31))
    assert "due by Tue 3 Nov 2026, end of day" in caught.value.messages[0]
    assert LeadLogEntry.objects.count() == 1
