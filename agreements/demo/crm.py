"""What the demo's CRMs send: the contacts Marketing hands over to Sales in
HubSpot, and the upsell leads Customer Service passes on in Salesforce.

HubSpot holds one contact for each lead in Marketing's lead log: an entry's
leads delivered and qualified are that day's contacts, from the entry's
campaign, so the leads counted from the CRM each month are the totals logged
by hand. Each contact is then followed up by a Sales rep, its first touch
within four business hours but for a share of each month's (``LEADS_LATE``).

Each month's rows come from a random source of their own, and every value
is drawn whatever the cut-off (the seed's "now"), so a month looks the same
whichever day the seed runs; what had not happened by the cut-off is left
open.
"""

from __future__ import annotations

import datetime as dt
import random as random_module
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.text import slugify

from ..calendars.time import CalendarSnapshot
from ..records.lead_csv import QUALIFIED_STATUSES
from ..records.measure import due_at
from .common import rng
from .feeds import arrival, calendar_days, happened, response_delay
from .figures import CUSTOMER_NAMES, CUSTOMER_SUFFIXES

# Share of each month's leads first touched after four business hours,
# oldest first; the last is the current month so far. Lead follow-up wants
# 90 % on time: three months miss it.
LEADS_LATE = (0.04, 0.07, 0.17, 0.03, 0.06, 0.05, 0.2, 0.08, 0.04, 0.06, 0.15, 0.05)
TOUCH_WITHIN = 240  # business minutes: Lead follow-up's target

# The Sales reps HubSpot's workflow assigns the leads to.
OWNERS = ("Sam Ortega", "Priya Nair", "Jonas Weber", "Lena Fischer")

# The lead log's campaigns as HubSpot's Original Source knows them.
ORIGINAL_SOURCE = {
    "Spring webinar": "Other Campaigns",
    "LinkedIn ads": "Paid Social",
    "Partner referrals": "Referrals",
    "Newsletter": "Email Marketing",
    "Trade fair": "Offline Sources",
    "SEO content": "Organic Search",
    "Product demo day": "Offline Sources",
    "Google ads": "Paid Search",
}

# A qualified lead's lifecycle after Sales's first touch, how common each
# end is, and the lead status it leaves.
MQL = "Marketing Qualified Lead"
QUALIFIED_PATHS = (
    (MQL, 3, "Attempted to Contact"),
    ("Sales Qualified Lead", 4, "In Progress"),
    ("Opportunity", 2, "Open Deal"),
    ("Customer", 1, "Connected"),
)
# An unqualified lead stays a lead; Sales closes it so.
UNQUALIFIED_STATUSES = (("Unqualified", 3), ("Bad Timing", 1))

FIRST_NAMES = (
    "Anna",
    "Ben",
    "Chiara",
    "David",
    "Elif",
    "Felix",
    "Greta",
    "Hannah",
    "Ivan",
    "Julia",
    "Karim",
    "Laura",
    "Lukas",
    "Maja",
    "Nils",
    "Olivia",
    "Paul",
    "Rosa",
    "Sophie",
    "Tobias",
    "Ulrike",
    "Valentin",
    "Wiebke",
    "Yusuf",
    "Zoë",
    "Aylin",
    "Bastian",
    "Clara",
    "Emil",
    "Frieda",
)
LAST_NAMES = (
    "Albers",
    "Bauer",
    "Conti",
    "Dietrich",
    "Engel",
    "Fuchs",
    "Günther",
    "Hoffmann",
    "Jansen",
    "Keller",
    "Lorenz",
    "Meyer",
    "Novak",
    "Olsen",
    "Peters",
    "Richter",
    "Schmitt",
    "Thomsen",
    "Vogel",
    "Winter",
    "Yilmaz",
    "Zimmermann",
    "Brandt",
    "Haas",
    "Kowalski",
    "Martens",
    "Roth",
    "Seidel",
    "Weiß",
    "Ziegler",
)
# HubSpot's record ids grow with time; each month's start a block of their own.
FIRST_RECORD_ID = 40_000_000_000
RECORD_IDS_A_MONTH = 100_000


@dataclass(frozen=True)
class LoggedDay:
    """One entry of Marketing's lead log: a day's leads of one campaign."""

    day: dt.date
    delivered: int
    qualified: int
    campaign: str


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    company: str
    email: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


def _person(
    random: random_module.Random, taken: set[str], companies: list[str] | None = None
) -> Person:
    """Someone not in ``taken`` yet (by address), then taken: a CRM keeps
    one contact per address. At one of ``companies`` where given."""
    while True:
        first = random.choice(FIRST_NAMES)
        last = random.choice(LAST_NAMES)
        company = (
            random.choice(companies)
            if companies
            else f"{random.choice(CUSTOMER_NAMES)} {random.choice(CUSTOMER_SUFFIXES)}"
        )
        email = (
            f"{slugify(first)}.{slugify(last).replace('-', '')}"
            f"@{slugify(company)}.example"
        )
        if email not in taken:
            taken.add(email)
            return Person(first, last, company, email)


