from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from agreements.friction.models import normalise_tags
from agreements.friction.services import (
    friction_comment_add,
    friction_default_addressee,
    friction_report_change_status,
    friction_report_correct,
    friction_report_create,
    friction_report_delete,
    friction_report_update,
)
from agreements.models import FrictionComment, FrictionReport, Membership, Team
from agreements.rules import can
from agreements.tests.factories import (
    AgreementFactory,
    FrictionReportFactory,
    MembershipFactory,
    TeamFactory,
    UserFactory,
)
from agreements.tests.moments import LOCKED_MONTH, NEXT_MONTH, THIS_MONTH

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "chain")]

Status = FrictionReport.Status


def _written():
    return (
        FrictionReport.objects.count(),
        FrictionReport.history.count(),
        FrictionComment.objects.count(),
        FrictionComment.history.count(),
    )


def _file(team, user, **overrides):
    fields = {
        "customer": "Acme GmbH",
        "category": FrictionReport.Category.BILLING,
        "severity": FrictionReport.Severity.HIGH,
        "description": "Invoices arrive two weeks late.",
        "business_impact": "Renewal at risk.",
        "suggested_action": "Send invoices on the 1st.",
        "tags": "Billing, late invoices",
    }
    fields.update(overrides)
    return friction_report_create(reporting_team=team, user=user, **fields)


@pytest.fixture
def report(sales, sales_manager, service_head):
    return _file(sales, sales_manager)


# --- Filing -------------------------------------------------------------------


def test_a_sales_manager_files_a_report_to_the_service_head(
    sales, service, sales_manager, service_head
):
    report = _file(sales, sales_manager)
    report.refresh_from_db()
    assert report.addressed_team == service
    assert report.addressed_to == service_head
    assert report.status == Status.NEW
    assert report.month == THIS_MONTH
    assert report.tags == "billing,late-invoices"
    assert report.tag_list == ["billing", "late-invoices"]
    record = report.history.get()
    assert (record.history_user, record.history_change_reason) == (
        sales_manager,
        "filed",
    )


@pytest.mark.parametrize("role", ["lead", "manager", "head"])
def test_leading_roles_of_a_party_team_may_file(marketing, sales, role):
    user = UserFactory()
    MembershipFactory(user=user, team=marketing, role=role)
    assert can(user, "file_friction_report", marketing)
    # Marketing has no customer service partner: it names the team.
    report = _file(marketing, user, addressed_team=sales)
    assert report.addressed_team == sales


def test_a_member_or_outsider_cannot_file(sales, sales_member, outsider, executive):
    for user in (sales_member, outsider, executive):
        with pytest.raises(PermissionDenied):
            _file(sales, user)
        assert not can(user, "file_friction_report", sales)
    assert _written() == (0, 0, 0, 0)


def test_a_team_without_a_signed_agreement_has_no_one_to_address(db):
    loner = TeamFactory(name="Finance", kind=Team.Kind.OTHER)
    lead = UserFactory()
    MembershipFactory(user=lead, team=loner, role=Membership.Role.LEAD)
    assert not can(lead, "file_friction_report", loner)
    with pytest.raises(ValidationError) as caught:
        _file(loner, lead)
    assert (
        "Choose the team to address" in caught.value.message_dict["addressed_team"][0]
    )
    assert _written() == (0, 0, 0, 0)


def test_a_report_goes_only_to_a_team_with_an_agreement(sales, sales_lead, db):
    stranger = TeamFactory(name="Legal")
    with pytest.raises(ValidationError) as caught:
        _file(sales, sales_lead, addressed_team=stranger)
    assert caught.value.message_dict["addressed_team"] == [
        "Sales has no signed agreement with Legal: address the report to a team "
        "you have an agreement with."
    ]
    assert _written() == (0, 0, 0, 0)


def test_with_two_service_teams_the_reporter_chooses(sales, sales_lead):
    second = TeamFactory(name="Service EMEA", kind=Team.Kind.CUSTOMER_SERVICE)
    AgreementFactory(provider=sales, consumer=second)
    assert friction_default_addressee(sales) is None
    with pytest.raises(ValidationError):
        _file(sales, sales_lead)
    assert _file(sales, sales_lead, addressed_team=second).addressed_team == second


def test_a_team_without_a_head_still_receives_the_report(sales, service, sales_lead):
    report = _file(sales, sales_lead)
    assert report.addressed_team == service
    assert report.addressed_to is None


