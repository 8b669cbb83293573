# Identity (issue 21): L numbers (a 4-digit sequence per "L" + area + birth date), the merge of
# two records of one child (state merged, merged_into, placement reason duplicate_merge, events).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("students", "0007_alias_number_sealed"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="numbersequence",
            name="sequence_three_digits",
        ),
        migrations.AlterField(
            model_name="numbersequence",
            name="prefix",
            field=models.CharField(max_length=15, primary_key=True, serialize=False),
        ),
        migrations.AddConstraint(
            model_name="numbersequence",
            constraint=models.CheckConstraint(
                condition=models.Q(("last_value__lte", 999))
                | models.Q(("last_value__lte", 9999), ("prefix__startswith", "L")),
                name="sequence_digits",
            ),
        ),
        migrations.AddField(
            model_name="student",
            name="merged_into",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="merged_records",
                to="students.student",
            ),
        ),
        migrations.AlterField(
            model_name="student",
            name="state",
            field=models.CharField(
                choices=[
                    ("enrolled", "Enrolled"),
                    ("suspended", "Suspended"),
                    ("transferring", "Transfer under way"),
                    ("graduated", "Graduated"),
                    ("completed", "Completed (结业)"),
                    ("incomplete", "Left before completing (肄业)"),
                    ("withdrawn", "Withdrawn"),
                    ("dropped_out", "Dropped out"),
                    ("abroad", "Gone abroad"),
                    ("deceased", "Deceased"),
                    ("left_other", "Left school (other)"),
                    ("merged", "Merged into the child's other record"),
                ],
                default="enrolled",
                max_length=16,
                verbose_name="status",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="placement",
            name="placement_reason_known",
        ),
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
                    ("school_merge", "School merged into another"),
                    ("duplicate_merge", "Two records of one child merged"),
                ],
                max_length=32,
            ),
        ),
        migrations.AddConstraint(
            model_name="placement",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "reason__in",
                        [
                            "registration",
                            "intake",
                            "transfer",
                            "class_change",
                            "promotion",
                            "school_merge",
                            "duplicate_merge",
                        ],
                    )
                ),
                name="placement_reason_known",
            ),
        ),
        migrations.AlterField(
            model_name="recordevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("registered", "Registered"),
                    ("number_changed", "Student number changed"),
                    ("info_updated", "Other information updated"),
                    ("key_data_corrected", "Basic information corrected"),
                    ("transferred", "Transferred to another school"),
                    ("class_changed", "Moved to another class"),
                    ("suspended", "Suspended"),
                    ("resumed", "Resumed"),
                    ("withdrawn", "Withdrawn"),
                    ("dropped_out", "Dropped out"),
                    ("abroad", "Gone abroad"),
                    ("deceased", "Deceased"),
                    ("repeated", "Repeats the grade"),
                    ("skipped", "Skipped a grade"),
                    ("promoted", "Promoted to the next grade"),
                    ("promotion_reversed", "Promotion reversed"),
                    ("graduated", "Graduated"),
                    ("completed", "Completed (结业)"),
                    ("incomplete", "Left before completing (肄业)"),
                    ("admitted", "Admitted to the next stage"),
                    ("school_merged", "School merged into another (整体并入)"),
                    ("duplicate_merged", "Another record of the child merged into this one"),
                    ("merged_away", "Merged into the child's other record"),
                    ("merge_undone", "Merge of two records undone"),
                ],
                max_length=32,
            ),
        ),
    ]
