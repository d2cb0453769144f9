"""Scorecards and breaches through /api/v1/. Scorecards are read exactly as
the scorecard page reads them (stored for a finalised month, computed for any
other); breaches are acted on through the same services as its buttons."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from agreements import periods
from agreements.api.filters import MonthRangeFilterSet
from agreements.api.serializers import (
    MembershipSerializer,
    PersonSerializer,
    display_name,
)
from agreements.models import Agreement, Membership
from agreements.rules import can
from api.fields import (
    ID_SCHEMA,
    MAX_ID,
    MONTH_SCHEMA,
    IdFilter,
    ModelSerializer,
    MonthInputField,
    QuerySerializer,
    TextField,
)
from api.idempotency import idempotent
from api.schema import error_responses
from api.views import ApiViewSet

from .forms import BreachNoteForm
from .models import Breach
from .scoring import Status
from .selectors import CardView, State, agreement_scorecard, my_month
from .services import breach_acknowledge, breach_resolve

NOTE_MAX_LENGTH = BreachNoteForm.base_fields["note"].max_length

# --- Scorecards -------------------------------------------------------------


class AgreementRefSerializer(ModelSerializer):
    class Meta:
        model = Agreement
        fields = ["id", "title", "version", "status"]
        read_only_fields = fields


def _vocabulary(keys) -> str:
    return "; ".join(
        f"{key}: {Status.LABELS[key]}, {Status.MEANINGS[key]}" for key in keys
    )


class StatusField(serializers.ChoiceField):
    """A month's standing in the one vocabulary of every page and email."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault(
            "help_text",
            "A running or closing month: "
            + _vocabulary(Status.LIVE)
            + ". A finished month: "
            + _vocabulary(Status.FINAL)
            + ".",
        )
        super().__init__(choices=list(Status.ALL), **kwargs)


class ObjectiveRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = TextField()
    metric_source = TextField()
    unit = TextField()
    comparator = TextField()


class ScorecardLineSerializer(serializers.Serializer):
    objective = ObjectiveRefSerializer()
    target = serializers.DecimalField(max_digits=None, decimal_places=2)
    actual = serializers.DecimalField(
        max_digits=None, decimal_places=2, allow_null=True
    )
    attainment = serializers.DecimalField(
        max_digits=None, decimal_places=1, allow_null=True, help_text="Per cent."
    )
    status = StatusField()
    status_label = TextField(help_text="The status as pages show it.")
    reported_on_time = serializers.BooleanField()
    expected_so_far = serializers.DecimalField(
        max_digits=None,
        decimal_places=2,
        allow_null=True,
        help_text="A running or closing month only: the target pro-rated to the "
        "business days gone, where the figure should be by now.",
    )
    projected = serializers.DecimalField(
        max_digits=None,
        decimal_places=2,
        allow_null=True,
        help_text="A running or closing month only: the month's figure at the "
        "current pace.",
    )
    breach = serializers.SerializerMethodField(
        help_text="The breach's id, for a missed line of a finalised month."
    )

    def get_breach(self, line: Any) -> int | None:
        return line.breach.pk if line.breach else None


class ScorecardCardSerializer(serializers.Serializer):
    agreement = AgreementRefSerializer(help_text="The version in force that month.")
    state = serializers.ChoiceField(
        choices=State.CHOICES,
        help_text="running: the month is running, judged on pace; closing: over, "
        "figures due by the deadline; locked: locked, not finalised yet "
        "(computed); finalised: the stored scorecard.",
    )
    status = StatusField(help_text="The worst of the lines' statuses.")
    status_label = TextField()
    headline = TextField(help_text="“2 of 3 objectives met”.")
    met_count = serializers.IntegerField()
    objective_count = serializers.IntegerField()
    score = serializers.DecimalField(
        max_digits=None,
        decimal_places=1,
        allow_null=True,
        help_text="Weighted attainment, per cent, a finished month only: each "
        "objective's attainment capped at 100 % and weighted; a figure never "
        "reported counts as 0 %.",
    )
    reported_on_time = serializers.BooleanField()
    due = TextField(help_text="When the month's figures are due.")
    deadline = serializers.DateTimeField(
        help_text="The moment the month locks (the end of the due day)."
    )
    finalised_at = serializers.DateTimeField(allow_null=True)
    recomputed_at = serializers.DateTimeField(allow_null=True)
    lines = ScorecardLineSerializer(many=True)


