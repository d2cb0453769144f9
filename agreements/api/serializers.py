"""Shapes of the agreements API. They check types and shapes only; whether a
write is allowed and valid is the services' call."""

from __future__ import annotations

from typing import Any

from django.db.models.manager import BaseManager
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.fields import ModelSerializer, TextField

from ..forms import MAX_OBJECTIVES, NOTE_MAX_LENGTH
from ..models import Agreement, Membership, Objective, Signature, Team
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


class ObjectiveSerializer(ModelSerializer):
    class Meta:
        model = Objective
        fields = ["id", *OBJECTIVE_FIELDS, "period", "position"]
        read_only_fields = fields


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

    class Meta:
        model = Objective
        fields = ["id", *OBJECTIVE_FIELDS]
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
