from __future__ import annotations

from django.conf import settings
from django.db import models

from agreements.validators import single_line


class ApiTokenQuerySet(models.QuerySet):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A personal API token. Only the SHA-256 digest of the token is stored:
    the token itself is shown once, when it is made, and cannot be recovered."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(
        max_length=100,
        validators=[single_line],
        help_text="What the token is for, e.g. “weekly export script”.",
    )
    prefix = models.CharField(
        max_length=16,
        editable=False,
        help_text="The token's first characters, to tell tokens apart.",
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyKey(models.Model):
    """The stored outcome of a write made with an ``Idempotency-Key`` header,
    so that a retried request gets the same answer instead of a second record.

    A row exists only for a request that succeeded: one refused with an error
    wrote nothing and may be retried with the same key.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.TextField()
    fingerprint = models.CharField(
        max_length=64, help_text="SHA-256 of the method, path and request body."
    )
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], name="one_idempotency_key_per_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.key})"
