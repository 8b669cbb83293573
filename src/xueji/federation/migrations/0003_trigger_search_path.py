"""The replication trigger's function names its schema: the apply worker of a subscription runs
with an empty search_path, where an unqualified table is not found (and the apply worker
stops). PostgreSQL only."""

from django.db import migrations

FORWARD = "ALTER FUNCTION federation_heard() SET search_path = public, pg_catalog"
BACKWARD = "ALTER FUNCTION federation_heard() RESET search_path"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("federation", "0002_replication_triggers")]

    operations = [migrations.RunPython(forward, backward)]
