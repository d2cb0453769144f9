"""Every write to agreements goes through these functions.

Each checks the rules (``agreements.rules``), validates, saves, and records who
did it and why in the history tables. Business-rule failures raise
``ValidationError`` with a message meant for the person; acting without any
right to raises ``PermissionDenied``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from .. import events, periods
from ..history import delete_with_history, save_with_history
from ..models import Agreement, Objective, Signature, Team
from ..records.terms import (
    current_measure,
    measure_build,
    measure_copy,
    measure_terms,
    measure_write,
    record_objective_errors,
)
from ..rules import can, require

OBJECTIVE_FIELDS = (
    "name",
    "metric_source",
    "comparator",
    "target",
    "unit",
    "weight",
    "warning_threshold",
)
AGREEMENT_FIELDS = (
    "provider",
    "consumer",
    "title",
    "summary",
    "effective_from",
    "effective_to",
    "review_on",
    "compensation_clause",
    "remedy",
    "remedy_credit",
    "remedy_credit_unit",
)


# How far back a proposal may date its start. Months that locked before both
# parties sign are never scored (``Agreement.is_in_force``); this keeps a
# careless date from reaching back years.
MAX_BACKDATED_MONTHS = 12


def earliest_start() -> date:
    """The earliest month an agreement proposed now may start in."""
    return periods.add_months(periods.current_month(), -MAX_BACKDATED_MONTHS)


def _locked(agreement: Agreement) -> Agreement:
    """Re-read the agreement under a row lock, so that two requests that act on
    it at once run one after the other and the second sees the first's result."""
    return (
        Agreement.objects.select_for_update()
        .select_related("provider", "consumer")
        .get(pk=agreement.pk)
    )


def _fmt(value: Decimal | None) -> str:
    return "—" if value is None else f"{Decimal(value).normalize():f}"


