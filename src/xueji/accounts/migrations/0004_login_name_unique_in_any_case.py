"""Login names are unique in any case in the database itself, not only by the service's check:
an account written around account_create (the admin site, a shell, a bulk load, two managers at
once) cannot make "WangFang" beside "wangfang". Login names are ASCII (LOGIN_NAME), so lower()
folds them alike on SQLite and PostgreSQL. A database that already holds two such names refuses
this migration, naming them: rename one first. (The project uses Django's own user model.)"""

from django.conf import settings
from django.db import migrations

INDEX = "accounts_login_name_lower_uniq"


def create_index(apps, schema_editor):
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    table = schema_editor.quote_name(user_model._meta.db_table)
    column = schema_editor.quote_name(user_model._meta.get_field("username").column)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"SELECT lower({column}) FROM {table} GROUP BY lower({column}) HAVING COUNT(*) > 1"
        )
        twice = [row[0] for row in cursor.fetchall()]
    if twice:
        raise RuntimeError(
            "Login names that differ only in case must be renamed before this migration: "
            + ", ".join(sorted(twice))
        )
    schema_editor.execute(f"CREATE UNIQUE INDEX {INDEX} ON {table} (lower({column}))")


def drop_index(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX {INDEX}")


class Migration(migrations.Migration):

    # After the user table's last migration: on SQLite an altered table is rebuilt from the
    # model's state, which does not know this index (a test checks that it stands).
    dependencies = [
        ('accounts', '0003_account_administration'),
        ('auth', '0012_alter_user_first_name_max_length'),
    ]

    operations = [migrations.RunPython(create_index, drop_index)]
