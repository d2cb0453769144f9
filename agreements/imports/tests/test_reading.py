"""Reading exports as HubSpot, Salesforce and Excel write them (the files in
``fixtures/``) into tables, and refusing what is no CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agreements.imports import (
    CsvTable,
    RowError,
    decode_export,
    parse_table,
    read_export,
    sniff_separator,
)
from agreements.imports.reading import CP1252, UTF8, UTF8_BOM, UTF16

FIXTURES = Path(__file__).parent / "fixtures"
LIMITS = {"max_bytes": 1024 * 1024, "max_rows": 100}


def read(data: bytes, **options) -> CsvTable | list[RowError]:
    return read_export(data, **{**LIMITS, **options})


def fixture(name: str) -> CsvTable:
    table = read((FIXTURES / name).read_bytes())
    assert isinstance(table, CsvTable), table
    return table


# --- The fixtures, read ----------------------------------------------------------


def test_a_hubspot_contacts_export_with_quoted_headers():
    assert fixture("hubspot-crm-exports-all-contacts-2026-03-02.csv") == CsvTable(
        header=[
            "Record ID",
            "First Name",
            "Last Name",
            "Email",
            "Phone Number",
            "Contact owner",
            "Primary Associated Company ID",
            "Last Activity Date",
            "Lead Status",
            "Marketing contact status",
            "Create Date",
            "Associated Company",
        ],
        rows=[
            (
                2,
                [
                    "1501",
                    "Ann",
                    "Lee",
                    "ann@example.com",
                    "+1 555 0100",
                    "Mia Park",
                    "9001",
                    "2026-03-01 16:05",
                    "NEW",
                    "Marketing contact",
                    "2026-02-27 09:14",
                    "Acme Inc.",
                ],
            ),
            (
                3,
                [
                    "1502",
                    "Björn",
                    "Öberg",
                    "bjorn@example.se",
                    "",
                    "Mia Park",
                    "",
                    "",
                    "OPEN",
                    "Non-marketing contact",
                    "2026-02-28 23:59",
                    "Öberg & Co",
                ],
            ),
        ],
        separator=",",
        encoding=UTF8,
    )


def test_an_all_properties_export_with_escaped_quotes_and_a_line_break_in_a_value():
    table = fixture("hubspot-all-properties-bom.csv")
    assert table.encoding == UTF8_BOM
    assert table.header[0] == "Record ID"  # the byte-order mark is not in it
    assert table.header[9:11] == [
        'Date entered "Lead (Lifecycle Stage Pipeline)"',
        'Date entered "Marketing Qualified Lead (Lifecycle Stage Pipeline)"',
    ]
    assert table.rows == [
        (
            2,
            [
                "1501",
                "Ann",
                "Lee",
                "ann@example.com",
                "salesqualifiedlead",
                "2026-02-27 09:14",
                "2026-02-27 10:02",
                "2026-03-02 08:30",
                "2026-02-27 10:05",
                "2026-02-27 09:14",
                "2026-02-27 10:02",
                'Call me back, please:\r\nbefore Friday, "urgent"',
            ],
        ),
        # One row in the sheet, though the value above spans two lines.
        (
            3,
            [
                "1503",
                "Zoë",
                "Brandt",
                "zoe@example.de",
                "lead",
                "2026-03-01 07:45",
                "",
                "",
                "",
                "2026-03-01 07:45",
                "",
                "",
            ],
        ),
    ]


def test_an_export_resaved_by_excel_loses_its_empty_columns_and_rows():
    assert fixture("hubspot-contacts-excel-resaved.csv") == CsvTable(
        header=[
            "Contact ID",
            "First Name",
            "Last Name",
            "Email",
            "Contact owner",
            "Create Date",
            "Last Activity Date",
        ],
        rows=[
            (
                2,
                [
                    "1501",
                    "Ann",
                    "Lee",
                    "ann@example.com",
                    "Mia Park",
                    "2/27/26 9:14",
                    "3/1/26 16:05",
                    "",
                    "",
                ],
            ),
            (
                3,
                [
                    "1502",
                    "Björn",
                    "Öberg",
                    "bjorn@example.se",
                    "Mia Park",
                    "2/28/26 23:59",
                    "",
                    "",
                    "",
                ],
            ),
        ],
        separator=",",
        encoding=UTF8_BOM,
    )


def test_a_salesforce_lightning_report_without_its_footer():
    table = fixture("salesforce-leads-lightning.csv")
    assert table.header == [
        "Lead Owner",
        "First Name",
        "Last Name",
        "Title",
        "Company / Account",
        "Email",
        "Phone",
        "Lead Source",
        "Lead Status",
        "Rating",
        "Create Date",
        "Lead ID",
    ]
    assert [number for number, _ in table.rows] == [2, 3, 4]
    assert table.rows[1][1][1:5] == ["José", "García", "Head of IT", "Initech, LLC"]
    assert table.rows[2][1][4] == 'Fox "The Den" Ltd'
    assert table.rows[2][1][-2:] == ["9/8/2026", "00Q5g00000AbCdG"]
    assert (table.footer_lines, table.encoding) == (3, UTF8_BOM)


def test_a_salesforce_classic_report_in_windows_1252_without_its_footer():
    assert fixture("salesforce-leads-classic-de.csv") == CsvTable(
        header=[
            "Lead Owner",
            "First Name",
            "Last Name",
            "Company / Account",
            "Email",
            "Lead Status",
            "Annual Revenue",
            "Create Date",
            "Lead ID",
        ],
        rows=[
            (
                2,
                [
                    "Jürgen Müller",
                    "Zoë",
                    "Krüger",
                    "Café Rosé GmbH",
                    "zoe@example.de",
                    "Open",
                    "12.000,50",
                    "01.10.2026 14:03",
                    "00Q1t00000XyZaB",
                ],
            ),
            (
                3,
                [
                    "Jürgen Müller",
                    "René",
                    "Weiß",
                    "Müller & Söhne GmbH",
                    "rene@example.de",
                    "Working",
                    "1.250.000,00",
                    "30.09.2026 08:15",
                    "00Q1t00000XyZaC",
                ],
            ),
        ],
        separator=",",
        encoding=CP1252,
        footer_lines=5,  # title, copyright, confidential, generated by, company
    )


def test_a_german_excel_file_with_semicolons():
    assert fixture("excel-de-semicolons.csv") == CsvTable(
        header=["Vorname", "Nachname", "E-Mail", "Erstellt am", "Umsatz", "Notiz"],
        rows=[
            (
                2,
                [
                    "Jürgen",
                    "Weiß",
                    "jw@example.de",
                    "01.10.2026 14:03",
                    "12.000,50",
                    "Rückruf; morgen",
                ],
            ),
            (
                3,
                ["Anna", "Schäfer", "as@example.de", "02.10.2026 09:30", "980,00", ""],
            ),
        ],
        separator=";",
        encoding=UTF8_BOM,
    )


def test_excel_unicode_text_is_utf16_with_tabs():
    assert fixture("excel-unicode-text.txt") == CsvTable(
        header=["Record ID", "First Name", "Create Date", "Amount"],
        rows=[
            (2, ["1501", "Ann", "2026-02-27 09:14", "1,234.50"]),
            (3, ["1502", "Łukasz", "2026-02-28 23:59", "980"]),
        ],
        separator="\t",
        encoding=UTF16,
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "leads.xlsx",
            "This is an Excel workbook or zip, not a CSV file: export it as CSV "
            "(in Excel, save it as “CSV UTF-8”).",
        ),
        ("empty.csv", "The file is empty."),
    ],
)
def test_a_workbook_and_an_empty_file_are_refused(name, message):
    assert read((FIXTURES / name).read_bytes()) == [RowError(None, None, message)]


# --- Refusals --------------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [b"", b"  \r\n\r\n", b"\xef\xbb\xbf", b"\xff\xfe", b"\xff\xfe \x00\n\x00"]
)
def test_a_file_without_text_is_empty(data):
    assert read(data) == [RowError(None, None, "The file is empty.")]


def test_bytes_with_nul_characters_are_no_csv():
    (problem,) = read(b"Id,Name\n1,\x00\x01\x02\n")
    assert problem.message == "This is not a CSV file: save the sheet as “CSV UTF-8”."


def test_an_old_excel_workbook_is_named_as_such():
    (problem,) = read(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 20)
    assert problem.message.startswith("This is an Excel workbook or zip")


def test_a_file_over_the_limit_is_refused_unread():
    (problem,) = read(b"Id\n" + b"1\n" * 600_000)
    assert problem == RowError(
        None, None, "The file is larger than 1 MB: split it into smaller files."
    )


def test_bytes_neither_utf8_nor_windows_1252_are_refused_with_their_row():
    (problem,) = read(b"Id,Name\n1,ok\n2,\x81\n")
    assert problem.row == 3
    assert problem.message.startswith(
        "The file is not UTF-8 or Windows-1252 text: row 3 holds a character"
    )


def test_utf8_only_refuses_windows_1252():
    (problem,) = read("Id\nMüller\n".encode("cp1252"), utf8_only=True)
    assert problem.row == 2
    assert problem.message.startswith("The file is not UTF-8 text: row 2")


def test_text_that_reads_as_utf8_is_utf8():
    assert decode_export("Id\nMüller\n".encode(), max_bytes=100).encoding == UTF8
    assert decode_export("Id\nMüller\n".encode("cp1252"), max_bytes=100).text == (
        "Id\nMüller\n"
    )


def test_duplicate_and_unnamed_columns_are_refused_with_their_letters():
    assert read(b"Id,Name,,Name,Email,\n1,a,x,b,c,\n") == [
        RowError(
            1,
            None,
            "Column C has no name: name it in the first row, or delete the column.",
        ),
        RowError(
            1,
            "Name",
            "The column “Name” appears twice: rename one, so that each can be "
            "told apart.",
        ),
    ]


def test_a_header_naming_nothing_is_refused():
    assert read(b",,\n1,2,3\n") == [
        RowError(1, None, "The first row must name the columns; this one is empty.")
    ]


def test_rows_are_counted_against_the_limit_and_a_header_alone_has_none():
    assert read(b"Id\n") == [RowError(None, None, "The file has no rows to import.")]
    assert read(b"Id\n" + b"1\n" * 101) == [
        RowError(
            None,
            None,
            "The file has 101 rows; import at most 100 at a time (split the file).",
        )
    ]


# --- Separators, blank rows, footers ---------------------------------------------


@pytest.mark.parametrize(
    ("first_row", "separator"),
    [
        ("a,b,c", ","),
        ("a;b;c", ";"),
        ("a\tb\tc", "\t"),
        ('"Company, Inc";"Name, full";Email', ";"),
        ('"a;b"\t"c;d"', "\t"),
        ('"Date entered ""Lead, or not"""\tb', "\t"),
        ("one column", ","),
        ("a,b;c", ","),  # a tie: the comma
    ],
)
def test_the_separator_is_the_one_the_first_row_uses_outside_quotes(
    first_row, separator
):
    assert sniff_separator(first_row + "\n1;2,3\t4\n") == separator


