# Kept empty: 0008 states the L sequence's constraint as Django renders it. This name stays
# because another app's migration (scores.0002) depends on it.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("students", "0008_identity_merge_and_l_numbers"),
    ]

    operations: list[migrations.operations.base.Operation] = []
