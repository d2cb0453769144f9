"""Measurements of manual objectives: the value the provider's lead enters
once a month. The same services and rules as the measurements pages."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api.fields import IdFilter, ModelSerializer, MonthInputField
from api.idempotency import idempotent

from ..api.filters import MonthRangeFilterSet
from ..api.serializers import PersonSerializer
from ..api.submissions import SubmissionViewSet, submission_schema
from ..models import Agreement, Measurement, Objective
from .measurements import (
    MEASUREMENT_FIELDS,
    measurement_create,
    measurement_delete,
    measurement_update,
)


class ObjectiveBriefSerializer(ModelSerializer):
    agreement = serializers.IntegerField(source="agreement_id")

    class Meta:
        model = Objective
        fields = ["id", "name", "unit", "agreement"]
        read_only_fields = fields


class MeasurementSerializer(ModelSerializer):
    objective = ObjectiveBriefSerializer()
    created_by = PersonSerializer()

    class Meta:
        model = Measurement
        fields = [
            "id",
            "objective",
            "month",
            *MEASUREMENT_FIELDS,
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class VisibleObjectiveField(serializers.PrimaryKeyRelatedField):
    """An objective of an agreement the person may see: any other id is
    refused like one that does not exist."""

    def get_queryset(self) -> QuerySet[Objective]:
        user = self.context["request"].user
        return Objective.objects.filter(
            agreement__in=Agreement.objects.visible_to(user)
        ).select_related("agreement__provider")


class MeasurementInputSerializer(ModelSerializer):
    objective = VisibleObjectiveField(
        help_text="A manual objective of an agreement your team provides."
    )
    month = MonthInputField(help_text="YYYY-MM: an open month.")

    class Meta:
        model = Measurement
        fields = ["objective", "month", *MEASUREMENT_FIELDS]
        # One per objective and month: the service says which one exists.
        validators: list = []


class MeasurementUpdateInputSerializer(ModelSerializer):
    class Meta:
        model = Measurement
        fields = list(MEASUREMENT_FIELDS)
        extra_kwargs = {name: {"required": False} for name in MEASUREMENT_FIELDS}


class MeasurementFilter(MonthRangeFilterSet):
    objective = IdFilter(field_name="objective_id")


@submission_schema(
    "measurement",
    "measurements",
    MeasurementSerializer,
    MeasurementInputSerializer,
    MeasurementUpdateInputSerializer,
    bulk=False,
)
class MeasurementViewSet(SubmissionViewSet):
    """Lists hold the measurements of agreements your teams are party to (all
    of them for an executive). The provider's leads enter them."""

    model = Measurement
    serializer_class = MeasurementSerializer
    filterset_class = MeasurementFilter
    instance_arg = "measurement"
    input_serializer = MeasurementInputSerializer
    update_serializer = MeasurementUpdateInputSerializer
    create_service = staticmethod(measurement_create)
    update_service = staticmethod(measurement_update)
    delete_service = staticmethod(measurement_delete)
    related = ("objective__agreement__provider", "created_by")
    ordering_fields = {
        "month": "month",
        "objective": "objective__name",
        "value": "value",
        "created_at": "created_at",
    }
    ordering = ["-month", "objective__agreement__title", "objective__position", "pk"]

    @idempotent
    def create(self, request: Request) -> Response:
        return super().create(request)