def _text(moment: dt.datetime | None, zone: ZoneInfo) -> str:
    """A time as HubSpot's export writes it: local, to the minute."""
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M}" if moment else ""


def _handed_over(
    random: random_module.Random, day: dt.date, zone: ZoneInfo, cut: dt.datetime
) -> dt.datetime:
    """A time on ``day`` (mostly office hours, evenings too), but for a
    lead of today, no later than the cut-off."""
    started = arrival(random, day, zone)
    spare = random.random()
    if started <= cut:
        return started
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    minutes = max(0, int((cut - midnight).total_seconds() // 60))
    return midnight + dt.timedelta(minutes=int(minutes * spare))


@dataclass(frozen=True)
class _Lifecycle:
    stage: str
    status: str
    changed: dt.datetime | None  # when Sales last moved it on


def _lifecycle(
    random: random_module.Random,
    qualified: bool,
    touched: dt.datetime | None,
    cut: dt.datetime,
) -> _Lifecycle:
    """Where the lead stands by the cut-off: new until Sales touches it,
    then contacted, and some days later on to where it ends."""
    if qualified:
        stage, _, status = random.choices(
            QUALIFIED_PATHS, [weight for _, weight, _ in QUALIFIED_PATHS]
        )[0]
    else:
        stage = "Lead"
        status = random.choices(
            [status for status, _ in UNQUALIFIED_STATUSES],
            [weight for _, weight in UNQUALIFIED_STATUSES],
        )[0]
    later = dt.timedelta(days=random.randint(1, 20), minutes=random.randint(0, 480))
    first_stage = MQL if qualified else "Lead"
    if touched is None or touched > cut:
        return _Lifecycle(first_stage, "New", None)
    if stage == MQL or touched + later > cut:
        return _Lifecycle(first_stage, "Attempted to Contact", None)
    return _Lifecycle(stage, status, touched + later)


def hubspot_rows(
    month: dt.date,
    index: int,
    logged: list[LoggedDay],
    *,
    calendar: CalendarSnapshot,
    cut: dt.datetime,
    taken: set[str],
) -> list[dict[str, Any]]:
    """One month's contacts: those of each day Marketing logged, as far as
    they had happened by ``cut``. ``taken``: the addresses of the months
    before (each contact is someone new)."""
    random = rng(f"records:hubspot:{month:%Y-%m}")
    zone = calendar.zone
    leads = []
    for entry in logged:
        qualified = set(random.sample(range(entry.delivered), entry.qualified))
        for number in range(entry.delivered):
            started = _handed_over(random, entry.day, zone, cut)
            leads.append((started, number in qualified, entry.campaign))
    leads.sort(key=lambda lead: lead[0])
    late = set(random.sample(range(len(leads)), round(len(leads) * LEADS_LATE[index])))
    record_id = FIRST_RECORD_ID + (month.year * 12 + month.month) * RECORD_IDS_A_MONTH
    rows = []
    for number, (started, qualified, campaign) in enumerate(leads):
        record_id += random.randint(1, 40)  # other contacts in between
        person = _person(random, taken)
        delay = response_delay(random, TOUCH_WITHIN, number in late)
        touched = due_at(calendar, started, delay)
        assigned = started + dt.timedelta(minutes=random.randint(1, 15))
        if touched is not None:
            assigned = min(assigned, touched)
        owner = random.choice(OWNERS)
        became_mql = started + dt.timedelta(minutes=random.randint(0, 90))
        life = _lifecycle(random, qualified, touched, cut)
        touched, assigned = happened(touched, cut), happened(assigned, cut)
        # Within the hour and a half; a lead of the last minutes is qualified
        # by the cut-off already, as the lead log counts it.
        qualified_at = min(became_mql, max(started, cut)) if qualified else None
        updated = max(
            moment
            for moment in (started, qualified_at, assigned, touched, life.changed)
            if moment is not None
        )
        owner = owner if assigned else ""
        rows.append(
            {
                "external_id": str(record_id),
                "started_at": started,
                "qualified": qualified,
                "qualified_at": qualified_at,
                "owner_assigned_at": assigned,
                "first_touch_at": touched,
                "owner": owner,
                "email": person.email,
                "name": person.name,
                "company": person.company,
                "status": life.status,
                "stage": life.stage,
                "updated_at": updated,
                "raw": {
                    "Record ID": str(record_id),
                    "First Name": person.first,
                    "Last Name": person.last,
                    "Email": person.email,
                    "Associated Company": person.company,
                    "Contact owner": owner,
                    "Lifecycle Stage": life.stage,
                    "Lead Status": life.status,
                    "Original Source": ORIGINAL_SOURCE.get(campaign, "Other Campaigns"),
                    "Original Source Drill-Down 1": campaign,
                    "Became a Lead Date": _text(started, zone),
                    "Became a Marketing Qualified Lead Date": _text(qualified_at, zone),
                    "Owner Assigned Date": _text(assigned, zone),
                    "First Engagement Date": _text(touched, zone),
                    "Last Modified Date": _text(updated, zone),
                },
            }
        )
    return rows


# --- Customer Service's upsell leads ------------------------------------------

# A Salesforce lead's status once Sales has touched it, and how common; it
# is qualified as the import's default rule has it (``QUALIFIED_STATUSES``).
UPSELL_STATUSES = (
    ("Working - Contacted", 3),
    ("Closed - Converted", 2),
    ("Closed - Not Converted", 1),
)
UPSELL_UNTOUCHED = "Open - Not Contacted"
UPSELLS_A_MONTH = (1, 3)
# Days from a contact becoming a customer to the support call that makes
# them an upsell lead.
RETURNS_AFTER_DAYS = (20, 45)


def _salesforce_id(random: random_module.Random) -> str:
    """A lead id as Salesforce writes it: 00Q and 15 letters and digits."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return "00Q" + "".join(random.choices(alphabet, k=15))


def _salesforce_text(moment: dt.datetime | None, zone: ZoneInfo) -> str:
    """A time as a Salesforce report writes it (US English)."""
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    return f"{local.month}/{local.day}/{local.year} {local:%I:%M %p}".replace(" 0", " ")


def _upsell(
    random: random_module.Random,
    person: Person,
    started: dt.datetime,
    *,
    calendar: CalendarSnapshot,
    cut: dt.datetime,
) -> dict[str, Any] | None:
    """One upsell lead as Customer Service's Salesforce sends it; None when
    it had not been created by ``cut``."""
    lead_id = _salesforce_id(random)
    owner = random.choice(OWNERS)
    status = random.choices(
        [status for status, _ in UPSELL_STATUSES],
        [weight for _, weight in UPSELL_STATUSES],
    )[0]
    touched = due_at(
        calendar, started, dt.timedelta(minutes=random.randint(30, 2 * TOUCH_WITHIN))
    )
    if started > cut:
        return None
    touched = happened(touched, cut)
    if touched is None:
        status = UPSELL_UNTOUCHED
    updated = touched or started
    zone = calendar.zone
    return {
        "external_id": lead_id,
        "started_at": started,
        "qualified": status in QUALIFIED_STATUSES,
        "owner_assigned_at": started,
        "first_touch_at": touched,
        "owner": owner,
        "email": person.email,
        "name": person.name,
        "company": person.company,
        "status": status,
        "updated_at": updated,
        "raw": {
            "Lead ID": lead_id,
            "First Name": person.first,
            "Last Name": person.last,
            "Email": person.email,
            "Company / Account": person.company,
            "Lead Owner": owner,
            "Lead Status": status,
            "Lead Source": "Customer Support",
            "Create Date": _salesforce_text(started, zone),
            "Last Modified Date": _salesforce_text(updated, zone),
        },
    }


def upsell_rows(
    month: dt.date,
    *,
    customers: list[str],
    calendar: CalendarSnapshot,
    cut: dt.datetime,
    taken: set[str],
) -> list[dict[str, Any]]:
    """One month's upsell leads: someone at a customer asks support about
    more seats or another product, and Customer Service passes them on to
    Sales. ``customers``: the companies Sales had closed by then."""
    random = rng(f"records:salesforce:{month:%Y-%m}")
    weekdays = [day for day in calendar_days(month) if day.weekday() < 5]
    rows = []
    for _ in range(random.randint(*UPSELLS_A_MONTH)):
        person = _person(random, taken, customers)
        started = arrival(random, random.choice(weekdays), calendar.zone)
        row = _upsell(random, person, started, calendar=calendar, cut=cut)
        if row is not None:
            rows.append(row)
    return rows


def returning_rows(
    contacts: list[tuple[Person, dt.datetime]],
    *,
    calendar: CalendarSnapshot,
    cut: dt.datetime,
) -> list[dict[str, Any]]:
    """Contacts Marketing handed over who became customers (with when they
    did), then called support: Customer Service passes them on again, and
    the portal flags each as the same person Marketing handed over first."""
    random = rng("records:salesforce:returning")
    rows = []
    for person, became_customer in contacts:
        later = became_customer + dt.timedelta(days=random.randint(*RETURNS_AFTER_DAYS))
        day = later.astimezone(calendar.zone).date()
        row = _upsell(
            random,
            person,
            arrival(random, day, calendar.zone),
            calendar=calendar,
            cut=cut,
        )
        if row is not None:
            rows.append(row)
    return rows
