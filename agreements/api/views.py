"""Teams, agreements and ``me``. Each write calls the same service as the
pages, and every permission is a rule of ``agreements.rules``."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.idempotency import idempotent
from api.schema import error_responses
from api.views import ApiViewSet
from slaportal import freshness

from ..models import Agreement, Objective, Signature, Team
from ..services.agreements import (
    OBJECTIVE_FIELDS,
    agreement_create,
    agreement_propose,
    agreement_request_changes,
    agreement_retire,
    agreement_revise,
    agreement_sign,
    agreement_update,
)
from .filters import AgreementFilter, TeamFilter
from .serializers import (
    AgreementInputSerializer,
    AgreementSerializer,
    AgreementUpdateInputSerializer,
    NoteInputSerializer,
    SignInputSerializer,
    TeamSerializer,
)

ACT_MESSAGE = "Only a lead, manager or head of a party team can do this."


@extend_schema_view(
    list=extend_schema(
        summary="List teams",
        responses={200: TeamSerializer(many=True), **error_responses(400, 404)},
    ),
    retrieve=extend_schema(
        summary="Read a team",
        responses={200: TeamSerializer, **error_responses(404)},
    ),
)
class TeamViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Every team. Any signed-in person may read them: the pages offer every
    team as a provider, a consumer and a filter."""

    serializer_class = TeamSerializer
    filterset_class = TeamFilter
    permission_rules = {"list": None, "retrieve": None}
    ordering_fields = {"name": "name", "kind": "kind"}
    ordering = ["name", "pk"]

    def get_queryset(self) -> QuerySet[Team]:
        return Team.objects.all()


_AGREEMENT_ACTION_ERRORS = error_responses(400, 403, 404, 409, 422)


