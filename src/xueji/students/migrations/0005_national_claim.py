from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("students", "0004_placement_reason_enum")]

    operations = [
        migrations.CreateModel(
            name="NationalClaim",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("purpose", models.CharField(max_length=32)),
                ("key", models.CharField(max_length=128)),
                ("holder", models.CharField(max_length=128)),
                ("claimed_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("purpose", "key"), name="one_national_claim_per_key")
                ],
            },
        ),
    ]
