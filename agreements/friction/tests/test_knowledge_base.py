from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from agreements.friction.knowledge import (
    friction_report_link,
    pain_point_create,
    pain_point_merge,
    pain_point_update,
)
from agreements.friction.selectors import (
    friction_report_list,
    friction_tag_counts,
    pain_point_summaries,
)
from agreements.models import PainPoint
from agreements.rules import can
from agreements.tests.factories import (
    AgreementFactory,
    FrictionReportFactory,
    PainPointFactory,
    TeamFactory,
)
from agreements.tests.moments import THIS_MONTH

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "chain")]


@pytest.fixture
def emea(db):
    return TeamFactory(name="Sales EMEA", kind="sales")


def _report(team, service, pain_point=None, **fields):
    return FrictionReportFactory(
        reporting_team=team, addressed_team=service, pain_point=pain_point, **fields
    )


# --- Pain points ---------------------------------------------------------------


def test_a_head_adds_a_pain_point(service_head):
    pain_point = pain_point_create(
        user=service_head, title=" Late invoices ", category="billing"
    )
    assert pain_point.title == "Late invoices"
    assert pain_point.history.get().history_user == service_head


def test_only_heads_curate_the_knowledge_base(sales_manager, service_lead, executive):
    for user in (sales_manager, service_lead, executive):
        assert not can(user, "manage_pain_points")
        with pytest.raises(PermissionDenied):
            pain_point_create(user=user, title="X", category="other")
    assert not PainPoint.objects.exists()


def test_a_pain_point_title_is_unique_whatever_its_case(service_head):
    first = pain_point_create(
        user=service_head, title="Late invoices", category="billing"
    )
    with pytest.raises(ValidationError) as caught:
        pain_point_create(user=service_head, title="LATE INVOICES", category="billing")
    error = caught.value.error_dict["title"][0]
    assert (error.code, error.params["pk"]) == ("duplicate", first.pk)
    assert PainPoint.objects.count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        PainPoint.objects.create(title="late invoices", category="billing")


def test_a_pain_point_is_edited_by_a_head(service_head):
    pain_point = PainPointFactory(title="Slow export")
    pain_point_update(pain_point=pain_point, user=service_head, title="Slow CSV export")
    pain_point.refresh_from_db()
    assert pain_point.title == "Slow CSV export"
    assert pain_point.history.first().history_change_reason == (
        "edited: title Slow export → Slow CSV export"
    )


def test_the_addressed_head_links_a_report(sales, service, service_head):
    report = _report(sales, service)
    pain_point = PainPointFactory()
    friction_report_link(report=report, pain_point=pain_point, user=service_head)
    report.refresh_from_db()
    assert report.pain_point == pain_point
    assert report.history.first().history_change_reason == (
        f"filed under pain point “{pain_point}”"
    )
    friction_report_link(report=report, pain_point=None, user=service_head)
    report.refresh_from_db()
    assert report.pain_point is None


def test_the_reporter_cannot_link_a_report(sales, service, sales_head):
    report = _report(sales, service)
    with pytest.raises(PermissionDenied):
        friction_report_link(
            report=report, pain_point=PainPointFactory(), user=sales_head
        )
    report.refresh_from_db()
    assert report.pain_point is None


def test_a_report_cannot_be_linked_to_a_merged_pain_point(sales, service, service_head):
    target = PainPointFactory(title="Invoices")
    merged = PainPointFactory(title="Billing late", merged_into=target)
    report = _report(sales, service)
    with pytest.raises(ValidationError) as caught:
        friction_report_link(report=report, pain_point=merged, user=service_head)
    assert "was merged into “Invoices”" in caught.value.message_dict["pain_point"][0]


def test_merging_moves_reports_and_marks_the_duplicate(
    sales, service, service_head, emea
):
    AgreementFactory(provider=emea, consumer=service)
    target = PainPointFactory(title="Late invoices")
    source = PainPointFactory(title="Invoices arrive late")
    older = PainPointFactory(title="Billing delays", merged_into=source)
    moved = [_report(sales, service, source), _report(emea, service, source)]
    kept = _report(sales, service, target)

    assert pain_point_merge(source=source, target=target, user=service_head) == (target)

    source.refresh_from_db()
    older.refresh_from_db()
    assert source.merged_into == target
    assert older.merged_into == target  # no chains of merges
    assert set(target.reports.all()) == {*moved, kept}
    reason = "pain point “Invoices arrive late” merged into “Late invoices”"
    for report in moved:
        record = report.history.first()
        assert (record.history_user, record.history_change_reason) == (
            service_head,
            reason,
        )
    assert source.history.first().history_change_reason == reason


def test_merging_is_for_heads_and_between_two_current_pain_points(
    service_head, sales_manager
):
    a, b = PainPointFactory(), PainPointFactory()
    with pytest.raises(PermissionDenied):
        pain_point_merge(source=a, target=b, user=sales_manager)
    with pytest.raises(ValidationError):
        pain_point_merge(source=a, target=a, user=service_head)
    c = PainPointFactory(merged_into=b)
    with pytest.raises(ValidationError) as caught:
        pain_point_merge(source=a, target=c, user=service_head)
    assert "merge into that one instead" in caught.value.message_dict["target"][0]
    with pytest.raises(ValidationError):
        pain_point_merge(source=c, target=a, user=service_head)
    a.refresh_from_db()
    assert not a.is_merged


def test_the_knowledge_base_is_read_by_team_members_and_executives(
    sales_member, executive, outsider
):
    PainPointFactory()
    assert can(sales_member, "view_knowledge_base")
    assert can(executive, "view_knowledge_base")
    assert not can(outsider, "view_knowledge_base")
    assert PainPoint.objects.visible_to(sales_member).count() == 1
    assert not PainPoint.objects.visible_to(outsider).exists()


