"""The friction list names the teams a report goes between without saying the
same thing on every row."""

from __future__ import annotations

import re

from agreements.friction.tests.friction_pages import url
from agreements.tests.factories import FrictionReportFactory


def rows_teams(page: str) -> list[str]:
    return re.findall(r'data-label="Teams">([^<]+)<', page)


def test_one_direction_is_said_once_above_the_list(
    client, sales, service, sales_manager
):
    for customer in ("Acme", "Globex", "Initech"):
        FrictionReportFactory(
            reporting_team=sales, addressed_team=service, customer=customer
        )
    client.force_login(sales_manager)
    page = client.get(url("list")).content.decode()

    assert "All from Sales to Customer Service." in page
    assert "Sales → Customer Service" not in page
    assert rows_teams(page) == []
    # One date per row: the age, not the filing date as well.
    assert "filed " not in page


def test_each_row_names_only_the_other_team_when_directions_differ(
    client, marketing, sales, service, sales_manager
):
    FrictionReportFactory(reporting_team=sales, addressed_team=service, customer="Acme")
    FrictionReportFactory(
        reporting_team=marketing, addressed_team=sales, customer="Globex"
    )
    client.force_login(sales_manager)
    page = client.get(url("list")).content.decode()

    assert "All from" not in page
    assert sorted(rows_teams(page)) == ["from Marketing", "to Customer Service"]


def test_an_executive_reads_both_teams_of_each_row(
    client, marketing, sales, service, executive
):
    FrictionReportFactory(reporting_team=sales, addressed_team=service, customer="Acme")
    FrictionReportFactory(
        reporting_team=marketing, addressed_team=sales, customer="Globex"
    )
    client.force_login(executive)
    page = client.get(url("list")).content.decode()

    assert sorted(rows_teams(page)) == [
        "Marketing → Sales",
        "Sales → Customer Service",
    ]
