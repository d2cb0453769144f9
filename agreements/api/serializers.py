"""Shapes of the agreements API. They check types and shapes only; whether a
write is allowed and valid is the services' call."""

from __future__ import annotations

from typing import Any

from django.db.models.manager import BaseManager
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.fields import ModelSerializer, TextField

from ..calendars.models import WorkingCalendar
from ..forms import MAX_OBJECTIVES, NOTE_MAX_LENGTH
from ..models import Agreement, Membership, Objective, Signature, Team
from ..records.models import RecordMeasure, RecordSource
from ..rules import agreement_actions, agreement_actions_for
from ..services.agreements import AGREEMENT_FIELDS, OBJECTIVE_FIELDS


# The buttons of the detail page, as the API names them.
def display_name(user) -> str:
    return user.get_full_name() or user.username


class TeamSerializer(ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "slug", "kind"]
        read_only_fields = fields


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = TextField(read_only=True)
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return display_name(user)


class RecordMeasureSerializer(serializers.Serializer):
    """How an objective measured from records (``request_times``,
    ``availability``) is computed. Requests take ``event``, ``target_minutes``
    (business minutes), ``share`` and optional ``segment_goals``;
    availability takes ``partial_weight``, ``exclude_maintenance`` and
    ``component``."""

    source = serializers.PrimaryKeyRelatedField(
        queryset=RecordSource.objects.all(),
        help_text="The provider's record source (requests or incidents).",
    )
    calendar = serializers.PrimaryKeyRelatedField(
        queryset=WorkingCalendar.objects.all(),
        help_text="Working calendar: business time and the month's time zone.",
    )
    event = serializers.ChoiceField(
        choices=RecordMeasure.Event.choices, required=False, allow_blank=True
    )
    target_minutes = serializers.DecimalField(
        source="target",
        max_digits=9,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text="Business minutes a request may take, e.g. 180.",
    )
    share = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, allow_null=True
    )
    segment_goals = serializers.JSONField(required=False)
    partial_weight = serializers.DecimalField(
        max_digits=3, decimal_places=2, required=False
    )
    exclude_maintenance = serializers.BooleanField(required=False)
    component = serializers.CharField(max_length=200, required=False, allow_blank=True)

    def to_representation(self, instance: RecordMeasure) -> dict[str, Any]:
        return {
            "source": instance.source_id,
            "calendar": instance.calendar_id,
            "event": instance.event,
            "target_minutes": (
                None
                if instance.target is None
                else instance.target.total_seconds() / 60
            ),
            "share": None if instance.share is None else str(instance.share),
            "segment_goals": instance.segment_goals,
            "partial_weight": str(instance.partial_weight),
            "exclude_maintenance": instance.exclude_maintenance,
            "component": instance.component,
        }


class ObjectiveSerializer(ModelSerializer):
    measure = serializers.SerializerMethodField()

    class Meta:
        model = Objective
        fields = ["id", *OBJECTIVE_FIELDS, "period", "position", "measure"]
        read_only_fields = fields

    @extend_schema_field(RecordMeasureSerializer(allow_null=True))
    def get_measure(self, objective: Objective) -> dict[str, Any] | None:
        if objective.metric_source not in Objective.RECORD_SOURCES:
            return None
        try:
            measure = objective.record_measure
        except RecordMeasure.DoesNotExist:
            return None
        return RecordMeasureSerializer(measure).data


class SignatureSerializer(ModelSerializer):
    team = TeamSerializer()
    signed_by = PersonSerializer()

    class Meta:
        model = Signature
        fields = ["team", "signed_by", "role", "signed_at"]
        read_only_fields = fields


class AgreementActionsSerializer(serializers.Serializer):
    """What the person may do with the agreement now, as the detail page
    offers it. ``sign_for`` lists the party teams they may still sign for."""

    change = serializers.BooleanField()
    propose = serializers.BooleanField()
    sign = serializers.BooleanField()
    request_changes = serializers.BooleanField()
    revise = serializers.BooleanField()
    retire = serializers.BooleanField()
    sign_for = serializers.ListField(child=serializers.IntegerField())


