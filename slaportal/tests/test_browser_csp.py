"""Every page under the Content-Security-Policy, in a real Chromium: each
persona opens each page of the demo, and the browser reports no violation
(it would log "Refused to ..." for a blocked script or style)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import Page

from agreements.models import Agreement, FrictionReport, PainPoint
from conftest import log_in as sign_in
from reports.models import Breach

pytestmark = [
    pytest.mark.browser,
    pytest.mark.audit,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def pages() -> dict[str, list[str]]:
    """The pages each persona uses, as paths on the demo."""
    leads = Agreement.objects.get(title="Lead delivery", status="active")
    handover = Agreement.objects.get(title="Customer handover", status="active")
    report = FrictionReport.objects.order_by("pk").first()
    pain_point = PainPoint.objects.filter(merged_into=None).order_by("pk").first()
    breach = Breach.objects.filter(agreement=handover).order_by("pk").first()

    def of(agreement: Agreement, team: str) -> list[str]:
        return [
            reverse("agreements:detail", args=[agreement.pk]),
            reverse("reports:scorecard", args=[agreement.pk]),
            reverse("reports:scorecard_print", args=[agreement.pk]),
            reverse("reports:team", args=[team]),
        ]

    common = [
        reverse("home"),
        reverse("agreements:list"),
        reverse("reports:chain"),
        reverse("reports:teams"),
        reverse("figures:index"),
        reverse("friction:list"),
        reverse("knowledge:list"),
        reverse("knowledge:detail", args=[pain_point.pk]),
        reverse("notifications:preferences"),
        reverse("api_tokens"),
        reverse("api:docs"),
        reverse("api:redoc"),
    ]
    return {
        "marketing-lead": [
            *common,
            *of(leads, "marketing"),
            reverse("agreements:create"),
            reverse("figures:leads_list", args=["marketing"]),
            reverse("figures:leads_new", args=["marketing"]),
            reverse("figures:import", args=["marketing", "lead_log"]),
        ],
        "sales-manager": [
            *common,
            *of(leads, "sales"),
            reverse("friction:create"),
            reverse("figures:customers_list", args=["sales"]),
        ],
        "service-head": [
            *common,
            *of(handover, "customer-service"),
            reverse("figures:measurements_list", args=["customer-service"]),
            reverse("reports:dashboard"),
            reverse("friction:detail", args=[report.pk]),
            reverse("reports:breach", args=[breach.pk]),
        ],
        "executive": [
            *common,
            *of(leads, "marketing"),
            reverse("reports:dashboard"),
            reverse("figures:leads_list", args=["marketing"]),
            reverse("figures:customers_list", args=["sales"]),
            reverse("figures:measurements_list", args=["customer-service"]),
        ],
        "admin": [
            reverse("admin:index"),
            reverse("admin:agreements_team_changelist"),
        ],
    }


def log_in(page: Page, live_server, username: str) -> None:
    """A demo persona, with the demo's password."""
    sign_in(page, live_server, username, settings.DEMO_PASSWORD)


def test_no_page_breaks_the_content_security_policy(page: Page, live_server, demo):
    violations: list[str] = []
    current = {"url": ""}

    def on_console(message) -> None:
        text = message.text
        if message.type == "error" and (
            "Content Security Policy" in text or "Refused to" in text
        ):
            violations.append(f"{current['url']}: {text}")

    page.on("console", on_console)
    visited = 0
    for username, paths in pages().items():
        log_in(page, live_server, username)
        for path in paths:
            current["url"] = path
            response = page.goto(f"{live_server.url}{path}")
            assert response is not None and response.status == 200, path
            assert "Content-Security-Policy" in response.headers or (
                "content-security-policy" in response.headers
            ), path
            page.wait_for_load_state("networkidle")
            visited += 1
    assert visited >= 80
    assert violations == []
