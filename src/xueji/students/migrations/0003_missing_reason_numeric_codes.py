"""A family member's reason missing takes numeric codes, like every other code list.

The English words (deceased, divorced, unknown, abroad, other) showed in the import template's
drop-down as "deceased 已故"; stored values are converted both ways. The mapping is written out
here rather than read from core.codes, so that this migration means the same whatever the code
list becomes later. The column keeps its length: shrinking it would rewrite the whole table on
PostgreSQL for no gain, and the choices are checked by validation, not by the database.
"""

from django.db import migrations, models
from django.db.models import Case, Value, When

WORD_TO_CODE = {
    "deceased": "1",
    "divorced": "2",
    "unknown": "3",
    "abroad": "4",
    "other": "9",
}


def _convert(apps, mapping):
    family_member = apps.get_model("students", "FamilyMember")
    # One UPDATE over the rows that hold an old value, rather than one per code: the table has
    # a row per parent of every student.
    family_member.objects.filter(missing_reason__in=list(mapping)).update(
        missing_reason=Case(
            *(When(missing_reason=old, then=Value(new)) for old, new in mapping.items()),
            output_field=models.CharField(),
        )
    )


def words_to_codes(apps, schema_editor):
    _convert(apps, WORD_TO_CODE)


def codes_to_words(apps, schema_editor):
    _convert(apps, {code: word for word, code in WORD_TO_CODE.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("students", "0002_record_event_kinds_for_changes_and_year"),
    ]

    operations = [
        migrations.RunPython(words_to_codes, codes_to_words),
        migrations.AlterField(
            model_name="familymember",
            name="missing_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("1", "Deceased"),
                    ("2", "Divorced, no contact"),
                    ("3", "Unknown or never known"),
                    ("4", "Abroad, no contact"),
                    ("9", "Other"),
                ],
                max_length=16,
                verbose_name="reason missing",
            ),
        ),
    ]
