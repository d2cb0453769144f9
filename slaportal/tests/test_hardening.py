"""What an attacker or a careless user tried, and what the portal does now:
bounded dates, numbers that are numbers, plain text in names, headers, log-in
lock-outs, failed tokens counted, the schema's promises kept, pain points
merged only by those whose reports they hold."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.urls import reverse

from agreements import periods
from agreements.models import Agreement, FrictionReport, LeadLogEntry, PainPoint
from agreements.tests.builders import draft, friction_counts
from agreements.tests.factories import (
    FrictionReportFactory,
    PainPointFactory,
    TeamFactory,
)
from conftest import PASSWORD, make_member

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 15, 12, 0, tzinfo=dt.UTC)
AGREEMENTS = reverse("api:v1:agreement-list")
LEADS = reverse("api:v1:lead-log-entry-list")
BREACHES = reverse("api:v1:breach-list")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def agreement_body(marketing, sales, **overrides):
    return {
        "provider": marketing.pk,
        "consumer": sales.pk,
        "title": "Leads",
        "effective_from": "2026-03-01",
        "compensation_clause": "Make it up.",
        "objectives": [
            {
                "name": "Leads",
                "metric_source": "leads_delivered",
                "comparator": "at_least",
                "target": "100",
                "unit": "count",
                "weight": "1",
            }
        ],
        **overrides,
    }


# --- 1. Dates ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "status"),
    [
        # Outside the range the schema's pattern states: a 400.
        ({"effective_from": "0001-01-01"}, "effective_from", 400),
        ({"effective_from": "1900-01-01"}, "effective_from", 400),
        ({"effective_from": "9999-12-31"}, "effective_from", 400),
        ({"effective_to": "9999-12-31"}, "effective_to", 400),
        # Before the start: a rule between two fields, a 422.
        ({"review_on": "2026-02-01"}, "review_on", 422),
    ],
)
def test_agreement_dates_outside_the_kept_range_are_refused(
    api_client, marketing_lead, marketing, sales, overrides, field, status
):
    api_client.force_login(marketing_lead)
    response = api_client.post(
        AGREEMENTS, agreement_body(marketing, sales, **overrides), format="json"
    )
    assert response.status_code == status
    assert field in response.json()["error"]["fields"]
    assert not Agreement.objects.exists()


def test_the_editor_refuses_a_date_near_year_9999(
    client, marketing_lead, marketing, sales
):
    client.force_login(marketing_lead)
    data = {
        "title": "Leads",
        "provider": marketing.pk,
        "consumer": sales.pk,
        "effective_from": "9999-12-31",
        "compensation_clause": "Make it up.",
        "remedy": "none",
        "objectives-TOTAL_FORMS": "0",
        "objectives-INITIAL_FORMS": "0",
    }
    response = client.post(reverse("agreements:create"), data)
    assert response.status_code == 200
    assert "2000-01-01 to 2100-12-31" in response.content.decode()
    assert not Agreement.objects.exists()


def test_an_agreement_cannot_start_more_than_a_year_before_its_proposal(
    marketing_lead, marketing, sales
):
    from django.core.exceptions import ValidationError

    from agreements.services import agreement_propose

    old = draft(
        user=marketing_lead,
        provider=marketing,
        consumer=sales,
        effective_from=dt.date(2025, 2, 1),
    )
    with pytest.raises(ValidationError) as caught:
        agreement_propose(agreement=old, user=marketing_lead)
    assert "more than 12 months before it is proposed" in str(caught.value)
    old.refresh_from_db()
    assert old.status == Agreement.Status.DRAFT
    recent = draft(
        user=marketing_lead,
        provider=marketing,
        consumer=sales,
        title="Recent",
        effective_from=dt.date(2025, 3, 1),
    )
    assert agreement_propose(agreement=recent, user=marketing_lead).status == (
        "proposed"
    )


# --- 4. A signalling NaN ------------------------------------------------------


@pytest.mark.parametrize("weight", ["sNaN", "NaN", "-sNaN", "Infinity"])
def test_a_weight_that_is_not_a_number_is_a_clear_error(
    client, marketing_lead, marketing, sales, weight
):
    client.force_login(marketing_lead)
    data = {
        "title": "Leads",
        "provider": marketing.pk,
        "consumer": sales.pk,
        "effective_from": "2026-03-01",
        "compensation_clause": "Make it up.",
        "remedy": "none",
        "objectives-TOTAL_FORMS": "1",
        "objectives-INITIAL_FORMS": "0",
        "objectives-0-name": "Leads",
        "objectives-0-metric_source": "leads_delivered",
        "objectives-0-comparator": "at_least",
        "objectives-0-target": "100",
        "objectives-0-unit": "count",
        "objectives-0-weight": weight,
    }
    response = client.post(reverse("agreements:create"), data)
    assert response.status_code == 200
    assert "Enter a number." in response.content.decode()
    assert not Agreement.objects.exists()


# --- 6. Headers ---------------------------------------------------------------


def test_pages_carry_a_strict_csp_and_a_permissions_policy(client, marketing_lead):
    response = client.get(reverse("login"))
    policy = dict(
        part.strip().split(" ", 1)
        for part in response["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == "'self'"  # no inline script, no eval
    assert "unsafe" not in policy["style-src"] + policy["default-src"]
    assert policy["frame-ancestors"] == "'none'"
    assert "camera=()" in response["Permissions-Policy"]


def test_an_inline_style_carries_the_responses_nonce(client, marketing_lead, chain):
    client.force_login(marketing_lead)
    response = client.get(reverse("reports:scorecard_print", args=[chain.leads.pk]))
    policy = response["Content-Security-Policy"]
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'<style nonce="{nonce}">' in response.content.decode()


def test_signed_in_pages_and_exports_are_not_stored(client, marketing_lead, chain):
    client.force_login(marketing_lead)
    for url in (
        reverse("home"),
        reverse("reports:scorecard_csv", args=[chain.leads.pk]),
        reverse("api:v1:me"),
        reverse("reports:dashboard_csv"),
    ):
        response = client.get(url)
        directives = {d.strip() for d in response["Cache-Control"].split(",")}
        assert {"private", "no-store"} <= directives, url


# --- 7. Log-in lock-out -------------------------------------------------------


def _log_in(client, username: str, password: str, address: str):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def test_a_username_is_locked_after_failures_from_any_addresses(client, marketing_lead):
    for n in range(5):
        _log_in(client, "marketing-lead", "wrong guess", f"10.0.0.{n}")
    # The right password, from yet another address: still locked.
    response = _log_in(client, "marketing-lead", PASSWORD, "10.0.0.99")
    assert response.status_code in (403, 429)
    assert "logging in as this user is paused" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_each_further_lock_out_doubles_the_cool_off(client, marketing_lead, frozen):
    from django.test import RequestFactory

    from slaportal.lockout import cool_off

    request = RequestFactory().post("/accounts/login/", {"username": "marketing-lead"})
    assert cool_off(request) == dt.timedelta(minutes=15)
    for round_ in range(2):
        for n in range(5):
            _log_in(client, "marketing-lead", "wrong", f"10.1.{round_}.{n}")
        frozen.shift(dt.timedelta(hours=1))
    assert cool_off(request) == dt.timedelta(minutes=30)


def test_one_address_spraying_many_usernames_is_stopped(client, db):
    for n in range(20):
        _log_in(client, f"user{n}", "Summer2026!", "10.9.9.9")
    response = _log_in(client, "someone-else", "Summer2026!", "10.9.9.9")
    assert response.status_code == 429
    assert "from your address" in response.content.decode()
    # Another address is not affected.
    assert _log_in(client, "someone-else", "x", "10.9.9.10").status_code == 200


def test_wrong_tokens_count_against_the_anonymous_limit(client, settings, db):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/minute", "user": "1000/minute"},
    }
    statuses = [
        client.get(
            reverse("api:v1:me"), HTTP_AUTHORIZATION=f"Bearer slp_guess{n}"
        ).status_code
        for n in range(5)
    ]
    assert statuses == [401, 401, 401, 429, 429]


# --- 8. Text and counts -------------------------------------------------------


@pytest.mark.parametrize(
    "title", ["Leads\nfor sales", "Leads\rfor sales", "Leads\x07", "Leads\u2028more"]
)
def test_a_single_line_field_refuses_line_breaks_and_control_characters(
    api_client, marketing_lead, marketing, sales, title
):
    api_client.force_login(marketing_lead)
    response = api_client.post(
        AGREEMENTS, agreement_body(marketing, sales, title=title), format="json"
    )
    assert response.status_code == 400
    assert "title" in response.json()["error"]["fields"]
    assert not Agreement.objects.exists()


def test_a_multi_line_field_keeps_its_line_breaks(
    api_client, marketing_lead, marketing, sales
):
    api_client.force_login(marketing_lead)
    body = agreement_body(marketing, sales, summary="Two lines:\nthis one.\r\nOK\t.")
    assert api_client.post(AGREEMENTS, body, format="json").status_code == 201
    bell = agreement_body(marketing, sales, title="Other", summary="Ring\x07")
    response = api_client.post(AGREEMENTS, bell, format="json")
    assert response.status_code == 400
    assert "summary" in response.json()["error"]["fields"]


def test_a_days_lead_count_has_an_upper_bound(api_client, marketing_lead, chain):
    api_client.force_login(marketing_lead)
    body = {"team": chain.leads.provider_id, "date": "2026-03-10"}
    response = api_client.post(
        LEADS, {**body, "leads_delivered": 999_999}, format="json"
    )
    assert response.status_code == 400
    assert "leads_delivered" in response.json()["error"]["fields"]
    assert not LeadLogEntry.objects.exists()
    ok = api_client.post(LEADS, {**body, "leads_delivered": 10_000}, format="json")
    assert ok.status_code == 201


# --- 9. The schema's promises -------------------------------------------------


def test_the_schema_documents_what_the_server_enforces(client):
    schema = json.loads(client.get(reverse("api:schema"), {"format": "json"}).content)
    bulk = schema["paths"]["/api/v1/lead-log-entries/bulk/"]["post"]
    body = bulk["requestBody"]["content"]["application/json"]["schema"]
    assert (body["minItems"], body["maxItems"]) == (1, 500)
    key = next(p for p in bulk["parameters"] if p["name"] == "Idempotency-Key")
    assert key["schema"]["pattern"] == r"^[!-~]{1,255}$"
    listing = schema["paths"]["/api/v1/agreements/"]["get"]["parameters"]
    size = next(p for p in listing if p["name"] == "page_size")
    assert (size["schema"]["minimum"], size["schema"]["maximum"]) == (1, 100)
    title = next(p for p in listing if p["name"] == "title")["schema"]
    # Not blank, and no NUL (which Django's form fields refuse).
    assert (title["minLength"], title["maxLength"], title["pattern"]) == (
        1,
        150,
        r"^[^\x00]*[^\x00\s][^\x00]*$",
    )
    team = next(p for p in listing if p["name"] == "team")["schema"]
    assert (team["type"], team["minimum"]) == ("integer", 1)
    ordering = next(p for p in listing if p["name"] == "ordering")["schema"]
    assert ordering["minItems"] == 1
    parts = schema["components"]["schemas"]
    customer = parts["ClosedCustomerInputRequest"]["properties"]
    # Not negative, at least one digit, at most 12 whole digits and 2 places.
    assert (
        customer["deal_value"]["pattern"] == r"^(?:\d{1,12}(?:\.\d{0,2})?|\.\d{1,2})$"
    )
    assert customer["closed_on"]["pattern"] == periods.DAY_PATTERN
    assert "\\x00-\\x1f" in customer["customer"]["pattern"]
    objectives = parts["AgreementInputRequest"]["properties"]["objectives"]
    assert objectives["maxItems"] == 30
    months = schema["paths"]["/api/v1/breaches/"]["get"]["parameters"]
    after = next(p for p in months if p["name"] == "month_after")["schema"]
    assert after["pattern"] == periods.MONTH_PATTERN


@pytest.mark.parametrize(
    "query",
    [
        {"page_size": "null"},
        {"page_size": "0"},
        {"page_size": "101"},
        {"page": ""},
        {"page": "0"},
        {"page": "two"},
        {"ordering": "junk"},
        {"ordering": "title,-nonsense"},
        {"ordering": ""},
        {"status": ""},
        {"team": ""},
        {"team": "0"},
        {"team": str(2**63)},
        {"title": "   "},
        {"title": "x" * 151},
    ],
)
def test_what_the_schema_calls_invalid_is_a_400(api_client, marketing_lead, query):
    api_client.force_login(marketing_lead)
    response = api_client.get(AGREEMENTS, query)
    assert response.status_code == 400, query
    assert set(response.json()["error"]["fields"]) == set(query)


@pytest.mark.parametrize("month", ["2026-13", "1999-12", "2101-01", "20%s-01", ""])
def test_a_month_outside_the_schemas_pattern_is_a_400(
    api_client, marketing_lead, month
):
    api_client.force_login(marketing_lead)
    response = api_client.get(BREACHES, {"month_after": month})
    assert response.status_code == 400, response.content
    assert list(response.json()["error"]["fields"]) == ["month_after"]


def test_a_scorecard_asked_for_with_an_empty_month_is_a_400(
    api_client, marketing_lead, chain
):
    api_client.force_login(marketing_lead)
    url = reverse("api:v1:scorecard")
    response = api_client.get(url, {"agreement": chain.leads.pk, "month": ""})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["month"]


def test_an_id_that_exists_nowhere_finds_nothing(api_client, marketing_lead, chain):
    api_client.force_login(marketing_lead)
    assert api_client.get(AGREEMENTS).json()["count"] > 0
    for query in ({"team": 999_999}, {"provider": 999_999}, {"consumer": 1 << 40}):
        response = api_client.get(AGREEMENTS, query)
        assert response.status_code == 200, query
        assert response.json()["count"] == 0
    response = api_client.get(LEADS, {"team": 999_999})
    assert (response.status_code, response.json()["count"]) == (200, 0)


def test_a_valid_request_the_portals_rules_refuse_is_a_422(
    api_client, marketing_lead, marketing, sales
):
    """The schema cannot know that a team exists or that the provider and the
    consumer must differ: such a request is a 422, not a 400."""
    api_client.force_login(marketing_lead)
    same = agreement_body(marketing, marketing)
    response = api_client.post(AGREEMENTS, same, format="json")
    assert response.status_code == 422
    missing = api_client.post(
        AGREEMENTS, {**agreement_body(marketing, sales), "consumer": 999_999}
    )
    assert missing.status_code == 422
    assert "consumer" in missing.json()["error"]["fields"]
    assert not Agreement.objects.exists()


def test_valid_paging_and_ordering_still_work(api_client, marketing_lead):
    api_client.force_login(marketing_lead)
    response = api_client.get(AGREEMENTS, {"page_size": 5, "ordering": "-title"})
    assert response.status_code == 200
    for page in ("1", "last"):
        assert api_client.get(AGREEMENTS, {"page": page}).status_code == 200
    # A page past the end is not found, as before.
    assert api_client.get(AGREEMENTS, {"page": "99"}).status_code == 404


# --- 10. Merging pain points --------------------------------------------------


@pytest.fixture
def pain(sales, service, marketing):
    """Two pain points made of reports from Sales to Customer Service."""
    a, b = PainPointFactory(title="Late invoices"), PainPointFactory(title="Invoices")
    for point in (a, b):
        FrictionReportFactory(
            reporting_team=sales, addressed_team=service, pain_point=point
        )
    return a, b


def test_a_head_of_another_team_cannot_merge_pain_points(api_client, pain):
    other = make_member("finance-head", TeamFactory(name="Finance"), "head")
    before = (friction_counts(), PainPoint.objects.filter(merged_into=None).count())
    api_client.force_login(other)
    source, target = pain
    response = api_client.post(
        reverse("api:v1:pain-point-merge", args=[source.pk]),
        {"target": target.pk},
        format="json",
    )
    assert response.status_code == 403
    assert (
        friction_counts(),
        PainPoint.objects.filter(merged_into=None).count(),
    ) == before


def test_the_addressed_head_or_an_executive_may_merge(
    api_client, pain, service_head, executive
):
    source, target = pain
    api_client.force_login(service_head)
    url = reverse("api:v1:pain-point-merge", args=[source.pk])
    assert api_client.post(url, {"target": target.pk}, format="json").status_code == 200
    assert FrictionReport.objects.filter(pain_point=target).count() == 2
    third = PainPointFactory(title="Slow invoices")
    api_client.force_login(executive)
    url = reverse("api:v1:pain-point-merge", args=[third.pk])
    assert api_client.post(url, {"target": target.pk}, format="json").status_code == 200


# --- Security log -------------------------------------------------------------


def test_a_refused_page_leaves_one_security_line_without_secrets(
    client, outsider, chain, caplog
):
    client.force_login(outsider)
    response = client.get(reverse("agreements:detail", args=[chain.leads.pk]))
    assert response.status_code == 404
    (line,) = [r for r in caplog.records if getattr(r, "event", "") == "access_refused"]
    assert (line.status, line.user_id) == (404, outsider.pk)
    assert client.cookies["sessionid"].value not in line.getMessage()


def test_a_token_never_reaches_the_logs(client, marketing_lead, api_token, caplog):
    token = api_token(marketing_lead)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    client.get(reverse("api:v1:me"), **headers)
    client.get(reverse("api:v1:agreement-detail", args=[999999]), **headers)
    client.get(reverse("api:v1:me"), HTTP_AUTHORIZATION=f"Bearer {token}x")
    assert caplog.records  # the refusals were logged
    for record in caplog.records:
        assert token not in record.getMessage() + repr(vars(record))
