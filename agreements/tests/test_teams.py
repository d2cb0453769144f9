from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.management import call_command
from django.db import IntegrityError, transaction

from agreements.calendars.models import Holiday, WorkingCalendar
from agreements.models import (
    Agreement,
    ClosedCustomer,
    FrictionComment,
    FrictionReport,
    LeadLogEntry,
    Measurement,
    Membership,
    Objective,
    PainPoint,
    Signature,
    Team,
)
from agreements.records.models import (
    Incident,
    Lead,
    MaintenanceWindow,
    RecordMeasure,
    RecordSource,
    RequestPause,
    ServiceRequest,
)
from agreements.rules import can, is_executive, is_team_member, leads_team
from agreements.tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_one_membership_per_user_and_team(sales_manager, sales):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=sales_manager, team=sales, role="lead")
    assert Membership.objects.filter(user=sales_manager).count() == 1


def test_database_refuses_an_unknown_role(sales, outsider):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=outsider, team=sales, role="boss")


def test_database_refuses_an_unknown_team_kind():
    with pytest.raises(IntegrityError), transaction.atomic():
        Team.objects.create(name="X", slug="x", kind="finance")


@pytest.mark.parametrize(
    ("role", "leads"),
    [("member", False), ("lead", True), ("manager", True), ("head", True)],
)
def test_leading_roles_may_act_for_their_team(role, leads):
    membership = MembershipFactory(role=role)
    assert leads_team(membership.user, membership.team) is leads
    assert is_team_member(membership.user, membership.team)
    assert can(membership.user, "act_for_team", membership.team) is leads


def test_a_lead_does_not_act_for_another_team(marketing_lead, sales):
    assert not leads_team(marketing_lead, sales)
    assert not is_team_member(marketing_lead, sales)


def test_executive_permission_reads_everything(executive, outsider, admin_user):
    assert is_executive(executive)
    assert is_executive(admin_user)
    assert not is_executive(outsider)


