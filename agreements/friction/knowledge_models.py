"""Pain points: the friction knowledge base's entries, which group the
friction reports that describe the same customer problem."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from ..history import history_records
from ..models.common import can_read_everything, text_search
from ..validators import multi_line, single_line


class PainPointQuerySet(models.QuerySet):
    def visible_to(self, user) -> PainPointQuerySet:
        """The knowledge base is shared by the organisation: every member of
        a team reads it (reports themselves stay with their two teams)."""
        everything = can_read_everything(user)
        if everything is not None:
            return self if everything else self.none()
        if not user.memberships.exists():
            return self.none()
        return self

    def current(self) -> PainPointQuerySet:
        """Pain points that have not been merged into another."""
        return self.filter(merged_into__isnull=True)

    def search(self, text: str) -> PainPointQuerySet:
        """Pain points whose title or description, or one of whose reports,
        mentions ``text``."""
        text = (text or "").strip()
        if not text:
            return self
        own = text_search(PainPoint.objects.all(), text, ["title", "description"])
        # The reports' model, by the relation: friction.py imports this module.
        reports = self.model._meta.get_field("reports").related_model
        via_reports = reports.objects.search(text).filter(pain_point__isnull=False)
        return self.filter(
            Q(pk__in=own.values("pk")) | Q(pk__in=via_reports.values("pain_point"))
        )


class PainPoint(models.Model):
    """A recurring customer problem: the knowledge base entry that friction
    reports are linked to. Duplicates are merged, not deleted."""

    class Category(models.TextChoices):
        PRODUCT = "product", "Product"
        ONBOARDING = "onboarding", "Onboarding"
        BILLING = "billing", "Billing"
        SUPPORT = "support", "Support"
        PRICING = "pricing", "Pricing"
        OTHER = "other", "Other"

    title = models.CharField(max_length=150, validators=[single_line])
    description = models.TextField(blank=True, default="", validators=[multi_line])
    category = models.CharField(
        max_length=12, choices=Category.choices, default=Category.OTHER
    )
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="merged",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = history_records(excluded_fields=["updated_at"])

    objects = PainPointQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(
                Lower("title"),
                condition=Q(merged_into__isnull=True),
                name="pain_point_title_unique",
                violation_error_message="A pain point with this title already "
                "exists: link the report to it instead.",
            ),
            models.CheckConstraint(
                condition=~Q(merged_into=F("pk")),
                name="pain_point_not_merged_into_itself",
            ),
            models.CheckConstraint(
                condition=Q(
                    category__in=[
                        "product",
                        "onboarding",
                        "billing",
                        "support",
                        "pricing",
                        "other",
                    ]
                ),
                name="pain_point_category_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if isinstance(self.title, str) and self.title:
            self.title = self.title.strip()
            if not self.title:
                raise ValidationError({"title": "Give the pain point a title."})

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None
