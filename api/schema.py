"""OpenAPI pieces shared by every resource: the error format, the error
responses, and the description of the token authentication."""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from .idempotency import IDEMPOTENCY_KEY_PARAMETER


class AutoSchema(openapi.AutoSchema):
    """Documents ``Idempotency-Key`` on every handler decorated with
    ``api.idempotency.idempotent``."""

    def get_override_parameters(self) -> list[OpenApiParameter]:
        parameters = list(super().get_override_parameters())
        name = getattr(self.view, "action", None) or self.method.lower()
        if getattr(getattr(self.view, name, None), "idempotent", False):
            parameters.append(IDEMPOTENCY_KEY_PARAMETER)
        return parameters


class ErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text="The HTTP status, repeated.")
    code = serializers.CharField(
        help_text="Stable and machine-readable: invalid, not_authenticated, "
        "authentication_failed, permission_denied, not_found, invalid_state, "
        "stale, locked, not_new, merged, idempotency_key_reused, throttled, …"
    )
    message = serializers.CharField(help_text="What went wrong, for a person.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Messages per field at fault; nested fields as dotted paths, "
        "e.g. objectives.0.target.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


ERROR_DESCRIPTIONS = {
    400: "The request is not valid: see message and fields. Nothing was written.",
    401: "No credentials, or a token that is unknown or revoked.",
    403: "Signed in, but without the right to do this.",
    404: "Not found, or not visible to you.",
    409: "The record's state does not allow this now (e.g. it is no longer a "
    "draft, its month is locked, or someone else saved it since you read it). "
    "Reload it.",
    422: "This Idempotency-Key was already used for a different request.",
    429: "Too many requests: wait the number of seconds in Retry-After.",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """``extend_schema(responses={200: X, **error_responses(400, 401, ...)})``.
    401 and 429 can answer any endpoint: they are always included."""
    return {
        code: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code])
        for code in sorted({401, 429, *codes})
    }


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal token from the API tokens page "
            "(/accounts/api-tokens/), sent as `Authorization: Bearer <token>`.",
        }
