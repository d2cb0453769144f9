"""A year of friction reports from Sales to Customer Service: about forty,
across categories and severities, the older ones worked through by the VP of
Service with comments, most of them grouped into pain points (one of which
turned out to be a duplicate and was merged)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from .. import periods
from ..friction.knowledge import pain_point_merge
from ..models import ClosedCustomer, FrictionComment, FrictionReport, PainPoint
from .common import at, create_dated, month_days, rng, save_dated, stamp

Category = FrictionReport.Category
Severity = FrictionReport.Severity
Status = FrictionReport.Status

# key: title, category, description, tags, report texts (description, business
# impact, suggested action), resolution (final status, the VP's note).
PAIN_POINTS = {
    "currency": (
        "Invoices in the wrong currency",
        Category.BILLING,
        "Customers billed in euros although their contract is in another "
        "currency; finance teams reject the invoices.",
        "invoices,currency",
        [
            (
                "Their invoice came in EUR although the contract says CHF. Their "
                "accounts payable rejected it and the first payment is now late.",
                "First payment delayed by a month; the buyer is embarrassed "
                "internally.",
                "Take the invoice currency from the contract, not the country.",
            ),
            (
                "Second invoice in a row in the wrong currency. They asked whether "
                "we can bill at all in GBP.",
                "Renewal conversation starts in two months; this does not help.",
                "Credit note and a corrected invoice this week.",
            ),
        ],
        (
            Status.RESOLVED,
            "Fixed in the billing release of last week: the currency now comes "
            "from the contract. Finance re-issued the affected invoices.",
        ),
    ),
    "sso": (
        "SSO setup takes weeks",
        Category.ONBOARDING,
        "Single sign-on with Azure AD or Okta needs several back-and-forths "
        "with our support before it works.",
        "sso,onboarding",
        [
            (
                "Three weeks after signing they still cannot log in with their "
                "Azure AD. Every attempt ends with a support ticket.",
                "Go-live slipped; 120 seats paid but unused.",
                "A setup guide for Azure AD and a call with an engineer.",
            ),
            (
                "Okta integration fails on the group mapping; their IT gave up "
                "and asked for local passwords.",
                "Security review on their side may block the roll-out.",
                "Support the Okta group claim out of the box.",
            ),
        ],
        (
            Status.RESOLVED,
            "New SSO setup guide published and an engineer now joins every SSO "
            "kick-off. Median setup time is down to four days.",
        ),
    ),
    "export": (
        "Data export times out for large accounts",
        Category.PRODUCT,
        "The CSV export fails after 60 seconds for accounts with more than a "
        "few hundred thousand records.",
        "export,performance",
        [
            (
                "Export of their order history times out every time. They need it "
                "for their auditors by the end of the month.",
                "Audit deadline at risk; they mentioned the contract's exit clause.",
                "Run large exports in the background and email a link.",
            ),
            (
                "The monthly export for their BI tool stopped working once they "
                "passed 400,000 records.",
                "Their management reporting is blind until it works.",
                "A scheduled export or an API endpoint with paging.",
            ),
        ],
        (
            Status.RESOLVED,
            "Large exports now run in the background and arrive by email. "
            "Tested with 2 million records.",
        ),
    ),
    "kickoff": (
        "Kick-off call booked too late",
        Category.ONBOARDING,
        "New customers wait more than a week for their first call with "
        "Customer Service.",
        "kick-off,onboarding",
        [
            (
                "Signed on Monday, first call offered for the week after next. "
                "They expected to start the same week.",
                "Lost momentum; the champion is going on leave.",
                "Offer a kick-off slot within three working days of signing.",
            ),
        ],
        (
            Status.RESOLVED,
            "Kick-off slots are now booked straight from the handover; the "
            "first call happens within three working days.",
        ),
    ),
    "price": (
        "Price increase not announced in time",
        Category.PRICING,
        "Customers learn about the yearly price increase from the invoice.",
        "pricing,communication",
        [
            (
                "They saw the 7 % increase on the invoice without any notice. "
                "Procurement asked for the clause that allows it.",
                "Escalation to their CFO; upsell on hold.",
                "Announce increases 60 days ahead, by email and in the portal.",
            ),
        ],
        (
            Status.WONT_FIX,
            "The increase follows the contract's indexation clause and is not "
            "changed. From next year Finance sends the notice 60 days ahead; "
            "tracked outside this report.",
        ),
    ),
    "language": (
        "Support answers only in English",
        Category.SUPPORT,
        "Customers in Germany and Spain ask for support in their language.",
        "support,language",
        [
            (
                "Their users write tickets in German and get answers in English; "
                "the branch managers stopped using support.",
                "Adoption in their branches is below 30 %.",
                "German-speaking support during business hours.",
            ),
            (
                "Asked twice for a Spanish-speaking contact; both answers came in "
                "English.",
                "The regional director is unhappy; expansion to two more sites "
                "on hold.",
                "At least a Spanish-speaking escalation contact.",
            ),
        ],
        (
            Status.WONT_FIX,
            "We cannot staff every language this year. German-speaking support "
            "starts in Q3; Spanish tickets get a translated answer meanwhile.",
        ),
    ),
    "export-slow": (
        "Exports are very slow",
        Category.PRODUCT,
        "Exports take minutes and sometimes never finish.",
        "export,performance",
        [
            (
                "Export spins for minutes and then shows an error page.",
                "Their controller exports by hand every Friday; hours lost.",
                "Make the export faster.",
            ),
        ],
        None,
    ),
}
# Reports without a pain point yet: one-offs, or waiting for the VP to file.
ONE_OFFS = [
    (
        Category.PRODUCT,
        "android,mobile",
        "The Android app crashes on login since their phones updated to Android 15.",
        "Field staff cannot log visits.",
        "Hotfix for the login screen.",
    ),
    (
        Category.OTHER,
        "contract",
        "The signed contract PDF they received is missing the signature page.",
        "Their legal team will not file it.",
        "Re-send the complete contract.",
    ),
    (
        Category.ONBOARDING,
        "training,videos",
        "The onboarding videos still show the old navigation; new users get lost.",
        "More tickets in the first month than expected.",
        "Re-record the three basic videos.",
    ),
    (
        Category.BILLING,
        "invoices,purchase-order",
        "Invoices do not show their purchase order number, so they are not paid.",
        "Invoices 60 days overdue, through no fault of theirs.",
        "A PO number field on the customer record.",
    ),
    (
        Category.SUPPORT,
        "response-time",
        "Urgent ticket about a broken integration waited two days for a first answer.",
        "Their orders did not sync for two days.",
        "Page the on-call engineer for integration outages.",
    ),
]
# Per month, oldest first: the reports' pain points (None: a one-off).
SCHEDULE = [
    ["currency", "sso", None],
    ["export", "currency", "kickoff", "price"],
    ["sso", "export-slow"],
    ["currency", "language", "export"],
    ["sso", "kickoff", "export", "price", "currency"],
    ["language", "export-slow", "kickoff"],
    ["export", "currency", "sso", "language"],
    ["price", "kickoff", "export"],
    ["currency", "sso", "export", "language"],
    ["export", None, "kickoff"],
    [None, "currency", None, "export"],
    [None, None],
]
SEVERITIES = {
    "currency": [Severity.HIGH, Severity.MEDIUM],
    "sso": [Severity.HIGH, Severity.CRITICAL],
    "export": [Severity.CRITICAL, Severity.HIGH],
    "kickoff": [Severity.MEDIUM, Severity.LOW],
    "price": [Severity.HIGH, Severity.MEDIUM],
    "language": [Severity.MEDIUM, Severity.LOW],
    "export-slow": [Severity.MEDIUM],
    None: [Severity.LOW, Severity.MEDIUM, Severity.HIGH],
}
ACKNOWLEDGE_NOTES = [
    "Thanks, this is clear. I have asked the team lead to look into it.",
    "Seen. We had a similar case last month; checking whether it is the same cause.",
    "",
    "Acknowledged — I will update you once we know more.",
]
PROGRESS_NOTES = [
    "The product team has reproduced it; a fix is planned for the next release.",
    "We are working on it with the customer's IT this week.",
    "Workaround sent to the customer; the real fix is in progress.",
]
QUESTIONS = [
    "Could you send me the customer's ticket numbers? It helps us find the logs.",
    "Is this blocking their go-live, or only annoying? That decides the order.",
]
DEFAULT_RESOLUTION = (
    Status.RESOLVED,
    "Fixed; the customer confirmed it works again.",
)


def _label(status: str) -> str:
    return f"“{Status(status).label.lower()}”"


def _months_ago(months: list[dt.date], report_month: dt.date) -> int:
    return len(months) - 1 - months.index(report_month)


def _plan(age: int, random) -> list[str]:
    """The statuses a report of this age (in months) has gone through."""
    if age == 0:
        return []
    if age == 1:
        return [Status.ACKNOWLEDGED] + (
            [Status.IN_PROGRESS] if random.random() < 0.5 else []
        )
    steps = [Status.ACKNOWLEDGED, Status.IN_PROGRESS]
    if age <= 3 and random.random() >= 0.4:
        return steps
    return [*steps, "final"]


class _Writer:
    """Writes a report's later steps with their dates, never past now."""

    def __init__(self, head) -> None:
        self.head = head
        self.comments: list[FrictionComment] = []

    def status(self, report, status: str, when: dt.datetime, note: str) -> bool:
        if when > timezone.now():
            return False
        old = report.status
        report.status = status
        if status == Status.ACKNOWLEDGED:
            report.acknowledged_at = when
        if status in FrictionReport.CLOSED_STATUSES:
            report.closed_at = when
        reason = f"status {_label(old)} → {_label(status)}"
        save_dated(
            report,
            when=when,
            user=self.head,
            reason=reason + (f": {note}" if note else ""),
        )
        self.comment(report, when, note, new_status=status, reason=reason)
        return True

    def comment(self, report, when, body, *, new_status="", reason="commented"):
        comment = FrictionComment(
            report=report,
            author=self.head,
            team=report.addressed_team,
            body=body,
            new_status=new_status,
        )
        save_dated(comment, when=when, user=self.head, reason=reason)
        comment.created_at = when
        self.comments.append(comment)

    def flush(self) -> None:
        """Give each comment, and its first history row, its real date."""
        FrictionComment.objects.bulk_update(self.comments, ["created_at"])
        for comment in self.comments:
            FrictionComment.history.filter(id=comment.pk, history_type="+").update(
                created_at=comment.created_at
            )


