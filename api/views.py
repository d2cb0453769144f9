"""Base classes of the API's resources."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import viewsets
from rest_framework.serializers import Serializer

from agreements.rules import can

from .exceptions import conflict_from, error_body
from .permissions import RulePermission

T = TypeVar("T")


class ApiViewSet(viewsets.GenericViewSet):
    """A resource: fetch through ``get_queryset`` (what the person may see, so
    anything else is a 404), check the rule of the action (403), validate the
    input's shape (400), call one service, serialize.

    Subclasses set ``permission_rules`` and ``object_rules`` (see
    ``api.permissions.RulePermission``), optionally ``rule_messages``, and
    ``ordering_fields`` as ``{api name: model path}``.
    """

    permission_classes = [RulePermission]
    permission_rules: dict[str, str | None] = {}
    object_rules: dict[str, str] = {}
    rule_messages: dict[str, str] = {}
    ordering_fields: dict[str, str] = {}
    # Ids are integers: anything else is not a route, so never a database error.
    lookup_value_regex = "[0-9]+"

    def validated(self, serializer_class: type[Serializer], **kwargs: Any) -> Any:
        serializer = serializer_class(
            data=self.request.data, context=self.get_serializer_context(), **kwargs
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def call_service(
        self,
        call: Callable[[], T],
        *,
        obj: Any = None,
        state_rule: str | None = None,
        takes_input: bool = True,
    ) -> T:
        """Run one service. A refusal (``ValidationError``) is answered 409
        when it is about the record's state, not the request: the action takes
        no input, or ``state_rule`` (the rule that also weighs the record's
        state, e.g. ``sign_agreement``) no longer holds. Otherwise it is 400
        and names the fields at fault."""
        try:
            return call()
        except DjangoValidationError as exc:
            if not takes_input or (
                state_rule is not None and not can(self.request.user, state_rule, obj)
            ):
                raise conflict_from(exc) from exc
            raise


# Writes nothing, whatever the method: a CSRF refusal would answer in HTML.
@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Any other path under /api/: a 404 in the API's error format, not the
    site's HTML page, so that clients need to read only one kind of error."""
    return JsonResponse(
        error_body(
            404,
            "not_found",
            "There is no such endpoint. The endpoints are listed at /api/docs/.",
        ),
        status=404,
    )
