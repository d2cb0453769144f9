"""Exports: scorecard and dashboard CSV, the printable scorecard, the PDF."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import sys
import zlib

import pytest
from django.conf import settings
from django.urls import reverse

from reports import exports

from .builders import leads_agreement, log_leads

pytestmark = pytest.mark.django_db


def url(name: str, agreement, month: str = "2026-01") -> str:
    return reverse(f"reports:{name}", args=[agreement.pk]) + f"?month={month}"


def read_csv(response) -> list[dict[str, str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def pdf_text(pdf: bytes) -> bytes:
    """The PDF's objects with their compressed streams inflated: enough to
    find the outline WeasyPrint builds from the headings, without a PDF
    library."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            parts.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"\n".join(parts)


# --- CSV ----------------------------------------------------------------------


def test_the_scorecard_csv_matches_the_page(client, scored, sales_lead):
    client.force_login(sales_lead)
    page = client.get(url("scorecard", scored)).context["card"]
    response = client.get(url("scorecard_csv", scored))
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="scorecard-lead-delivery-2026-01.csv"'
    )
    rows = read_csv(response)
    assert [
        (r["objective"], r["target"], r["actual"], r["attainment_percent"], r["status"])
        for r in rows
    ] == [
        ("Leads delivered", "200", "220", "110", "Met"),
        ("Qualified leads", "120", "90", "75", "Missed"),
    ]
    assert [line.name for line in page.lines] == [r["objective"] for r in rows]
    first = rows[0]
    assert first["month"] == "2026-01"
    assert (first["provider"], first["consumer"]) == ("Marketing", "Sales")
    assert (
        first["agreement_status"],
        first["objectives_met"],
        first["weighted_attainment_percent"],
    ) == ("Missed", "1 of 2 objectives met", "83.3")
    assert first["due"] == "Tue 3 Feb 2026, end of day"
    assert (first["state"], first["reported_on_time"]) == ("Finalised", "yes")
    assert (rows[0]["breach"], rows[1]["breach"]) == ("", "Open")


def test_the_scorecard_csv_of_a_month_without_data_has_only_its_header(
    client, scored, sales_lead
):
    client.force_login(sales_lead)
    response = client.get(url("scorecard_csv", scored, "2024-03"))
    assert response.status_code == 200
    assert response.content.decode().splitlines() == [
        ",".join(exports.SCORECARD_HEADER)
    ]


def test_a_bad_month_in_an_export_is_a_404(client, scored, sales_lead):
    client.force_login(sales_lead)
    for name in ("scorecard_csv", "scorecard_print", "scorecard_pdf", "scorecard"):
        for month in ("2026-13", "9999-12", "1999-12", "2101-01"):
            assert client.get(url(name, scored, month)).status_code == 404


def test_csv_cells_never_start_a_formula(client, marketing, sales, sales_lead, frozen):
    agreement = leads_agreement(marketing, sales, title='=HYPERLINK("http://x")')
    log_leads(marketing, dt.date(2026, 1, 6), 10, 5)
    client.force_login(sales_lead)
    rows = read_csv(client.get(url("scorecard_csv", agreement)))
    assert rows[0]["agreement"] == '\'=HYPERLINK("http://x")'


def test_the_dashboard_csv_has_a_row_per_agreement_and_month(client, scored, executive):
    client.force_login(executive)
    response = client.get(reverse("reports:dashboard_csv"))
    assert response["Content-Disposition"] == (
        'attachment; filename="dashboard-2026-02.csv"'
    )
    rows = read_csv(response)
    assert len(rows) == 12
    by_month = {r["month"]: r for r in rows}
    assert by_month["2026-01"] == {
        "agreement": "Lead delivery",
        "provider": "Marketing",
        "consumer": "Sales",
        "month": "2026-01",
        "status": "Missed",
        "objectives_met": "1 of 2 objectives met",
        "weighted_attainment_percent": "83.3",
        "reported_on_time": "yes",
        "state": "Finalised",
    }
    assert (by_month["2026-02"]["status"], by_month["2026-02"]["state"]) == (
        "Off track",
        "Running",
    )
    assert by_month["2026-02"]["weighted_attainment_percent"] == ""