class ScorecardSerializer(serializers.Serializer):
    agreement = AgreementRefSerializer(help_text="The agreement asked about.")
    month = TextField(help_text="YYYY-MM.")
    not_begun = serializers.BooleanField(help_text="The month has not begun yet.")
    card = ScorecardCardSerializer(
        allow_null=True,
        help_text="null when the month has not begun or no version was in force.",
    )


class ScorecardQuerySerializer(QuerySerializer):
    agreement = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    month = MonthInputField(
        required=False, help_text="YYYY-MM; the running month when left out."
    )


class ScorecardView(GenericAPIView):
    """One agreement's scorecard for a month, as its page shows it."""

    serializer_class = ScorecardSerializer

    @extend_schema(
        summary="Read an agreement's scorecard for a month",
        description="The stored scorecard of a finalised month, otherwise the "
        "one computed from the figures logged so far (judged on pace while the "
        "month runs). An agreement you may not see is a 404.",
        parameters=[
            OpenApiParameter("agreement", ID_SCHEMA, required=True),
            OpenApiParameter(
                "month",
                MONTH_SCHEMA,
                required=False,
                description="YYYY-MM; the running month when left out.",
            ),
        ],
        responses={200: ScorecardSerializer, **error_responses(400, 404)},
    )
    def get(self, request: Request) -> Response:
        query = ScorecardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        visible = Agreement.objects.visible_to(request.user).select_related(
            "provider", "consumer"
        )
        agreement = visible.filter(pk=query.validated_data["agreement"]).first()
        if agreement is None:
            raise exceptions.NotFound()
        month = query.validated_data.get("month") or periods.current_month()
        page = agreement_scorecard(agreement, month=month, versions=visible)
        return Response(
            ScorecardSerializer(
                {
                    "agreement": agreement,
                    "month": periods.format_month(month),
                    "not_begun": page.not_begun,
                    "card": _card(page.card),
                }
            ).data
        )


def _card(card: CardView | None) -> dict[str, Any] | None:
    if card is None:
        return None
    return {
        "agreement": card.agreement,
        "state": card.state,
        "status": card.status,
        "status_label": card.status_label,
        "headline": card.headline,
        "met_count": card.met_count,
        "objective_count": card.objective_count,
        "score": card.score,
        "reported_on_time": card.reported_on_time,
        "due": card.due_text,
        "deadline": periods.deadline(card.month),
        "finalised_at": card.finalised_at,
        "recomputed_at": card.recomputed_at,
        "lines": card.lines,
    }


# --- Breaches ---------------------------------------------------------------


class BreachSerializer(ModelSerializer):
    agreement = AgreementRefSerializer()
    objective = TextField(
        source="line.objective.name", help_text="The objective missed."
    )
    acknowledged_by = PersonSerializer(allow_null=True)
    resolved_by = PersonSerializer(allow_null=True)

    class Meta:
        model = Breach
        fields = [
            "id",
            "agreement",
            "month",
            "objective",
            "remedy",
            "status",
            "opened_at",
            "acknowledged_by",
            "acknowledged_at",
            "resolved_by",
            "resolved_at",
            "note",
        ]
        read_only_fields = fields


class BreachNoteInputSerializer(serializers.Serializer):
    note = TextField(
        required=False, allow_blank=True, default="", max_length=NOTE_MAX_LENGTH
    )


class BreachResolveInputSerializer(serializers.Serializer):
    note = TextField(
        max_length=NOTE_MAX_LENGTH, help_text="How the remedy was delivered."
    )


class BreachFilter(MonthRangeFilterSet):
    status = filters.ChoiceFilter(choices=Breach.Status.choices)
    agreement = IdFilter(field_name="agreement_id")

    class Meta:
        model = Breach
        fields = ["status", "agreement", "month_after", "month_before"]


_ACT_ERRORS = error_responses(400, 403, 404, 409, 422)


