"""The base of the API's views of rows a team submits (figures,
measurements, friction reports): list and read what the person may see,
create, change and delete through one service each, and their schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.exceptions import InvalidContent
from api.schema import MAX_BULK_ROWS, error_responses
from api.views import ApiViewSet

from .filters import SubmissionFilter

SUBMIT_MESSAGE = "Only a lead, manager or head of the team can change its figures."


class SubmissionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """A team's monthly figures. Lists hold the rows of your teams and of the
    teams yours have signed agreements with (all of them for an executive);
    another row is a 404. Changing or deleting a row of a locked month is 409:
    a head corrects it on the figures pages."""

    model: type
    instance_arg: str
    input_serializer: type[serializers.Serializer]
    update_serializer: type[serializers.Serializer]
    create_service: Callable[..., Any]
    update_service: Callable[..., Any]
    delete_service: Callable[..., Any]
    date_field: str
    related: tuple[str, ...] = ("team", "created_by")

    filterset_class = SubmissionFilter
    # Anyone may try: whether they lead the team in the body is the service's
    # call, answered 403 like the page's.
    permission_rules = {"list": None, "create": None, "bulk": None}
    object_rules = {
        "retrieve": "view_submission",
        "partial_update": "submit_figures",
        "destroy": "submit_figures",
    }
    rule_messages = {"submit_figures": SUBMIT_MESSAGE}

    def get_queryset(self) -> QuerySet:
        return self.model.objects.visible_to(self.request.user).select_related(
            *self.related
        )

    def _represent(self, row: Any, *, code: int = 200) -> Response:
        fresh = self.get_queryset().get(pk=row.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    def _create(self, data: dict[str, Any]) -> Any:
        try:
            return self.create_service(user=self.request.user, **data)
        except DjangoValidationError as exc:
            # A new row dated in a locked month is the request's fault (its
            # date), not the state of a record: 422, not 409.
            raise InvalidContent(_row_errors(exc)) from exc

    def create(self, request: Request) -> Response:
        row = self._create(dict(self.validated(self.input_serializer)))
        return self._represent(row, code=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        row = self.get_object()
        data = self.validated(self.update_serializer)
        updated = self.call_service(
            lambda: self.update_service(
                **{self.instance_arg: row}, user=request.user, **data
            )
        )
        return self._represent(updated)

    def destroy(self, request: Request, pk: str) -> Response:
        row = self.get_object()
        if int(request.META.get("CONTENT_LENGTH") or 0) and request.data:
            # A reason sent along would be silently lost: corrections, which
            # keep one, are made on the figures pages.
            raise exceptions.ValidationError(
                {"non_field_errors": ["A deletion takes no body."]}
            )
        self.call_service(
            lambda: self.delete_service(**{self.instance_arg: row}, user=request.user),
            takes_input=False,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    def bulk(self, request: Request) -> Response:
        if not isinstance(request.data, list):
            raise exceptions.ValidationError(
                {"non_field_errors": ["Send a JSON list of rows."]}
            )
        if not 1 <= len(request.data) <= MAX_BULK_ROWS:
            raise exceptions.ValidationError(
                {"non_field_errors": [f"Send 1 to {MAX_BULK_ROWS} rows."]}
            )
        rows = self.validated(self.input_serializer, many=True)
        errors: dict[str, Any] = {}
        # All or nothing: a refusal of any row (or of the right to log for
        # its team) rolls back the rows saved before it.
        with transaction.atomic():
            created = []
            for index, data in enumerate(rows):
                try:
                    created.append(self._create(dict(data)))
                except InvalidContent as exc:
                    errors[str(index)] = exc.detail
            if errors:
                # Every row matched the schema (the serializer said so above):
                # what is refused is the portal's rules, a 422.
                raise InvalidContent(errors)
        fresh = self.get_queryset().in_bulk([row.pk for row in created])
        return Response(
            self.get_serializer([fresh[row.pk] for row in created], many=True).data,
            status=status.HTTP_201_CREATED,
        )


def _row_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            "non_field_errors" if field == "__all__" else field: list(messages)
            for field, messages in exc.message_dict.items()
        }
    return {"non_field_errors": list(exc.messages)}


_LIST_ERRORS = error_responses(400, 404)
_WRITE_ERRORS = error_responses(400, 403, 404, 409)
_CREATE_ERRORS = error_responses(400, 403, 422)


def submission_schema(
    singular: str,
    plural: str,
    output: type,
    create: type,
    update: type,
    *,
    bulk: bool = True,
    detail: type | None = None,
    create_summary: str | None = None,
    create_description: str = "You must lead, manage or head the team; its date "
    "must be in an open month.",
) -> Callable[[type], type]:
    """The schema of a ``SubmissionViewSet``: ``output`` is a row in a list,
    ``detail`` (``output`` by default) a row read or written alone."""
    detail = detail or output
    bulk_schema = {
        "bulk": extend_schema(
            summary=f"Log several {plural} at once",
            description="A JSON list of rows, saved all or nothing in one "
            "transaction. Errors name the row by its index, e.g. "
            "`3.qualified_leads`.",
            request=create(many=True, min_length=1, max_length=MAX_BULK_ROWS),
            responses={201: output(many=True), **_CREATE_ERRORS},
        )
    }
    return extend_schema_view(
        **(bulk_schema if bulk else {}),
        list=extend_schema(
            summary=f"List the {plural} you may see",
            responses={200: output(many=True), **_LIST_ERRORS},
        ),
        retrieve=extend_schema(
            summary=f"Read a {singular}", responses={200: detail, **_LIST_ERRORS}
        ),
        create=extend_schema(
            summary=create_summary or f"Log a {singular}",
            description=create_description,
            request=create,
            responses={201: detail, **_CREATE_ERRORS},
        ),
        partial_update=extend_schema(
            summary=f"Change a {singular} of an open month",
            request=update,
            responses={200: detail, **_WRITE_ERRORS},
        ),
        destroy=extend_schema(
            summary=f"Delete a {singular} of an open month",
            responses={204: None, **_WRITE_ERRORS},
        ),
    )
