"""Month-end emails at scale: each fits in an inbox (Gmail clips a message
whose HTML passes about 102 KB) at the demo's size, the benchmark
organisation's and the worst case the caps allow; each distinct body is
built once; a batch goes over one mail connection; ``send_scorecards``
hands the emails to the workers when there are workers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agreements.models import Agreement, Membership, Objective
from agreements.tests.factories import (
    AgreementFactory,
    MeasurementFactory,
    ObjectiveFactory,
    TeamFactory,
)
from conftest import make_member
from reports.models import Breach, Delivery
from reports.notifications import cards, content, render
from reports.notifications.jobs import month_close, pending_month_end
from reports.notifications.ledger import Result, deliveries_send_batch
from reports.notifications.render import Composer

from .moments import AFTER_CLOSE, JANUARY

pytestmark = pytest.mark.django_db
Kind = Delivery.Kind
INBOX_LIMIT = 100_000  # bytes of HTML; Gmail clips at about 102 KB


def html_of(message) -> str:
    return message.alternatives[0].content


def html_encoding(message) -> str:
    """How the HTML goes over the wire: 8bit while no line of it passes
    RFC 5322's 998 characters, else quoted-printable (larger, and slower to
    encode: Python's encoder is pure Python)."""
    (html,) = (
        part
        for part in message.message().walk()
        if part.get_content_type() == "text/html"
    )
    return html["Content-Transfer-Encoding"]


