"""ExportJob now belongs to the exports app (its migration 0001 takes it, table and rows as they
are): the imports app lets go of the model without touching the table."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("imports", "0005_export_heartbeat"),
        ("exports", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ExportJob")],
            database_operations=[],
        ),
    ]