@pytest.mark.parametrize(
    ("month", "code"), [(NEXT_MONTH, "future_month"), (LOCKED_MONTH, "locked")]
)
def test_a_report_is_filed_for_an_open_month(sales, sales_lead, month, code):
    with pytest.raises(ValidationError) as caught:
        _file(sales, sales_lead, month=month)
    assert caught.value.error_dict["month"][0].code == code
    assert _written() == (0, 0, 0, 0)


def test_a_report_needs_customer_category_and_description(sales, sales_lead):
    with pytest.raises(ValidationError) as caught:
        _file(sales, sales_lead, customer=" ", category="weather", description="")
    assert {"customer", "category", "description"} <= set(caught.value.message_dict)
    assert _written() == (0, 0, 0, 0)


def test_html_in_a_report_is_stored_as_written(sales, sales_lead):
    text = "<img src=x onerror=alert(1)> & co"
    report = _file(sales, sales_lead, description=text, customer="<b>Acme</b>")
    report.refresh_from_db()
    assert (report.description, report.customer) == (text, "<b>Acme</b>")


def test_a_repeated_report_post_files_once(sales, sales_lead):
    token = uuid.uuid4()
    first = _file(sales, sales_lead, client_token=token)
    assert _file(sales, sales_lead, client_token=token).pk == first.pk
    assert _written() == (1, 1, 0, 0)


def test_the_database_refuses_a_report_to_its_own_team(sales):
    with pytest.raises(IntegrityError), transaction.atomic():
        FrictionReportFactory(reporting_team=sales, addressed_team=sales)


def test_the_database_refuses_tags_that_are_not_normalised(sales, service):
    with pytest.raises(IntegrityError), transaction.atomic():
        FrictionReportFactory(
            reporting_team=sales, addressed_team=service, tags="Late Invoices"
        )


# --- Tags -----------------------------------------------------------------------


def test_tags_are_normalised_sorted_and_unique():
    assert normalise_tags(" Onboarding,billing , BILLING,,late invoices") == (
        "billing,late-invoices,onboarding"
    )
    assert normalise_tags(["SSO", "sso "]) == "sso"
    assert normalise_tags("") == ""


def test_filtering_by_tag_matches_whole_tags_only(sales, service):
    both = FrictionReportFactory(
        reporting_team=sales, addressed_team=service, tags="bill,billing"
    )
    billing = FrictionReportFactory(
        reporting_team=sales, addressed_team=service, tags="billing"
    )
    last = FrictionReportFactory(
        reporting_team=sales, addressed_team=service, tags="a,b,billing"
    )
    middle = FrictionReportFactory(
        reporting_team=sales, addressed_team=service, tags="a,billing,c"
    )
    FrictionReportFactory(
        reporting_team=sales, addressed_team=service, tags="rebilling"
    )
    assert set(FrictionReport.objects.tagged("billing")) == {
        both,
        billing,
        last,
        middle,
    }
    assert set(FrictionReport.objects.tagged("Bill")) == {both}
    assert set(FrictionReport.objects.tagged("")) == set(FrictionReport.objects.all())


def test_an_overlong_tag_is_refused(sales, sales_lead):
    with pytest.raises(ValidationError) as caught:
        _file(sales, sales_lead, tags="x" * 41)
    assert "at most 40 characters" in caught.value.message_dict["tags"][0]


# --- Status and comments ------------------------------------------------------


def test_the_service_head_acknowledges_with_a_note(report, service_head, sales_manager):
    friction_report_change_status(
        report=report, user=service_head, status=Status.ACKNOWLEDGED, note="Seen."
    )
    report.refresh_from_db()
    assert report.status == Status.ACKNOWLEDGED
    assert report.acknowledged_at is not None
    comment = report.comments.get()
    assert (comment.author, comment.body, comment.new_status) == (
        service_head,
        "Seen.",
        Status.ACKNOWLEDGED,
    )
    record = report.history.first()
    assert record.history_user == service_head
    assert record.history_change_reason == "status “new” → “acknowledged”: Seen."
    # The reporter sees the new status and the note.
    assert can(sales_manager, "view_friction_report", report)
    assert list(FrictionReport.objects.visible_to(sales_manager)) == [report]


