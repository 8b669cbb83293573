from django.db import migrations, models


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from xueji.stats import rollup

    for statement in rollup.install_sql():
        schema_editor.execute(statement)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from xueji.stats import rollup

    for statement in rollup.uninstall_sql():
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("schools", "0001_initial"),
        ("students", "0002_record_event_kinds_for_changes_and_year"),
    ]

    operations = [
        migrations.CreateModel(
            name="HeadcountDelta",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("province", models.CharField(max_length=6)),
                ("grade", models.SmallIntegerField()),
                ("sex", models.CharField(max_length=1)),
                ("birth_date", models.DateField()),
                ("day", models.DateField()),
                ("delta", models.IntegerField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("province", "grade", "sex", "birth_date", "day"),
                        name="one_headcount_delta_per_key",
                    )
                ],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
