"""Create the database cache table, so `migrate` alone readies the demo."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    # A no-op when the cache is Redis: createcachetable only acts on
    # DatabaseCache backends.
    call_command("createcachetable", database=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
