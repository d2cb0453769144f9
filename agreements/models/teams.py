from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from ..history import history_records
from ..validators import single_line


class TeamQuerySet(models.QuerySet):
    def of_user(self, user) -> TeamQuerySet:
        """Teams the user belongs to, in any role."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user).distinct()


class Team(models.Model):
    class Kind(models.TextChoices):
        SALES = "sales", "Sales"
        MARKETING = "marketing", "Marketing"
        CUSTOMER_SERVICE = "customer_service", "Customer service"
        OTHER = "other", "Other"

    name = models.CharField(max_length=100, unique=True, validators=[single_line])
    slug = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    history = history_records()

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        permissions = [
            ("view_everything", "Executive: reads every team, agreement and report"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind__in=["sales", "marketing", "customer_service", "other"]
                ),
                name="team_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MembershipQuerySet(models.QuerySet):
    def leading(self) -> MembershipQuerySet:
        """Memberships that may act for the team: lead, manager or head."""
        return self.filter(role__in=Membership.LEADING_ROLES)


class Membership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", "Member"
        LEAD = "lead", "Lead"
        MANAGER = "manager", "Manager"
        HEAD = "head", "Head"

    LEADING_ROLES = (Role.LEAD, Role.MANAGER, Role.HEAD)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_on = models.DateField(auto_now_add=True)
    history = history_records()

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["team__name", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "team"], name="one_membership_per_team"
            ),
            models.CheckConstraint(
                condition=Q(role__in=["member", "lead", "manager", "head"]),
                name="membership_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} of {self.team}"

    @property
    def is_leading(self) -> bool:
        return self.role in self.LEADING_ROLES
