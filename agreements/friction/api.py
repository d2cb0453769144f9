"""Friction reports through /api/v1/: filed, changed and withdrawn by the
reporting team's leads; moved along, assigned and given a due date by the
addressed team's heads; commented on by members of both teams. The same
services and rules as the friction pages."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import Prefetch, Q, QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.fields import (
    IdFilter,
    ModelSerializer,
    MonthInputField,
    TextField,
    text_filter,
)
from api.idempotency import idempotent
from api.schema import error_responses

from .. import periods
from ..api.filters import MonthRangeFilterSet
from ..api.serializers import PersonSerializer, TeamSerializer
from ..api.submissions import SubmissionViewSet, submission_schema
from ..models import FrictionComment, FrictionReport, PainPoint, Team
from ..rules import friction_report_actions
from ..validators import multi_line, single_line
from .forms import FRICTION_FIELDS
from .models import COMMENT_MAX_LENGTH, TAG_MAX_LENGTH
from .services import (
    friction_comment_add,
    friction_report_assign,
    friction_report_change_status,
    friction_report_create,
    friction_report_delete,
    friction_report_set_due_date,
    friction_report_update,
)

# --- Shapes -----------------------------------------------------------------


class PainPointRefSerializer(ModelSerializer):
    class Meta:
        model = PainPoint
        fields = ["id", "title"]
        read_only_fields = fields


class FrictionActionsSerializer(serializers.Serializer):
    """What the person may do with the report now, as its page offers it."""

    change = serializers.BooleanField(
        help_text="Change or withdraw it: a lead of the reporting team, while it "
        "is new and its month open."
    )
    status = serializers.ListField(
        child=serializers.ChoiceField(choices=FrictionReport.Status.choices),
        help_text="The statuses you may move it to now (a head of the addressed team).",
    )
    comment = serializers.BooleanField(
        help_text="Comment on it: a member of the reporting or the addressed team."
    )
    assign = serializers.BooleanField(
        help_text="Assign it and set its due date: a head of the addressed team, "
        "while it is open."
    )


class FrictionReportSerializer(ModelSerializer):
    reporting_team = TeamSerializer()
    addressed_team = TeamSerializer()
    addressed_to = PersonSerializer(
        allow_null=True, help_text="The addressed team's head when it was filed."
    )
    tags = serializers.ListField(child=TextField(), source="tag_list")
    month = serializers.SerializerMethodField(help_text="YYYY-MM.")
    pain_point = PainPointRefSerializer(
        allow_null=True, help_text="The knowledge base entry it is filed under."
    )
    created_by = PersonSerializer()
    assigned_to = PersonSerializer(
        allow_null=True,
        help_text="The member of the addressed team who looks after it.",
    )
    due_date = serializers.DateField(
        allow_null=True, help_text="When the addressed team means to resolve it."
    )
    overdue = serializers.BooleanField(
        source="is_overdue",
        help_text="Past its due date and not resolved (the organisation's today).",
    )
    age_days = serializers.IntegerField(
        help_text="Whole days since it was filed, until it was closed."
    )
    actions = serializers.SerializerMethodField()

    class Meta:
        model = FrictionReport
        fields = [
            "id",
            "reporting_team",
            "addressed_team",
            "addressed_to",
            *FRICTION_FIELDS,
            "month",
            "status",
            "assigned_to",
            "due_date",
            "overdue",
            "age_days",
            "pain_point",
            "created_by",
            "created_at",
            "updated_at",
            "acknowledged_at",
            "closed_at",
            "actions",
        ]
        read_only_fields = fields

    def get_month(self, report: FrictionReport) -> str:
        return periods.format_month(report.month)

    @extend_schema_field(FrictionActionsSerializer)
    def get_actions(self, report: FrictionReport) -> dict[str, Any]:
        # The rules read the memberships cached on the user: no query per row.
        actions = friction_report_actions(self.context["request"].user, report)
        return {
            name: actions[name] for name in ("change", "status", "comment", "assign")
        }


class FrictionCommentSerializer(ModelSerializer):
    author = PersonSerializer()
    team = TeamSerializer(
        help_text="The side the author spoke for: the reporting or the addressed team."
    )
    new_status = serializers.SerializerMethodField(
        help_text="The status the report moved to, when the comment records a "
        "move; null for a plain comment."
    )

    class Meta:
        model = FrictionComment
        fields = ["id", "author", "team", "body", "new_status", "created_at"]
        read_only_fields = fields

    @extend_schema_field(
        serializers.ChoiceField(choices=FrictionReport.Status.choices, allow_null=True)
    )
    def get_new_status(self, comment: FrictionComment) -> str | None:
        return comment.new_status or None


class FrictionReportDetailSerializer(FrictionReportSerializer):
    comments = FrictionCommentSerializer(
        many=True,
        help_text="Comments of both teams and status changes, oldest first.",
    )

    class Meta(FrictionReportSerializer.Meta):
        fields = [*FrictionReportSerializer.Meta.fields, "comments"]
        read_only_fields = fields


def _tags_field() -> serializers.ListField:
    return serializers.ListField(
        child=TextField(max_length=TAG_MAX_LENGTH, validators=[single_line]),
        required=False,
        max_length=20,
        help_text='e.g. ["invoices", "late payment"]; stored lower-case, as slugs.',
    )


class FrictionReportInputSerializer(ModelSerializer):
    reporting_team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(),
        help_text="The team filing the report: one you lead, manage or head.",
    )
    addressed_team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="A team with a signed agreement with the reporting team; its "
        "head receives the report. Left out: the one customer service team the "
        "reporting team has an agreement with.",
    )
    month = MonthInputField(
        required=False, help_text="YYYY-MM: an open month; the running one if left out."
    )
    tags = _tags_field()
    client_token = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Optional: a UUID of your choosing. Sending the same token "
        "for the team again returns the first report and files nothing.",
    )

    class Meta:
        model = FrictionReport
        fields = [
            "reporting_team",
            "addressed_team",
            "month",
            *FRICTION_FIELDS,
            "client_token",
        ]
        # (reporting_team, client_token) is unique: the service answers a
        # repeat with the first report instead of refusing it.
        validators: list = []


class FrictionReportUpdateInputSerializer(ModelSerializer):
    tags = _tags_field()

    class Meta:
        model = FrictionReport
        fields = list(FRICTION_FIELDS)
        extra_kwargs = {name: {"required": False} for name in FRICTION_FIELDS}


class StatusInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=FrictionReport.Status.choices,
        help_text="new → acknowledged → in_progress → resolved or wont_fix; "
        "resolved and wont_fix are final.",
    )
    note = TextField(
        required=False,
        allow_blank=True,
        default="",
        max_length=COMMENT_MAX_LENGTH,
        help_text="For the reporting team, kept as a comment. Required for wont_fix.",
    )


class CommentInputSerializer(serializers.Serializer):
    body = TextField(
        validators=[multi_line],
        max_length=COMMENT_MAX_LENGTH,
        error_messages={
            "blank": "Write a comment.",
            "max_length": f"A comment can be at most {COMMENT_MAX_LENGTH} characters.",
        },
    )


class AssignInputSerializer(serializers.Serializer):
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(),
        allow_null=True,
        help_text="A member of the addressed team (a user id); null: nobody.",
    )


class DueDateInputSerializer(serializers.Serializer):
    due_date = serializers.DateField(
        allow_null=True,
        help_text="YYYY-MM-DD, today or later (the organisation's today); null: "
        "no due date.",
    )


class FrictionReportFilter(MonthRangeFilterSet):
    category = filters.ChoiceFilter(choices=FrictionReport.Category.choices)
    status = filters.ChoiceFilter(choices=FrictionReport.Status.choices)
    severity = filters.ChoiceFilter(choices=FrictionReport.Severity.choices)
    tag = text_filter(
        TAG_MAX_LENGTH, method="filter_tag", help_text="Exactly this tag."
    )
    team = IdFilter(
        method="filter_team", help_text="Reports the team filed or received."
    )
    reporting_team = IdFilter(field_name="reporting_team_id")
    addressed_team = IdFilter(field_name="addressed_team_id")
    pain_point = IdFilter(
        field_name="pain_point_id", help_text="Reports filed under this pain point."
    )
    q = text_filter(
        200,
        method="filter_search",
        help_text="Words in the customer, description, impact or suggested action.",
    )

    def filter_tag(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.tagged(value)

    def filter_team(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.filter(Q(reporting_team=value) | Q(addressed_team=value))

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.search(value)


# --- Views ------------------------------------------------------------------

_ACTION_ERRORS = error_responses(400, 403, 404, 409, 422)


@submission_schema(
    "friction report",
    "friction reports",
    FrictionReportSerializer,
    FrictionReportInputSerializer,
    FrictionReportUpdateInputSerializer,
    bulk=False,
    detail=FrictionReportDetailSerializer,
    create_summary="File a friction report",
    create_description="You must lead, manage or head the reporting team, which "
    "must have a signed agreement with the addressed team; the month must be open.",
)
class FrictionReportViewSet(SubmissionViewSet):
    """Reports your teams filed or received (all of them for an executive);
    another report is a 404. Listed most urgent first (open before closed,
    the most severe, then the oldest) unless ``ordering`` says otherwise. The
    reporting team's leads change or withdraw a report while it is new and
    its month open; the addressed team's heads move it along, assign it and
    set its due date; members of both teams comment."""

    model = FrictionReport
    serializer_class = FrictionReportSerializer
    filterset_class = FrictionReportFilter
    instance_arg = "report"
    input_serializer = FrictionReportInputSerializer
    update_serializer = FrictionReportUpdateInputSerializer
    create_service = staticmethod(friction_report_create)
    update_service = staticmethod(friction_report_update)
    delete_service = staticmethod(friction_report_delete)
    related = (
        "reporting_team",
        "addressed_team",
        "addressed_to",
        "assigned_to",
        "pain_point",
        "created_by",
    )
    permission_rules = {"list": None, "create": None}
    object_rules = {
        "retrieve": "view_friction_report",
        "partial_update": "change_friction_report",
        "destroy": "change_friction_report",
        "change_status": "change_friction_status",
        "comments": "comment_friction_report",
        "assign": "assign_friction_report",
        "due_date": "assign_friction_report",
    }
    rule_messages = {
        "change_friction_report": "Only a lead, manager or head of the reporting "
        "team can change or withdraw a report.",
        "change_friction_status": "Only a head of the addressed team can change "
        "a report's status.",
        "comment_friction_report": "Only members of the reporting and the "
        "addressed team can comment on a report.",
        "assign_friction_report": "Only a head of the addressed team can assign "
        "a report or set its due date.",
    }
    ordering_fields = {
        "created_at": "created_at",
        "updated_at": "updated_at",
        "month": "month",
        "customer": "customer",
        "status": "status",
        # Most severe first ascending, as the friction page lists them.
        "severity": "severity_rank",
        "due_date": "due_date",
    }
    ordering = list(FrictionReport.URGENCY_ORDER)

    def get_queryset(self) -> QuerySet[FrictionReport]:
        reports = super().get_queryset().with_urgency()
        if self.action == "list":
            return reports
        return reports.prefetch_related(
            Prefetch(
                "comments", FrictionComment.objects.select_related("author", "team")
            )
        )

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action == "list":
            return FrictionReportSerializer
        return FrictionReportDetailSerializer

    @idempotent
    def create(self, request: Request) -> Response:
        return super().create(request)

    @extend_schema(
        summary="Move a friction report along its workflow",
        description="A head of the addressed team. The note is kept as a comment "
        "the reporting team reads; posting the status it already has changes "
        "nothing.",
        request=StatusInputSerializer,
        responses={200: FrictionReportDetailSerializer, **_ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="status", url_name="status")
    @idempotent
    def change_status(self, request: Request, pk: str) -> Response:
        report = self.get_object()
        data = self.validated(StatusInputSerializer)
        updated = self.call_service(
            lambda: friction_report_change_status(
                report=report, user=request.user, **data
            )
        )
        return self._represent(updated)

    @extend_schema(
        summary="Comment on a friction report",
        description="A member of the reporting or the addressed team; the other "
        "team reads it. The report's comments are part of the report "
        "(GET .../{id}/).",
        request=CommentInputSerializer,
        responses={201: FrictionCommentSerializer, **_ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def comments(self, request: Request, pk: str) -> Response:
        report = self.get_object()
        body = self.validated(CommentInputSerializer)["body"]
        comment = self.call_service(
            lambda: friction_comment_add(report=report, user=request.user, body=body)
        )
        return Response(
            FrictionCommentSerializer(comment).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Assign a friction report",
        description="A head of the addressed team, to a member of that team "
        "(null: nobody), while the report is open. Kept in the report's history; "
        "the assignee it already has changes nothing.",
        request=AssignInputSerializer,
        responses={200: FrictionReportDetailSerializer, **_ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def assign(self, request: Request, pk: str) -> Response:
        report = self.get_object()
        assignee = self.validated(AssignInputSerializer)["assignee"]
        updated = self.call_service(
            lambda: friction_report_assign(
                report=report, user=request.user, assignee=assignee
            ),
            obj=report,
            state_rule="plan_friction_report",
        )
        return self._represent(updated)

    @extend_schema(
        summary="Set a friction report's due date",
        description="A head of the addressed team, while the report is open: "
        "today or later (null: no due date). Past it and still open, the report "
        "is overdue to both teams.",
        request=DueDateInputSerializer,
        responses={200: FrictionReportDetailSerializer, **_ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="due-date", url_name="due-date")
    @idempotent
    def due_date(self, request: Request, pk: str) -> Response:
        report = self.get_object()
        due_date = self.validated(DueDateInputSerializer)["due_date"]
        updated = self.call_service(
            lambda: friction_report_set_due_date(
                report=report, user=request.user, due_date=due_date
            ),
            obj=report,
            state_rule="plan_friction_report",
        )
        return self._represent(updated)