def test_who_many_users_are_is_read_at_once_and_agrees_with_each_read_alone(
    executive, admin_user, outsider, sales_manager, marketing, sales,
    django_assert_num_queries,
):  # fmt: skip
    """``users_known``: executives (directly, through a group, superusers;
    not once inactive) and the teams each is in, leads and heads, for all
    of them in two queries, the same as each user object finds alone."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission

    from agreements.access import (
        team_ids_headed,
        team_ids_in,
        team_ids_led,
        users_known,
    )

    board = Group.objects.create(name="Board")
    board.permissions.add(
        Permission.objects.get(
            codename="view_everything", content_type__app_label="agreements"
        )
    )
    by_group = UserFactory(username="by-group")
    by_group.groups.add(board)
    gone = UserFactory(username="gone", is_active=False)
    gone.groups.add(board)
    MembershipFactory(user=by_group, team=marketing, role=Membership.Role.HEAD)
    MembershipFactory(user=sales_manager, team=marketing, role=Membership.Role.MEMBER)
    MembershipFactory(user=outsider, team=sales, role=Membership.Role.LEAD)
    people = [executive, admin_user, outsider, sales_manager, by_group, gone]
    User = get_user_model()

    def who(user) -> tuple:
        return (
            is_executive(user),
            team_ids_in(user),
            team_ids_led(user),
            team_ids_headed(user),
        )

    alone = [who(User.objects.get(pk=u.pk)) for u in people]
    together = list(User.objects.filter(pk__in=[u.pk for u in people]))
    together.sort(key=lambda u: [p.pk for p in people].index(u.pk))
    with django_assert_num_queries(2):
        users_known(together)
    with django_assert_num_queries(0):
        assert [who(u) for u in together] == alone
    assert [a[0] for a in alone] == [True, True, False, False, True, False]
    assert alone[3][1:] == ({sales.pk, marketing.pk}, {sales.pk}, set())
    assert alone[4][1:] == ({marketing.pk}, {marketing.pk}, {marketing.pk})


def test_team_of_user(sales_manager, marketing):
    MembershipFactory(user=sales_manager, team=marketing)
    assert set(Team.objects.of_user(sales_manager).values_list("slug", flat=True)) == {
        "sales",
        "marketing",
    }


def test_team_changes_are_kept_in_history():
    team = TeamFactory(name="Ops")
    team.name = "Operations"
    team.save()
    assert [h.name for h in team.history.all()] == ["Operations", "Ops"]


def _snapshot():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    User = get_user_model()
    return {
        "teams": list(Team.objects.values_list("slug", "name", "kind")),
        "users": list(
            User.objects.order_by("username").values_list(
                "username", "password", "is_superuser", "is_staff"
            )
        ),
        "memberships": list(
            Membership.objects.values_list("user__username", "team__slug", "role")
        ),
        "groups": list(Group.objects.values_list("name", "user__username")),
        "history": Team.history.count() + Membership.history.count(),
        "agreements": list(
            Agreement.objects.order_by("pk").values_list(
                "title", "version", "status", "provider__slug", "consumer__slug"
            )
        ),
        "objectives": Objective.objects.count(),
        "signatures": Signature.objects.count(),
        "agreement_history": Agreement.history.count() + Objective.history.count(),
        "lead_log": list(
            LeadLogEntry.objects.order_by("pk").values_list(
                "team__slug", "date", "leads_delivered", "qualified_leads", "source"
            )
        ),
        "closed_customers": list(
            ClosedCustomer.objects.order_by("pk").values_list(
                "customer", "closed_on", "deal_value", "acknowledged_at"
            )
        ),
        "measurements": list(
            Measurement.objects.order_by("pk").values_list(
                "objective__name", "month", "value"
            )
        ),
        "friction_reports": list(
            FrictionReport.objects.order_by("pk").values_list(
                "customer", "category", "severity", "status", "month", "pain_point"
            )
        ),
        "friction_comments": list(
            FrictionComment.objects.order_by("pk").values_list(
                "report", "author__username", "new_status", "body"
            )
        ),
        "pain_points": list(
            PainPoint.objects.order_by("pk").values_list("title", "merged_into")
        ),
        "records": [
            model.objects.count()
            for model in (
                WorkingCalendar,
                Holiday,
                RecordSource,
                RecordMeasure,
                ServiceRequest,
                RequestPause,
                Incident,
                MaintenanceWindow,
                Lead,
            )
        ],
        "records_history": [
            model.history.count()
            for model in (
                WorkingCalendar,
                Holiday,
                RecordSource,
                RecordMeasure,
                ServiceRequest,
                RequestPause,
                Incident,
                MaintenanceWindow,
                Lead,
            )
        ],
        "figures_history": [
            model.history.count()
            for model in (
                LeadLogEntry,
                ClosedCustomer,
                Measurement,
                FrictionReport,
                FrictionComment,
                PainPoint,
            )
        ],
    }


def test_seed_demo_creates_the_personas_and_is_idempotent(capsys):
    call_command("seed_demo")
    first = _snapshot()
    call_command("seed_demo")
    assert _snapshot() == first

    from django.contrib.auth import get_user_model

    User = get_user_model()
    assert {t[0] for t in first["teams"]} == {"marketing", "sales", "customer-service"}
    assert set(first["memberships"]) == {
        ("marketing-lead", "marketing", "lead"),
        ("sales-lead", "sales", "lead"),
        ("sales-manager", "sales", "manager"),
        ("service-head", "customer-service", "head"),
    }
    assert is_executive(User.objects.get(username="executive"))
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert User.objects.get(username="service-head").check_password("slaportal-demo")
    assert "marketing-lead" in capsys.readouterr().out


def test_seed_demo_builds_the_signed_demo_chain():
    from agreements import periods
    from agreements.rules import unsigned_teams_user_leads

    call_command("seed_demo")
    signed = {
        (a.provider.slug, a.consumer.slug, a.title): a
        for a in Agreement.objects.active().select_related("provider", "consumer")
    }
    assert set(signed) == {
        ("marketing", "sales", "Lead delivery"),
        ("sales", "marketing", "Lead follow-up"),
        ("sales", "customer-service", "Customer handover"),
        ("customer-service", "sales", "Onboarding and uptime"),
        ("marketing", "sales", "Trade fair leads"),
    }
    first_month = periods.recent_months(12)[0]
    for agreement in signed.values():
        assert agreement.signatures.count() == 2
        assert agreement.compensation_clause
        # Signed when it would have been: before it came into force, never
        # "today" for an agreement in force all year.
        start = periods.month_start(agreement.effective_from)
        assert agreement.activated_at < start
        assert all(
            s.signed_at <= agreement.activated_at for s in agreement.signatures.all()
        )
        history = agreement.history.order_by("history_date")
        assert history.first().history_date < agreement.activated_at
    leads = signed[("marketing", "sales", "Lead delivery")]
    assert {o.name: int(o.target) for o in leads.objectives.all()} == {
        "Leads delivered": 200,
        "Qualified leads": 120,
    }
    assert leads.version == 2
    assert leads.supersedes.status == Agreement.Status.RETIRED
    assert leads.supersedes.effective_from == first_month
    assert leads.supersedes.retired_at == leads.activated_at
    uptime = signed[("customer-service", "sales", "Onboarding and uptime")]
    assert uptime.effective_from == first_month
    assert {(o.name, o.unit, o.metric_source) for o in uptime.objectives.all()} == {
        ("Customers onboarded within 14 days", "percent", "manual"),
        ("Portal uptime", "percent", "availability"),
        ("Requested information within 3 business hours", "percent", "request_times"),
    }
    follow_up = signed[("sales", "marketing", "Lead follow-up")]
    assert [(o.name, o.metric_source) for o in follow_up.objectives.all()] == [
        ("Leads first touched within 4 business hours", "request_times")
    ]
    # Their measures were drafted with the agreement, not on the day of the
    # seed.
    measures = RecordMeasure.history.filter(
        objective_id__in=follow_up.objectives.values("pk")
    )
    assert measures.count() == 1
    assert measures.get().history_date < follow_up.activated_at
    later = signed[("marketing", "sales", "Trade fair leads")]
    assert later.phase() == Agreement.Phase.SIGNED
    assert later.phase_text.startswith("Signed, starts 1 ")
    # A proposal waits for each person who signs for a team.
    waiting = Agreement.objects.filter(status=Agreement.Status.PROPOSED)
    assert all(w.signatures.count() == 1 for w in waiting)
    from django.contrib.auth import get_user_model

    for username in ("marketing-lead", "sales-lead", "service-head"):
        user = get_user_model().objects.get(username=username)
        assert any(unsigned_teams_user_leads(user, w) for w in waiting), username


def test_seed_demo_adds_a_year_of_figures_and_friction(frozen):
    from agreements import periods, standing
    from agreements.selectors import corrections_for_agreement

    call_command("seed_demo")
    months = periods.recent_months(12)
    marketing = Team.objects.get(slug="marketing")
    lead_months = set(
        LeadLogEntry.objects.filter(team=marketing).values_list("month", flat=True)
    )
    assert lead_months == set(months)
    # Several entries a month for Marketing, customers for Sales.
    assert LeadLogEntry.objects.filter(month=months[-2]).count() >= 5
    assert ClosedCustomer.objects.filter(month=months[-2]).count() >= 40
    # The manual objective is measured for every finished month (the late
    # one through a correction).
    measured = set(
        Measurement.objects.filter(
            objective__name="Customers onboarded within 14 days"
        ).values_list("month", flat=True)
    )
    assert set(months[:-2]) <= measured
    assert months[-1] not in measured

    # Some months met, some missed.
    leads = Objective.objects.get(agreement__status="active", name="Leads delivered")
    lines = standing.team_lines(leads.agreement.provider, months[6:-1])
    outcomes = {
        (line.actual or 0) >= line.target
        for (pk, _month), line in lines.items()
        if pk == leads.pk
    }
    assert outcomes == {True, False}

    # Corrections with reasons, by a head and by an administrator.
    uptime = Agreement.objects.get(title="Onboarding and uptime", status="active")
    late = corrections_for_agreement(uptime)
    assert [(c.action, c.user.username) for c in late] == [("added", "service-head")]
    assert "arrived after the deadline" in late[0].reason
    lead_delivery = Agreement.objects.get(title="Lead delivery", status="active")
    corrected = corrections_for_agreement(lead_delivery)
    assert [(c.action, c.user.username) for c in corrected] == [("changed", "admin")]
    assert corrected[0].when < periods.month_start(months[-1])

    # About forty friction reports, in every status, most grouped into pain
    # points, with a merged duplicate, the VP of Service's comments, and one
    # open report talked through by both teams, assigned and due; another
    # overdue.
    reports = FrictionReport.objects.all()
    assert 35 <= reports.count() <= 45
    assert {r.status for r in reports} == set(FrictionReport.Status.values)
    assert len({r.category for r in reports}) >= 5
    assert len({r.severity for r in reports}) == 4
    assert reports.exclude(pain_point=None).count() >= 25
    merged = PainPoint.objects.exclude(merged_into=None).get()
    assert not merged.reports.exists()
    authors = set(FrictionComment.objects.values_list("author__username", "team__slug"))
    assert ("service-head", "customer-service") in authors
    assert {team for _, team in authors} == {"customer-service", "sales"}
    planned = reports.exclude(assigned_to=None).exclude(due_date=None)
    assert planned.count() == 2
    assert [r.is_overdue for r in planned.order_by("due_date")] == [True, False]
    # Back-dated rows carry their history as of when they happened.
    oldest = reports.order_by("created_at").first()
    assert oldest.history.earliest().history_date == oldest.created_at
    assert oldest.created_at < periods.month_start(months[1])


@pytest.mark.parametrize(
    "moment",
    [
        datetime.datetime(2026, 8, 1, 0, 10, tzinfo=datetime.UTC),  # a Saturday
        datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.UTC),  # in grace
        datetime.datetime(2026, 12, 31, 23, 50, tzinfo=datetime.UTC),
    ],
)
def test_seed_demo_works_on_awkward_days(moment):
    with time_machine.travel(moment, tick=False):
        call_command("seed_demo")
        first = _snapshot()
        call_command("seed_demo")
        assert _snapshot() == first
    assert FrictionReport.objects.count() >= 35
    assert not LeadLogEntry.objects.filter(date__gt=moment.date()).exists()
    assert not FrictionReport.objects.filter(created_at__gt=moment).exists()


def test_seed_demo_keeps_a_changed_password():
    call_command("seed_demo")
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="sales-lead")
    user.set_password("my-own-secret-passphrase")
    user.save()
    call_command("seed_demo")
    user.refresh_from_db()
    assert user.check_password("my-own-secret-passphrase")


def test_user_factory_makes_distinct_users():
    assert UserFactory().pk != UserFactory().pk
