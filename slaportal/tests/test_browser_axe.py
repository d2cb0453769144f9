"""Every page, as every persona who can open it sees it, on a desktop and on a
phone, checked by axe-core against WCAG 2.2 A/AA and axe's best practices:
no serious or critical violation anywhere.

The demo organisation (``seed_demo``) gives every page something to show:
agreements in each state, figures, records, calendars, friction reports,
pain points, scorecards, breaches and notifications. It is seeded once for
the module, served by one live server, and read by one browser: each test is
one persona on one viewport, and keeps its logged-in context for the other
viewport. The counts by impact, and each violation, are written to
``test-artifacts/axe-summary.json`` and printed at the end of the run; a
screenshot of every page, as the first persona to open it sees it at each
width, to ``test-artifacts/screens/pages/<viewport>/``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.urls import reverse

from conftest import ARTIFACTS, ROOT, SUMMARY_LINES

SCREENS = ARTIFACTS / "screens" / "pages"

# The tests only read: each runs in a transaction that is rolled back, while
# the demo seeded once for the module stays (and is flushed at its end).
pytestmark = [pytest.mark.browser, pytest.mark.audit, pytest.mark.django_db]

AXE = ROOT / "static" / "vendor" / "axe-core-4.14.1" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
FAILING = ("serious", "critical")
DEMO_PASSWORD = "slaportal-demo"  # seed_demo's
OUTSIDER = "outsider"
PERSONAS = [
    "anonymous",
    "marketing-lead",
    "sales-lead",
    "sales-manager",
    "service-head",
    "executive",
    OUTSIDER,
]
VIEWPORTS = {
    "desktop": {"width": 1280, "height": 900},
    "phone": {"width": 390, "height": 844},
}


@dataclass
class Site:
    url: str
    pages: list[tuple[str, str]]  # (what, path)
    contexts: dict[str, Any] = field(default_factory=dict)
    results: list[dict[str, Any]] = field(default_factory=list)
    # (viewport, shape) of the pages checked so far.
    checked: set[tuple[str, str]] = field(default_factory=set)
    # (viewport, what) of the pages photographed so far.
    shot: set[tuple[str, str]] = field(default_factory=set)


def _first(queryset) -> Any:
    return queryset.order_by("pk").first()


def _pages() -> list[tuple[str, str]]:
    """Each page of the URL conf, with a row of the demo to show where it
    needs one. Form pages come with their objects; pages that act on POST
    only (sign, acknowledge, …) are not pages."""
    from agreements.calendars.models import WorkingCalendar
    from agreements.figures.kinds import KINDS
    from agreements.figures.models import Measurement
    from agreements.models import Agreement, FrictionReport, PainPoint, Team
    from agreements.records.models import RecordSource
    from reports.models import Breach

    pages: list[tuple[str, str]] = [
        ("home", reverse("home")),
        ("agreements", reverse("agreements:list")),
        ("agreement new", reverse("agreements:create")),
        ("figures", reverse("figures:index")),
        ("record sources", reverse("records:sources")),
        ("calendars", reverse("calendars:list")),
        ("calendar new", reverse("calendars:new")),
        ("friction", reverse("friction:list")),
        ("friction new", reverse("friction:create")),
        ("knowledge", reverse("knowledge:list")),
        ("knowledge new", reverse("knowledge:create")),
        ("dashboard", reverse("reports:dashboard")),
        ("chain", reverse("reports:chain")),
        ("teams", reverse("reports:teams")),
        ("inbox", reverse("notifications:inbox")),
        ("preferences", reverse("notifications:preferences")),
        ("api tokens", reverse("api_tokens")),
        ("password change", reverse("password_change")),
        ("login", reverse("login")),
        ("password reset", reverse("password_reset")),
    ]
    for status in Agreement.Status.values:
        agreement = _first(Agreement.objects.filter(status=status))
        if agreement is None:
            continue
        pages.append(
            (f"agreement {status}", reverse("agreements:detail", args=[agreement.pk]))
        )
        pages.append(
            (
                f"agreement {status} edit",
                reverse("agreements:edit", args=[agreement.pk]),
            )
        )
    for agreement in Agreement.objects.order_by("pk"):
        older = (
            Agreement.objects.filter(lineage=agreement.lineage, pk__lt=agreement.pk)
            .order_by("-pk")
            .first()
        )
        if older is not None:
            pages.append(
                (
                    "agreement diff",
                    reverse("agreements:diff", args=[older.pk, agreement.pk]),
                )
            )
            break
    for agreement in Agreement.objects.filter(status=Agreement.Status.ACTIVE).order_by(
        "pk"
    ):
        pages.append(("scorecard", reverse("reports:scorecard", args=[agreement.pk])))
        pages.append(
            ("scorecard print", reverse("reports:scorecard_print", args=[agreement.pk]))
        )
        for objective in agreement.objectives.order_by("pk"):
            pages.append(
                (
                    f"evidence {objective.metric_source}",
                    reverse("reports:evidence", args=[agreement.pk, objective.pk]),
                )
            )
    for team in Team.objects.order_by("pk"):
        pages.append(("team figures", reverse("figures:team", args=[team.slug])))
        pages.append(("team report", reverse("reports:team", args=[team.slug])))
        pages.append(
            ("team channels", reverse("notifications:team_channels", args=[team.slug]))
        )
        for slug, kind in KINDS.items():
            pages.append(
                (f"{slug} list", reverse(f"figures:{slug}_list", args=[team.slug]))
            )
            pages.append(
                (f"{slug} new", reverse(f"figures:{slug}_new", args=[team.slug]))
            )
            pages.append(
                (f"{slug} late", reverse(f"figures:{slug}_late", args=[team.slug]))
            )
            pages.append(
                (
                    f"{slug} import",
                    reverse("figures:import", args=[team.slug, kind.import_slug]),
                )
            )
        pages.append(
            ("measurements", reverse("figures:measurements_list", args=[team.slug]))
        )
        pages.append(
            ("measurement new", reverse("figures:measurements_new", args=[team.slug]))
        )
    rows: dict[str, Any] = {slug: kind.model.objects for slug, kind in KINDS.items()}
    rows["measurements"] = Measurement.objects
    for slug, objects in rows.items():
        # The newest row (open month: edit, delete) and the oldest (locked
        # month: correct).
        for row in (objects.order_by("-pk").first(), objects.order_by("pk").first()):
            if row is None:
                continue
            for page in ("detail", "edit", "delete", "correct"):
                pages.append(
                    (f"{slug} {page}", reverse(f"figures:{slug}_{page}", args=[row.pk]))
                )
    for source in RecordSource.objects.order_by("pk"):
        for name in ("import", "import_history", "records", "webhook"):
            pages.append(
                (
                    f"{source.kind} source {name}",
                    reverse(f"records:{name}", args=[source.pk]),
                )
            )
    calendar = _first(WorkingCalendar.objects)
    if calendar is not None:
        pages.append(("calendar", reverse("calendars:detail", args=[calendar.pk])))
    for report in (
        _first(FrictionReport.objects),
        FrictionReport.objects.order_by("-pk").first(),
    ):
        if report is None:
            continue
        for name in ("detail", "edit", "delete", "correct"):
            pages.append(
                (f"friction {name}", reverse(f"friction:{name}", args=[report.pk]))
            )
    pain_point = _first(PainPoint.objects)
    if pain_point is not None:
        for name in ("detail", "edit", "merge"):
            pages.append(
                (
                    f"knowledge {name}",
                    reverse(f"knowledge:{name}", args=[pain_point.pk]),
                )
            )
    for status in Breach.Status.values:
        breach = _first(Breach.objects.filter(status=status))
        if breach is not None:
            pages.append(
                (f"breach {status}", reverse("reports:breach", args=[breach.pk]))
            )
    seen: set[str] = set()
    return [
        (what, path) for what, path in pages if not (path in seen or seen.add(path))
    ]


# What a page is built of, not what it says: the kinds of element it has (tag,
# classes, role, type, names of other attributes, shown or hidden), however
# many of each. Two pages alike in this are alike to axe (contrast, names,
# structure), whatever rows or words they show: the second is not checked.
SHAPE = """() => {
    const kinds = new Set();
    for (const el of document.body.querySelectorAll('*')) {
        let sig = el.tagName + '.' + [...el.classList].sort().join('.');
        for (const a of el.attributes) {
            const named = a.name === 'role' || a.name === 'type';
            if (named) sig += ' ' + a.name + '=' + a.value;
            else if (a.name !== 'class') sig += ' ' + a.name;
        }
        kinds.add(sig + (el.getClientRects().length ? ' shown' : ' hidden'));
    }
    let h = 0;
    for (const c of [...kinds].sort().join('|')) h = (h * 31 + c.charCodeAt(0)) | 0;
    return String(h);
}"""


@pytest.fixture(scope="module")
def site(request, django_db_setup, django_db_blocker, browser) -> Iterator[Site]:
    """The demo, served by one live server for the whole module. The tests
    only drive the browser: the data outlives each test, and is flushed once
    at the end, leaving what the migrations wrote as it was."""
    from django.db import connection
    from django.test.utils import override_settings
    from pytest_django.live_server_helper import LiveServer

    from agreements.tests.factories import UserFactory

    fast = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
    )
    with fast, django_db_blocker.unblock():
        # Never seed a real database: only the test database set up for the
        # tests marked django_db.
        assert (
            connection.creation._get_test_db_name() == connection.settings_dict["NAME"]
            or connection.is_in_memory_db()
        ), connection.settings_dict["NAME"]
        # What the migrations wrote (the standard working calendars, ...),
        # put back after the flush for the tests that run after this module.
        migrated = connection.creation.serialize_db_to_string()
        call_command("seed_demo", verbosity=0)
        UserFactory(username=OUTSIDER, password=DEMO_PASSWORD)
        pages = _pages()
    server = LiveServer("localhost")
    server._live_server_modified_settings.enable()
    found = Site(url=server.url, pages=pages)
    try:
        with fast, django_db_blocker.unblock():
            # Logged in now, outside the tests' rolled-back transactions, so
            # that each persona's session lasts the module.
            for persona in PERSONAS:
                _context(browser, found, persona)
        yield found
    finally:
        for context in found.contexts.values():
            context.close()
        server._live_server_modified_settings.disable()
        server.stop()
        with django_db_blocker.unblock():
            call_command(
                "flush", interactive=False, verbosity=0, inhibit_post_migrate=True
            )
            connection.creation.deserialize_db_from_string(migrated)
        _summarise(request.config, found)


def _summarise(config, site: Site) -> None:
    if not site.results:
        return
    impacts: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    for result in site.results:
        for violation in result["violations"]:
            impacts[violation["impact"]] += len(violation["nodes"])
            rules[f"{violation['impact']} {violation['id']}"] += len(violation["nodes"])
    checks = len(site.results)
    summary = {
        "axe_core": AXE.parent.name,
        "tags": TAGS,
        "page_checks": checks,
        "pages": len({r["path"] for r in site.results}),
        "violations_by_impact": {
            i: impacts.get(i, 0) for i in ("critical", "serious", "moderate", "minor")
        },
        "violations_by_rule": dict(rules.most_common()),
        "results": site.results,
    }
    path = ARTIFACTS / "axe-summary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2))
    counts = ", ".join(f"{k} {v}" for k, v in summary["violations_by_impact"].items())
    config.stash.setdefault(SUMMARY_LINES, []).append(
        f"axe ({summary['axe_core']}): {checks} page checks of {summary['pages']} "
        f"pages; elements in violation by impact: {counts}; see {_relative(path)}"
    )


def _relative(path: Path) -> Path:
    try:
        return path.relative_to(ROOT)
    except ValueError:
        return path


def _context(browser, site: Site, persona: str):
    """A context per persona, logged in once (CSP bypassed so that axe can
    be injected: the pages' own policy forbids inline scripts)."""
    if persona not in site.contexts:
        context = browser.new_context(bypass_csp=True, base_url=site.url)
        if persona != "anonymous":
            page = context.new_page()
            page.goto("/accounts/login/")
            page.get_by_label("Username").fill(persona)
            page.get_by_label("Password").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(lambda url: "/accounts/login/" not in url)
            page.close()
        site.contexts[persona] = context
    return site.contexts[persona]


def _axe(page) -> list[dict[str, Any]]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {
                runOnly: {type: 'tag', values: tags},
                resultTypes: ['violations'],
            });
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({
                    target: n.target.join(' '),
                    html: n.html.slice(0, 300),
                    summary: n.failureSummary,
                })),
            }));
        }""",
        TAGS,
    )
    return result


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("persona", PERSONAS)
def test_no_serious_or_critical_axe_violation(
    site: Site, browser, persona: str, viewport: str
):
    page = _context(browser, site, persona).new_page()
    page.set_viewport_size(VIEWPORTS[viewport])
    failures: list[str] = []
    opened: set[str] = set()
    try:
        for what, path in site.pages:
            if what in opened:
                continue  # another team's or row's copy of a page checked
            response = page.goto(path)
            # Pages this persona may not open (403, 404) or that send them
            # elsewhere (a locked month's edit page, the login page) are
            # checked for those who can.
            if response is None or response.status != 200:
                continue
            if urlsplit(page.url).path != urlsplit(path).path:
                continue
            opened.add(what)
            if (viewport, what) not in site.shot:
                site.shot.add((viewport, what))
                name = re.sub(r"[^a-z0-9]+", "-", what.lower()).strip("-")
                page.screenshot(
                    path=str(SCREENS / viewport / f"{name}.png"), full_page=True
                )
            shape = (viewport, page.evaluate(SHAPE))
            if shape in site.checked:
                continue
            site.checked.add(shape)
            violations = _axe(page)
            site.results.append(
                {
                    "persona": persona,
                    "viewport": viewport,
                    "page": what,
                    "path": path,
                    "violations": violations,
                }
            )
            for v in violations:
                if v["impact"] in FAILING:
                    nodes = "; ".join(
                        f"{n['target']}: {n['html']}" for n in v["nodes"][:3]
                    )
                    failures.append(
                        f"{viewport} {what} {path}: {v['impact']} {v['id']} "
                        f"({v['help']}, {len(v['nodes'])} elements): {nodes}"
                    )
    finally:
        page.close()
    assert opened, f"{persona} could open no page"
    assert not failures, "\n".join(failures)
