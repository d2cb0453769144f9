"""Scorecards and breaches through /api/v1/. Scorecards are read exactly as
the scorecard page reads them (stored for a finalised month, computed for any
other); breaches are acted on through the same services as its buttons."""

from __future__ import annotations

import datetime
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
from agreements.api.serializers import PersonSerializer
from agreements.models import Agreement
from api.idempotency import idempotent
from api.schema import error_responses
from api.views import ApiViewSet

from .forms import BreachNoteForm
from .models import Breach
from .selectors import CardView, agreement_scorecard
from .services import breach_acknowledge, breach_resolve
from .views._common import EARLIEST_MONTH, FUTURE_MONTHS

NOTE_MAX_LENGTH = BreachNoteForm.base_fields["note"].max_length

# --- Scorecards -------------------------------------------------------------


class AgreementRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Agreement
        fields = ["id", "title", "version", "status"]
        read_only_fields = fields


class ObjectiveRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    metric_source = serializers.CharField()
    unit = serializers.CharField()
    comparator = serializers.CharField()


class ScorecardLineSerializer(serializers.Serializer):
    objective = ObjectiveRefSerializer()
    target = serializers.DecimalField(max_digits=None, decimal_places=2)
    actual = serializers.DecimalField(
        max_digits=None, decimal_places=2, allow_null=True
    )
    attainment = serializers.DecimalField(
        max_digits=None, decimal_places=1, allow_null=True, help_text="Per cent."
    )
    status = serializers.CharField()
    reported_on_time = serializers.BooleanField()
    expected_so_far = serializers.DecimalField(
        max_digits=None,
        decimal_places=2,
        allow_null=True,
        help_text="A live month only: where the figure should be by now.",
    )
    projected = serializers.DecimalField(
        max_digits=None,
        decimal_places=2,
        allow_null=True,
        help_text="A live month only: the month's figure at the current pace.",
    )
    breach = serializers.SerializerMethodField(
        help_text="The breach's id, for a missed line of a finalised month."
    )

    def get_breach(self, line: Any) -> int | None:
        return line.breach.pk if line.breach else None


class ScorecardCardSerializer(serializers.Serializer):
    agreement = AgreementRefSerializer(help_text="The version in force that month.")
    state = serializers.ChoiceField(
        choices=["live", "grace", "computed", "finalised"],
        help_text="live: the month is running; grace: over, figures still open; "
        "computed: locked, not finalised yet; finalised: the stored scorecard.",
    )
    status = serializers.CharField()
    score = serializers.DecimalField(max_digits=None, decimal_places=1, allow_null=True)
    reported_on_time = serializers.BooleanField()
    finalised_at = serializers.DateTimeField(allow_null=True)
    recomputed_at = serializers.DateTimeField(allow_null=True)
    lines = ScorecardLineSerializer(many=True)


class ScorecardSerializer(serializers.Serializer):
    agreement = AgreementRefSerializer(help_text="The agreement asked about.")
    month = serializers.CharField(help_text="YYYY-MM.")
    not_begun = serializers.BooleanField(help_text="The month has not begun yet.")
    card = ScorecardCardSerializer(
        allow_null=True,
        help_text="null when the month has not begun or no version was in force.",
    )


class ScorecardQuerySerializer(serializers.Serializer):
    agreement = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    month = serializers.RegexField(
        r"^\d{4}-\d{2}$",
        required=False,
        help_text="YYYY-MM; the running month when left out.",
    )

    def validate_month(self, value: str) -> datetime.date:
        month = periods.parse_month(value)
        latest = periods.add_months(periods.current_month(), FUTURE_MONTHS)
        if not EARLIEST_MONTH <= month <= latest:
            raise serializers.ValidationError(f"No scorecards for {value}.")
        return month


class ScorecardView(GenericAPIView):
    """One agreement's scorecard for a month, as its page shows it."""

    serializer_class = ScorecardSerializer

    @extend_schema(
        summary="Read an agreement's scorecard for a month",
        description="The stored scorecard of a finalised month, otherwise the "
        "one computed from the figures logged so far (judged on pace while the "
        "month runs). An agreement you may not see is a 404.",
        parameters=[
            OpenApiParameter("agreement", int, required=True),
            OpenApiParameter(
                "month",
                str,
                required=False,
                pattern=r"^\d{4}-\d{2}$",
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
        "score": card.score,
        "reported_on_time": card.reported_on_time,
        "finalised_at": card.finalised_at,
        "recomputed_at": card.recomputed_at,
        "lines": card.lines,
    }


# --- Breaches ---------------------------------------------------------------


class BreachSerializer(serializers.ModelSerializer):
    agreement = AgreementRefSerializer()
    objective = serializers.CharField(
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
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=NOTE_MAX_LENGTH
    )


class BreachResolveInputSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=NOTE_MAX_LENGTH, help_text="How the remedy was delivered."
    )


class BreachFilter(MonthRangeFilterSet):
    status = filters.ChoiceFilter(choices=Breach.Status.choices)
    agreement = filters.NumberFilter(field_name="agreement_id", min_value=1)

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
