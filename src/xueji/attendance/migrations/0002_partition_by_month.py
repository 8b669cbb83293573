"""The roll's two tables partitioned by month on PostgreSQL (xueji.attendance.partitions);
SQLite keeps the plain tables of 0001."""

from django.db import migrations

from xueji.attendance.partitions import partition_tables


class Migration(migrations.Migration):
    dependencies = [("attendance", "0001_initial")]

    operations = [migrations.RunPython(partition_tables, migrations.RunPython.noop)]
