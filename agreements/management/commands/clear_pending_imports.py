"""Drop the CSV files uploaded more than a day ago and never imported.

    python manage.py clear_pending_imports

Each new upload does the same, and beat runs it daily
(``agreements.records.tasks.clear_pending_imports``).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from agreements.records.batches import import_batches_clear_pending


class Command(BaseCommand):
    help = "Drop the CSV files uploaded more than a day ago and never imported."

    def handle(self, *args, **options) -> None:
        cleared = import_batches_clear_pending()
        self.stdout.write(
            self.style.SUCCESS(
                f"Cleared {cleared} pending upload{'' if cleared == 1 else 's'}."
            )
        )
