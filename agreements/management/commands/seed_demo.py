"""Create the demo organisation. Idempotent: running it twice changes nothing."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction

from agreements.models import Membership, Team

TEAMS = [
    ("Marketing", "marketing", Team.Kind.MARKETING),
    ("Sales", "sales", Team.Kind.SALES),
    ("Customer Service", "customer-service", Team.Kind.CUSTOMER_SERVICE),
]

# username, first name, last name, title, (team slug, role) or None
PERSONAS = [
    (
        "marketing-lead",
        "Mia",
        "Lindqvist",
        "Marketing team lead",
        ("marketing", "lead"),
    ),
    ("sales-lead", "Sam", "Ortega", "Sales team lead", ("sales", "lead")),
    ("sales-manager", "Priya", "Nair", "Sales manager", ("sales", "manager")),
    ("service-head", "Victor", "Hale", "VP of Service", ("customer-service", "head")),
    ("executive", "Elena", "Brandt", "Chief operating officer", None),
    ("admin", "Ada", "Admin", "Administrator", None),
]

EXECUTIVES_GROUP = "Executives"


class Command(BaseCommand):
    help = "Create the demo teams and one user per persona (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        created = 0
        teams = {}
        for name, slug, kind in TEAMS:
            team, was_created = Team.objects.get_or_create(
                slug=slug, defaults={"name": name, "kind": kind}
            )
            teams[slug] = team
            created += was_created

        executives, was_created = Group.objects.get_or_create(name=EXECUTIVES_GROUP)
        created += was_created
        view_everything = Permission.objects.get(
            codename="view_everything", content_type__app_label="agreements"
        )
        if not executives.permissions.filter(pk=view_everything.pk).exists():
            executives.permissions.add(view_everything)

        User = get_user_model()
        for username, first, last, _title, membership in PERSONAS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(
                    username=username,
                    first_name=first,
                    last_name=last,
                    email=f"{username}@example.com",
                    is_staff=username == "admin",
                    is_superuser=username == "admin",
                )
                user.set_password(settings.DEMO_PASSWORD)
                user.full_clean()
                user.save()
                created += 1
            if membership:
                slug, role = membership
                _, was_created = Membership.objects.get_or_create(
                    user=user, team=teams[slug], defaults={"role": role}
                )
                created += was_created
            if (
                username == "executive"
                and not user.groups.filter(pk=executives.pk).exists()
            ):
                user.groups.add(executives)

        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready ({created} objects created).")
        )
        self.stdout.write(f"Demo logins (password: {settings.DEMO_PASSWORD}):")
        for username, first, last, title, _membership in PERSONAS:
            self.stdout.write(f"  {username:<16} {first} {last}, {title}")
