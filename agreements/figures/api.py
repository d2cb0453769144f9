"""Every kind of figure in the registry (lead log entries, closed customers):
the rows a team logs each month, their shapes built from the kind.
Each write calls the same service as the figures pages (``submit_figures`` to
log, change and delete; ``acknowledge_closed_customer`` for a handover)."""

from __future__ import annotations

import copy
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.fields import ModelSerializer
from api.idempotency import idempotent
from api.schema import error_responses

from ..api.serializers import PersonSerializer, TeamSerializer
from ..api.submissions import SubmissionViewSet, submission_schema
from ..models import Team
from .kinds import CUSTOMERS, LEADS, FigureKind
from .services import (
    closed_customer_acknowledge,
    figure_create,
    figure_delete,
    figure_update,
)

# --- Shapes -----------------------------------------------------------------

CLIENT_TOKEN = serializers.UUIDField(
    required=False,
    allow_null=True,
    default=None,
    help_text="Optional: a UUID of your choosing. Sending the same token "
    "for the team again returns the first row and logs nothing.",
)


def _serializer(name: str, model: type, fields: list[str], **attrs: Any) -> type:
    meta = {"model": model, "fields": fields, **attrs.pop("meta", {})}
    return type(name, (ModelSerializer,), {**attrs, "Meta": type("Meta", (), meta)})


def serializers_for(kind: FigureKind) -> tuple[type, type, type]:
    """A kind's row as read, as sent to create one, and as sent to change one,
    built from its registry entry."""
    name = kind.model.__name__
    handover = ["acknowledged_by", "acknowledged_at"] if kind.acknowledged else []
    shown = [
        "id",
        "team",
        *kind.fields,
        "month",
        *handover,
        "created_by",
        "created_at",
        "updated_at",
    ]
    output = _serializer(
        f"{name}Serializer",
        kind.model,
        shown,
        team=TeamSerializer(),
        created_by=PersonSerializer(),
        **({"acknowledged_by": PersonSerializer(allow_null=True)} if handover else {}),
        meta={"read_only_fields": shown},
    )
    create = _serializer(
        f"{name}InputSerializer",
        kind.model,
        ["team", *kind.fields, "client_token"],
        team=serializers.PrimaryKeyRelatedField(
            queryset=Team.objects.all(), help_text=kind.team_help
        ),
        client_token=copy.deepcopy(CLIENT_TOKEN),
        # (team, client_token) is unique: the service answers a repeat with
        # the first row instead of refusing it.
        meta={"validators": []},
    )
    update = _serializer(
        f"{name}UpdateInputSerializer",
        kind.model,
        list(kind.fields),
        meta={"extra_kwargs": {field: {"required": False} for field in kind.fields}},
    )
    return output, create, update


(
    LeadLogEntrySerializer,
    LeadLogEntryInputSerializer,
    LeadLogEntryUpdateInputSerializer,
) = serializers_for(LEADS)
(
    ClosedCustomerSerializer,
    ClosedCustomerInputSerializer,
    ClosedCustomerUpdateInputSerializer,
) = serializers_for(CUSTOMERS)


# --- Views ------------------------------------------------------------------


# The rows of one kind of figure (``kind``), through its services. (No
# docstring: the API's description is the base class's.)
class FigureViewSet(SubmissionViewSet):
    kind: FigureKind
    instance_arg = "row"
    update_service = staticmethod(figure_update)
    delete_service = staticmethod(figure_delete)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.model = cls.kind.model
        cls.related = cls.kind.related
        cls.ordering_fields = {
            **{name: name for name in cls.kind.ordering_fields[:1]},
            "team": "team__name",
            **{name: name for name in cls.kind.ordering_fields[1:]},
            "created_at": "created_at",
        }
        cls.ordering = [f"-{cls.kind.date_field}", "-pk"]

    def create_service(self, **data: Any) -> Any:
        return figure_create(self.kind, **data)

    @idempotent
    def create(self, request: Request) -> Response:
        return super().create(request)

    @action(detail=False, methods=["post"])
    @idempotent
    def bulk(self, request: Request) -> Response:
        return super().bulk(request)


@submission_schema(
    "lead log entry",
    "lead log entries",
    LeadLogEntrySerializer,
    LeadLogEntryInputSerializer,
    LeadLogEntryUpdateInputSerializer,
)
class LeadLogEntryViewSet(FigureViewSet):
    kind = LEADS
    serializer_class = LeadLogEntrySerializer
    input_serializer = LeadLogEntryInputSerializer
    update_serializer = LeadLogEntryUpdateInputSerializer


@submission_schema(
    "closed customer",
    "closed customers",
    ClosedCustomerSerializer,
    ClosedCustomerInputSerializer,
    ClosedCustomerUpdateInputSerializer,
)
class ClosedCustomerViewSet(FigureViewSet):
    kind = CUSTOMERS
    serializer_class = ClosedCustomerSerializer
    input_serializer = ClosedCustomerInputSerializer
    update_serializer = ClosedCustomerUpdateInputSerializer
    object_rules = {
        **SubmissionViewSet.object_rules,
        "acknowledge": "acknowledge_closed_customer",
    }
    rule_messages = {
        **SubmissionViewSet.rule_messages,
        "acknowledge_closed_customer": "Only a lead, manager or head of a team "
        "that receives customers from this team can acknowledge the handover.",
    }

    @extend_schema(
        summary="Acknowledge the handover of a closed customer",
        description="Acknowledging twice keeps the first acknowledgement.",
        request=None,
        responses={
            200: ClosedCustomerSerializer,
            **error_responses(400, 403, 404, 409, 422),
        },
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def acknowledge(self, request: Request, pk: str) -> Response:
        row = self.get_object()
        updated = self.call_service(
            lambda: closed_customer_acknowledge(closed_customer=row, user=request.user),
            takes_input=False,
        )
        return self._represent(updated)