class AgreementListSerializer(serializers.ListSerializer):
    """Agreements, many at once: what the person may do with each comes from
    one permission pass over the whole page (``agreement_actions_for``)."""

    def to_representation(self, data) -> list[dict[str, Any]]:
        agreements = list(data.all() if isinstance(data, BaseManager) else data)
        self.actions = agreement_actions_for(self.context["request"].user, agreements)
        return super().to_representation(agreements)


class AgreementSerializer(ModelSerializer):
    provider = TeamSerializer()
    consumer = TeamSerializer()
    created_by = PersonSerializer()
    objectives = ObjectiveSerializer(many=True)
    signatures = SignatureSerializer(many=True)
    actions = serializers.SerializerMethodField()

    class Meta:
        model = Agreement
        fields = [
            "id",
            "title",
            "summary",
            "provider",
            "consumer",
            "effective_from",
            "effective_to",
            "review_on",
            "compensation_clause",
            "remedy",
            "remedy_credit",
            "remedy_credit_unit",
            "status",
            "version",
            "lineage",
            "supersedes",
            "edit_count",
            "created_by",
            "created_at",
            "updated_at",
            "proposed_at",
            "activated_at",
            "retired_at",
            "objectives",
            "signatures",
            "actions",
        ]
        read_only_fields = fields
        list_serializer_class = AgreementListSerializer

    @extend_schema_field(AgreementActionsSerializer)
    def get_actions(self, agreement: Agreement) -> dict[str, Any]:
        page = getattr(self.parent, "actions", None)
        if page is not None:
            return page[agreement.pk]
        return agreement_actions(self.context["request"].user, agreement)


class ObjectiveInputSerializer(ModelSerializer):
    id = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="When editing: the objective of this draft that the row "
        "keeps and changes. Leave it out for a new objective.",
    )

    measure = RecordMeasureSerializer(
        required=False,
        help_text="Only for an objective measured from records: how.",
    )

    class Meta:
        model = Objective
        fields = ["id", *OBJECTIVE_FIELDS, "measure"]
        # Names are unique per agreement: the service checks the rows as a set.
        validators: list = []


class AgreementInputSerializer(ModelSerializer):
    """A new draft: its terms and its objectives."""

    objectives = ObjectiveInputSerializer(
        many=True,
        required=False,
        max_length=MAX_OBJECTIVES,
        help_text=f"At most {MAX_OBJECTIVES}.",
    )

    class Meta:
        model = Agreement
        fields = [*AGREEMENT_FIELDS, "objectives"]
        validators: list = []


class AgreementUpdateInputSerializer(AgreementInputSerializer):
    """An edit of a draft: any of its terms. ``objectives``, when given, is the
    whole list, as in the editor: rows with an ``id`` keep and change that
    objective, rows without one are new, and objectives left out are removed."""

    edit_count = serializers.IntegerField(
        min_value=0,
        help_text="The draft's edit_count when you read it. If someone saved "
        "it since, nothing is saved and the answer is 409.",
    )

    class Meta(AgreementInputSerializer.Meta):
        fields = [*AGREEMENT_FIELDS, "objectives", "edit_count"]
        extra_kwargs = {name: {"required": False} for name in AGREEMENT_FIELDS}


class SignInputSerializer(serializers.Serializer):
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(),
        help_text="The party team you sign for: one you lead, manage or head.",
    )


class NoteInputSerializer(serializers.Serializer):
    note = TextField(
        required=False,
        allow_blank=True,
        max_length=NOTE_MAX_LENGTH,
        default="",
        help_text="Why, for the history.",
    )


class MembershipSerializer(ModelSerializer):
    team = TeamSerializer()
    is_leading = serializers.BooleanField(
        help_text="A lead, manager or head: may act for the team."
    )

    class Meta:
        model = Membership
        fields = ["team", "role", "is_leading"]
        read_only_fields = fields