def test_blank_rows_are_skipped_and_rows_keep_their_spreadsheet_numbers():
    table = parse_table('Id,Note\n\n1,"two\nlines"\n , \n2,x\n\n')
    assert table == CsvTable(
        ["Id", "Note"], [(3, ["1", "two\nlines"]), (5, ["2", "x"])], ","
    )


def test_single_values_after_two_blank_rows_are_a_footer():
    table = parse_table("Id,Name\n1,a\n2,\n\n\nMy report\n\nAcme Corp\n")
    assert table.rows == [(2, ["1", "a"]), (3, ["2", ""])]
    assert table.footer_lines == 2


def test_a_row_of_values_after_blank_rows_is_data():
    table = parse_table("Id,Name\n1,a\n\n\n2,b\nTotal\n")
    assert [number for number, _ in table.rows] == [2, 5, 6]
    assert table.footer_lines == 0


def test_salesforce_footer_lines_are_known_without_blank_rows():
    table = parse_table(
        "Id,Name\n1,a\nConfidential Information - Do Not Distribute\n"
        '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."\n'
    )
    assert (table.rows, table.footer_lines) == ([(2, ["1", "a"])], 2)


def test_a_file_of_one_column_keeps_its_values_after_blank_rows():
    table = parse_table("Email\na@example.com\n\n\nb@example.com\n")
    assert table.rows == [(2, ["a@example.com"]), (5, ["b@example.com"])]