def test_the_whole_workflow_to_resolved(report, service_head):
    for status in (Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RESOLVED):
        friction_report_change_status(report=report, user=service_head, status=status)
    report.refresh_from_db()
    assert report.status == Status.RESOLVED
    assert report.closed_at is not None
    assert [c.new_status for c in report.comments.all()] == [
        Status.ACKNOWLEDGED,
        Status.IN_PROGRESS,
        Status.RESOLVED,
    ]


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ([], Status.RESOLVED),
        ([], Status.IN_PROGRESS),
        ([], Status.WONT_FIX),
        ([Status.ACKNOWLEDGED, Status.IN_PROGRESS], Status.ACKNOWLEDGED),
        ([Status.ACKNOWLEDGED, Status.RESOLVED], Status.IN_PROGRESS),
    ],
)
def test_status_moves_only_along_the_workflow(report, service_head, path, refused):
    for status in path:
        friction_report_change_status(report=report, user=service_head, status=status)
    before = _written()
    with pytest.raises(ValidationError) as caught:
        friction_report_change_status(report=report, user=service_head, status=refused)
    assert caught.value.error_dict["status"][0].code == "transition"
    assert _written() == before


def test_a_new_report_must_be_acknowledged_first(report, service_head):
    with pytest.raises(ValidationError) as caught:
        friction_report_change_status(
            report=report, user=service_head, status=Status.RESOLVED
        )
    assert caught.value.message_dict["status"] == [
        "A report that is “new” can move to “acknowledged”, not to “resolved”."
    ]


def test_resolved_is_final(report, service_head):
    for status in (Status.ACKNOWLEDGED, Status.RESOLVED):
        friction_report_change_status(report=report, user=service_head, status=status)
    with pytest.raises(ValidationError) as caught:
        friction_report_change_status(
            report=report, user=service_head, status=Status.IN_PROGRESS
        )
    assert "which is final" in caught.value.message_dict["status"][0]


def test_wont_fix_needs_a_note(report, service_head):
    friction_report_change_status(
        report=report, user=service_head, status=Status.ACKNOWLEDGED
    )
    before = _written()
    with pytest.raises(ValidationError) as caught:
        friction_report_change_status(
            report=report, user=service_head, status=Status.WONT_FIX, note="  "
        )
    assert "note" in caught.value.message_dict
    assert _written() == before
    friction_report_change_status(
        report=report,
        user=service_head,
        status=Status.WONT_FIX,
        note="Billing runs on the partner's calendar.",
    )
    report.refresh_from_db()
    assert report.status == Status.WONT_FIX


def test_posting_the_same_status_again_writes_nothing(report, service_head):
    friction_report_change_status(
        report=report, user=service_head, status=Status.ACKNOWLEDGED
    )
    before = _written()
    friction_report_change_status(
        report=report, user=service_head, status=Status.ACKNOWLEDGED
    )
    assert _written() == before


def test_an_unknown_status_is_refused(report, service_head):
    with pytest.raises(ValidationError) as caught:
        friction_report_change_status(report=report, user=service_head, status="closed")
    assert "status" in caught.value.message_dict


def test_only_heads_of_the_addressed_team_change_status(
    report, sales_manager, sales_head, service_lead, executive, outsider
):
    before = _written()
    for user in (sales_manager, sales_head, service_lead, executive, outsider):
        with pytest.raises(PermissionDenied):
            friction_report_change_status(
                report=report, user=user, status=Status.ACKNOWLEDGED
            )
    assert _written() == before


def test_only_members_of_the_two_teams_comment(
    report, marketing_lead, executive, outsider
):
    before = _written()
    for user in (marketing_lead, executive, outsider):
        with pytest.raises(PermissionDenied):
            friction_comment_add(report=report, user=user, body="Hi")
    assert _written() == before


def test_the_service_head_comments(report, service_head):
    comment = friction_comment_add(
        report=report, user=service_head, body="  Which invoices?  "
    )
    assert comment.body == "Which invoices?"
    assert comment.history.get().history_user == service_head


def test_an_empty_comment_is_refused(report, service_head):
    with pytest.raises(ValidationError) as caught:
        friction_comment_add(report=report, user=service_head, body=" ")
    assert caught.value.message_dict == {"body": ["Write a comment."]}
    assert not FrictionComment.objects.exists()


def test_the_database_refuses_an_empty_comment(report, service_head):
    with pytest.raises(IntegrityError), transaction.atomic():
        FrictionComment.objects.create(
            report=report, author=service_head, team=report.addressed_team, body=""
        )


