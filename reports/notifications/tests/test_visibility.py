"""No email shows its reader what they could not open on a page.

Every email of the demo's latest closed month is built for every person
(each kind: digest, scorecards, breach notice, reminder, escalation), and
everything it shows is checked against the pages' own rules. The
organisation digest goes to executives only; a head's digest covers the
agreements of the teams they head."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command

from agreements import periods
from agreements.models import Agreement, Membership
from agreements.tests.factories import AgreementFactory, TeamFactory
from conftest import make_member
from reports.models import Delivery
from reports.notifications.content import context_for, digest_scope
from reports.notifications.ledger import Result, delivery_send
from reports.notifications.visibility import NotVisible, Shown, check_visible

pytestmark = pytest.mark.django_db
Kind = Delivery.Kind

# 10 December 2026: the demo's November is finalised and emailed.
AFTER_NOVEMBER = dt.datetime(2026, 12, 10, 9, 0, tzinfo=dt.UTC)
NOVEMBER = dt.date(2026, 11, 1)


@pytest.fixture
def demo_org():
    with time_machine.travel(AFTER_NOVEMBER, tick=False):
        call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
        # A head whose team is party to no agreement, and an agreement
        # between two other teams nobody in the demo belongs to.
        legal = TeamFactory(name="Legal", slug="legal")
        make_member("legal-head", legal, Membership.Role.HEAD)
        AgreementFactory(
            provider=TeamFactory(name="Finance"),
            consumer=TeamFactory(name="IT"),
            title="Month-end close support",
            effective_from=dt.date(2026, 1, 1),
        )
        yield


def _shown_in(delivery: Delivery) -> dict | None:
    """The email's context, with what it shows kept for the test."""
    from reports.notifications import content

    shown: list[Shown] = []
    real = content.check_visible

    def keep(user, what):
        shown.append(what)
        real(user, what)

    content.check_visible = keep
    try:
        context = context_for(delivery)
    finally:
        content.check_visible = real
    return {"context": context, "shown": shown[0] if shown else None}


def test_every_email_of_a_month_shows_only_what_its_reader_may_see(demo_org):
    people = list(get_user_model().objects.filter(is_active=True))
    built = 0
    with time_machine.travel(AFTER_NOVEMBER, tick=False):
        for user in people:
            visible = set(
                Agreement.objects.visible_to(user).values_list("pk", flat=True)
            )
            for kind in (Kind.DIGEST, Kind.SCORECARD, Kind.BREACH, Kind.ESCALATION):
                delivery = Delivery(recipient=user, kind=kind, month=NOVEMBER)
                result = _shown_in(delivery)  # raises NotVisible otherwise
                if result["context"] is None:
                    continue
                built += 1
                assert result["shown"].agreements <= visible, (user, kind)
    assert built >= 8


def test_the_organisation_digest_is_for_executives_and_a_head_sees_their_teams(
    demo_org,
):
    User = get_user_model()
    executive = User.objects.get(username="executive")
    head = User.objects.get(username="service-head")
    legal_head = User.objects.get(username="legal-head")
    with time_machine.travel(AFTER_NOVEMBER, tick=False):
        everything, _, _ = digest_scope(executive)
        assert everything.filter(title="Month-end close support").exists()
        theirs, label, _ = digest_scope(head)
        assert label == "the teams you head"
        titles = set(theirs.signed().values_list("title", flat=True))
        assert "Month-end close support" not in titles
        assert "Lead delivery" not in titles  # Marketing → Sales
        assert {"Customer handover", "Onboarding and uptime"} <= titles
        org = _shown_in(Delivery(recipient=executive, kind=Kind.DIGEST, month=NOVEMBER))
        own = _shown_in(Delivery(recipient=head, kind=Kind.DIGEST, month=NOVEMBER))
        assert own["shown"].agreements < org["shown"].agreements
        # A head of a team with no agreement gets no digest at all.
        none = _shown_in(
            Delivery(recipient=legal_head, kind=Kind.DIGEST, month=NOVEMBER)
        )
        assert none["context"] is None


def test_what_is_also_asked_about_informs_and_never_withholds(demo_org):
    """``also`` (what other emails of the batch will show) is asked about in
    the same query: what of it may be opened comes back, and only what this
    email shows decides whether it is withheld."""
    User = get_user_model()
    head = User.objects.get(username="service-head")
    outsider = Agreement.objects.get(title="Month-end close support")
    theirs = Agreement.objects.visible_to(head).first()
    assert theirs is not None
    visible = check_visible(
        head,
        Shown(agreements={theirs.pk}),
        also=Shown(agreements={outsider.pk, theirs.pk + 10_000}),
    )
    assert visible.agreements == set()  # neither may be opened
    visible = check_visible(
        head, Shown(), also=Shown(agreements={theirs.pk, outsider.pk})
    )
    assert visible.agreements == {theirs.pk}
    with pytest.raises(NotVisible, match=str(outsider.pk)):
        check_visible(
            head,
            Shown(agreements={outsider.pk}),
            also=Shown(agreements={theirs.pk}),
        )