def seed_friction(teams: dict, users: dict) -> int:
    sales, service = teams["sales"], teams["customer-service"]
    if FrictionReport.objects.filter(reporting_team=sales).exists():
        return 0
    random = rng("friction")
    head = users["service-head"]
    reporters = [users["sales-manager"], users["sales-manager"], users["sales-lead"]]
    months = periods.recent_months(len(SCHEDULE))
    customers = list(
        ClosedCustomer.objects.filter(team=sales)
        .order_by("closed_on", "pk")
        .values_list("customer", "closed_on")
    )
    variants = dict.fromkeys(PAIN_POINTS, 0)
    one_offs = iter(ONE_OFFS * 2)

    drafts = []
    for month, keys in zip(months, SCHEDULE, strict=True):
        days = month_days(month)
        if not days:
            continue
        for key, day in zip(
            keys, sorted(random.choices(days, k=len(keys))), strict=True
        ):
            earlier = [name for name, closed in customers if closed <= day] or ["Acme"]
            if key is None:
                category, tags, description, impact, action = next(one_offs)
            else:
                _, category, _, tags, texts, _ = PAIN_POINTS[key]
                description, impact, action = texts[variants[key] % len(texts)]
                variants[key] += 1
            reporter = random.choice(reporters)
            drafts.append(
                (
                    key,
                    stamp(
                        FrictionReport(
                            reporting_team=sales,
                            addressed_team=service,
                            addressed_to=head,
                            customer=random.choice(earlier[-80:]),
                            category=category,
                            severity=random.choice(SEVERITIES[key]),
                            description=description,
                            business_impact=impact,
                            suggested_action=action,
                            tags=tags,
                            month=month,
                            created_by=reporter,
                        ),
                        when=at(day, random.randint(9, 17), random.choice([5, 35])),
                        user=reporter,
                        reason="filed",
                    ),
                )
            )
    reports = create_dated(FrictionReport, [report for _, report in drafts])

    writer = _Writer(head)
    pain_points: dict[str, PainPoint] = {}
    for (key, _), report in zip(drafts, reports, strict=True):
        filed = report.created_at
        when = filed + dt.timedelta(days=random.randint(1, 2), hours=1)
        age = _months_ago(months, report.month)
        for step in _plan(age, random):
            if step == Status.ACKNOWLEDGED:
                note = random.choice(ACKNOWLEDGE_NOTES)
            elif step == Status.IN_PROGRESS:
                if random.random() < 0.3:
                    writer.comment(report, when, random.choice(QUESTIONS))
                    when += dt.timedelta(days=1)
                note = random.choice(PROGRESS_NOTES)
            else:
                step, note = (
                    PAIN_POINTS[key][5] if key else None
                ) or DEFAULT_RESOLUTION
            if not writer.status(report, step, when, note):
                break
            if step == Status.ACKNOWLEDGED and key is not None:
                link_at = when + dt.timedelta(hours=2)
                if link_at <= timezone.now():
                    pain_point = pain_points.get(key) or _pain_point(
                        key, head=head, when=link_at
                    )
                    pain_points[key] = pain_point
                    report.pain_point = pain_point
                    save_dated(
                        report,
                        when=link_at,
                        user=head,
                        reason=f"filed under pain point “{pain_point}”",
                    )
            when += dt.timedelta(days=random.randint(3, 12))
    writer.flush()
    _talk_it_through(reports, head)

    # Found to be the same problem: the duplicate is merged, as a head would.
    if "export-slow" in pain_points and "export" in pain_points:
        pain_point_merge(
            source=pain_points["export-slow"], target=pain_points["export"], user=head
        )
    return len(reports)


