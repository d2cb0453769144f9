"""The registry of figure kinds: each entry is complete, and what it leaves
out (its own form, its own list page) is built from its model and fields,
so that a new kind is one entry, one model and one migration."""

from __future__ import annotations

import dataclasses

import pytest
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from agreements.figures.forms import figure_forms
from agreements.figures.kinds import BY_SOURCE, KINDS, LEADS, kind_of
from agreements.figures.services import figure_prepare
from agreements.figures.urls import ROW_PAGES, TEAM_PAGES
from agreements.models import LeadLogEntry, Objective

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("slug", list(KINDS))
def test_each_kind_names_fields_its_model_has(slug):
    kind = KINDS[slug]
    model_fields = {field.name for field in kind.model._meta.get_fields()}
    assert set(kind.fields) <= model_fields
    assert kind.date_field in kind.fields
    assert [name for name, _ in kind.labels] == list(kind.fields)
    assert set(kind.long_fields) <= set(kind.fields)
    columns = [column.name for column in kind.import_columns]
    assert set(columns) <= set(kind.fields)
    assert kind.date_field in [c.name for c in kind.import_columns if c.required]
    assert set(kind.import_defaults) <= set(columns)
    assert kind.sources <= set(Objective.Source.values)
    assert all(BY_SOURCE[source] is kind for source in kind.sources)
    assert kind_of(kind.model()) is kind


@pytest.mark.parametrize("slug", list(KINDS))
def test_each_kind_has_every_page_and_a_form_of_its_fields(slug):
    kind = KINDS[slug]
    for page in TEAM_PAGES:
        assert reverse(f"figures:{slug}_{page}", args=["marketing"])
    for page in ROW_PAGES:
        assert kind.url(page, 1) == reverse(f"figures:{slug}_{page}", args=[1])
    edit, create, correct = figure_forms(kind)
    assert list(edit.base_fields) == list(kind.fields)
    assert set(create.base_fields) == {*kind.fields, "client_token"}
    assert set(correct.base_fields) == {*kind.fields, "reason"}


def test_a_kind_without_a_form_gets_one_built_from_its_model(
    marketing, marketing_lead, frozen
):
    kind = dataclasses.replace(LEADS, form=None)
    edit, create, correct = figure_forms(kind)
    assert list(edit.base_fields) == list(LEADS.fields)
    assert "client_token" in create.base_fields
    assert "reason" in correct.base_fields
    form = edit({"date": "2026-03-10", "leads_delivered": "12", "qualified_leads": "3"})
    assert form.is_valid(), form.errors
    assert form.values()["leads_delivered"] == 12
    assert form.values()["source"] == ""
    assert "date" in edit({"leads_delivered": "5"}).errors
    # The model's own checks are the service's, as for every kind.
    form = edit({"date": "2026-03-10", "leads_delivered": "-1", "qualified_leads": "0"})
    assert form.is_valid(), form.errors
    with pytest.raises(ValidationError) as refused:
        figure_prepare(kind, team=marketing, user=marketing_lead, **form.values())
    assert refused.value.message_dict["leads_delivered"] == [
        "Leads cannot be negative."
    ]


def test_the_list_of_a_kind_without_its_own_page_shows_its_fields(
    marketing, marketing_lead, entry, frozen
):
    request = RequestFactory().get("/")
    request.user = marketing_lead
    html = render_to_string(
        "figures/rows.html",
        {
            "team": marketing,
            "kind": LEADS,
            "tabs": [],
            "month": None,
            "totals": {"count": 1},
            "page": Paginator(LeadLogEntry.objects.all(), 10).page(1),
            "may_submit": True,
            "may_correct": False,
        },
        request=request,
    )
    for _, label in LEADS.labels:
        assert f'<th scope="col">{label}</th>' in html
    assert f'href="{LEADS.url("detail", entry.pk)}">10 March 2026</a>' in html
    assert f'href="{LEADS.url("edit", entry.pk)}"' in html
    assert "1</span> lead log entry" in html
    assert LEADS.intro in html
