"""Record sources through /api/v1/: the sources of your teams, and a batch of
records sent to one, through the same service as the webhook
(``hooks``) and the CSV upload (``services.records_upsert``)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.fields import ModelSerializer, TextField
from api.idempotency import idempotent
from api.schema import error_responses
from api.views import ApiViewSet

from .. import periods
from ..api.serializers import TeamSerializer
from ..rules import can
from ..validators import multi_line
from .models import RecordSource
from .rows import RecordsInvalid
from .services import REASON_MAX_LENGTH, UpsertReport, records_upsert

# The most records one batch may carry, through the API or the webhook.
MAX_BATCH_RECORDS = 1000

ROW_FIELDS = (
    "A record is an object. A request (a requests source): `external_id`, "
    "`started_at`, `updated_at` (the source's last change, which orders "
    "updates), and optionally `first_response_at`, `resolved_at`, `segment`, "
    "`provider` and `consumer` (team slugs; the provider is the source's team "
    'by default) and `pauses` (`[{"started_at": …, "ended_at": …}]`). An '
    "incident (an incidents source): `external_id`, `impact` (major or "
    "partial), `started_at`, `ended_at` (empty while open), `updated_at`, "
    '`component`; with `"type": "maintenance"`, a maintenance window: '
    "`external_id`, `started_at`, `ended_at`, `reason`, `updated_at`, "
    "`component`. A lead (a leads source): `external_id`, `started_at` "
    "(when it was handed over), `updated_at`, and optionally `team` (the "
    "team that handed it over, a slug; the source's team by default), "
    "`qualified` (true or false), `qualified_at`, `owner_assigned_at`, "
    "`first_touch_at`, `owner`, `email`, `name`, `company`, `status`, `stage` "
    "and `raw` (the CRM's row as named values). Times are ISO 8601 with an "
    "offset, e.g. "
    "2026-03-02T09:30:00+01:00. What a record holds is checked by the portal: "
    "a record it refuses is answered 422, naming its row and field."
)

# --- Shapes -------------------------------------------------------------------


class RecordSourceActionsSerializer(serializers.Serializer):
    """What the person may do with the source now."""

    send = serializers.BooleanField(
        help_text="Send records of open months: a lead, manager or head of the "
        "source's team."
    )
    send_late = serializers.BooleanField(
        help_text="Send records of locked months too, with a reason: a head of "
        "the source's team, or an administrator."
    )


class RecordSourceSerializer(ModelSerializer):
    """A feed of records one team sends: requests, or incidents and
    maintenance windows."""

    team = TeamSerializer()
    webhook = serializers.BooleanField(
        source="webhook_enabled",
        help_text="Whether the source has a webhook secret: its tool may post "
        "records to /hooks/records/{id}/, signed with it.",
    )
    actions = serializers.SerializerMethodField()

    class Meta:
        model = RecordSource
        fields = ["id", "team", "name", "kind", "webhook", "actions"]
        read_only_fields = fields

    @extend_schema_field(RecordSourceActionsSerializer)
    def get_actions(self, source: RecordSource) -> dict[str, bool]:
        # The rules read the memberships cached on the user: no query per row.
        user = self.context["request"].user
        return {
            "send": can(user, "send_records", source),
            "send_late": can(user, "send_late_records", source),
        }


class RecordsBatchSerializer(serializers.Serializer):
    """A batch of records, as the API and the webhook take it."""

    records = serializers.ListField(
        child=serializers.DictField(),
        max_length=MAX_BATCH_RECORDS,
        help_text=f"Up to {MAX_BATCH_RECORDS:,} records, each upserted by its "
        f"`external_id`. {ROW_FIELDS}",
    )
    reason = TextField(
        required=False,
        allow_blank=True,
        default="",
        max_length=REASON_MAX_LENGTH,
        validators=[multi_line],
        help_text="Why records of a locked month are sent late: required for "
        "them (a head of the source's team), kept in their history.",
    )


class UpsertReportSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="New records.")
    updated = serializers.IntegerField(
        help_text="Records kept already, with an older updated_at: changed."
    )
    unchanged = serializers.IntegerField(
        help_text="Records sent again as they are kept: nothing written."
    )
    stale = serializers.IntegerField(
        help_text="Records older (by updated_at) than the ones kept: ignored."
    )
    recomputed = serializers.SerializerMethodField(
        help_text="Locked months (YYYY-MM) whose finalised scorecards were "
        "computed again, because records of theirs were sent late."
    )

    @extend_schema_field(serializers.ListField(child=TextField()))
    def get_recomputed(self, report: UpsertReport) -> list[str]:
        return [periods.format_month(month) for month in report.recomputed]


def records_invalid_body(exc: RecordsInvalid) -> dict[str, Any]:
    """A refused batch as a 422 in the API's error format (``api.exceptions``):
    ``fields`` by dotted path (``records.2.started_at``, from 0, as every
    list's errors) and ``errors``, every problem with its row (from 1)."""
    problems = exc.problems
    fields: dict[str, list[str]] = {}
    for problem in problems:
        path = f"records.{problem.row - 1}"
        if problem.field != "row":
            path += f".{problem.field}"
        fields.setdefault(path, []).append(problem.message)
    rows = len({problem.row for problem in problems})
    first = str(problems[0]) if problems else ""
    message = (
        f"Nothing was saved: {len(problems)} "
        f"problem{'s' if len(problems) != 1 else ''} in {rows} "
        f"record{'s' if rows != 1 else ''} (see errors). {first}"
    ).strip()
    return {
        "error": {
            "status": 422,
            "code": "invalid",
            "message": message,
            "fields": fields,
            "errors": [
                {"row": p.row, "field": p.field, "message": p.message} for p in problems
            ],
        }
    }


# --- Views --------------------------------------------------------------------


class RecordSourceViewSet(mixins.ListModelMixin, ApiViewSet):
    """The record sources of your teams (all of them for an executive); any
    other source is a 404. The source's leads send its records."""

    serializer_class = RecordSourceSerializer
    permission_rules = {"list": None}
    object_rules = {"records": "send_records"}
    rule_messages = {
        "send_records": "Only a lead, manager or head of the source's team can "
        "send its records."
    }
    ordering_fields = {"name": "name", "team": "team__name", "kind": "kind"}
    ordering = ["team__name", "name", "pk"]

    def get_queryset(self) -> QuerySet[RecordSource]:
        return RecordSource.objects.visible_to(self.request.user).select_related("team")

    @extend_schema(
        summary="List the record sources you may see",
        responses={
            200: RecordSourceSerializer(many=True),
            **error_responses(400, 404),
        },
    )
    def list(self, request: Request) -> Response:
        return super().list(request)

    @extend_schema(
        summary="Send a batch of records",
        description=(
            "Creates or updates each record by its `external_id`; the source's "
            "`updated_at` orders updates, so sending a batch again, or in "
            "another order, changes nothing, and an update older than the "
            "record kept is ignored (stale). The batch is checked whole: on "
            "any problem nothing is saved, and the 422 lists every problem in "
            "`errors`, by row (from 1) and field. A lead, manager or head of "
            "the source's team sends records of open months; a record of a "
            "locked month (a request's start month, any month an incident or "
            "maintenance window overlaps) is a correction: only a head of the "
            "team sends it, with a `reason`, and the month's finalised "
            "scorecards are computed again. Records sent again unchanged are "
            "no change, whatever their month."
        ),
        request=RecordsBatchSerializer,
        responses={
            200: UpsertReportSerializer,
            **error_responses(400, 403, 404),
        },
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def records(self, request: Request, pk: str) -> Response:
        source = self.get_object()
        data = self.validated(RecordsBatchSerializer)
        try:
            report = records_upsert(
                source=source,
                rows=data["records"],
                user=request.user,
                reason=data["reason"],
            )
        except RecordsInvalid as exc:
            return Response(records_invalid_body(exc), status=422)
        return Response(UpsertReportSerializer(report).data)