# --- Who reads reports -----------------------------------------------------------


def test_reports_are_read_by_both_teams_and_executives(
    report, sales_member, service_lead, executive, marketing_lead, outsider
):
    visible = FrictionReport.objects.visible_to
    for user in (sales_member, service_lead, executive):
        assert list(visible(user)) == [report]
        assert can(user, "view_friction_report", report)
    for user in (marketing_lead, outsider):
        assert not visible(user).exists()
        assert not can(user, "view_friction_report", report)


# --- Changing, withdrawing and correcting -----------------------------------------


def test_the_reporter_edits_a_new_report(report, sales_lead):
    friction_report_update(
        report=report, user=sales_lead, severity="critical", tags="Billing, SSO"
    )
    report.refresh_from_db()
    assert report.severity == "critical"
    assert report.tags == "billing,sso"
    assert report.history.first().history_change_reason == (
        "edited: severity high → critical; tags billing,late-invoices → billing,sso"
    )


def test_an_acknowledged_report_can_no_longer_be_changed(
    report, sales_lead, service_head
):
    friction_report_change_status(
        report=report, user=service_head, status=Status.ACKNOWLEDGED
    )
    before = _written()
    with pytest.raises(ValidationError) as caught:
        friction_report_update(report=report, user=sales_lead, severity="low")
    assert caught.value.messages == [
        "Customer Service has already acknowledged this report: it can no longer "
        "be changed or deleted."
    ]
    with pytest.raises(ValidationError):
        friction_report_delete(report=report, user=sales_lead)
    assert _written() == before


def test_the_reporter_withdraws_a_new_report(report, sales_lead, service_head):
    friction_report_delete(report=report, user=sales_lead)
    assert not FrictionReport.objects.exists()
    assert FrictionReport.history.first().history_user == sales_lead


def test_the_addressed_team_cannot_edit_the_report(report, service_head):
    with pytest.raises(PermissionDenied):
        friction_report_update(report=report, user=service_head, severity="low")


def test_a_report_of_a_locked_month_is_corrected_by_a_head(
    sales, service, sales_lead, sales_head
):
    old = FrictionReportFactory(
        reporting_team=sales, addressed_team=service, month=LOCKED_MONTH
    )
    with pytest.raises(ValidationError):
        friction_report_update(report=old, user=sales_lead, customer="X")
    with pytest.raises(PermissionDenied):
        friction_report_correct(
            report=old, user=sales_lead, reason="typo", customer="Initech"
        )
    friction_report_correct(
        report=old, user=sales_head, reason="wrong customer", customer="Initech"
    )
    old.refresh_from_db()
    assert old.customer == "Initech"
    assert old.history.first().history_change_reason.startswith(
        "correction: wrong customer (customer "
    )


def test_a_correction_may_delete_a_report_with_its_comments(
    sales, service, sales_head, service_head
):
    old = FrictionReportFactory(
        reporting_team=sales, addressed_team=service, month=LOCKED_MONTH
    )
    friction_comment_add(report=old, user=service_head, body="Noted")
    friction_report_correct(
        report=old, user=sales_head, reason="filed twice", delete=True
    )
    assert not FrictionReport.objects.exists()
    assert not FrictionComment.objects.exists()
    assert FrictionComment.history.first().history_user == sales_head


def test_status_changes_go_on_after_the_month_locks(sales, service, service_head):
    old = FrictionReportFactory(
        reporting_team=sales, addressed_team=service, month=LOCKED_MONTH
    )
    friction_report_change_status(
        report=old, user=service_head, status=Status.ACKNOWLEDGED
    )
    old.refresh_from_db()
    assert old.status == Status.ACKNOWLEDGED


def test_the_previous_month_can_be_chosen_during_grace(frozen, sales, sales_lead):
    frozen.move_to(dt.datetime(2026, 4, 2, 9, tzinfo=dt.UTC))
    report = _file(sales, sales_lead, month=THIS_MONTH)
    assert report.month == THIS_MONTH


def test_comments_are_read_with_their_report(
    report, service_head, sales_member, marketing_lead
):
    comment = friction_comment_add(
        report=report, user=service_head, body="Which invoices?"
    )
    assert list(FrictionComment.objects.visible_to(sales_member)) == [comment]
    assert not FrictionComment.objects.visible_to(marketing_lead).exists()
