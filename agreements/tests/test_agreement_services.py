"""The agreement lifecycle, through the services every page and API uses."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from agreements.models import Agreement, Objective, Signature
from agreements.services import (
    agreement_create,
    agreement_propose,
    agreement_request_changes,
    agreement_retire,
    agreement_revise,
    agreement_sign,
    agreement_update,
)
from agreements.tests.builders import default_start
from agreements.tests.factories import AgreementFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db

LEADS = {
    "name": "Leads delivered",
    "metric_source": "leads_delivered",
    "comparator": "at_least",
    "target": Decimal("200"),
    "unit": "count",
    "weight": Decimal("2"),
}
QUALIFIED = {
    **LEADS,
    "name": "Qualified leads",
    "metric_source": "qualified_leads",
    "target": Decimal("120"),
    "weight": Decimal("1"),
}


def draft(user, provider, consumer, objectives=(LEADS, QUALIFIED), **extra):
    fields = {
        "title": "Lead delivery",
        "effective_from": default_start(),
        "compensation_clause": "Marketing makes up the shortfall next month.",
        **extra,
    }
    return agreement_create(
        user=user,
        provider=provider,
        consumer=consumer,
        objectives=objectives,
        **fields,
    )


def nothing_written():
    return (
        Agreement.objects.count() == 0
        and Objective.objects.count() == 0
        and Agreement.history.count() == 0
    )


@pytest.fixture
def proposed(marketing_lead, marketing, sales, sales_lead):
    agreement = draft(marketing_lead, marketing, sales)
    return agreement_propose(agreement=agreement, user=marketing_lead)


# --- Drafting ---------------------------------------------------------------


def test_a_lead_drafts_an_agreement_with_objectives(marketing_lead, marketing, sales):
    agreement = draft(marketing_lead, marketing, sales)
    assert agreement.status == Agreement.Status.DRAFT
    assert agreement.version == 1
    assert [o.name for o in agreement.objectives.all()] == [
        "Leads delivered",
        "Qualified leads",
    ]
    record = agreement.history.get()
    assert record.history_user == marketing_lead
    assert record.history_change_reason == "drafted"


def test_the_consumer_lead_may_draft_too(sales_lead, marketing, sales):
    assert draft(sales_lead, marketing, sales).created_by == sales_lead


def test_drafting_needs_a_lead_of_a_party(outsider, sales_manager, marketing, service):
    with pytest.raises(PermissionDenied):
        draft(outsider, marketing, service)
    with pytest.raises(PermissionDenied):
        draft(sales_manager, marketing, service)
    assert nothing_written()


def test_a_member_who_is_not_a_lead_may_not_draft(marketing, sales):
    from agreements.tests.factories import MembershipFactory

    member = MembershipFactory(team=marketing, role="member").user
    with pytest.raises(PermissionDenied):
        draft(member, marketing, sales)
    assert nothing_written()


@pytest.mark.parametrize(
    ("extra", "objectives", "message"),
    [
        ({"consumer_is_provider": True}, [LEADS], "two different teams"),
        (
            {"effective_to": datetime.date(2025, 12, 31)},
            [LEADS],
            "end date must not be before the start",
        ),
        ({}, [{**LEADS, "target": Decimal("0")}], "target must be above zero"),
        ({}, [{**LEADS, "target": Decimal("-5")}], "target must be above zero"),
        (
            {},
            [
                {
                    **LEADS,
                    "metric_source": "manual",
                    "unit": "percent",
                    "target": Decimal("101"),
                }
            ],
            "percentage target cannot be over 100",
        ),
        ({}, [{**LEADS, "weight": Decimal("0")}], "weight must be above zero"),
        (
            {},
            [LEADS, {**QUALIFIED, "name": "leads DELIVERED"}],
            "cannot have the same name",
        ),
        ({}, [{**LEADS, "unit": "hours"}], "are counted: use count"),
        (
            {},
            [{**LEADS, "warning_threshold": Decimal("150")}],
            "warning level is at or above the target",
        ),
        ({"remedy": "credit"}, [LEADS], "credit owed for each miss"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    marketing_lead, marketing, sales, extra, objectives, message
):
    extra = dict(extra)
    consumer = marketing if extra.pop("consumer_is_provider", False) else sales
    with pytest.raises(ValidationError) as exc:
        draft(marketing_lead, marketing, consumer, objectives=objectives, **extra)
    assert message in str(exc.value)
    assert nothing_written()


# --- The database backs every rule -----------------------------------------


def test_database_refuses_the_same_team_on_both_sides(marketing):
    with pytest.raises(IntegrityError), transaction.atomic():
        AgreementFactory(provider=marketing, consumer=marketing)


def test_database_refuses_an_end_before_the_start():
    with pytest.raises(IntegrityError), transaction.atomic():
        AgreementFactory(
            effective_from=datetime.date(2026, 2, 1),
            effective_to=datetime.date(2026, 1, 1),
        )


@pytest.mark.parametrize(
    "fields",
    [
        {"target": Decimal("0")},
        {"weight": Decimal("-1")},
        {"metric_source": "manual", "unit": "percent", "target": Decimal("100.5")},
        {"unit": "money"},  # a counted source must be in count
    ],
)
def test_database_refuses_invalid_objectives(fields):
    agreement = AgreementFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ObjectiveFactory(agreement=agreement, **fields)


def test_database_refuses_duplicate_objective_names_in_any_case():
    objective = ObjectiveFactory(name="Uptime")
    with pytest.raises(IntegrityError), transaction.atomic():
        ObjectiveFactory(agreement=objective.agreement, name="UPTIME")


def test_database_allows_one_active_version_per_agreement():
    first = AgreementFactory(status="active")
    with pytest.raises(IntegrityError), transaction.atomic():
        AgreementFactory(
            status="active",
            lineage=first.lineage,
            version=2,
            provider=first.provider,
            consumer=first.consumer,
        )


def test_database_refuses_a_second_signature_for_one_party(proposed, marketing_lead):
    Signature.objects.create(
        agreement=proposed,
        team=proposed.provider,
        signed_by=marketing_lead,
        role="lead",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.create(
            agreement=proposed,
            team=proposed.provider,
            signed_by=marketing_lead,
            role="lead",
        )


# --- Editing a draft --------------------------------------------------------


def test_editing_a_draft_records_what_changed(marketing_lead, marketing, sales):
    agreement = draft(marketing_lead, marketing, sales)
    leads, qualified = agreement.objectives.all()
    updated = agreement_update(
        agreement=agreement,
        user=marketing_lead,
        expected_edit_count=0,
        title="Lead delivery 2026",
        objectives=[
            {"id": leads.pk, **LEADS, "target": Decimal("220")},
            {**LEADS, "name": "Webinar leads", "target": Decimal("10")},
        ],
    )
    assert updated.title == "Lead delivery 2026"
    assert updated.edit_count == 1
    leads.refresh_from_db()
    assert leads.target == Decimal("220")  # updated in place, history kept
    assert not Objective.objects.filter(pk=qualified.pk).exists()
    reason = updated.history.first().history_change_reason
    assert "added “Webinar leads”" in reason
    assert "changed “Leads delivered”" in reason
    assert "removed “Qualified leads”" in reason
    assert [h.target for h in leads.history.all()] == [Decimal("220"), Decimal("200")]


def test_a_stale_save_is_refused_and_the_first_save_kept(
    marketing_lead, sales_lead, marketing, sales
):
    agreement = draft(marketing_lead, marketing, sales)
    opened_at = agreement.edit_count
    agreement_update(
        agreement=agreement,
        user=sales_lead,
        expected_edit_count=opened_at,
        title="Sales' wording",
        objectives=[LEADS],
    )
    with pytest.raises(ValidationError) as exc:
        agreement_update(
            agreement=agreement,
            user=marketing_lead,
            expected_edit_count=opened_at,
            title="Marketing's wording",
            objectives=[LEADS, QUALIFIED],
        )
    assert exc.value.code == "stale"
    agreement.refresh_from_db()
    assert agreement.title == "Sales' wording"
    assert agreement.objectives.count() == 1
    assert agreement.edit_count == opened_at + 1


def test_an_invalid_edit_writes_nothing(marketing_lead, marketing, sales):
    agreement = draft(marketing_lead, marketing, sales)
    with pytest.raises(ValidationError):
        agreement_update(
            agreement=agreement,
            user=marketing_lead,
            expected_edit_count=0,
            title="Changed",
            objectives=[{**LEADS, "target": Decimal("0")}],
        )
    agreement.refresh_from_db()
    assert agreement.title == "Lead delivery"
    assert agreement.edit_count == 0
    assert agreement.objectives.count() == 2


def test_an_active_agreement_is_never_edited_in_place(
    proposed, marketing_lead, sales_lead
):
    agreement_sign(agreement=proposed, user=marketing_lead, team=proposed.provider)
    agreement_sign(agreement=proposed, user=sales_lead, team=proposed.consumer)
    with pytest.raises(ValidationError, match="only a draft can be edited"):
        agreement_update(
            agreement=proposed,
            user=marketing_lead,
            expected_edit_count=proposed.edit_count,
            title="Sneaky",
            objectives=[LEADS],
        )
    proposed.refresh_from_db()
    assert proposed.title == "Lead delivery"


def test_an_objective_of_another_agreement_cannot_be_edited(
    marketing_lead, marketing, sales
):
    agreement = draft(marketing_lead, marketing, sales)
    foreign = ObjectiveFactory()
    with pytest.raises(ValidationError, match="does not belong"):
        agreement_update(
            agreement=agreement,
            user=marketing_lead,
            expected_edit_count=0,
            objectives=[{"id": foreign.pk, **LEADS}],
        )
    foreign.refresh_from_db()
    assert foreign.name != "Leads delivered"


# --- Proposing and signing ----------------------------------------------------


def test_proposing_needs_an_objective(marketing_lead, marketing, sales):
    agreement = draft(marketing_lead, marketing, sales, objectives=[])
    with pytest.raises(ValidationError, match="at least one objective"):
        agreement_propose(agreement=agreement, user=marketing_lead)
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.DRAFT


def test_both_parties_sign_and_the_agreement_becomes_active(
    proposed, marketing_lead, sales_manager
):
    agreement_sign(agreement=proposed, user=sales_manager, team=proposed.consumer)
    proposed.refresh_from_db()
    assert proposed.status == Agreement.Status.PROPOSED
    agreement_sign(agreement=proposed, user=marketing_lead, team=proposed.provider)
    proposed.refresh_from_db()
    assert proposed.status == Agreement.Status.ACTIVE
    assert proposed.activated_at is not None
    signatures = {
        (s.team.slug, s.signed_by.username, s.role) for s in proposed.signatures.all()
    }
    assert signatures == {
        ("sales", "sales-manager", "manager"),
        ("marketing", "marketing-lead", "lead"),
    }
    assert proposed.history.first().history_user == marketing_lead


def test_signing_twice_is_refused(proposed, marketing_lead):
    agreement_sign(agreement=proposed, user=marketing_lead, team=proposed.provider)
    with pytest.raises(ValidationError, match="Marketing has already signed"):
        agreement_sign(agreement=proposed, user=marketing_lead, team=proposed.provider)
    assert proposed.signatures.count() == 1


def test_signing_for_a_team_one_does_not_lead_is_refused(proposed, marketing_lead):
    with pytest.raises(ValidationError, match="only for a team you lead"):
        agreement_sign(agreement=proposed, user=marketing_lead, team=proposed.consumer)
    assert proposed.signatures.count() == 0


def test_outsiders_and_other_teams_cannot_sign(proposed, outsider, service_head):
    for user in (outsider, service_head):
        with pytest.raises(PermissionDenied):
            agreement_sign(agreement=proposed, user=user, team=proposed.consumer)
    assert proposed.signatures.count() == 0


def test_a_draft_cannot_be_signed(marketing_lead, marketing, sales):
    agreement = draft(marketing_lead, marketing, sales)
    with pytest.raises(ValidationError, match="Only a proposed agreement"):
        agreement_sign(agreement=agreement, user=marketing_lead, team=marketing)
    assert Signature.objects.count() == 0


def test_requesting_changes_returns_to_draft_and_clears_signatures(
    proposed, marketing_lead, sales_lead
):
    agreement_sign(agreement=proposed, user=marketing_lead, team=proposed.provider)
    agreement = agreement_request_changes(
        agreement=proposed, user=sales_lead, note="Qualified target too high"
    )
    assert agreement.status == Agreement.Status.DRAFT
    assert agreement.signatures.count() == 0
    assert agreement.edit_count == 1
    assert agreement.history.first().history_change_reason == (
        "changes requested: Qualified target too high"
    )
    assert Signature.history.filter(history_type="-").count() == 1


# --- Versions -------------------------------------------------------------------


@pytest.fixture
def active(proposed, marketing_lead, sales_lead):
    agreement_sign(agreement=proposed, user=marketing_lead, team=proposed.provider)
    agreement_sign(agreement=proposed, user=sales_lead, team=proposed.consumer)
    proposed.refresh_from_db()
    return proposed


def test_revising_copies_objectives_into_a_new_draft_version(active, sales_lead):
    revision = agreement_revise(agreement=active, user=sales_lead)
    assert revision.version == 2
    assert revision.lineage == active.lineage
    assert revision.supersedes == active
    assert revision.status == Agreement.Status.DRAFT
    assert [(o.name, o.target) for o in revision.objectives.all()] == [
        (o.name, o.target) for o in active.objectives.all()
    ]
    active.refresh_from_db()
    assert active.status == Agreement.Status.ACTIVE  # in force until replaced


def test_only_one_revision_at_a_time(active, sales_lead, marketing_lead):
    agreement_revise(agreement=active, user=sales_lead)
    with pytest.raises(ValidationError, match="Version 2 is already being prepared"):
        agreement_revise(agreement=active, user=marketing_lead)
    assert Agreement.objects.filter(lineage=active.lineage).count() == 2


def test_an_activated_revision_supersedes_the_old_version(
    active, sales_lead, marketing_lead
):
    revision = agreement_revise(agreement=active, user=sales_lead)
    revision = agreement_update(
        agreement=revision,
        user=sales_lead,
        expected_edit_count=0,
        objectives=[{**LEADS, "target": Decimal("180")}],
    )
    agreement_propose(agreement=revision, user=sales_lead)
    agreement_sign(agreement=revision, user=sales_lead, team=revision.consumer)
    agreement_sign(agreement=revision, user=marketing_lead, team=revision.provider)
    active.refresh_from_db()
    revision.refresh_from_db()
    assert revision.status == Agreement.Status.ACTIVE
    assert active.status == Agreement.Status.RETIRED
    assert active.history.first().history_change_reason == "superseded by version 2"
    # The old version keeps its objectives and its whole history.
    assert active.objectives.get(name="Leads delivered").target == Decimal("200")
    assert active.history.count() >= 4


def test_drafts_cannot_be_revised_or_retired(marketing_lead, marketing, sales):
    agreement = draft(marketing_lead, marketing, sales)
    with pytest.raises(ValidationError):
        agreement_revise(agreement=agreement, user=marketing_lead)
    with pytest.raises(ValidationError):
        agreement_retire(agreement=agreement, user=marketing_lead)
    assert Agreement.objects.count() == 1


def test_retiring_an_active_agreement(active, marketing_lead, outsider):
    with pytest.raises(PermissionDenied):
        agreement_retire(agreement=active, user=outsider)
    retired = agreement_retire(
        agreement=active, user=marketing_lead, note="replaced by a new process"
    )
    assert retired.status == Agreement.Status.RETIRED
    assert retired.retired_at is not None
    assert retired.history.first().history_change_reason == (
        "retired: replaced by a new process"
    )


def test_a_long_retire_note_is_kept_whole_in_the_history(active, marketing_lead):
    note = "Replaced by the shared-inbox process agreed at the offsite. " * 6
    agreement_retire(agreement=active, user=marketing_lead, note=note)
    record = Agreement.history.filter(id=active.pk).first()
    assert record.history_change_reason == f"retired: {note.strip()}"
    assert len(record.history_change_reason) > 300
    assert record.history_user == marketing_lead


def test_visible_to_party_members_and_executives_only(
    active, marketing_lead, sales_manager, service_head, executive, outsider
):
    for user in (marketing_lead, sales_manager, executive):
        assert Agreement.objects.visible_to(user).filter(pk=active.pk).exists()
    for user in (service_head, outsider):
        assert not Agreement.objects.visible_to(user).filter(pk=active.pk).exists()
