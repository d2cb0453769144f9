"""Every kind of figure in the registry (lead log entries, closed customers):
the rows a team logs each month, their shapes built from the kind.
Each write calls the same service as the figures pages (``submit_figures`` to
log, change and delete; ``acknowledge_closed_customer`` for a handover)."""

from __future__ import annotations

import copy
from typing import Any

from django.utils.text import slugify
from drf_spectacular.utils import extend_schema, extend_schema_view
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
from .kinds import KINDS, FigureKind
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


# --- Views ------------------------------------------------------------------


# The rows of one kind of figure (``kind``), through its services. (No
# docstring: the API's description is the base class's.)
class FigureViewSet(SubmissionViewSet):
    kind: FigureKind
    instance_arg = "row"
    update_service = staticmethod(figure_update)
    delete_service = staticmethod(figure_delete)

    def create_service(self, **data: Any) -> Any:
        return figure_create(self.kind, **data)

    @idempotent
    def create(self, request: Request) -> Response:
        return super().create(request)

    @action(detail=False, methods=["post"])
    @idempotent
    def bulk(self, request: Request) -> Response:
        return super().bulk(request)


class HandoverViewSet(FigureViewSet):
    object_rules = {
        **SubmissionViewSet.object_rules,
        "acknowledge": "acknowledge_closed_customer",
    }
    rule_messages = {
        **SubmissionViewSet.rule_messages,
        "acknowledge_closed_customer": "Only a lead, manager or head of a team "
        "that receives customers from this team can acknowledge the handover.",
    }

    @action(detail=True, methods=["post"])
    @idempotent
    def acknowledge(self, request: Request, pk: str) -> Response:
        row = self.get_object()
        updated = self.call_service(
            lambda: closed_customer_acknowledge(closed_customer=row, user=request.user),
            takes_input=False,
        )
        return self._represent(updated)


def viewset_for(kind: FigureKind) -> type[FigureViewSet]:
    """The API of a kind: its rows listed, read, logged (one or in bulk),
    changed and deleted, with its schema; a kind whose rows are acknowledged
    also takes the acknowledgement."""
    output, create, update = serializers_for(kind)
    meta = kind.model._meta
    viewset: type[FigureViewSet] = type(
        f"{kind.model.__name__}ViewSet",
        (HandoverViewSet if kind.acknowledged else FigureViewSet,),
        {
            "__module__": __name__,
            "kind": kind,
            "model": kind.model,
            "related": kind.related,
            # The date first, then the team, the kind's own, when logged.
            "ordering_fields": {
                kind.date_field: kind.date_field,
                "team": "team__name",
                **{name: name for name in kind.ordering_fields},
                "created_at": "created_at",
            },
            "ordering": [f"-{kind.date_field}", "-pk"],
            "serializer_class": output,
            "input_serializer": create,
            "update_serializer": update,
        },
    )
    if kind.acknowledged:
        viewset = extend_schema_view(
            acknowledge=extend_schema(
                summary=f"Acknowledge the handover of a {meta.verbose_name}",
                description="Acknowledging twice keeps the first acknowledgement.",
                request=None,
                responses={200: output, **error_responses(400, 403, 404, 409, 422)},
            )
        )(viewset)
    return submission_schema(
        str(meta.verbose_name), str(meta.verbose_name_plural), output, create, update
    )(viewset)


def figure_routes() -> list[tuple[str, type[FigureViewSet], str]]:
    """``(prefix, viewset, basename)`` of each kind, for the API's router:
    ``lead-log-entries``, ``lead-log-entry``."""
    return [
        (
            slugify(kind.model._meta.verbose_name_plural),
            viewset_for(kind),
            slugify(kind.model._meta.verbose_name),
        )
        for kind in KINDS.values()
    ]
