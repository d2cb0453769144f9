"""The friction knowledge base through /api/v1/: pain points with how often,
for how many customers and by how many teams they are reported, and their
trend, counted as the knowledge base pages count them. Heads merge
duplicates, through the same service as the merge page."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.fields import ModelSerializer, TextField, text_filter
from api.idempotency import idempotent
from api.schema import error_responses
from api.views import ApiViewSet

from .. import periods
from ..api.serializers import PersonSerializer
from ..models import FrictionReport, PainPoint
from .api import PainPointRefSerializer
from .knowledge import pain_point_merge
from .models import TAG_MAX_LENGTH
from .selectors import pain_point_trends, pain_points_counted

LIST_TREND_MONTHS = 6  # as on the knowledge base's list
DETAIL_TREND_MONTHS = 12  # as on a pain point's page

# --- Shapes -----------------------------------------------------------------


class TrendPointSerializer(serializers.Serializer):
    month = TextField(help_text="YYYY-MM.")
    reports = serializers.IntegerField()


class PainPointSerializer(ModelSerializer):
    merged_into = PainPointRefSerializer(
        allow_null=True,
        help_text="Set once it was merged into another pain point, which now "
        "holds its reports.",
    )
    reports = serializers.IntegerField(
        source="report_count",
        help_text="Reports filed under it, every team's (those matching the "
        "list's tag, severity and status filters).",
    )
    customers = serializers.IntegerField(
        source="customer_count", help_text="Different customers among them."
    )
    teams = serializers.IntegerField(
        source="team_count", help_text="Teams that reported it."
    )
    last_reported = serializers.DateTimeField(allow_null=True)
    trend = serializers.SerializerMethodField(
        help_text="Reports per month, oldest first: the last 6 months in a list, "
        "12 when read alone."
    )
    created_by = PersonSerializer(allow_null=True)

    class Meta:
        model = PainPoint
        fields = [
            "id",
            "title",
            "description",
            "category",
            "merged_into",
            "reports",
            "customers",
            "teams",
            "last_reported",
            "trend",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(TrendPointSerializer(many=True))
    def get_trend(self, pain_point: PainPoint) -> list[dict[str, Any]]:
        return [
            {"month": periods.format_month(month), "reports": count}
            for month, count in self.context["trends"][pain_point.pk]
        ]


class PainPointDetailSerializer(PainPointSerializer):
    merged = PainPointRefSerializer(
        many=True, help_text="Duplicates merged into this one."
    )

    class Meta(PainPointSerializer.Meta):
        fields = [*PainPointSerializer.Meta.fields, "merged"]
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.INT)
class MergeTargetField(serializers.PrimaryKeyRelatedField):
    """A current pain point, as the merge page offers them."""

    default_error_messages = {
        "does_not_exist": "There is no pain point {pk_value} to merge into: it "
        "does not exist, or it was merged into another."
    }

    def get_queryset(self) -> QuerySet[PainPoint]:
        return PainPoint.objects.visible_to(self.context["request"].user).current()


class MergeInputSerializer(serializers.Serializer):
    target = MergeTargetField(help_text="The pain point to keep.")


class PainPointFilter(filters.FilterSet):
    """The knowledge base page's filters. They narrow the counts too, so the
    selector applies them together (``filter_queryset``), not one by one."""

    q = text_filter(200, help_text="Words in the pain point or in one of its reports.")
    category = filters.ChoiceFilter(choices=PainPoint.Category.choices)
    tag = text_filter(TAG_MAX_LENGTH, help_text="Counts only reports with this tag.")
    severity = filters.ChoiceFilter(
        choices=FrictionReport.Severity.choices,
        help_text="Counts only reports of this severity.",
    )
    status = filters.ChoiceFilter(
        choices=FrictionReport.Status.choices,
        help_text="Counts only reports in this status.",
    )

    class Meta:
        model = PainPoint
        fields = ["q", "category", "tag", "severity", "status"]

    @property
    def report_filters(self) -> dict[str, str]:
        data = self.form.cleaned_data
        return {name: data.get(name) or "" for name in ("tag", "severity", "status")}

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        data = self.form.cleaned_data
        return pain_points_counted(
            queryset,
            search=data.get("q") or "",
            category=data.get("category") or "",
            **self.report_filters,
        )


# --- Views ------------------------------------------------------------------

KB_MESSAGE = "The knowledge base is for members of a team."


class PainPointViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """The knowledge base: every member of a team and executives read it
    (others are refused, as on its pages); the head of any team merges
    duplicates."""

    serializer_class = PainPointSerializer
    filterset_class = PainPointFilter
    permission_rules = {
        "list": "view_knowledge_base",
        "retrieve": "view_knowledge_base",
        "merge": "view_knowledge_base",
    }
    object_rules = {"merge": "merge_pain_points"}
    rule_messages = {
        "view_knowledge_base": KB_MESSAGE,
        "merge_pain_points": "Only an executive, or the head of every team its "
        "reports were addressed to, can merge a pain point.",
    }
    ordering_fields = {
        "reports": "report_count",
        "customers": "customer_count",
        "teams": "team_count",
        "last_reported": "last_reported",
        "title": "title",
        "created_at": "created_at",
    }
    # The knowledge base's order: most reported first.
    ordering = ["-report_count", "title", "pk"]

    def get_queryset(self) -> QuerySet[PainPoint]:
        pain_points = PainPoint.objects.visible_to(self.request.user).select_related(
            "merged_into", "created_by"
        )
        if self.action == "list":
            return pain_points.current()
        return pain_points.prefetch_related(
            Prefetch("merged", PainPoint.objects.order_by("title", "pk"))
        )

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if self.action == "list":
            return super().filter_queryset(queryset)
        # One pain point (merged ones too): counted over all its reports, as
        # on its page; the list's filters do not apply.
        return pain_points_counted(queryset)

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action == "list":
            return PainPointSerializer
        return PainPointDetailSerializer

    def _serialize(self, data: Any, *, months: int, many: bool = False, **filters):
        rows = data if many else [data]
        trends = pain_point_trends([p.pk for p in rows], months=months, **filters)
        serializer = self.get_serializer_class()(
            data,
            many=many,
            context={**self.get_serializer_context(), "trends": trends},
        )
        return serializer.data

    def _represent(self, pain_point: PainPoint) -> Response:
        fresh = self.filter_queryset(self.get_queryset()).get(pk=pain_point.pk)
        return Response(self._serialize(fresh, months=DETAIL_TREND_MONTHS))

    @extend_schema(
        summary="List the knowledge base's pain points",
        description="Current pain points (not merged into another), most "
        "reported first. The filters on reports (tag, severity, status) narrow "
        "the counts and the trend too, as on the knowledge base page. Reports "
        "themselves are listed at /api/v1/friction-reports/?pain_point={id}, "
        "as far as you may read them.",
        responses={
            200: PainPointSerializer(many=True),
            **error_responses(400, 403, 404),
        },
    )
    def list(self, request: Request) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        # Valid: the filter backend has answered 400 otherwise.
        filterset = PainPointFilter(request.query_params, request=request)
        filterset.is_valid()
        data = self._serialize(
            page,
            months=LIST_TREND_MONTHS,
            many=True,
            **filterset.report_filters,
        )
        return self.get_paginated_response(data)

    @extend_schema(
        summary="Read a pain point",
        description="A merged pain point names the one it was merged into.",
        responses={200: PainPointDetailSerializer, **error_responses(403, 404)},
    )
    def retrieve(self, request: Request, pk: str) -> Response:
        return self._represent(self.get_object())

    @extend_schema(
        summary="Merge a duplicate pain point into another",
        description="The head of a team. The reports of this pain point (and of "
        "those merged into it before) move to the target, which is answered; "
        "this one stays, marked as merged, so that links to it still lead "
        "somewhere.",
        request=MergeInputSerializer,
        responses={
            200: PainPointDetailSerializer,
            **error_responses(400, 403, 404, 409, 422),
        },
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def merge(self, request: Request, pk: str) -> Response:
        source = self.get_object()
        target = self.validated(MergeInputSerializer)["target"]
        merged_into = self.call_service(
            lambda: pain_point_merge(source=source, target=target, user=request.user)
        )
        return self._represent(merged_into)