def test_an_email_that_would_show_too_much_is_withheld(demo_org):
    User = get_user_model()
    outsider_agreement = Agreement.objects.get(title="Month-end close support")
    head = User.objects.get(username="service-head")
    with pytest.raises(NotVisible):
        check_visible(head, Shown(agreements={outsider_agreement.pk}))
    # Through the ledger: the delivery fails, nothing is sent.
    from reports.notifications import content

    real = content.digest_scope
    content.digest_scope = lambda user: (
        Agreement.objects.all(),
        "everything",
        "everything",
    )
    try:
        with time_machine.travel(AFTER_NOVEMBER, tick=False):
            delivery = Delivery.objects.create(
                recipient=head, kind=Kind.DIGEST, month=periods.add_months(NOVEMBER, -3)
            )
            outcome = delivery_send(delivery_id=delivery.pk)
    finally:
        content.digest_scope = real
    delivery.refresh_from_db()
    assert outcome.result == Result.FAILED
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.last_error.startswith("Withheld:")


def test_every_kind_an_email_shows_is_checked_at_once_and_each_hidden_item_named(
    demo_org, django_assert_max_num_queries
):
    """Agreements, breaches, pain points and friction reports of the whole
    demo, shown to a head: exactly those outside their teams come back, kind
    by kind, from one query (and one more to see whether they are a member
    anywhere, the pain points' rule); to a person of no team, all of it."""
    from agreements.models import FrictionReport, PainPoint
    from agreements.tests.factories import FrictionReportFactory, UserFactory
    from reports.models import Breach
    from reports.notifications.visibility import not_visible

    head = get_user_model().objects.get(username="service-head")
    teams = set(Membership.objects.filter(user=head).values_list("team_id", flat=True))
    outsiders = Agreement.objects.get(title="Month-end close support")
    FrictionReportFactory(
        reporting_team=outsiders.provider, addressed_team=outsiders.consumer
    )
    agreements = list(Agreement.objects.all())
    breaches = list(Breach.objects.select_related("agreement"))
    reports = list(FrictionReport.objects.all())
    pain_points = set(PainPoint.objects.values_list("pk", flat=True))

    def theirs(*team_ids: int) -> bool:
        return bool(teams & set(team_ids))

    shown = Shown(
        agreements={a.pk for a in agreements},
        breaches={b.pk for b in breaches},
        pain_points=pain_points,
        friction_reports={r.pk for r in reports},
    )
    hidden = {
        "agreements": {
            a.pk for a in agreements if not theirs(a.provider_id, a.consumer_id)
        },
        "breaches": {
            b.pk
            for b in breaches
            if not theirs(b.agreement.provider_id, b.agreement.consumer_id)
        },
        "friction_reports": {
            r.pk
            for r in reports
            if not theirs(r.reporting_team_id, r.addressed_team_id)
        },
    }
    # Both sides of each kind are there, or the test could not fail.
    assert pain_points
    for kind, ids in hidden.items():
        assert ids and ids < getattr(shown, kind), kind
    head.get_all_permissions()  # read once per user object, as by any page
    with django_assert_max_num_queries(2):
        assert not_visible(head, shown) == hidden
    with django_assert_max_num_queries(2):
        assert not_visible(head, Shown(agreements={outsiders.pk})) == {
            "agreements": {outsiders.pk}
        }
    loner = UserFactory()
    assert not_visible(loner, shown) == {
        kind: getattr(shown, kind)
        for kind in ("agreements", "breaches", "pain_points", "friction_reports")
    }
    assert not_visible(head, Shown()) == {}


def test_two_people_of_one_standing_may_open_the_same_things(demo_org):
    """What ``agreements.rules.standing`` says of the pages' rules: each demo
    person and a newcomer given the same teams, roles and permissions see the same
    agreements, breaches, pain points and friction reports; and a newcomer
    with a team fewer is of another standing."""
    from agreements.models import FrictionReport, PainPoint
    from agreements.rules import standing
    from reports.models import Breach
    from reports.notifications.visibility import not_visible

    everything = Shown(
        agreements=set(Agreement.objects.values_list("pk", flat=True)),
        breaches=set(Breach.objects.values_list("pk", flat=True)),
        pain_points=set(PainPoint.objects.values_list("pk", flat=True)),
        friction_reports=set(FrictionReport.objects.values_list("pk", flat=True)),
    )
    assert all(vars(everything).values())
    User = get_user_model()
    compared = 0
    for person in User.objects.filter(is_active=True, memberships__isnull=False):
        twin = User.objects.create_user(f"twin-of-{person.username}")
        twin.user_permissions.set(person.user_permissions.all())
        twin.groups.set(person.groups.all())
        memberships = list(person.memberships.all())
        for membership in memberships:
            Membership.objects.create(
                user=twin, team=membership.team, role=membership.role
            )
        twin = User.objects.get(pk=twin.pk)  # nothing cached
        assert standing(twin) == standing(person)
        assert not_visible(twin, everything) == not_visible(person, everything)
        if len(memberships) > 1 or not standing(person)[2]:
            Membership.objects.filter(user=twin, team=memberships[0].team).delete()
            twin = User.objects.get(pk=twin.pk)
            assert standing(twin) != standing(person)
        compared += 1
    assert compared >= 5
