"""Recognising HubSpot's and Salesforce's columns of a lead by their names."""

from __future__ import annotations

from pathlib import Path

import pytest

from agreements.imports import (
    HUBSPOT_LEADS,
    LEAD_FIELDS,
    SALESFORCE_LEADS,
    CsvTable,
    header_key,
    match_headers,
    preset_for,
    read_export,
)

FIXTURES = Path(__file__).parent / "fixtures"


def header(name: str) -> list[str]:
    table = read_export(
        (FIXTURES / name).read_bytes(), max_bytes=1024 * 1024, max_rows=100
    )
    assert isinstance(table, CsvTable)
    return table.header


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Record ID", "recordid"),
        ("record_id", "recordid"),
        (' "Record-Id" ', "recordid"),
        ("Company / Account", "companyaccount"),
        (
            'Date entered "Lead (Lifecycle Stage Pipeline)"',
            "dateenteredleadlifecyclestagepipeline",
        ),
        (
            "Date entered “Lead (Lifecycle Stage Pipeline)”",
            "dateenteredleadlifecyclestagepipeline",
        ),
        ("Création", "creation"),
        ("Straße", "strasse"),
    ],
)
def test_names_are_compared_without_case_accents_spaces_punctuation_or_quotes(
    name, key
):
    assert header_key(name) == key


def test_a_hubspot_contacts_export_is_recognised():
    matched = match_headers(
        header("hubspot-crm-exports-all-contacts-2026-03-02.csv"), HUBSPOT_LEADS
    )
    assert matched == {
        "external_id": "Record ID",
        "started_at": "Create Date",
        "owner": "Contact owner",
        "email": "Email",
        "status": "Lead Status",
        "updated_at": "Last Activity Date",
        "company": "Associated Company",
        "first_name": "First Name",
        "last_name": "Last Name",
    }


def test_an_all_properties_export_gives_the_lifecycle_dates():
    matched = match_headers(header("hubspot-all-properties-bom.csv"), HUBSPOT_LEADS)
    assert {name: matched.get(name) for name in LEAD_FIELDS[5:9]} == {
        "stage": "Lifecycle Stage",
        "qualified_at": "Became a Marketing Qualified Lead Date",
        "became_sql_at": "Became a Sales Qualified Lead Date",
        "owner_assigned_at": "Owner Assigned Date",
    }
    # Becoming a lead is the hand-over.
    assert matched["started_at"] == "Became a Lead Date"


def test_an_older_hubspot_export_names_its_id_contact_id():
    matched = match_headers(header("hubspot-contacts-excel-resaved.csv"), HUBSPOT_LEADS)
    assert matched["external_id"] == "Contact ID"


def test_the_pipeline_column_is_found_where_the_became_date_is_missing():
    matched = match_headers(
        ['Date entered ""Marketing Qualified Lead (Lifecycle Stage Pipeline)""'],
        HUBSPOT_LEADS,
    )
    assert list(matched) == ["qualified_at"]


def test_a_salesforce_leads_report_is_recognised():
    matched = match_headers(header("salesforce-leads-lightning.csv"), SALESFORCE_LEADS)
    assert matched == {
        "external_id": "Lead ID",
        "started_at": "Create Date",
        "owner": "Lead Owner",
        "email": "Email",
        "status": "Lead Status",
        "company": "Company / Account",
        "first_name": "First Name",
        "last_name": "Last Name",
    }


def test_each_column_serves_one_field_and_taken_columns_none():
    aliases = {"status": ("Lead Status", "Status"), "stage": ("Status",)}
    assert match_headers(["status", "Lead status"], aliases) == {
        "status": "Lead status",
        "stage": "status",
    }
    assert match_headers(["Status"], aliases, taken=["Status"]) == {}


def test_of_two_columns_with_one_name_the_first_is_matched():
    assert match_headers(["E-mail", "Email"], {"email": ("Email",)}) == {
        "email": "E-mail"
    }


@pytest.mark.parametrize(
    ("name", "preset"),
    [
        ("hubspot-crm-exports-all-contacts-2026-03-02.csv", "hubspot"),
        ("hubspot-contacts-excel-resaved.csv", "hubspot"),
        ("salesforce-leads-lightning.csv", "salesforce"),
        ("salesforce-leads-classic-de.csv", "salesforce"),
        ("excel-de-semicolons.csv", None),
    ],
)
def test_the_tool_an_export_comes_from_is_recognised_by_its_columns(name, preset):
    assert preset_for(header(name)) == preset


def test_every_alias_table_names_lead_fields_only():
    assert set(HUBSPOT_LEADS) == set(LEAD_FIELDS)
    assert set(SALESFORCE_LEADS) < set(LEAD_FIELDS)
