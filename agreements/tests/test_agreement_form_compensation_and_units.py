"""The agreement form asks once what happens when an objective is missed
(in words, a structured remedy, or both), and offers each objective only the
units that fit how it is measured."""

from __future__ import annotations

import json
import re

import pytest

from agreements.models import Agreement, Objective
from agreements.tests.agreement_pages import editor_data, url

pytestmark = pytest.mark.django_db


def label_of(page: str, field_id: str) -> str:
    match = re.search(rf'<label[^>]*for="{field_id}"[^>]*>(.*?)</label>', page, re.S)
    assert match, field_id
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", match.group(1))).strip()


def test_compensation_is_one_group_and_neither_part_is_starred(client, marketing_lead):
    client.force_login(marketing_lead)
    page = client.get(url("create")).content.decode()
    group = page[page.index('data-testid="compensation"') :]
    group = group[: group.index("</fieldset>")]
    assert "<legend" in group and "When an objective is missed" in group
    assert "id_compensation_clause" in group and "id_remedy" in group
    assert label_of(page, "id_compensation_clause") == "In words"
    assert label_of(page, "id_remedy") == "Structured remedy"


def test_a_structured_remedy_alone_is_enough(client, marketing_lead, marketing, sales):
    client.force_login(marketing_lead)
    response = client.post(
        url("create"),
        editor_data(
            provider=marketing,
            consumer=sales,
            compensation_clause="",
            remedy="make_up",
            objectives=[{"name": "Leads", "metric_source": "leads_delivered"}],
        ),
    )
    assert response.status_code == 302
    agreement = Agreement.objects.get()
    assert agreement.compensation_clause == ""
    assert agreement.remedy == Agreement.Remedy.MAKE_UP


def test_neither_words_nor_a_remedy_is_refused(
    client, marketing_lead, marketing, sales
):
    client.force_login(marketing_lead)
    response = client.post(
        url("create"),
        editor_data(
            provider=marketing,
            consumer=sales,
            compensation_clause=" ",
            remedy="none",
            objectives=[{"name": "Leads", "metric_source": "leads_delivered"}],
        ),
    )
    assert response.status_code == 200
    assert "Say what happens when an objective is missed" in response.content.decode()
    assert not Agreement.objects.exists()


@pytest.mark.parametrize(
    ("source", "unit", "message"),
    [
        ("leads_delivered", "percent", "are counted: use count"),
        ("customers_closed", "money", "are counted: use count"),
        ("availability", "count", "a share of requests or of time: use %"),
    ],
)
def test_a_unit_that_does_not_fit_the_source_is_refused(
    client, marketing_lead, marketing, sales, source, unit, message
):
    client.force_login(marketing_lead)
    response = client.post(
        url("create"),
        editor_data(
            provider=marketing,
            consumer=sales,
            objectives=[{"name": "Figure", "metric_source": source, "unit": unit}],
        ),
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Agreement.objects.exists()


def test_the_editor_knows_which_units_fit_each_source(client, marketing_lead):
    client.force_login(marketing_lead)
    page = client.get(url("create")).content.decode()
    match = re.search(r"data-units=\"([^\"]+)\"", page)
    assert match
    units = json.loads(match.group(1).replace("&quot;", '"'))
    assert units["qualified_leads"] == ["count"]
    assert units["request_times"] == ["percent"]
    assert set(units["manual"]) == set(Objective.Unit.values)
    assert set(units) == set(Objective.Source.values)