@extend_schema_view(
    list=extend_schema(
        summary="List the breaches of agreements you may see",
        responses={200: BreachSerializer(many=True), **error_responses(400, 404)},
    ),
    retrieve=extend_schema(
        summary="Read a breach",
        responses={200: BreachSerializer, **error_responses(404)},
    ),
)
class BreachViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Missed objectives of finalised scorecards. A lead, manager or head of
    either party acknowledges or resolves them."""

    serializer_class = BreachSerializer
    filterset_class = BreachFilter
    permission_rules = {"list": None, "retrieve": None}
    object_rules = {"acknowledge": "act_on_breach", "resolve": "act_on_breach"}
    rule_messages = {
        "act_on_breach": "Only a lead, manager or head of a party team can act "
        "on a breach."
    }
    ordering_fields = {"month": "month", "status": "status", "opened_at": "opened_at"}
    ordering = ["-month", "pk"]

    def get_queryset(self) -> QuerySet[Breach]:
        return Breach.objects.filter(
            agreement__in=Agreement.objects.visible_to(self.request.user)
        ).select_related(
            "agreement__provider",
            "agreement__consumer",
            "line__objective",
            "acknowledged_by",
            "resolved_by",
        )

    def _represent(self, breach: Breach) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=breach.pk)).data)

    @extend_schema(
        summary="Acknowledge a breach",
        description="Only an open breach can be acknowledged.",
        request=BreachNoteInputSerializer,
        responses={200: BreachSerializer, **_ACT_ERRORS},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def acknowledge(self, request: Request, pk: str) -> Response:
        breach = self.get_object()
        note = self.validated(BreachNoteInputSerializer)["note"]
        updated = self.call_service(
            lambda: breach_acknowledge(breach=breach, user=request.user, note=note),
            takes_input=False,
        )
        return self._represent(updated)

    @extend_schema(
        summary="Resolve a breach: the remedy was delivered",
        request=BreachResolveInputSerializer,
        responses={200: BreachSerializer, **_ACT_ERRORS},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def resolve(self, request: Request, pk: str) -> Response:
        breach = self.get_object()
        note = self.validated(BreachResolveInputSerializer)["note"]
        updated = self.call_service(
            lambda: breach_resolve(breach=breach, user=request.user, note=note),
            takes_input=False,
        )
        return self._represent(updated)


# --- Me: who you are and what your teams owe --------------------------------


class DueLineSerializer(serializers.Serializer):
    """An objective one of your teams owes this month, as the home page
    lists it: the scorecard engine's line."""

    objective = serializers.IntegerField(source="objective.pk")
    name = TextField(source="objective.name")
    agreement = serializers.IntegerField(source="agreement.pk")
    team = serializers.IntegerField(
        source="team.pk", help_text="The team that owes the figures."
    )
    metric_source = TextField(source="objective.metric_source")
    target = serializers.DecimalField(
        source="line.target", max_digits=None, decimal_places=2
    )
    actual = serializers.DecimalField(
        source="line.actual", max_digits=None, decimal_places=2, allow_null=True
    )
    expected_so_far = serializers.DecimalField(
        source="line.expected_so_far",
        max_digits=None,
        decimal_places=2,
        allow_null=True,
        help_text="The target pro-rated to the business days gone.",
    )
    status = StatusField(source="line.status")
    status_label = TextField(source="line.status_label")
    may_submit = serializers.BooleanField(
        help_text="You lead the team: you may log these figures."
    )


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = TextField()
    name = TextField()
    email = serializers.EmailField()
    is_executive = serializers.BooleanField(
        help_text="Reads every team, agreement and report."
    )
    can_draft_agreements = serializers.BooleanField()
    memberships = MembershipSerializer(many=True)
    month = TextField(help_text="The running month, YYYY-MM.")
    due_by = TextField(help_text="When this month's figures are due.")
    due = DueLineSerializer(
        many=True, help_text="What your teams owe this month, as on the home page."
    )


class MeView(GenericAPIView):
    """Who you are: your teams and roles, and what you may do org-wide."""

    serializer_class = MeSerializer

    @extend_schema(
        summary="Your teams and roles, and what your teams owe this month",
        responses={200: MeSerializer, **error_responses()},
    )
    def get(self, request: Request) -> Response:
        user = request.user
        memberships = list(
            Membership.objects.filter(user=user)
            .select_related("team")
            .order_by("team__name", "pk")
        )
        # The home page's selector: the same lines, in the same order.
        month = my_month(user, memberships=[(m.team_id, m.role) for m in memberships])
        data: dict[str, Any] = {
            "id": user.pk,
            "username": user.username,
            "name": display_name(user),
            "email": user.email,
            "is_executive": can(user, "view_organisation"),
            "can_draft_agreements": can(user, "add_agreement"),
            "memberships": memberships,
            "month": periods.format_month(month.month),
            "due_by": month.due_text,
            "due": month.due,
        }
        return Response(MeSerializer(data).data)