# --- Summaries ---------------------------------------------------------------------


def test_summaries_count_reports_customers_teams_and_trend(sales, service, emea):
    AgreementFactory(provider=emea, consumer=service)
    invoices = PainPointFactory(title="Late invoices", category="billing")
    quiet = PainPointFactory(title="Quiet one")
    _report(sales, service, invoices, customer="Acme", month=dt.date(2026, 1, 1))
    _report(sales, service, invoices, customer="ACME", month=THIS_MONTH)
    _report(emea, service, invoices, customer="Initech", month=THIS_MONTH)
    _report(sales, service, invoices, customer="Old", month=dt.date(2025, 6, 1))
    _report(sales, service, None, customer="Unlinked")

    first, second = pain_point_summaries()

    assert first.pain_point == invoices
    assert (first.reports, first.customers, first.teams) == (4, 3, 2)
    assert first.trend == [
        (dt.date(2025, 10, 1), 0),
        (dt.date(2025, 11, 1), 0),
        (dt.date(2025, 12, 1), 0),
        (dt.date(2026, 1, 1), 1),
        (dt.date(2026, 2, 1), 0),
        (dt.date(2026, 3, 1), 2),
    ]
    assert first.last_reported is not None
    assert (second.pain_point, second.reports, second.customers) == (quiet, 0, 0)
    assert [count for _, count in second.trend] == [0] * 6


def test_merged_pain_points_are_not_listed(sales, service):
    target = PainPointFactory(title="Target")
    PainPointFactory(title="Merged", merged_into=target)
    assert [s.pain_point for s in pain_point_summaries()] == [target]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"category": "billing"}, ["Late invoices"]),
        ({"tag": "sso"}, ["Login trouble"]),
        ({"severity": "critical"}, ["Login trouble"]),
        ({"status": "resolved"}, ["Late invoices"]),
        ({"customer": "initech"}, ["Login trouble"]),
        ({"tag": "sso", "severity": "low"}, []),
    ],
)
def test_summaries_filter_by_category_tag_severity_status_customer(
    sales, service, filters, expected
):
    invoices = PainPointFactory(title="Late invoices", category="billing")
    login = PainPointFactory(title="Login trouble", category="product")
    _report(sales, service, invoices, tags="billing", status="resolved")
    _report(sales, service, login, tags="sso,login", severity="critical")
    _report(sales, service, login, tags="login", customer="Initech")
    assert [s.pain_point.title for s in pain_point_summaries(**filters)] == expected


def test_filters_narrow_the_counts_too(sales, service):
    login = PainPointFactory(title="Login trouble")
    _report(sales, service, login, tags="sso", month=THIS_MONTH)
    _report(sales, service, login, tags="login", month=THIS_MONTH)
    (summary,) = pain_point_summaries(tag="sso")
    assert summary.reports == 1
    assert summary.trend[-1] == (THIS_MONTH, 1)


def test_search_finds_words_in_pain_points_and_their_reports(sales, service):
    invoices = PainPointFactory(title="Billing", description="Invoices arrive late")
    login = PainPointFactory(title="Login trouble", description="")
    _report(sales, service, login, description="The SSO redirect loops forever")
    PainPointFactory(title="Unrelated", description="Nothing to see")

    assert [s.pain_point for s in pain_point_summaries(search="invoice")] == [invoices]
    assert [s.pain_point for s in pain_point_summaries(search="redirect")] == [login]
    assert pain_point_summaries(search="kangaroo") == []


def test_summaries_take_two_queries_however_many_rows(
    sales, service, django_assert_num_queries
):
    def grow(count: int) -> None:
        for n in range(count):
            pain_point = PainPointFactory(category="billing")
            for month in (THIS_MONTH, dt.date(2026, 1, 1)):
                _report(sales, service, pain_point, tags="billing,x", month=month)
                _report(sales, service, pain_point, customer=f"C{n}", month=month)

    grow(2)
    with django_assert_num_queries(2):
        small = pain_point_summaries(category="billing", tag="billing")
    grow(20)
    with django_assert_num_queries(2):
        large = pain_point_summaries(category="billing", tag="billing")
    with django_assert_num_queries(2):
        pain_point_summaries(search="pain", severity="medium", status="new")
    assert (len(small), len(large)) == (2, 22)


# --- Report list and tags --------------------------------------------------------


def test_the_report_list_shows_only_readable_reports_and_filters(
    sales, service, marketing, sales_member, marketing_lead, service_lead
):
    billing = _report(sales, service, tags="billing", category="billing")
    sso = _report(sales, service, tags="sso", category="product")
    to_sales = _report(marketing, sales, tags="billing", category="billing")
    # Sales reads what it filed and what was addressed to it.
    assert set(friction_report_list(user=sales_member)) == {billing, sso, to_sales}
    assert set(friction_report_list(user=sales_member, tag="billing")) == {
        billing,
        to_sales,
    }
    assert list(
        friction_report_list(
            user=sales_member, category="product", reporting_team=sales
        )
    ) == [sso]
    assert list(friction_report_list(user=marketing_lead)) == [to_sales]
    assert set(friction_report_list(user=service_lead)) == {billing, sso}


def test_tag_counts_most_used_first(sales, service):
    _report(sales, service, tags="billing,sso")
    _report(sales, service, tags="billing")
    _report(sales, service, tags="")
    assert friction_tag_counts() == [("billing", 2), ("sso", 1)]
