"""Twelve months of the demo chain's figures: Marketing's lead log, the
customers Sales closed (and Customer Service acknowledged), and the monthly
measurements of the manual objectives (the objectives measured from records
are ``records``'). Some months are met, some missed; one month's onboarding
figure was reported late and added as a correction, and one lead log entry
was corrected after its month locked."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from .. import periods
from ..figures.kinds import LEADS
from ..figures.measurements import measurement_correct
from ..figures.services import figure_correct
from ..models import (
    ClosedCustomer,
    LeadLogEntry,
    Measurement,
    Objective,
    Team,
    in_force_q,
)
from .common import (
    at,
    backdate_last_history,
    create_dated,
    month_days,
    rng,
    stamp,
)

# How each of the twelve months went, oldest first, as a share of the target.
# Below 1 is a missed month. The last one is the current month, so far.
LEAD_PACE = [1.08, 0.93, 1.12, 1.02, 0.86, 1.10, 1.04, 0.97, 1.15, 1.06, 0.91, 1.05]
CUSTOMER_PACE = [1.04, 0.94, 1.10, 1.0, 0.88, 1.16, 1.02, 0.98, 1.06, 0.92, 1.12, 1.0]

LEAD_SOURCES = [
    "Spring webinar",
    "LinkedIn ads",
    "Partner referrals",
    "Newsletter",
    "Trade fair",
    "SEO content",
    "Product demo day",
    "Google ads",
]
LEAD_NOTES = [
    "",
    "",
    "",
    "Most of them asked for pricing.",
    "Two large accounts among them.",
    "Lower quality than usual: broad targeting.",
    "Follow-up list shared with Sales.",
]

CUSTOMER_NAMES = [
    "Nordwind",
    "Alpenblick",
    "Bluefin",
    "Cedar & Co",
    "Delta Freight",
    "Elbe Medical",
    "Fjord Analytics",
    "Granite Works",
    "Harbor Foods",
    "Iberia Textiles",
    "Juniper Energy",
    "Kestrel Aviation",
    "Lumen Labs",
    "Meridian Retail",
    "Northstar Legal",
    "Oakline Furniture",
    "Pinnacle Dental",
    "Quarry Stone",
    "Riverside Clinics",
    "Solstice Travel",
    "Tidewater Marine",
    "Umbra Security",
    "Vantage Insurance",
    "Willow Schools",
    "Xenon Optics",
    "Yardley Farms",
    "Zephyr Sports",
    "Atlas Printing",
    "Beacon Housing",
    "Copperfield Hotels",
]
CUSTOMER_SUFFIXES = [
    "GmbH",
    "Ltd",
    "AG",
    "BV",
    "SAS",
    "Group",
    "Holding",
    "Partners",
    "Services",
    "Logistics",
    "Digital",
    "Systems",
    "Studio",
    "Trading",
    "International",
    "Nordic",
    "Iberica",
    "Solutions",
    "Industries",
    "Health",
    "Retail",
    "Finance",
    "Europe",
    "Direct",
]
HANDOVER_NOTES = [
    "Wants a kick-off call in the first week.",
    "Needs SSO with Azure AD before go-live.",
    "Migrating from a competitor: export of 3 years of data to import.",
    "Billing contact is the finance team, not the buyer.",
    "Invoices in CHF, please.",
    "Champion is the COO; keep her in the loop.",
    "Pilot with one site first, roll-out in Q3.",
    "Asked for German-speaking support.",
    "Tight deadline: their busy season starts in six weeks.",
    "Signed after a long trial; expects the same contact person.",
    "",
    "",
]

# Monthly values of the manual objectives for the eleven finished months,
# oldest first (the current month is measured when it ends).
MEASURED = {
    "Customers onboarded within 14 days": (
        "service-head",
        [
            "96.5",
            "97.8",
            "94.2",
            "98.1",
            "96.0",
            "97.4",
            "93.8",
            "98.6",
            "97.1",
            "95.5",
            "98.0",
        ],
    ),
}
MEASUREMENT_NOTES = {
    "Customers onboarded within 14 days": "Customers handed over last month, "
    "counted when their onboarding checklist closed.",
}
# The month (counted back from the current one) whose onboarding figure came
# in late and was added by the VP of Service as a correction.
LATE_OBJECTIVE = "Customers onboarded within 14 days"
LATE_MONTHS_AGO = 3
LATE_REASON = (
    "The onboarding checklist export arrived after the deadline; the value is "
    "taken from that export."
)
# The month whose lead log was corrected after it locked.
CORRECTED_MONTHS_AGO = 2
DUPLICATES = 12
CORRECTION_REASON = (
    f"Part of the trade fair batch was logged twice: {DUPLICATES} of these leads "
    "were the same badge scans as the day before."
)


def _split(total: int, parts: int, random) -> list[int]:
    """``total`` split into ``parts`` uneven, positive-ish whole numbers."""
    if parts <= 0:
        return []
    weights = [random.uniform(0.5, 1.5) for _ in range(parts)]
    scale = total / sum(weights)
    shares = [int(w * scale) for w in weights]
    shares[-1] += total - sum(shares)
    return shares


def _months() -> list[dt.date]:
    return periods.recent_months(12)


def _elapsed(month: dt.date) -> float:
    return periods.elapsed_fraction(month)


def seed_lead_log(team: Team, users: dict) -> int:
    if LeadLogEntry.objects.filter(team=team).exists():
        return 0
    random = rng("leads")
    author = users["marketing-lead"]
    rows = []
    for index, month in enumerate(_months()):
        target = (
            Objective.objects.filter(
                in_force_q(month, "agreement__"),
                agreement__provider=team,
                metric_source=Objective.Source.LEADS_DELIVERED,
            )
            .values_list("target", flat=True)
            .first()
        ) or Decimal(200)
        total = int(target * Decimal(str(LEAD_PACE[index])) * Decimal(_elapsed(month)))
        days = month_days(month)
        if not days or total <= 0:
            continue
        count = min(len(days), max(1, round(random.randint(6, 9) * _elapsed(month))))
        chosen = sorted(random.sample(days, count))
        for day, delivered in zip(chosen, _split(total, count, random), strict=True):
            delivered = max(delivered, 1)
            ratio = random.uniform(0.55, 0.7)
            rows.append(
                stamp(
                    LeadLogEntry(
                        team=team,
                        date=day,
                        month=month,
                        leads_delivered=delivered,
                        qualified_leads=min(round(delivered * ratio), delivered),
                        source=random.choice(LEAD_SOURCES),
                        note=random.choice(LEAD_NOTES),
                        created_by=author,
                    ),
                    when=at(day, random.randint(15, 18), random.choice([5, 20, 40])),
                    user=author,
                    reason="logged",
                )
            )
    return len(create_dated(LeadLogEntry, rows))


def _customer_names(random) -> list[str]:
    names = [
        f"{a} {b}" for a, b in itertools.product(CUSTOMER_NAMES, CUSTOMER_SUFFIXES)
    ]
    random.shuffle(names)
    return names


def seed_closed_customers(team: Team, users: dict) -> int:
    if ClosedCustomer.objects.filter(team=team).exists():
        return 0
    random = rng("customers")
    names = iter(_customer_names(random))
    closers = [users["sales-lead"], users["sales-manager"]]
    acknowledger = users["service-head"]
    rows = []
    for index, month in enumerate(_months()):
        count = round(50 * CUSTOMER_PACE[index] * _elapsed(month))
        days = month_days(month)
        if not days:
            continue
        for _ in range(count):
            day = random.choice(days)
            closer = random.choice(closers)
            rows.append(
                stamp(
                    ClosedCustomer(
                        team=team,
                        customer=next(names),
                        closed_on=day,
                        month=month,
                        deal_value=Decimal(random.randrange(4000, 60000, 250)),
                        handover_notes=random.choice(HANDOVER_NOTES),
                        created_by=closer,
                    ),
                    when=at(
                        day, random.randint(10, 18), random.choice([0, 15, 30, 45])
                    ),
                    user=closer,
                    reason="recorded",
                )
            )
    rows.sort(key=lambda r: (r.closed_on, r._history_date))
    created = create_dated(ClosedCustomer, rows)

    # Customer Service acknowledges handovers a day or two later; the last
    # few days' are still waiting.
    waiting_from = periods.today() - dt.timedelta(days=5)
    acknowledged = []
    for customer in created:
        if customer.closed_on >= waiting_from:
            continue
        when = at(
            customer.closed_on + dt.timedelta(days=random.randint(1, 2)),
            random.randint(9, 11),
            random.choice([0, 10, 25, 50]),
        )
        customer.acknowledged_by = acknowledger
        customer.acknowledged_at = when
        stamp(customer, when=when, user=acknowledger, reason="handover acknowledged")
        acknowledged.append(customer)
    if acknowledged:
        bulk_update_with_history(
            acknowledged,
            ClosedCustomer,
            ["acknowledged_by", "acknowledged_at"],
            batch_size=500,
        )
    return len(created)


def _manual_objectives(teams: dict) -> dict[str, Objective]:
    providers = [teams["sales"], teams["customer-service"]]
    found = Objective.objects.filter(
        Q(agreement__provider__in=providers),
        metric_source=Objective.Source.MANUAL,
        agreement__status="active",
    ).select_related("agreement")
    return {o.name: o for o in found}


def seed_measurements(teams: dict, users: dict) -> int:
    objectives = _manual_objectives(teams)
    if Measurement.objects.filter(objective__in=objectives.values()).exists():
        return 0
    random = rng("measurements")
    months = _months()
    late_month = months[-1 - LATE_MONTHS_AGO]
    rows = []
    for name, (username, values) in MEASURED.items():
        objective = objectives.get(name)
        if objective is None:
            continue
        author = users[username]
        for month, value in zip(months[:-1], values, strict=True):
            if name == LATE_OBJECTIVE and month == late_month:
                continue  # reported late: added below as a correction
            # Measured on the first working days after the month ends.
            day = periods.next_month(month) + dt.timedelta(days=random.randint(0, 1))
            moment = dt.datetime(
                day.year, day.month, day.day, 9, 30, tzinfo=periods.org_zone()
            )
            if moment > timezone.now():
                continue  # not entered yet: it shows as due on the home page
            rows.append(
                stamp(
                    Measurement(
                        objective=objective,
                        month=month,
                        value=Decimal(value),
                        note=MEASUREMENT_NOTES[name],
                        created_by=author,
                    ),
                    when=at(day, random.randint(9, 11), random.choice([0, 30])),
                    user=author,
                    reason="measured",
                )
            )
    created = create_dated(Measurement, rows)

    late_objective = objectives.get(LATE_OBJECTIVE)
    if late_objective is not None:
        username, values = MEASURED[LATE_OBJECTIVE]
        late = measurement_correct(
            user=users[username],
            reason=LATE_REASON,
            objective=late_objective,
            month=late_month,
            value=Decimal(values[months.index(late_month)]),
            note=MEASUREMENT_NOTES[LATE_OBJECTIVE],
        )
        when = at((periods.deadline(late_month) + dt.timedelta(days=3)).date(), 14, 10)
        Measurement.objects.filter(pk=late.pk).update(created_at=when)
        backdate_last_history(late, when)
        created.append(late)
    return len(created)


def correct_lead_log(team: Team, users: dict) -> int:
    """A head-level correction of a locked month: a batch logged twice."""
    month = _months()[-1 - CORRECTED_MONTHS_AGO]
    entries = LeadLogEntry.objects.filter(team=team, month=month)
    if LeadLogEntry.history.filter(
        team_id=team.pk, history_change_reason__startswith="correction"
    ).exists():
        return 0
    entry = entries.order_by("-leads_delivered", "pk").first()
    if entry is None or entry.leads_delivered <= DUPLICATES:
        return 0
    delivered = entry.leads_delivered - DUPLICATES
    figure_correct(
        LEADS,
        user=users["admin"],
        reason=CORRECTION_REASON,
        row=entry,
        leads_delivered=delivered,
        qualified_leads=min(entry.qualified_leads, round(delivered * 0.6)),
        source="Trade fair",
    )
    entry.refresh_from_db()
    backdate_last_history(
        entry, at((periods.deadline(month) + dt.timedelta(days=6)).date(), 16, 20)
    )
    return 1


def seed_figures(teams: dict, users: dict) -> int:
    """Every figure of the demo chain; returns how many rows were created."""
    return (
        seed_lead_log(teams["marketing"], users)
        + seed_closed_customers(teams["sales"], users)
        + seed_measurements(teams, users)
        + correct_lead_log(teams["marketing"], users)
    )
