"""Every GET filter form applies as it changes (htmx), swapping a region the
page has, and keeps its button for browsers without JavaScript."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def filter_forms(page: str) -> list[str]:
    return re.findall(r'<form method="get"[^>]*>.*?</form>', page, re.S)


@pytest.mark.parametrize(
    ("name", "args", "target"),
    [
        ("friction:list", [], "#sp-results"),
        ("knowledge:list", [], "#sp-results"),
        ("agreements:list", [], "#sp-results"),
        ("reports:dashboard", [], "main"),
    ],
)
def test_filter_forms_apply_as_they_change(
    client, executive, chain, name, args, target
):
    client.force_login(executive)
    page = client.get(reverse(name, args=args)).content.decode()
    forms = filter_forms(page)
    assert forms
    for form in forms:
        tag = form[: form.index(">") + 1]
        assert 'hx-trigger="change, submit"' in tag
        assert 'hx-push-url="true"' in tag
        assert f'hx-target="{target}"' in tag and f'hx-select="{target}"' in tag
        assert "sp-nojs-only" in form  # the button, for no JavaScript
    if target.startswith("#"):
        assert f'id="{target[1:]}"' in page


def test_the_figures_month_filter_applies_as_it_changes(
    client, frozen, chain, marketing, marketing_lead
):
    client.force_login(marketing_lead)
    page = client.get(reverse("figures:leads_list", args=[marketing.slug]))
    form = filter_forms(page.content.decode())[0]
    assert 'hx-trigger="change, submit"' in form and 'hx-target="main"' in form


def test_a_team_with_one_kind_of_figure_has_no_tab_bar(
    client, frozen, chain, sales, sales_lead
):
    client.force_login(sales_lead)
    page = client.get(reverse("figures:customers_list", args=[sales.slug]))
    body = page.content.decode()
    assert 'data-testid="figure-tabs"' not in body
    assert "Records</a>" in body
