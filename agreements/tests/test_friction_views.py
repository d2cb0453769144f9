"""The friction report pages and the knowledge base, through the pages a
person uses."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agreements.models import FrictionComment, FrictionReport, PainPoint
from agreements.tests.builders import friction_counts
from agreements.tests.factories import (
    FrictionReportFactory,
    MembershipFactory,
    PainPointFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "chain")]

Status = FrictionReport.Status
PERSONAS = [
    "marketing_lead",
    "sales_lead",
    "sales_manager",
    "service_head",
    "executive",
    "outsider",
]


def url(name: str, *args: Any) -> str:
    return reverse(f"friction:{name}", args=args)


def kb(name: str, *args: Any) -> str:
    return reverse(f"knowledge:{name}", args=args)


def written() -> tuple:
    return (
        FrictionReport.objects.count(),
        FrictionReport.history.count(),
        FrictionComment.objects.count(),
        PainPoint.objects.count(),
        PainPoint.history.count(),
    )


def report_data(sales, service, **overrides: Any) -> dict[str, str]:
    data = {
        "reporting_team": str(sales.pk),
        "addressed_team": str(service.pk),
        "month": "2026-03",
        "customer": "Acme GmbH",
        "category": "billing",
        "severity": "high",
        "description": "Invoices arrive two weeks late.",
        "business_impact": "Renewal at risk.",
        "suggested_action": "Send invoices on the 1st.",
        "tags": "Billing, late invoices",
        "client_token": str(uuid.uuid4()),
    }
    data.update({k: str(v) for k, v in overrides.items()})
    return data


def body(response) -> str:
    return response.content.decode()


@pytest.fixture
def report(sales, service, sales_manager, service_head):
    return FrictionReportFactory(
        reporting_team=sales,
        addressed_team=service,
        addressed_to=service_head,
        created_by=sales_manager,
        customer="Acme GmbH",
    )


# --- Filing -------------------------------------------------------------------


def test_the_form_offers_the_teams_and_preselects_customer_service(
    client, sales_manager, sales, service, marketing
):
    client.force_login(sales_manager)
    form = client.get(url("create")).context["form"]
    assert list(form.fields["reporting_team"].queryset) == [sales]
    assert set(form.fields["addressed_team"].queryset) == {marketing, service}
    assert form["addressed_team"].value() == service.pk
    assert form["month"].value() == "2026-03"
    assert form["client_token"].value()


def test_a_sales_manager_files_a_report(
    client, sales_manager, service_head, sales, service
):
    client.force_login(sales_manager)
    response = client.post(url("create"), report_data(sales, service))
    report = FrictionReport.objects.get()
    assert response.status_code == 302
    assert response.url == url("detail", report.pk)
    assert (report.reporting_team, report.addressed_team, report.addressed_to) == (
        sales,
        service,
        service_head,
    )
    assert report.tags == "billing,late-invoices"
    page = body(client.get(response.url))
    assert "Report filed and sent to" in page
    assert "Waiting for" in page and "to acknowledge it" in page


def test_the_same_report_posted_twice_is_filed_once(
    client, sales_manager, sales, service
):
    client.force_login(sales_manager)
    data = report_data(sales, service)
    client.post(url("create"), data)
    client.post(url("create"), data)
    assert FrictionReport.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("customer", "", "This field is required."),
        ("description", "", "This field is required."),
        ("category", "weather", "Select a valid choice."),
        ("severity", "apocalyptic", "Select a valid choice."),
        ("month", "2026-02", "Select a valid choice."),
        ("tags", "x" * 41, "A tag can be at most 40 characters"),
    ],
)
def test_bad_reports_write_nothing(
    client, sales_manager, sales, service, field, value, message
):
    client.force_login(sales_manager)
    before = written()
    response = client.post(url("create"), report_data(sales, service, **{field: value}))
    assert response.status_code == 200
    assert message in body(response)
    assert written() == before


def test_a_report_to_a_team_without_an_agreement_is_refused(
    client, marketing_lead, marketing, service, sales
):
    client.force_login(marketing_lead)
    before = written()
    response = client.post(url("create"), report_data(marketing, service))
    assert response.status_code == 200
    assert "addressed_team" in response.context["form"].errors
    assert written() == before


def test_html_in_a_report_is_shown_escaped(client, sales_manager, sales, service):
    client.force_login(sales_manager)
    client.post(
        url("create"),
        report_data(
            sales,
            service,
            customer="<i>Acme</i>",
            description="<script>alert('x')</script>",
        ),
    )
    report = FrictionReport.objects.get()
    for address in (url("detail", report.pk), url("list")):
        page = body(client.get(address))
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
        assert "&lt;i&gt;Acme&lt;/i&gt;" in page


def test_the_report_month_may_be_last_month_while_in_grace(
    client, sales_manager, sales, service, frozen
):
    frozen.move_to(dt.datetime(2026, 4, 2, 10, 0, tzinfo=dt.UTC))
    client.force_login(sales_manager)
    response = client.post(url("create"), report_data(sales, service, month="2026-03"))
    assert response.status_code == 302
    assert FrictionReport.objects.get().month == dt.date(2026, 3, 1)


# --- Permission matrix ------------------------------------------------------------
# A report from Sales to Customer Service: read by both teams and executives;
# changed by Sales' leads while new; moved on by Customer Service's head.
READERS = {"sales_lead", "sales_manager", "service_head", "executive"}


def page_expectation(persona: str, page: str) -> int:
    if page in ("list", "kb_list"):
        return 403 if page == "kb_list" and persona == "outsider" else 200
    if page == "create":
        # Leads of a team with a signed agreement may file.
        return (
            200
            if persona
            in {"marketing_lead", "sales_lead", "sales_manager", "service_head"}
            else 403
        )
    if persona not in READERS:
        return 404
    if page == "edit":
        return 200 if persona in {"sales_lead", "sales_manager"} else 403
    return 200


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("page", ["list", "create", "detail", "edit", "kb_list"])
def test_page_matrix(client, request, report, persona, page):
    client.force_login(request.getfixturevalue(persona))
    address = {
        "list": url("list"),
        "create": url("create"),
        "detail": url("detail", report.pk),
        "edit": url("edit", report.pk),
        "kb_list": kb("list"),
    }[page]
    response = client.get(address)
    assert response.status_code == page_expectation(persona, page)
    if page == "list":
        shown = url("detail", report.pk) in body(response)
        assert shown is (persona in READERS)


ACTIONS = {
    # action: (data, who may, what changes)
    "status": (
        {"status": "acknowledged", "note": "On it"},
        {"service_head"},
        lambda r: r.status == Status.ACKNOWLEDGED,
    ),
    "comment": (
        {"body": "Which invoices?"},
        {"service_head"},
        lambda r: r.comments.filter(body="Which invoices?").exists(),
    ),
    "link": (
        {"new_title": "Late invoices", "new_category": "billing"},
        {"service_head"},
        lambda r: r.pain_point is not None,
    ),
    "edit": (
        None,
        {"sales_lead", "sales_manager"},
        lambda r: r.customer == "Globex",
    ),
    "delete": (
        {},
        {"sales_lead", "sales_manager"},
        lambda r: not FrictionReport.objects.filter(pk=r.pk).exists(),
    ),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_action_matrix(client, request, report, sales, service, persona, action):
    data, allowed, changed = ACTIONS[action]
    if data is None:
        data = report_data(sales, service, customer="Globex")
    client.force_login(request.getfixturevalue(persona))
    before = written()

    response = client.post(url(action, report.pk), data)

    if persona in allowed:
        assert response.status_code == 302
        if FrictionReport.objects.filter(pk=report.pk).exists():
            report.refresh_from_db()
        assert changed(report)
    else:
        assert response.status_code == (403 if persona in READERS else 404)
        assert written() == before


@pytest.mark.parametrize("action", ["status", "comment", "link"])
def test_report_actions_are_post_only(client, service_head, report, action):
    client.force_login(service_head)
    assert client.get(url(action, report.pk)).status_code == 405


# --- The report's life ------------------------------------------------------------


def test_the_head_moves_the_report_on_and_the_reporter_sees_it(
    client, report, service_head, sales_manager
):
    client.force_login(service_head)
    page = client.get(url("detail", report.pk))
    assert [v for v, _ in page.context["status_form"].fields["status"].choices] == [
        Status.ACKNOWLEDGED
    ]
    client.post(url("status", report.pk), {"status": "acknowledged", "note": ""})
    client.post(
        url("status", report.pk),
        {"status": "in_progress", "note": "Finance is on it <today>"},
    )
    client.post(url("comment", report.pk), {"body": "Fixed for <b>March</b> invoices"})

    client.force_login(sales_manager)
    response = client.get(url("detail", report.pk))
    page = body(response)
    assert 'data-status="in_progress"' in page
    kinds = [event.kind for event in response.context["timeline"]]
    assert kinds == ["filed", "status", "status", "comment"]
    assert "Finance is on it &lt;today&gt;" in page
    assert "Fixed for &lt;b&gt;March&lt;/b&gt; invoices" in page
    assert "status_form" not in response.context or not response.context["status_form"]
    assert url("status", report.pk) not in page
    listed = body(client.get(url("list") + "?box=filed"))
    assert 'data-status="in_progress"' in listed


def test_a_move_the_workflow_does_not_allow_is_explained(client, report, service_head):
    client.force_login(service_head)
    response = client.post(
        url("status", report.pk), {"status": "resolved", "note": ""}, follow=True
    )
    assert "can move to “acknowledged”, not to “resolved”" in body(response)
    report.refresh_from_db()
    assert report.status == Status.NEW


def test_wont_fix_needs_a_note(client, report, service_head):
    client.force_login(service_head)
    client.post(url("status", report.pk), {"status": "acknowledged"})
    response = client.post(
        url("status", report.pk), {"status": "wont_fix", "note": ""}, follow=True
    )
    assert "Say why it will not be fixed" in body(response)
    report.refresh_from_db()
    assert report.status == Status.ACKNOWLEDGED


def test_an_empty_comment_writes_nothing(client, report, service_head):
    client.force_login(service_head)
    client.post(url("comment", report.pk), {"body": "   "})
    assert not FrictionComment.objects.exists()


def test_an_acknowledged_report_can_no_longer_be_edited(
    client, report, service_head, sales_manager, sales, service
):
    client.force_login(service_head)
    client.post(url("status", report.pk), {"status": "acknowledged"})
    client.force_login(sales_manager)
    assert (
        "Edit"
        not in body(client.get(url("detail", report.pk)))
        .split('data-testid="actions"')[1]
        .split("</div>")[0]
    )
    before = written()
    response = client.post(
        url("edit", report.pk), report_data(sales, service, customer="Globex")
    )
    assert response.status_code == 200
    assert "has already acknowledged this report" in body(response)
    assert written() == before


def test_a_report_is_withdrawn_after_confirming(client, report, sales_manager):
    client.force_login(sales_manager)
    assert 'data-testid="confirm-delete"' in body(client.get(url("delete", report.pk)))
    assert FrictionReport.objects.exists()
    client.post(url("delete", report.pk))
    assert not FrictionReport.objects.exists()


def test_a_head_files_a_report_under_an_existing_pain_point(
    client, report, service_head
):
    pain_point = PainPointFactory(title="Late invoices")
    client.force_login(service_head)
    client.post(url("link", report.pk), {"pain_point": pain_point.pk})
    report.refresh_from_db()
    assert report.pain_point == pain_point
    timeline = body(client.get(url("detail", report.pk)))
    assert "filed under pain point “Late invoices”" in timeline
    # And takes it out again.
    client.post(url("link", report.pk), {"pain_point": ""})
    report.refresh_from_db()
    assert report.pain_point is None


def test_a_new_pain_point_with_a_taken_title_links_nothing(
    client, report, service_head
):
    PainPointFactory(title="Late invoices")
    client.force_login(service_head)
    before = written()
    response = client.post(
        url("link", report.pk),
        {"new_title": "late invoices", "new_category": "billing"},
        follow=True,
    )
    assert "already exists" in body(response)
    assert written() == before


def test_the_list_filters_and_searches(client, sales_manager, sales, service):
    FrictionReportFactory(
        reporting_team=sales,
        addressed_team=service,
        customer="Initech",
        category="billing",
        tags="invoices",
    )
    FrictionReportFactory(
        reporting_team=sales,
        addressed_team=service,
        customer="Globex",
        category="product",
        status="acknowledged",
        severity="critical",
    )
    client.force_login(sales_manager)

    def customers(query: str) -> set[str]:
        page = client.get(url("list") + query).context["page"]
        return {r.customer for r in page}

    assert customers("") == {"Initech", "Globex"}
    assert customers("?category=billing") == {"Initech"}
    assert customers("?status=acknowledged") == {"Globex"}
    assert customers("?severity=critical") == {"Globex"}
    assert customers("?tag=invoices") == {"Initech"}
    assert customers("?q=Initech") == {"Initech"}
    assert customers("?box=received") == set()
    assert customers("?status=nonsense") == {"Initech", "Globex"}


def test_the_list_takes_a_fixed_number_of_queries(
    client, sales_manager, sales, service
):
    client.force_login(sales_manager)
    client.get(url("list"))

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get(url("list"))
        return len(captured)

    FrictionReportFactory(reporting_team=sales, addressed_team=service)
    few = queries()
    for _ in range(20):
        FrictionReportFactory(
            reporting_team=sales,
            addressed_team=service,
            pain_point=PainPointFactory(),
        )
    assert queries() == few


def test_a_locked_reports_correction_is_for_the_reporting_teams_head(
    client, sales, service, sales_manager, sales_head
):
    report = FrictionReportFactory(
        reporting_team=sales, addressed_team=service, month=dt.date(2026, 2, 1)
    )
    client.force_login(sales_manager)
    assert client.get(url("correct", report.pk)).status_code == 403
    client.force_login(sales_head)
    response = client.post(
        url("correct", report.pk),
        {
            "action": "change",
            **{
                f"change-{k}": v
                for k, v in report_data(sales, service, customer="Initech").items()
            },
            "change-reason": "Wrong customer",
        },
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.customer == "Initech"
    timeline = body(client.get(url("detail", report.pk)))
    assert "Correction" in timeline and "Wrong customer" in timeline


# --- Knowledge base ------------------------------------------------------------------


@pytest.fixture
def pain_points(sales, service, marketing):
    invoices = PainPointFactory(title="Late invoices", category="billing")
    exports = PainPointFactory(title="Exports time out", category="product")
    for month, customer in [(1, "Acme"), (2, "Acme"), (3, "Globex")]:
        FrictionReportFactory(
            reporting_team=sales,
            addressed_team=service,
            pain_point=invoices,
            customer=customer,
            month=dt.date(2026, month, 1),
            tags="invoices",
            severity="high",
        )
    FrictionReportFactory(
        reporting_team=marketing,
        addressed_team=sales,
        pain_point=invoices,
        customer="Initech",
        status="acknowledged",
    )
    FrictionReportFactory(
        reporting_team=sales,
        addressed_team=service,
        pain_point=exports,
        customer="Umbrella",
        category="product",
        description="The export spins forever.",
    )
    return invoices, exports


def test_the_knowledge_base_counts_reports_customers_and_teams(
    client, sales_manager, pain_points
):
    client.force_login(sales_manager)
    response = client.get(kb("list"))
    rows = {
        s.pain_point.title: (s.reports, s.customers, s.teams)
        for s in response.context["summaries"]
    }
    assert rows == {"Late invoices": (4, 3, 2), "Exports time out": (1, 1, 1)}
    page = body(response)
    assert page.count('class="sp-sparkline"') == 2
    assert (
        'aria-label="Reports per month: Oct: 0, Nov: 0, Dec: 0, Jan: 1, Feb: 1, Mar: 2"'
        in page
    )
    assert "invoices <span" in page  # the tag cloud


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ("?category=product", {"Exports time out"}),
        ("?tag=invoices", {"Late invoices"}),
        ("?severity=high", {"Late invoices"}),
        ("?status=acknowledged", {"Late invoices"}),
        ("?q=spins", {"Exports time out"}),
        ("?q=invoices", {"Late invoices"}),
        ("?q=nothing-like-this", set()),
    ],
)
def test_the_knowledge_base_filters_and_searches(
    client, sales_manager, pain_points, query, titles
):
    client.force_login(sales_manager)
    response = client.get(kb("list") + query)
    assert {s.pain_point.title for s in response.context["summaries"]} == titles


def test_a_pain_point_lists_only_the_reports_the_person_may_read(
    client, service_head, pain_points
):
    invoices, _ = pain_points
    client.force_login(service_head)
    response = client.get(kb("detail", invoices.pk))
    assert response.status_code == 200
    assert len(response.context["reports"]) == 3
    assert response.context["hidden_reports"] == 1  # Marketing → Sales
    assert "1 more report between other teams" in body(response)


def test_knowledge_base_pages_refuse_outsiders(client, outsider, pain_points):
    invoices, _ = pain_points
    client.force_login(outsider)
    assert client.get(kb("list")).status_code == 403
    assert client.get(kb("detail", invoices.pk)).status_code == 403
    assert client.get(kb("merge", invoices.pk)).status_code == 403


def test_only_heads_curate_pain_points(
    client, sales_manager, service_head, pain_points
):
    invoices, exports = pain_points
    client.force_login(sales_manager)
    assert client.get(kb("create")).status_code == 403
    assert client.get(kb("edit", invoices.pk)).status_code == 403
    before = written()
    response = client.post(
        kb("merge", exports.pk), {"target": invoices.pk, "confirm": "True"}
    )
    assert response.status_code == 403
    assert written() == before
    client.force_login(service_head)
    assert client.get(kb("create")).status_code == 200


def test_a_head_adds_and_edits_a_pain_point(client, service_head):
    client.force_login(service_head)
    response = client.post(
        kb("create"),
        {"title": "<b>SSO</b> takes weeks", "category": "onboarding"},
    )
    pain_point = PainPoint.objects.get()
    assert response.url == kb("detail", pain_point.pk)
    assert "&lt;b&gt;SSO&lt;/b&gt; takes weeks" in body(client.get(response.url))
    client.post(
        kb("edit", pain_point.pk),
        {"title": "SSO takes weeks", "category": "onboarding", "description": "x"},
    )
    pain_point.refresh_from_db()
    assert pain_point.title == "SSO takes weeks"
    duplicate = client.post(
        kb("create"), {"title": "sso takes weeks", "category": "onboarding"}
    )
    assert "already exists" in body(duplicate)
    assert PainPoint.objects.count() == 1


def test_merging_asks_for_confirmation_then_moves_the_reports(
    client, service_head, pain_points
):
    invoices, exports = pain_points
    client.force_login(service_head)
    step = client.post(kb("merge", exports.pk), {"target": invoices.pk})
    assert step.status_code == 200
    assert step.context["confirming"]
    assert "1 report moves to it; it will then have 5." in body(step)
    exports.refresh_from_db()
    assert exports.merged_into is None  # nothing merged yet

    done = client.post(
        kb("merge", exports.pk), {"target": invoices.pk, "confirm": "True"}
    )
    assert done.url == kb("detail", invoices.pk)
    exports.refresh_from_db()
    assert exports.merged_into == invoices
    assert invoices.reports.count() == 5
    # The old page leads to the one it was merged into.
    assert client.get(kb("detail", exports.pk)).url == kb("detail", invoices.pk)


def test_merging_needs_a_target(client, service_head, pain_points):
    _, exports = pain_points
    client.force_login(service_head)
    response = client.post(kb("merge", exports.pk), {"target": ""})
    assert "Choose the pain point to merge into." in body(response)
    assert not PainPoint.objects.exclude(merged_into=None).exists()


def test_a_pain_point_cannot_be_merged_into_itself(client, service_head, pain_points):
    _, exports = pain_points
    client.force_login(service_head)
    response = client.post(kb("merge", exports.pk), {"target": exports.pk})
    assert "target" in response.context["form"].errors


def test_a_head_cannot_move_reports_addressed_to_another_team(
    client, service_head, pain_points
):
    invoices, exports = pain_points  # invoices holds a report addressed to Sales
    client.force_login(service_head)
    before = friction_counts()
    response = client.post(kb("merge", invoices.pk), {"target": exports.pk})
    assert response.status_code == 403
    assert friction_counts() == before
    page = body(client.get(kb("detail", invoices.pk)))
    assert kb("merge", invoices.pk) not in page  # no button for it either


def test_heads_see_reports_waiting_for_a_pain_point(client, service_head, report):
    client.force_login(service_head)
    page = body(client.get(kb("list")))
    assert 'data-testid="unfiled"' in page
    assert url("detail", report.pk) in page


def test_the_knowledge_base_takes_a_fixed_number_of_queries(
    client, sales_manager, sales, service
):
    client.force_login(sales_manager)
    client.get(kb("list"))

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get(kb("list"))
        return len(captured)

    FrictionReportFactory(
        reporting_team=sales, addressed_team=service, pain_point=PainPointFactory()
    )
    few = queries()
    for _ in range(15):
        FrictionReportFactory(
            reporting_team=sales, addressed_team=service, pain_point=PainPointFactory()
        )
    assert queries() == few


def test_a_member_who_heads_nothing_reads_but_does_not_curate(
    client, sales, pain_points
):
    member = MembershipFactory(team=sales, role="member").user
    client.force_login(member)
    page = body(client.get(kb("list")))
    assert "Late invoices" in page
    assert kb("create") not in page
