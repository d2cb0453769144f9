"""The log form shows each objective the entry feeds: its target, the month
so far (the scorecard engine's own figure) and what the entry will make it."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from agreements import standing
from agreements.tests.factories import LeadLogEntryFactory
from agreements.tests.moments import THIS_MONTH

pytestmark = pytest.mark.django_db


def preview_of(content: str) -> str:
    match = re.search(r'data-testid="month-preview">(.*?)</ul>', content, re.S)
    assert match, "no month preview on the page"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1)))


@pytest.fixture
def logged(frozen, chain, marketing, marketing_lead):
    return LeadLogEntryFactory(
        team=marketing,
        date=THIS_MONTH.replace(day=5),
        leads_delivered=12,
        qualified_leads=5,
        created_by=marketing_lead,
    )


def test_the_log_form_shows_target_and_month_so_far(
    client, logged, chain, marketing, marketing_lead
):
    client.force_login(marketing_lead)
    response = client.get(reverse("figures:leads_new", args=[marketing.slug]))
    text = preview_of(response.content.decode())
    lines = standing.team_lines(marketing, [THIS_MONTH])
    engine = lines[(chain.qualified_leads.pk, THIS_MONTH)].actual
    assert engine == 5
    assert "March 2026 so far" in response.content.decode()
    assert "Qualified leads Target: at least 40 So far 5 With this entry —" in text
    assert "So far 12" in text


def test_a_refused_entry_shows_what_it_would_have_made_the_month(
    client, logged, marketing, marketing_lead
):
    client.force_login(marketing_lead)
    response = client.post(
        reverse("figures:leads_new", args=[marketing.slug]),
        {"date": "", "leads_delivered": "10", "qualified_leads": "3"},
    )
    assert response.status_code == 200  # no date: not saved
    text = preview_of(response.content.decode())
    assert "Qualified leads Target: at least 40 So far 5 With this entry 8" in text
    assert "So far 12 With this entry 22" in text


def test_a_closed_customer_counts_one(client, frozen, chain, sales, sales_lead):
    client.force_login(sales_lead)
    response = client.get(reverse("figures:customers_new", args=[sales.slug]))
    text = preview_of(response.content.decode())
    assert "Customers Target: at least 10 So far 0 With this entry 1" in text
