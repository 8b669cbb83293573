"""Divisions say whether they are county level: every county, and a city without districts or
counties (不设区的地级市: 东莞 441900, 中山 442000, 儋州 460400, 嘉峪关 620200), which is its own
county-level unit. Schools belong to a county-level division (issue 18, item 2: no school could
be registered in 东莞)."""

from django.db import migrations, models


def mark(apps, schema_editor):
    Division = apps.get_model("geo", "Division")
    Division.objects.filter(level="county").update(county_level=True)
    Division.objects.filter(level="city").exclude(
        code__in=Division.objects.filter(level="county").values("parent_id")
    ).update(county_level=True)


class Migration(migrations.Migration):
    dependencies = [("geo", "0002_load_divisions")]

    operations = [
        migrations.AddField(
            model_name="division",
            name="county_level",
            field=models.BooleanField(default=False, verbose_name="county level"),
        ),
        migrations.RunPython(mark, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="division",
            constraint=models.CheckConstraint(
                condition=models.Q(("county_level", True), ("level", "county"))
                | models.Q(("level", "city"))
                | models.Q(("county_level", False), ("level", "province")),
                name="division_county_level_by_level",
            ),
        ),
    ]
