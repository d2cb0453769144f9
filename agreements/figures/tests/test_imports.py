from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError

from agreements.figures import imports
from agreements.figures.imports import (
    COLUMNS,
    MAX_ROWS,
    ImportKind,
    RowError,
    import_commit,
    parse_csv,
    template_csv,
)
from agreements.models import ClosedCustomer, LeadLogEntry
from agreements.tests.moments import THIS_MONTH, local

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "chain")]

LEADS = ImportKind.LEAD_LOG
CUSTOMERS = ImportKind.CLOSED_CUSTOMERS


def _csv(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


def _written():
    return (
        LeadLogEntry.objects.count(),
        LeadLogEntry.history.count(),
        ClosedCustomer.objects.count(),
        ClosedCustomer.history.count(),
    )


GOOD_LEADS = _csv(
    "date,leads_delivered,qualified_leads,source,note",
    "2026-03-02,40,12,Spring webinar,",
    "2026-03-03,25,,Ads,<b>bold</b> claims",
)


# --- Columns and template ------------------------------------------------------


@pytest.mark.parametrize("kind", list(ImportKind))
def test_the_template_names_every_column_and_parses_cleanly(
    kind, marketing, sales, marketing_lead, sales_lead
):
    text = template_csv(kind)
    header = text.splitlines()[0].split(",")
    assert header == [c.name for c in COLUMNS[kind]]
    team, user = (marketing, marketing_lead) if kind == LEADS else (sales, sales_lead)
    preview = parse_csv(kind, text.encode(), team, user)
    assert preview.errors == []
    assert len(preview.rows) == 1


def test_every_column_is_documented():
    for columns in COLUMNS.values():
        for column in columns:
            assert column.help.endswith(".")
    assert MAX_ROWS == 5000


def test_an_unknown_kind_is_refused(marketing, marketing_lead):
    with pytest.raises(ValueError):
        parse_csv("invoices", GOOD_LEADS, marketing, marketing_lead)


# --- A good file ------------------------------------------------------------------


def test_a_good_lead_log_file_is_imported_in_one_go(marketing, marketing_lead):
    preview = parse_csv(LEADS, GOOD_LEADS, marketing, marketing_lead)
    assert preview.is_valid
    assert [r.row for r in preview.rows] == [2, 3]
    assert _written() == (0, 0, 0, 0)  # a preview writes nothing

    result = import_commit(preview, marketing_lead)

    assert len(result.created) == 2
    entries = list(LeadLogEntry.objects.order_by("date"))
    assert [(e.date, e.leads_delivered, e.qualified_leads) for e in entries] == [
        (dt.date(2026, 3, 2), 40, 12),
        (dt.date(2026, 3, 3), 25, 0),
    ]
    assert {e.month for e in entries} == {THIS_MONTH}
    assert entries[1].note == "<b>bold</b> claims"  # stored as written
    record = entries[0].history.get()
    assert record.history_user == marketing_lead
    assert record.history_change_reason == "imported from CSV (2 rows)"


def test_a_good_closed_customer_file_is_imported(sales, sales_lead):
    data = _csv(
        "customer,closed_on,deal_value,handover_notes",
        'Acme GmbH,2026-03-02,12000.50,"Wants SSO, soon"',
        "Initech,2026-03-04,,",
    )
    preview = parse_csv(CUSTOMERS, data, sales, sales_lead)
    assert preview.errors == []
    import_commit(preview, sales_lead)
    acme, initech = ClosedCustomer.objects.order_by("customer")
    assert (acme.deal_value, acme.handover_notes) == (
        Decimal("12000.50"),
        "Wants SSO, soon",
    )
    assert initech.deal_value == 0


def test_a_byte_order_mark_semicolons_and_header_case_are_accepted(
    marketing, marketing_lead
):
    data = "\ufeffDate; Leads Delivered ;qualified_leads\n2026-03-02;40;12\n"
    preview = parse_csv(LEADS, data.encode("utf-8"), marketing, marketing_lead)
    assert preview.errors == []
    assert preview.rows[0].instance.leads_delivered == 40


def test_excel_unicode_text_in_utf16_with_tabs_is_accepted(marketing, marketing_lead):
    data = "date\tleads_delivered\r\n2026-03-02\t4\r\n".encode("utf-16")
    preview = parse_csv(LEADS, data, marketing, marketing_lead)
    assert preview.errors == []
    assert preview.rows[0].instance.leads_delivered == 4


def test_blank_rows_are_skipped(marketing, marketing_lead):
    data = _csv("date,leads_delivered", "", "2026-03-02,4", ",", "2026-03-03,5")
    preview = parse_csv(LEADS, data, marketing, marketing_lead)
    assert preview.errors == []
    assert [r.row for r in preview.rows] == [3, 5]


# --- The same file twice ---------------------------------------------------------


def test_importing_the_same_file_twice_adds_its_rows_once(marketing, marketing_lead):
    import_commit(
        parse_csv(LEADS, GOOD_LEADS, marketing, marketing_lead), marketing_lead
    )
    before = _written()
    again = parse_csv(LEADS, GOOD_LEADS, marketing, marketing_lead)
    assert again.already_imported == 2
    result = import_commit(again, marketing_lead)
    assert (result.created, result.already_imported) == ([], 2)
    assert _written() == before


def test_confirming_one_preview_twice_imports_once(marketing, marketing_lead):
    preview = parse_csv(LEADS, GOOD_LEADS, marketing, marketing_lead)
    import_commit(preview, marketing_lead)
    result = import_commit(preview, marketing_lead)
    assert result.already_imported == 2
    assert LeadLogEntry.objects.count() == 2


# --- Whole-file problems -----------------------------------------------------------


def _file_errors(data: bytes, team, user, kind=LEADS) -> list[RowError]:
    preview = parse_csv(kind, data, team, user)
    assert not preview.rows
    assert not preview.is_valid
    return preview.errors


@pytest.mark.parametrize("data", [b"", b"   \r\n\r\n"])
def test_an_empty_file_is_refused(marketing, marketing_lead, data):
    assert _file_errors(data, marketing, marketing_lead) == [
        RowError(None, None, "The file is empty.")
    ]


def test_a_header_without_rows_has_nothing_to_import(marketing, marketing_lead):
    errors = _file_errors(_csv("date,leads_delivered"), marketing, marketing_lead)
    assert errors == [RowError(None, None, "The file has no rows to import.")]


def test_a_file_that_is_not_utf8_is_refused_with_the_row(marketing, marketing_lead):
    data = "date,leads_delivered,note\n2026-03-02,4,ok\n2026-03-03,5,Müller\n"
    (error,) = _file_errors(data.encode("latin-1"), marketing, marketing_lead)
    assert error.row == 3
    assert "not UTF-8" in error.message
    assert "CSV UTF-8" in error.message


def test_a_spreadsheet_file_is_refused(marketing, marketing_lead):
    (error,) = _file_errors(b"PK\x03\x04\x00\x00", marketing, marketing_lead)
    assert "CSV UTF-8" in error.message


def test_wrong_and_missing_columns_are_named(marketing, marketing_lead):
    data = _csv("date,leads,qualified_leads,qualified_leads", "2026-03-02,4,1,1")
    errors = _file_errors(data, marketing, marketing_lead)
    assert {(e.row, e.column) for e in errors} == {
        (1, "leads"),
        (1, "qualified_leads"),
        (1, "leads_delivered"),
    }
    by_column = {e.column: e.message for e in errors}
    assert by_column["leads"].startswith("Unknown column “leads”: the columns are date")
    assert by_column["leads_delivered"] == "The column “leads_delivered” is missing."
    assert by_column["qualified_leads"] == "The column “qualified_leads” appears twice."


def test_more_rows_than_the_limit_are_refused(marketing, marketing_lead):
    data = _csv("date,leads_delivered", *["2026-03-02,1"] * (MAX_ROWS + 1))
    (error,) = _file_errors(data, marketing, marketing_lead)
    assert error.message == (
        "The file has 5,001 rows; import at most 5,000 at a time (split the file)."
    )


def test_a_file_at_the_row_limit_is_imported(marketing, marketing_lead):
    data = _csv("date,leads_delivered", *["2026-03-02,1"] * MAX_ROWS)
    preview = parse_csv(LEADS, data, marketing, marketing_lead)
    assert preview.errors == []
    import_commit(preview, marketing_lead)
    assert LeadLogEntry.objects.count() == MAX_ROWS
    assert LeadLogEntry.history.count() == MAX_ROWS


def test_a_larger_file_than_allowed_is_refused(marketing, marketing_lead, monkeypatch):
    monkeypatch.setattr(imports.csv_import, "MAX_BYTES", 10)
    (error,) = _file_errors(GOOD_LEADS, marketing, marketing_lead)
    assert "larger than" in error.message


# --- Row problems -------------------------------------------------------------------


def test_every_row_problem_is_reported_with_its_row_and_column(
    marketing, marketing_lead
):
    data = _csv(
        "date,leads_delivered,qualified_leads,source",
        "2026-03-02,40,12,fine",
        "2026-03-02,-1,0,negative",
        "2026-03-02,forty,0,not a number",
        "2026-03-02,10,11,too many qualified",
        "2026-04-02,10,1,future month",
        "2026-02-20,10,1,locked month",
        "02/03/2026,10,1,bad date",
        ",10,1,no date",
        "2026-03-02,10,1,x,extra",
    )
    preview = parse_csv(LEADS, data, marketing, marketing_lead)
    found = {(e.row, e.column): e.message for e in preview.errors}
    assert found == {
        (3, "leads_delivered"): "Leads cannot be negative.",
        (4, "leads_delivered"): "“forty” is not a whole number.",
        (5, "qualified_leads"): (
            "Qualified leads (11) cannot be more than the leads delivered (10)."
        ),
        (6, "date"): (
            "April 2026 has not begun yet: its figures can be entered from "
            "1 April 2026."
        ),
        (7, "date"): (
            "February 2026 is locked: its figures were due by Tue 3 Mar "
            "2026, end of day. Only a head of Marketing or an administrator can still "
            "correct "
            "it, giving a reason."
        ),
        (8, "date"): "“02/03/2026” is not a date: write it as YYYY-MM-DD, e.g. "
        "2026-03-02.",
        (9, "date"): "This value is required.",
        (10, None): "This row has 5 values but the header names 4 columns: quote "
        "values that contain “,”.",
    }
    assert [r.row for r in preview.rows] == [2]
    assert not preview.is_valid
    with pytest.raises(ValidationError):
        import_commit(preview, marketing_lead)
    assert _written() == (0, 0, 0, 0)


def test_a_deal_value_with_a_thousands_separator_is_explained(sales, sales_lead):
    data = _csv("customer,closed_on,deal_value", 'Acme,2026-03-02,"1,200.50"')
    (error,) = parse_csv(CUSTOMERS, data, sales, sales_lead).errors
    assert (error.row, error.column) == (2, "deal_value")
    assert "without thousands separators" in error.message


def test_a_negative_deal_value_is_refused(sales, sales_lead):
    data = _csv("customer,closed_on,deal_value", "Acme,2026-03-02,-5")
    (error,) = parse_csv(CUSTOMERS, data, sales, sales_lead).errors
    assert error == RowError(2, "deal_value", "The deal value cannot be negative.")


# --- All or nothing, and who may import -------------------------------------------


def test_a_month_that_locked_after_the_preview_stops_the_whole_import(
    frozen, marketing, marketing_lead
):
    frozen.move_to(local(2026, 4, 3, 23, 0))
    data = _csv("date,leads_delivered", "2026-04-01,5", "2026-03-31,7")
    preview = parse_csv(LEADS, data, marketing, marketing_lead)
    assert preview.is_valid
    frozen.move_to(local(2026, 4, 4, 0, 0, 1))
    with pytest.raises(ValidationError) as caught:
        import_commit(preview, marketing_lead)
    assert caught.value.messages == [
        "Row 3: March 2026 is locked: its figures were due by Fri 3 Apr "
        "2026, end of day. Only a head of Marketing or an administrator can still "
        "correct it, giving a reason."
    ]
    assert _written() == (0, 0, 0, 0)


def test_a_row_the_database_refuses_rolls_back_every_row(marketing, marketing_lead):
    preview = parse_csv(LEADS, GOOD_LEADS, marketing, marketing_lead)
    # Tampered with after the checks: the database constraint still holds.
    preview.rows[1].instance.qualified_leads = 99
    with pytest.raises(IntegrityError):
        import_commit(preview, marketing_lead)
    assert _written() == (0, 0, 0, 0)


def test_only_the_teams_leads_may_import(marketing, marketing_member, sales_lead):
    for user in (marketing_member, sales_lead):
        with pytest.raises(PermissionDenied):
            parse_csv(LEADS, GOOD_LEADS, marketing, user)


def test_the_person_confirming_needs_the_right_too(
    marketing, marketing_lead, marketing_member
):
    preview = parse_csv(LEADS, GOOD_LEADS, marketing, marketing_lead)
    with pytest.raises(PermissionDenied):
        import_commit(preview, marketing_member)
    assert _written() == (0, 0, 0, 0)