def _build_objectives(
    agreement: Agreement, rows: Iterable[Mapping[str, Any]]
) -> list[Objective]:
    """Validate objective rows without writing; rows with an ``id`` update that
    objective of this agreement, others are new."""
    existing = {o.pk: o for o in agreement.objectives.all()} if agreement.pk else {}
    built: list[Objective] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(rows, start=1):
        pk = row.get("id")
        if pk:
            if pk not in existing:
                raise ValidationError(
                    f"Objective {index} does not belong to this agreement."
                )
            objective = existing[pk]
        else:
            objective = Objective(agreement=agreement)
        for field in OBJECTIVE_FIELDS:
            if field in row:
                setattr(objective, field, row[field])
        objective.position = index
        label = f"Objective {index}" + (
            f" (“{objective.name}”)" if objective.name else ""
        )
        try:
            objective.full_clean(
                exclude=["agreement"], validate_unique=False, validate_constraints=False
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    prefix = (
                        "" if field == "__all__" else f"{field.replace('_', ' ')}: "
                    )
                    errors.append(f"{label}: {prefix}{message}")
        errors.extend(_measure_errors(objective, row, label))
        key = (objective.name or "").strip().lower()
        if key in seen:
            errors.append(
                f"{label}: two objectives cannot have the same name "
                f"(objective {seen[key]} is also called “{objective.name}”)."
            )
        seen.setdefault(key, index)
        built.append(objective)
    if errors:
        raise ValidationError(errors)
    return built


def _measure_errors(objective: Objective, row: Mapping[str, Any], label: str):
    """Build the measure of an objective measured from records (kept on the
    objective as ``new_measure`` until it is saved); its problems, labelled."""
    objective.new_measure = None
    from_records = objective.metric_source in Objective.RECORD_SOURCES
    errors = [f"{label}: {e}" for e in record_objective_errors(objective)]
    if not from_records:
        if row.get("measure"):
            errors.append(
                f"{label}: only an objective measured from records has a "
                "source and a calendar."
            )
        return errors
    current = current_measure(objective)
    if "measure" not in row and current is not None:
        return errors  # unchanged
    try:
        objective.new_measure = measure_build(objective, row.get("measure"), current)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, messages in exc.message_dict.items():
                prefix = "" if field == "__all__" else f"{field.replace('_', ' ')}: "
                errors.extend(f"{label}: {prefix}{m}" for m in messages)
        else:
            errors.extend(f"{label}: {m}" for m in exc.messages)
    return errors


def _objectives_diff(before: dict[str, tuple], after: list[Objective]) -> list[str]:
    changes = []
    after_keys = {o.name.lower() for o in after}
    for objective in after:
        old = before.get(objective.name.lower())
        if old is None:
            changes.append(f"added “{objective.name}”")
        elif old != _objective_terms(objective):
            changes.append(f"changed “{objective.name}”")
    for name_lower, terms in before.items():
        if name_lower not in after_keys:
            changes.append(f"removed “{terms[0]}”")
    return changes


def _objective_terms(objective: Objective) -> tuple:
    measure = getattr(objective, "new_measure", None) or current_measure(objective)
    return (
        objective.name,
        objective.metric_source,
        objective.comparator,
        Decimal(objective.target),
        objective.unit,
        Decimal(objective.weight),
        None
        if objective.warning_threshold is None
        else Decimal(objective.warning_threshold),
        measure_terms(measure),
    )


def _write_objectives(
    agreement: Agreement, objectives: list[Objective], *, user
) -> list[str]:
    before = {o.name.lower(): _objective_terms(o) for o in agreement.objectives.all()}
    keep = {o.pk for o in objectives if o.pk}
    for old in agreement.objectives.exclude(pk__in=keep):
        delete_with_history(old, user=user, reason="removed with the agreement")
    # The unique name index is checked row by row, so existing rows are saved
    # before new ones: renaming "A" to "B" and adding a new "A" in one edit
    # then works. Only a swap of names between existing rows still collides.
    try:
        with transaction.atomic():
            for objective in sorted(objectives, key=lambda o: o.pk is None):
                objective.agreement = agreement
                save_with_history(
                    objective, user=user, reason="edited with the agreement"
                )
                measure_write(
                    objective, getattr(objective, "new_measure", None), user=user
                )
    except IntegrityError as exc:
        raise ValidationError(
            "Two objectives would swap names in one save. Rename one of them to "
            "a temporary name, save, then finish the renaming.",
            code="name_clash",
        ) from exc
    return _objectives_diff(before, objectives)


def _check_parties_led(user, provider: Team | None, consumer: Team | None) -> None:
    # An agreement not yet made: the rule reads only its two parties.
    require(
        user,
        "act_on_agreement",
        Agreement(provider=provider, consumer=consumer),
        "Only a lead, manager or head of the provider or the consumer can "
        "draft this agreement.",
    )


@transaction.atomic
def agreement_create(
    *,
    user: User,
    provider: Team,
    consumer: Team,
    title: str,
    effective_from: date,
    compensation_clause: str = "",
    summary: str = "",
    effective_to: date | None = None,
    review_on: date | None = None,
    remedy: str = Agreement.Remedy.NONE,
    remedy_credit: Decimal | None = None,
    remedy_credit_unit: str = "",
    objectives: Iterable[Mapping[str, Any]] = (),
) -> Agreement:
    """Start a draft agreement with its objectives."""
    _check_parties_led(user, provider, consumer)
    agreement = Agreement(
        provider=provider,
        consumer=consumer,
        title=title,
        summary=summary,
        effective_from=effective_from,
        effective_to=effective_to,
        review_on=review_on,
        compensation_clause=compensation_clause,
        remedy=remedy,
        remedy_credit=remedy_credit,
        remedy_credit_unit=remedy_credit_unit,
        created_by=user,
    )
    agreement.full_clean()
    built = _build_objectives(agreement, objectives)
    save_with_history(agreement, user=user, reason="drafted")
    _write_objectives(agreement, built, user=user)
    return agreement


@transaction.atomic
def agreement_update(
    *,
    agreement: Agreement,
    user: User,
    expected_edit_count: int,
    objectives: Iterable[Mapping[str, Any]],
    **fields: Any,
) -> Agreement:
    """Save an edited draft and its objectives.

    ``expected_edit_count`` is the draft's ``edit_count`` when the editor was
    opened. If anyone saved in between, the save is refused rather than
    silently overwriting their work.
    """
    unknown = set(fields) - set(AGREEMENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown agreement fields: {', '.join(sorted(unknown))}")
    current = _locked(agreement)
    require(
        user,
        "act_on_agreement",
        current,
        "Only a lead of a party team can edit this agreement.",
    )
    if current.status != Agreement.Status.DRAFT:
        raise ValidationError(
            f"This agreement is {current.get_status_display().lower()}: only a "
            "draft can be edited. Revise it to change its terms."
        )
    # A conditional UPDATE claims the edit: of two saves based on the same
    # version, exactly one matches the row (on SQLite as on PostgreSQL).
    claimed = Agreement.objects.filter(
        pk=current.pk, edit_count=expected_edit_count, status=Agreement.Status.DRAFT
    ).update(edit_count=expected_edit_count + 1)
    if not claimed:
        raise ValidationError(
            "Someone else saved this draft after you opened it. Your changes were "
            "not saved: reload the page to see their version, then edit again.",
            code="stale",
        )
    for name, value in fields.items():
        setattr(current, name, value)
    _check_parties_led(user, current.provider, current.consumer)
    current.full_clean()
    built = _build_objectives(current, objectives)
    current.edit_count = expected_edit_count + 1
    changed = _write_objectives(current, built, user=user)
    reason = "edited" + (": " + "; ".join(changed) if changed else "")
    save_with_history(current, user=user, reason=reason)
    return current


@transaction.atomic
def agreement_propose(*, agreement: Agreement, user: User) -> Agreement:
    """Send a draft to both parties for signature."""
    current = _locked(agreement)
    require(
        user, "act_on_agreement", current, "Only a lead of a party team can propose it."
    )
    if current.status != Agreement.Status.DRAFT:
        raise ValidationError(
            f"Only a draft can be proposed; this one is "
            f"{current.get_status_display().lower()}."
        )
    if not current.objectives.exists():
        raise ValidationError("Add at least one objective before proposing.")
    earliest = earliest_start()
    if periods.month_of(current.effective_from) < earliest:
        raise ValidationError(
            {
                "effective_from": (
                    f"An agreement cannot start more than {MAX_BACKDATED_MONTHS} "
                    f"months before it is proposed: start it on "
                    f"{earliest.day} {earliest:%B %Y} or later."
                )
            },
            code="backdated",
        )
    current.status = Agreement.Status.PROPOSED
    current.proposed_at = timezone.now()
    save_with_history(current, user=user, reason="proposed for signature")
    events.announce(events.AGREEMENT_PROPOSED, actor=user, agreement=current)
    return current


@transaction.atomic
def agreement_sign(*, agreement: Agreement, user: User, team: Team) -> Agreement:
    """Sign for one party. When both parties have signed, the agreement becomes
    active and replaces the version it supersedes."""
    current = _locked(agreement)
    require(
        user,
        "act_on_agreement",
        current,
        "Only a lead, manager or head of a party team can sign.",
    )
    if current.status != Agreement.Status.PROPOSED:
        raise ValidationError(
            f"Only a proposed agreement can be signed; this one is "
            f"{current.get_status_display().lower()}."
        )
    if team.pk not in (current.provider_id, current.consumer_id):
        raise ValidationError(f"{team} is not a party to this agreement.")
    if not can(user, "act_for_team", team):
        raise ValidationError(
            f"You can sign only for a team you lead, manage or head; you do not "
            f"lead {team}."
        )
    earlier = current.signatures.filter(team=team).select_related("signed_by").first()
    if earlier:
        signer = earlier.signed_by.get_full_name() or earlier.signed_by.username
        when = timezone.localtime(earlier.signed_at)
        raise ValidationError(
            f"{team} has already signed ({signer}, {when:%d %b %Y %H:%M})."
        )
    membership = user.memberships.get(team=team)
    signature = Signature(
        agreement=current, team=team, signed_by=user, role=membership.role
    )
    try:
        with transaction.atomic():
            save_with_history(signature, user=user, reason=f"signed for {team}")
    except IntegrityError as exc:  # a concurrent signature for the same team
        raise ValidationError(f"{team} has already signed.") from exc

    if current.signatures.count() == 2:
        _activate(current, user=user)
    else:
        save_with_history(current, user=user, reason=f"signed for {team}")
    events.announce(events.AGREEMENT_SIGNED, actor=user, agreement=current, team=team)
    return current


def _activate(agreement: Agreement, *, user) -> None:
    previous = agreement.supersedes
    now = timezone.now()
    if previous is not None and previous.status == Agreement.Status.ACTIVE:
        # Retire first: one active version per lineage is a database constraint.
        previous.status = Agreement.Status.RETIRED
        previous.retired_at = now
        save_with_history(
            previous, user=user, reason=f"superseded by version {agreement.version}"
        )
    agreement.status = Agreement.Status.ACTIVE
    agreement.activated_at = now
    save_with_history(agreement, user=user, reason="signed by both parties: active")


@transaction.atomic
def agreement_request_changes(
    *, agreement: Agreement, user: User, note: str = ""
) -> Agreement:
    """Send a proposed agreement back to draft; its signatures are cleared."""
    current = _locked(agreement)
    require(
        user,
        "act_on_agreement",
        current,
        "Only a lead of a party team can request changes.",
    )
    if current.status != Agreement.Status.PROPOSED:
        raise ValidationError("Changes can be requested only on a proposed agreement.")
    for signature in current.signatures.all():
        delete_with_history(signature, user=user, reason="changes requested")
    current.status = Agreement.Status.DRAFT
    current.proposed_at = None
    # Editors opened before this point must reload: the draft moved on.
    current.edit_count += 1
    note = note.strip()
    save_with_history(
        current, user=user, reason="changes requested" + (f": {note}" if note else "")
    )
    events.announce(
        events.AGREEMENT_CHANGES_REQUESTED, actor=user, agreement=current, note=note
    )
    return current


@transaction.atomic
def agreement_revise(*, agreement: Agreement, user: User) -> Agreement:
    """Start a new draft version of an active agreement, with its objectives.

    The active version stays in force until the new one is signed by both
    parties; it is never edited in place.
    """
    current = _locked(agreement)
    require(
        user, "act_on_agreement", current, "Only a lead of a party team can revise it."
    )
    if current.status != Agreement.Status.ACTIVE:
        raise ValidationError("Only an active agreement can be revised.")
    pending = Agreement.objects.filter(supersedes=current).first()
    if pending is not None:
        raise ValidationError(
            f"Version {pending.version} is already being prepared "
            f"({pending.get_status_display().lower()}): continue with that one."
        )
    latest = Agreement.objects.filter(lineage=current.lineage).aggregate(
        v=Max("version")
    )["v"]
    revision = Agreement(
        **{name: getattr(current, name) for name in AGREEMENT_FIELDS},
        lineage=current.lineage,
        version=latest + 1,
        supersedes=current,
        created_by=user,
    )
    revision.full_clean()
    save_with_history(
        revision, user=user, reason=f"revision of version {current.version}"
    )
    for objective in current.objectives.all():
        copy = Objective(
            agreement=revision,
            position=objective.position,
            **{name: getattr(objective, name) for name in OBJECTIVE_FIELDS},
        )
        reason = f"copied from version {current.version}"
        save_with_history(copy, user=user, reason=reason)
        measure_copy(objective, copy, user=user, reason=reason)
    return revision


@transaction.atomic
def agreement_retire(*, agreement: Agreement, user: User, note: str = "") -> Agreement:
    """End an active agreement. Its history and scorecards are kept."""
    current = _locked(agreement)
    require(
        user, "act_on_agreement", current, "Only a lead of a party team can retire it."
    )
    if current.status != Agreement.Status.ACTIVE:
        raise ValidationError("Only an active agreement can be retired.")
    current.status = Agreement.Status.RETIRED
    current.retired_at = timezone.now()
    note = note.strip()
    save_with_history(
        current, user=user, reason="retired" + (f": {note}" if note else "")
    )
    events.announce(events.AGREEMENT_RETIRED, actor=user, agreement=current, note=note)
    return current