def test_a_batch_builds_each_body_once_and_sends_over_one_connection(
    org, sink, settings, monkeypatch
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
    for name in ("ceo", "coo", "cfo"):  # three readers of one digest
        executive = make_member(
            name, org.leads.provider, Membership.Role.MEMBER, first_name=name.upper()
        )
        executive.user_permissions.add(*org.people["executive"].user_permissions.all())
    with time_machine.travel(AFTER_CLOSE, tick=False):
        month_close(month=JANUARY, enqueue=False)
        ids = pending_month_end(JANUARY, now=timezone.now())
        deliveries = Delivery.objects.filter(pk__in=ids).select_related("recipient")
        audiences = {content.audience(d) for d in deliveries}
        built = []
        real = content.body_context
        monkeypatch.setattr(
            render, "body_context", lambda d: built.append(d.pk) or real(d)
        )
        deliveries_send_batch(ids)

    received = sink.messages()
    assert len(received) == len(ids) == Delivery.objects.filter(status="sent").count()
    assert len({r.peer for r in received}) == 1  # one connection for the batch
    # One body per audience: the four executives share one digest.
    assert len(built) == len(audiences) < len(ids)
    assert max(r.html_size for r in received) < INBOX_LIMIT


def test_what_a_standing_may_see_is_asked_once_per_batch(org, mailoutbox, monkeypatch):
    """Three executives in one team share the organisation digest with the
    demo's executive, who is in none: two standings. What a check found
    visible for a standing is not asked again for it, whichever body shows
    it; a check that fails withholds the email from every reader of its
    standing, and from them only, and is made again for each of them."""
    from agreements.rules import standing
    from reports.notifications.visibility import NotVisible

    trio = []
    for name in ("ceo", "coo", "cfo"):
        executive = make_member(name, org.leads.provider, Membership.Role.MEMBER)
        executive.user_permissions.add(*org.people["executive"].user_permissions.all())
        trio.append(executive)
    barred = standing(trio[0])
    asked: list[tuple] = []  # (standing, kind, id) of each check that passed
    passed, failed = [], []
    real = render.check_visible

    def check(user, shown, also=None):
        if standing(user) == barred:
            failed.append(user.username)
            raise NotVisible("not for this standing")
        visible = real(user, shown, also=also)
        passed.append(user.username)
        for kind in ("agreements", "breaches", "pain_points", "friction_reports"):
            asked.extend((standing(user), kind, pk) for pk in getattr(shown, kind))
            asked.extend((standing(user), kind, pk) for pk in getattr(visible, kind))
        return visible

    monkeypatch.setattr(render, "check_visible", check)
    with time_machine.travel(AFTER_CLOSE, tick=False):
        month_close(month=JANUARY, enqueue=False)
        ids = pending_month_end(JANUARY, now=timezone.now())
        deliveries = Delivery.objects.filter(pk__in=ids).select_related("recipient")
        pairs = {(content.audience(d), standing(d.recipient)) for d in deliveries}
        deliveries_send_batch(ids)

    assert asked and len(asked) == len(set(asked))  # nothing asked twice
    assert sorted(failed) == ["ceo", "cfo", "coo"]  # a failure is not kept
    # One check for each standing: it asks about what every email of the
    # batch to that standing shows (a team's head: digest and scorecards),
    # and bodies of one standing (a team's lead and head) show the same.
    assert len(passed) == len({s for _, s in pairs} - {barred}) < len(pairs) - 1
    digests = Delivery.objects.filter(pk__in=ids, kind=Kind.DIGEST)
    withheld = digests.filter(status=Delivery.Status.FAILED)
    assert set(withheld.values_list("recipient__username", flat=True)) == {
        "ceo",
        "coo",
        "cfo",
    }
    assert withheld.filter(last_error__startswith="Withheld").count() == 3
    sent = Delivery.objects.filter(pk__in=ids, status=Delivery.Status.SENT)
    assert "executive" in set(sent.values_list("recipient__username", flat=True))
    assert len(mailoutbox) == sent.count() == len(ids) - 3


def test_a_batch_reads_its_readers_choices_once_and_keeps_to_them(org, mailoutbox):
    """Someone who switches the scorecards off after the month end was
    planned gets none; the batch read every reader's choice in one query."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reports.models import NotificationPreference

    lead = org.people["marketing-lead"]
    with time_machine.travel(AFTER_CLOSE, tick=False):
        month_close(month=JANUARY, enqueue=False)
        ids = pending_month_end(JANUARY, now=timezone.now())
        NotificationPreference.objects.create(user=lead, scorecards=False)
        with CaptureQueriesContext(connection) as queries:
            deliveries_send_batch(ids)
    table = NotificationPreference._meta.db_table
    assert sum(table in q["sql"] for q in queries.captured_queries) == 1
    theirs = Delivery.objects.get(recipient=lead, kind=Kind.SCORECARD)
    assert theirs.status == Delivery.Status.SKIPPED
    assert theirs.last_error == "Switched off by the recipient."
    sent = Delivery.objects.filter(pk__in=ids, status=Delivery.Status.SENT)
    assert len(mailoutbox) == sent.count() == len(ids) - 1


def test_each_reader_is_greeted_by_name_in_a_shared_body(org, mailoutbox):
    for name in ("ceo", "coo"):
        executive = make_member(
            name, org.leads.provider, Membership.Role.MEMBER, first_name=name.title()
        )
        executive.user_permissions.add(*org.people["executive"].user_permissions.all())
    with time_machine.travel(AFTER_CLOSE, tick=False):
        month_close(month=JANUARY, enqueue=False)
        deliveries_send_batch(pending_month_end(JANUARY, now=timezone.now()))
    by_reader = {m.to[0].split("<")[1].rstrip(">"): m for m in mailoutbox}
    ceo, coo = by_reader["ceo@example.com"], by_reader["coo@example.com"]
    assert "Hello Ceo," in html_of(ceo) and "Hello Ceo," in ceo.body
    assert "Hello Coo," in html_of(coo) and "Hello Coo," in coo.body
    assert "Coo" not in html_of(ceo) and "\u2063" not in html_of(ceo)
    assert html_of(ceo).replace("Ceo", "Coo") == html_of(coo)


def test_a_lead_of_forty_missed_agreements_gets_an_email_that_fits(mailoutbox):
    """The worst case the caps allow: the longest names, every objective of
    every agreement missed, each with a long remedy."""
    long = "x" * 90
    team = TeamFactory(name=f"Provider {long}"[:100])
    lead = make_member("worst-lead", team, Membership.Role.LEAD)
    for n in range(40):
        agreement = AgreementFactory(
            provider=team,
            consumer=TeamFactory(name=f"Consumer {n:02d} {long}"[:100]),
            title=(f"Agreement {n:02d} " + "y" * 140)[:150],
            effective_from=dt.date(2025, 1, 1),
            compensation_clause="z " * 1000,
        )
        for position in range(1, 8):
            objective = ObjectiveFactory(
                agreement=agreement,
                name=f"Objective {position} " + "w" * 80,
                metric_source=Objective.Source.MANUAL,
                unit=Objective.Unit.PERCENT,
                target=Decimal(99),
                position=position,
            )
            MeasurementFactory(objective=objective, month=JANUARY, value=Decimal(10))
    with time_machine.travel(AFTER_CLOSE, tick=False):
        month_close(month=JANUARY, enqueue=False)
        delivery = Delivery.objects.get(recipient=lead, kind=Kind.SCORECARD)
        message = Composer().message(delivery)
    html = html_of(message)
    assert len(html.encode()) < INBOX_LIMIT, len(html.encode())
    # Shortened to fit: the worst first, and the rest counted.
    rows = html.count('<td class="m"') // 6
    assert 1 <= rows < 40
    assert f"And {40 - rows} more agreements" in html
    assert "more agreements needing attention" in html
    # The plain text keeps every objective.
    assert message.body.count("  - Objective 7 ") == 40


def test_the_demo_month_end_emails_fit_in_an_inbox():
    with time_machine.travel(dt.datetime(2026, 12, 10, 9, tzinfo=dt.UTC), tick=False):
        call_command("seed_demo", stdout=StringIO())
        month = dt.date(2026, 11, 1)
        month_close(month=month, enqueue=False)
        ids = pending_month_end(month, now=timezone.now())
        composer = Composer()
        sizes, encodings = {}, {}
        for delivery in Delivery.objects.filter(pk__in=ids).select_related("recipient"):
            message = composer.message(delivery)
            if message is not None:
                key = delivery.recipient.username, delivery.kind
                sizes[key] = len(html_of(message).encode())
                encodings[key] = html_encoding(message)
    assert {kind for _, kind in sizes} >= {Kind.DIGEST, Kind.SCORECARD}
    assert max(sizes.values()) < INBOX_LIMIT, sizes
    assert set(encodings.values()) == {"8bit"}, encodings


def test_the_benchmark_organisations_emails_fit_in_an_inbox():
    """200 teams, 1,000 agreements: the executive's digest, a head's, and
    the scorecard emails of the five people party to most agreements."""
    with time_machine.travel(dt.datetime(2026, 12, 10, 9, tzinfo=dt.UTC), tick=False):
        call_command("generate_org", months=6, stdout=StringIO())
        month = dt.date(2026, 11, 1)
        month_close(month=month, enqueue=False)
        busiest = (
            Membership.objects.filter(role=Membership.Role.LEAD)
            .annotate(
                n=Count("team__agreements_provided", distinct=True)
                + Count("team__agreements_consumed", distinct=True)
            )
            .order_by("-n")
            .values_list("user_id", flat=True)[:5]
        )
        deliveries = Delivery.objects.filter(month=month).filter(
            Q(kind=Kind.DIGEST, recipient__username="generated-executive")
            | Q(kind=Kind.DIGEST, recipient__username="team-0000-head")
            | Q(kind=Kind.SCORECARD, recipient__in=list(busiest))
        )
        composer = Composer()
        messages = {
            (d.recipient.username, d.kind): composer.message(d)
            for d in deliveries.select_related("recipient")
        }
    sizes = {key: len(html_of(m).encode()) for key, m in messages.items()}
    assert len(sizes) == 7
    assert max(sizes.values()) < INBOX_LIMIT, sizes
    encodings = {key: html_encoding(m) for key, m in messages.items()}
    assert set(encodings.values()) == {"8bit"}, encodings


def test_a_batch_shares_one_read_of_its_readers_cards_and_says_the_same():
    """A batch reads its readers' teams' trend cards once (``trend_shared``);
    every email it writes is the one each would get alone, word for word."""
    with time_machine.travel(dt.datetime(2026, 12, 10, 9, tzinfo=dt.UTC), tick=False):
        call_command(
            "generate_org", teams=12, agreements=30, months=6, stdout=StringIO()
        )
        month = dt.date(2026, 11, 1)
        month_close(month=month, enqueue=False)
        deliveries = list(
            Delivery.objects.filter(pk__in=pending_month_end(month, now=timezone.now()))
            .select_related("recipient")
            .order_by("pk")
        )

        breach_counts = []  # queries counting breaches, per way of writing

        def written(shared: bool) -> list[tuple[str, str, str]]:
            teams = set(Membership.objects.values_list("team_id", flat=True))
            composer = Composer()
            with (
                CaptureQueriesContext(connection) as queries,
                cards.trend_shared(month, teams if shared else set()),
            ):
                messages = [composer.message(d) for d in deliveries]
            breach_counts.append(
                sum(
                    "COUNT(" in q["sql"] and Breach._meta.db_table in q["sql"]
                    for q in queries.captured_queries
                )
            )
            return [(m.subject, m.body, html_of(m)) for m in messages]

        alone = written(shared=False)
        reads = []
        real = cards.cards_for
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(
                cards, "cards_for", lambda *a, **k: reads.append(1) or real(*a, **k)
            )
            together = written(shared=True)
    kinds = {d.kind for d in deliveries}
    assert {Kind.DIGEST, Kind.SCORECARD} <= kinds
    assert together == alone
    assert len(reads) == 1  # for every head's digest and scorecard email
    # Each head's digest counts its teams' breaches; together, one read.
    scopes = [content.digest_scope(d.recipient)[2] for d in deliveries]
    digests = [
        key for d, key in zip(deliveries, scopes, strict=True) if d.kind == Kind.DIGEST
    ]
    organisation = digests.count("organisation")  # an executive's: all teams
    assert len(digests) - organisation > 1
    assert breach_counts == [len(digests), organisation + 1]


def test_a_batch_asks_once_what_each_standing_may_see(settings, monkeypatch):
    """A team's head gets a digest and a scorecard email, which show
    different things: the batch asks the pages' rules about both in one
    query, so each standing is checked once, and every email still goes."""
    from agreements.rules import standing

    settings.SLA_EMAIL_BATCH_SIZE = 500  # one chunk: every email of a standing
    checks = []
    real = render.check_visible

    def check(user, shown, also=None):
        checks.append(standing(user))
        return real(user, shown, also=also)

    monkeypatch.setattr(render, "check_visible", check)
    with time_machine.travel(dt.datetime(2026, 12, 10, 9, tzinfo=dt.UTC), tick=False):
        call_command(
            "generate_org", teams=12, agreements=30, months=6, stdout=StringIO()
        )
        month = dt.date(2026, 11, 1)
        month_close(month=month, enqueue=False)
        ids = pending_month_end(month, now=timezone.now())
        counts = deliveries_send_batch(ids)
    deliveries = Delivery.objects.filter(pk__in=ids).select_related("recipient")
    kinds_of: dict[tuple, set[str]] = {}
    for d in deliveries:
        kinds_of.setdefault(standing(d.recipient), set()).add(d.kind)
    assert any(len(kinds) > 1 for kinds in kinds_of.values())  # heads
    assert counts[Result.SENT] == len(ids) == deliveries.filter(status="sent").count()
    assert len(checks) == len(set(checks)) == len(kinds_of)


def test_a_digest_lists_the_breaches_the_database_holds_in_order():
    """A digest takes its month's breaches from its cards' stored lines: the
    same breaches, in the same order, as the database holds for its
    agreements, the organisation's and one team's."""
    with time_machine.travel(dt.datetime(2026, 12, 10, 9, tzinfo=dt.UTC), tick=False):
        call_command(
            "generate_org", teams=12, agreements=30, months=6, stdout=StringIO()
        )
        month = dt.date(2026, 11, 1)
        month_close(month=month, enqueue=False)
        team = Breach.objects.filter(month=month).values("agreement__provider")[:1]
        for scope in (
            Agreement.objects.all(),
            Agreement.objects.involving_any(team),
        ):
            held = list(
                Breach.objects.filter(month=month, agreement__in=scope)
                .order_by(
                    "agreement__provider__name",
                    "agreement__title",
                    "line__objective__position",
                    "agreement_id",
                    "line__objective_id",
                )
                .values_list("pk", "remedy")
            )
            said = content.digest(month, agreements=scope)
            assert held
            assert [(b.pk, b.remedy) for b in said["breaches"]] == held[
                : content.DIGEST_BREACHES
            ]
            assert said["breach_total"] == len(held)
            assert said["more_breaches"] == max(len(held) - content.DIGEST_BREACHES, 0)
        assert len(Breach.objects.filter(month=month)) > content.DIGEST_BREACHES


@pytest.mark.usefixtures("eager")
def test_send_scorecards_sends_in_process_without_workers(org, mailoutbox):
    out = StringIO()
    with time_machine.travel(AFTER_CLOSE, tick=False):
        call_command("send_scorecards", "--month", "2026-01", stdout=out)
    assert "handed to the workers" not in out.getvalue()
    assert f"{len(mailoutbox)}/{len(mailoutbox)} sent" in out.getvalue()


def test_send_scorecards_hands_the_emails_to_workers_and_says_when_none_come(
    org, mailoutbox, settings
):
    """With a broker and no worker taking the tasks, it says so and leaves
    the emails queued (the real worker's side: test_worker_emails)."""
    from slaportal.celery import app

    before = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager, app.conf.broker_url = False, "memory://"
    out = StringIO()
    try:
        with (
            time_machine.travel(AFTER_CLOSE, tick=False),
            pytest.raises(CommandError, match="Is a worker running"),
        ):
            call_command(
                "send_scorecards", "--month", "2026-01", "--patience", "0.3", stdout=out
            )
    finally:
        app.conf.task_always_eager, app.conf.broker_url = before
    pending = Delivery.objects.filter(month=JANUARY, status="pending").count()
    assert "8 email(s) handed to the workers in 1 batch(es)" in out.getvalue()
    assert "0/8 sent" in out.getvalue()
    assert pending == 8 and mailoutbox == []


def test_the_month_end_goes_out_team_by_team_and_person_by_person(org):
    """So that a batch covers few teams, and reads their trend cards once."""
    with time_machine.travel(AFTER_CLOSE, tick=False):
        month_close(month=JANUARY, enqueue=False)
        ids = pending_month_end(JANUARY, now=timezone.now())
    deliveries = Delivery.objects.in_bulk(ids)
    first_team = {
        user: min(teams)
        for user, teams in _teams_of(
            {deliveries[pk].recipient_id for pk in ids}
        ).items()
    }
    order = [
        (first_team.get(deliveries[pk].recipient_id), deliveries[pk].recipient_id)
        for pk in ids
    ]
    teams = [team for team, _ in order]
    people = [person for _, person in order]
    assert len(set(teams)) > 1 and len(set(people)) > len(set(teams))
    # Each team's people, then each person's emails, come together; people
    # in no team (the executive) come last.
    assert _runs(teams) == len(set(teams))
    assert _runs(people) == len(set(people))
    assert teams.index(None) > max(
        i for i, team in enumerate(teams) if team is not None
    )
    assert sorted(t for t in set(teams) if t is not None) == [
        t for t in dict.fromkeys(teams) if t is not None
    ]


def _teams_of(users: set[int]) -> dict[int, set[int]]:
    result: dict[int, set[int]] = {}
    for user, team in Membership.objects.filter(user__in=users).values_list(
        "user", "team"
    ):
        result.setdefault(user, set()).add(team)
    return result


def _runs(values: list) -> int:
    """How many runs of equal neighbours ``values`` makes."""
    return sum(1 for n, value in enumerate(values) if n == 0 or values[n - 1] != value)