@extend_schema_view(
    list=extend_schema(
        summary="List the agreements you may see",
        responses={200: AgreementSerializer(many=True), **error_responses(400, 404)},
    ),
    retrieve=extend_schema(
        summary="Read an agreement with its objectives and signatures",
        responses={200: AgreementSerializer, **error_responses(404)},
    ),
)
class AgreementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Agreements you may see: your teams' agreements, or all of them for an
    executive. Another agreement is a 404; acting without the right is 403."""

    serializer_class = AgreementSerializer
    filterset_class = AgreementFilter
    permission_rules = {"list": None, "create": "add_agreement"}
    object_rules = {
        "retrieve": "view_agreement",
        "partial_update": "act_on_agreement",
        "propose": "act_on_agreement",
        "sign": "act_on_agreement",
        "request_changes": "act_on_agreement",
        "revise": "act_on_agreement",
        "retire": "act_on_agreement",
    }
    rule_messages = {
        "add_agreement": "Only a lead, manager or head of a team can draft an "
        "agreement.",
        "act_on_agreement": ACT_MESSAGE,
    }
    ordering_fields = {
        "title": "title",
        "provider": "provider__name",
        "consumer": "consumer__name",
        "status": "status",
        "effective_from": "effective_from",
        "version": "version",
        "created_at": "created_at",
        "updated_at": "updated_at",
    }
    # The list page's order.
    ordering = ["provider__name", "consumer__name", "title", "-version", "pk"]

    def get_queryset(self) -> QuerySet[Agreement]:
        return (
            Agreement.objects.visible_to(self.request.user)
            .select_related("provider", "consumer", "created_by")
            .prefetch_related(
                Prefetch(
                    "objectives",
                    Objective.objects.select_related("record_measure").order_by(
                        "position", "pk"
                    ),
                ),
                Prefetch(
                    "signatures",
                    Signature.objects.select_related("team", "signed_by"),
                ),
            )
        )

    def list(self, request: Request, *args, **kwargs) -> Response:
        # Kept per reader and address until the data moves on
        # (``slaportal.freshness``): the page of agreements with their
        # objectives, signatures and actions costs far more to build than to
        # send. A bad filter raises before anything is kept.
        data = freshness.kept(
            ("api-agreements", request.user.pk, request.build_absolute_uri()),
            lambda: super(AgreementViewSet, self).list(request, *args, **kwargs).data,
            keep=freshness.known_parameters(
                request,
                (*AgreementFilter.base_filters, "ordering", "page", "page_size"),
            ),
        )
        return Response(data)

    def _represent(self, agreement: Agreement, *, code: int = 200) -> Response:
        # Read back through the same query as a GET, so that writes answer
        # exactly what a GET would.
        fresh = self.get_queryset().get(pk=agreement.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    @extend_schema(
        summary="Draft an agreement",
        description="You must lead, manage or head the provider or the consumer.",
        request=AgreementInputSerializer,
        responses={201: AgreementSerializer, **error_responses(400, 403, 422)},
    )
    @idempotent
    def create(self, request: Request) -> Response:
        data = self.validated(AgreementInputSerializer)
        agreement = agreement_create(user=request.user, **data)
        return self._represent(agreement, code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Edit a draft",
        request=AgreementUpdateInputSerializer,
        responses={200: AgreementSerializer, **error_responses(400, 403, 404, 409)},
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        agreement = self.get_object()
        data = dict(self.validated(AgreementUpdateInputSerializer))
        expected = data.pop("edit_count")
        objectives = data.pop("objectives", None)
        if objectives is None:
            # Terms only: the objectives stay as they are.
            objectives = [
                {"id": o.pk, **{f: getattr(o, f) for f in OBJECTIVE_FIELDS}}
                for o in agreement.objectives.all()
            ]
        updated = self.call_service(
            lambda: agreement_update(
                agreement=agreement,
                user=request.user,
                expected_edit_count=expected,
                objectives=objectives,
                **data,
            ),
            obj=agreement,
            state_rule="change_agreement",
        )
        return self._represent(updated)

    @extend_schema(
        summary="Propose a draft for signature",
        request=None,
        responses={200: AgreementSerializer, **_AGREEMENT_ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def propose(self, request: Request, pk: str) -> Response:
        agreement = self.get_object()
        updated = self.call_service(
            lambda: agreement_propose(agreement=agreement, user=request.user),
            takes_input=False,
        )
        return self._represent(updated)

    @extend_schema(
        summary="Sign a proposal for one party",
        description="When both parties have signed, the agreement is active and "
        "replaces the version it supersedes.",
        request=SignInputSerializer,
        responses={200: AgreementSerializer, **_AGREEMENT_ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def sign(self, request: Request, pk: str) -> Response:
        agreement = self.get_object()
        team = self.validated(SignInputSerializer)["team"]
        updated = self.call_service(
            lambda: agreement_sign(agreement=agreement, user=request.user, team=team),
            obj=agreement,
            state_rule="sign_agreement",
        )
        return self._represent(updated)

    @extend_schema(
        summary="Send a proposal back to draft",
        description="Its signatures are cleared.",
        request=NoteInputSerializer,
        responses={200: AgreementSerializer, **_AGREEMENT_ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="request-changes")
    @idempotent
    def request_changes(self, request: Request, pk: str) -> Response:
        agreement = self.get_object()
        note = self.validated(NoteInputSerializer)["note"]
        updated = self.call_service(
            lambda: agreement_request_changes(
                agreement=agreement, user=request.user, note=note
            ),
            obj=agreement,
            state_rule="request_changes_agreement",
        )
        return self._represent(updated)

    @extend_schema(
        summary="Start a new version of an active agreement",
        description="Answers the new draft version. The active version stays in "
        "force until both teams sign the new one.",
        request=None,
        responses={201: AgreementSerializer, **_AGREEMENT_ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def revise(self, request: Request, pk: str) -> Response:
        agreement = self.get_object()
        revision = self.call_service(
            lambda: agreement_revise(agreement=agreement, user=request.user),
            takes_input=False,
        )
        return self._represent(revision, code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Retire an active agreement",
        request=NoteInputSerializer,
        responses={200: AgreementSerializer, **_AGREEMENT_ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def retire(self, request: Request, pk: str) -> Response:
        agreement = self.get_object()
        note = self.validated(NoteInputSerializer)["note"]
        updated = self.call_service(
            lambda: agreement_retire(agreement=agreement, user=request.user, note=note),
            obj=agreement,
            state_rule="retire_agreement",
        )
        return self._represent(updated)