# The latest open report, talked through by both teams: (who, text), the
# head speaking for Customer Service, the reporter for Sales.
CONVERSATION = [
    ("head", "Which of their users see it? Our logs show nothing for the admins."),
    ("reporter", "Mostly their finance team, six people, every Monday morning."),
    ("head", "Thanks, that narrows it down. We aim to have it fixed by the date set."),
]


def _talk_it_through(reports: list[FrictionReport], head) -> None:
    """The latest open report gets an assignee, a due date ahead and a
    conversation between both teams; the one before it a due date that has
    passed since, so the demo shows what "Overdue" looks like."""
    open_reports = sorted(
        (r for r in reports if r.status in (Status.ACKNOWLEDGED, Status.IN_PROGRESS)),
        key=lambda r: r.created_at,
        reverse=True,
    )
    now = timezone.now()
    today = periods.today()
    if open_reports:
        report = open_reports[0]
        moments = _moments(report, until=now)
        _assign(report, head, today + dt.timedelta(days=10), moments)
        writer = _Writer(head)
        for speaker, text in CONVERSATION:
            author = head if speaker == "head" else report.created_by
            side = report.addressed_team if speaker == "head" else report.reporting_team
            comment = FrictionComment(
                report=report, author=author, team=side, body=text
            )
            when = next(moments)
            save_dated(comment, when=when, user=author, reason="commented")
            comment.created_at = when
            writer.comments.append(comment)
        writer.flush()
    for report in open_reports[1:]:
        # Set while still ahead: a few days after its last step, a day that
        # has passed by now (the next open report, if that one's is not).
        due = periods.today(_last_step(report)) + dt.timedelta(days=3)
        if due < today:
            until = dt.datetime.combine(due, dt.time(), tzinfo=periods.org_zone())
            _assign(report, head, due, _moments(report, until=until))
            break


def _last_step(report: FrictionReport) -> dt.datetime:
    return report.history.latest("history_date").history_date


def _moments(report: FrictionReport, *, until: dt.datetime):
    """Moments after the report's last step and before ``until``, in order."""
    start = max(_last_step(report), until - dt.timedelta(days=6))
    return iter(start + (until - start) * k / 8 for k in range(1, 8))


def _assign(report: FrictionReport, head, due: dt.date, moments) -> None:
    name = head.get_full_name() or head.username
    report.assigned_to = head
    save_dated(report, when=next(moments), user=head, reason=f"assigned it to {name}")
    report.due_date = due
    save_dated(
        report,
        when=next(moments),
        user=head,
        reason=f"set the due date to {due.day} {due:%B %Y}",
    )


def _pain_point(key: str, *, head, when: dt.datetime) -> PainPoint:
    title, category, description, *_ = PAIN_POINTS[key]
    pain_point = PainPoint(
        title=title, category=category, description=description, created_by=head
    )
    save_dated(pain_point, when=when, user=head, reason="created")
    PainPoint.objects.filter(pk=pain_point.pk).update(created_at=when)
    PainPoint.history.filter(id=pain_point.pk).update(created_at=when)
    return pain_point