def test_a_value_longer_than_csv_allows_is_refused_with_its_row():
    assert parse_table("Id,Note\n1,a\n2," + "x" * 200_000 + "\n") == RowError(
        3, None, "Row 3 cannot be read: field larger than field limit (131072)."
    )


def test_a_row_wider_than_the_header_names_the_separator():
    table = parse_table("a\tb\n1\t2\t3\n")
    (number, cells) = table.rows[0]
    error = table.width_error(number, cells)
    assert error.message == (
        "This row has 3 values but the header names 2 columns: quote values "
        "that contain “tab”."
    )


# --- Any table written by csv reads back -----------------------------------------

WINDOWS_1252 = "abcXYZ 019-_.@éüöäßÉÜÖÄ"  # no two of these read as UTF-8
_names = st.text(alphabet="abcdefXYZ019 _-.()éü\"'", min_size=1, max_size=12).map(
    str.strip
)


@st.composite
def tables(draw, alphabet: st.SearchStrategy[str]):
    width = draw(st.integers(2, 5))
    header = draw(
        st.lists(_names.filter(bool), min_size=width, max_size=width, unique=True)
    )
    cell = st.text(alphabet=alphabet, max_size=15)
    row = st.lists(cell, min_size=width, max_size=width).filter(
        lambda cells: bool(cells[0].strip()) and bool(cells[1].strip())
    )
    return header, draw(st.lists(row, min_size=1, max_size=8))


ANY_TEXT = st.characters(
    blacklist_categories=("Cs",), blacklist_characters="\x00\ufeff"
)


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    separator=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
)
def test_any_table_written_by_csv_reads_back_equal(data, separator, encoding):
    alphabet = (
        st.sampled_from(WINDOWS_1252 + ',;\t"\r\n')
        if encoding == "cp1252"
        else ANY_TEXT
    )
    header, rows = data.draw(tables(alphabet))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=separator)
    writer.writerows([header, *rows])

    table = read(out.getvalue().encode(encoding))

    assert isinstance(table, CsvTable), table
    assert (table.header, table.separator) == (header, separator)
    assert table.rows == list(enumerate(rows, start=2))
    assert table.footer_lines == 0