def test_the_dashboard_csv_follows_the_team_filter(
    client, scored, executive, service, marketing, frozen
):
    leads_agreement(service, marketing, title="Service to marketing")
    client.force_login(executive)
    rows = read_csv(client.get(reverse("reports:dashboard_csv"), {"team": "sales"}))
    assert {r["agreement"] for r in rows} == {"Lead delivery"}
    everything = read_csv(client.get(reverse("reports:dashboard_csv")))
    assert {r["agreement"] for r in everything} == {
        "Lead delivery",
        "Service to marketing",
    }


# --- Printable and PDF ----------------------------------------------------------


def test_the_printable_scorecard_stands_alone_with_its_charts(
    client, scored, sales_lead
):
    client.force_login(sales_lead)
    response = client.get(url("scorecard_print", scored))
    body = response.content.decode()
    assert response.status_code == 200
    # Inline CSS only: the page needs no stylesheet; it names its icons.
    assert 'rel="stylesheet"' not in body
    assert 'rel="icon"' in body
    assert "@page" in body and "@media print" in body
    assert body.count('class="sp-trend"') == 2
    assert "Back to the scorecard" in body


def test_the_scorecard_page_prints_without_navigation(client, scored, sales_lead):
    client.force_login(sales_lead)
    body = client.get(url("scorecard", scored)).content.decode()
    assert 'class="d-flex flex-wrap gap-2 sp-no-print" data-testid="exports"' in body
    css = (settings.BASE_DIR / "static" / "css" / "site.css").read_text()
    assert "@media print" in css and ".sp-navbar" in css.split("@media print")[1]


def test_the_pdf_is_a_pdf_with_the_title_and_the_charts(
    client, scored, sales_lead, monkeypatch
):
    rendered: list[str] = []
    real_render = exports.render_pdf

    def spy(html: str) -> bytes:
        rendered.append(html)
        return real_render(html)

    monkeypatch.setattr("reports.views.scorecards.render_pdf", spy)
    client.force_login(sales_lead)
    response = client.get(url("scorecard_pdf", scored))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="scorecard-lead-delivery-2026-01.pdf"'
    )
    pdf = response.content
    assert pdf.startswith(b"%PDF")
    assert len(pdf) > 5_000
    assert b"(Lead delivery)" in pdf_text(pdf)  # the outline, from the <h1>
    # What WeasyPrint was given: the scorecard with both trend charts inline.
    (html,) = rendered
    assert "<title>Scorecard: Lead delivery, January 2026</title>" in html
    assert html.count("<svg") == 2
    assert "Back to the scorecard" not in html  # no screen toolbar in the PDF


def test_without_weasyprint_the_pdf_is_a_clear_503(
    client, scored, sales_lead, monkeypatch
):
    # None in sys.modules makes ``import weasyprint`` raise ImportError, as
    # on a server without the package; a missing Pango raises OSError there.
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    client.force_login(sales_lead)
    response = client.get(url("scorecard_pdf", scored))
    assert response.status_code == 503
    body = response.content.decode()
    assert "PDF scorecards are not available on this server" in body
    assert url("scorecard_print", scored) in body


def test_render_pdf_fetches_nothing_from_outside(monkeypatch):
    import urllib.request

    opened: list = []
    monkeypatch.setattr(
        urllib.request.OpenerDirector, "open", lambda *a, **k: opened.append(a)
    )
    pdf = exports.render_pdf(
        '<html><body><h1>Hi</h1><img src="http://127.0.0.1:9/x.png">'
        '<img src="file:///etc/passwd">'
        '<link rel="stylesheet" href="https://example.com/x.css"></body></html>'
    )
    assert pdf.startswith(b"%PDF")
    assert opened == []
