"""Pages that read agreements: list, detail and version diff. (The chain,
coloured by scorecards, is a report: ``reports.views.chain``.)"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.formats import date_format

from ..figures.kinds import KINDS
from ..forms import AgreementFilterForm, NoteForm
from ..models import (
    Agreement,
    FrictionReport,
    Measurement,
    Signature,
)
from ..rules import agreement_actions, can, unsigned_teams_user_leads
from ..selectors import (
    Correction,
    agreement_history,
    corrections_for_agreement,
    version_diff,
)

PAGE_SIZE = 25


def _visible(request: HttpRequest):
    return Agreement.objects.visible_to(request.user).select_related(
        "provider", "consumer"
    )


@login_required
def agreement_list(request: HttpRequest) -> HttpResponse:
    form = AgreementFilterForm(request.GET or None)
    agreements = (
        _visible(request)
        .annotate(objective_count=Count("objectives"))
        .prefetch_related("signatures")
        # An aggregate drops the model's default ordering; pages need one.
        .order_by("provider__name", "consumer__name", "title", "-version", "pk")
    )
    if form.is_valid():
        if query := form.cleaned_data["q"].strip():
            agreements = agreements.filter(title__icontains=query)
        if team := form.cleaned_data["team"]:
            agreements = agreements.involving(team)
        if status := form.cleaned_data["status"]:
            agreements = agreements.filter(status=status)
    page = Paginator(agreements, PAGE_SIZE).get_page(request.GET.get("page"))
    for agreement in page:
        # Flags a proposal that waits for this person's signature; the rule
        # reads the prefetched signatures and the cached memberships.
        agreement.awaits_me = agreement.status == Agreement.Status.PROPOSED and bool(
            unsigned_teams_user_leads(request.user, agreement)
        )
    filters = request.GET.copy()
    filters.pop("page", None)
    return render(
        request,
        "agreements/list.html",
        {
            "form": form,
            "page": page,
            "filtered": any(form.data.get(k) for k in ("q", "team", "status")),
            "filter_query": filters.urlencode(),
            "can_add": can(request.user, "add_agreement"),
        },
    )


@login_required
def agreement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = get_object_or_404(
        _visible(request)
        .select_related("created_by", "supersedes")
        .prefetch_related(
            "objectives",
            Prefetch(
                "signatures",
                queryset=Signature.objects.select_related("team", "signed_by"),
            ),
        ),
        pk=pk,
    )
    user = request.user
    signed = {s.team_id: s for s in agreement.signatures.all()}
    parties = [
        {"team": team, "role": role, "signature": signed.get(team.pk)}
        for team, role in (
            (agreement.provider, "Provider"),
            (agreement.consumer, "Consumer"),
        )
    ]
    may = agreement_actions(user, agreement)
    objectives = list(
        agreement.objectives.select_related(
            "record_measure__source", "record_measure__calendar"
        )
    )
    total_weight = sum(o.weight for o in objectives)
    versions = list(
        Agreement.objects.visible_to(user)
        .filter(lineage=agreement.lineage)
        .order_by("-version")
        .only("pk", "version", "status", "created_at")
    )
    return render(
        request,
        "agreements/detail.html",
        {
            "agreement": agreement,
            "parties": parties,
            "objectives": [
                (o, o.weight * 100 / total_weight if total_weight else None)
                for o in objectives
            ],
            "versions": versions,
            "newest": versions[0] if versions else None,
            "history": agreement_history(agreement),
            "sign_teams": [
                {
                    "team": p["team"],
                    "action": f"Sign for {p['team']}",
                    "question": f"Sign for {p['team']}?",
                    "consequence": _sign_consequence(agreement, p),
                    "confirm_id": f"confirm-sign-{p['team'].pk}",
                }
                for p in parties
                if p["team"].pk in may["sign_for"]
            ],
            "may": may,
            "note_form": NoteForm(),
            "corrections": _corrections(agreement),
        },
    )


def _sign_consequence(agreement: Agreement, party: dict) -> str:
    """What signing for ``party`` does, said in the confirmation before it."""
    start = date_format(agreement.effective_from, "j M Y")
    signed = {s.team_id for s in agreement.signatures.all()}
    others = [
        team
        for team in (agreement.provider, agreement.consumer)
        if team != party["team"] and team.pk not in signed
    ]
    terms = (
        f"version {agreement.version} binding between {agreement.provider} and "
        f"{agreement.consumer} from {start}"
    )
    if others:
        return (
            f"Signing for {party['team']} makes {terms} once {others[0]} has "
            "signed too."
        )
    return (
        f"Signing for {party['team']} makes {terms}: the other team has signed, "
        "so it becomes active now."
    )


# Where each kind of corrected row is shown, by its model's verbose name.
CORRECTED = {
    **{
        str(kind.model._meta.verbose_name): (kind.model, f"figures:{kind.slug}_detail")
        for kind in KINDS.values()
    },
    "measurement": (Measurement, "figures:measurements_detail"),
    "friction report": (FrictionReport, "friction:detail"),
}


def _corrections(agreement: Agreement) -> list[tuple[Correction, str]]:
    """The agreement's corrections, each with a link to the row it changed
    while that row still exists (one query per kind of row corrected)."""
    corrections = corrections_for_agreement(agreement)
    ids: dict[str, set[int]] = {}
    for correction in corrections:
        ids.setdefault(correction.kind, set()).add(correction.object_id)
    existing = {
        kind: set(
            CORRECTED[kind][0].objects.filter(pk__in=pks).values_list("pk", flat=True)
        )
        for kind, pks in ids.items()
        if kind in CORRECTED
    }
    return [
        (
            c,
            reverse(CORRECTED[c.kind][1], args=[c.object_id])
            if c.object_id in existing.get(c.kind, ())
            else "",
        )
        for c in corrections
    ]


@login_required
def agreement_diff(request: HttpRequest, pk: int, other_pk: int) -> HttpResponse:
    """Compare two versions of one agreement: ``pk`` is the base, ``other_pk``
    the version it is compared with."""
    visible = _visible(request).prefetch_related("objectives")
    old = get_object_or_404(visible, pk=pk)
    new = get_object_or_404(visible, pk=other_pk)
    if old.lineage != new.lineage:
        raise Http404("These agreements are not versions of one another.")
    return render(
        request,
        "agreements/diff.html",
        {"old": old, "new": new, "diff": version_diff(old, new)},
    )
