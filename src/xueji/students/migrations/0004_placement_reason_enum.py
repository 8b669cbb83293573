"""Placement reasons become one enum: the year-end intake wrote "admission" where the
statistics counted "intake" as a new entrant, so every 小升初/初升高 admission was missing from
the 新生 counts. The stored rows are renamed, then a check constraint keeps the list closed."""

from django.db import migrations, models

RENAMED = {"admission": "intake"}


def rename_forward(apps, schema_editor):
    Placement = apps.get_model("students", "Placement")
    for old, new in RENAMED.items():
        Placement.objects.filter(reason=old).update(reason=new)


def rename_backward(apps, schema_editor):
    Placement = apps.get_model("students", "Placement")
    for old, new in RENAMED.items():
        Placement.objects.filter(reason=new).update(reason=old)


class Migration(migrations.Migration):
    dependencies = [("students", "0003_missing_reason_numeric_codes")]

    operations = [
        migrations.RunPython(rename_forward, rename_backward),
        migrations.AlterField(
            model_name="placement",
            name="reason",
            field=models.CharField(
                choices=[
                    ("registration", "New registration"),
                    ("intake", "Admission to the next stage"),
                    ("transfer", "Transfer"),
                    ("class_change", "Class change"),
                    ("promotion", "Promotion to the next grade"),
                ],
                max_length=32,
            ),
        ),
        migrations.AddConstraint(
            model_name="placement",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("reason__in", ["registration", "intake", "transfer", "class_change", "promotion"])
                ),
                name="placement_reason_known",
            ),
        ),
    ]
