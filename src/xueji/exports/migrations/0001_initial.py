"""ExportJob moves from the imports app to this one: its table (imports_exportjob) stays as it
is, with its rows, so the database is not touched; only Django's picture of which app owns the
model changes (imports' 0006 lets go of it). The model's content type, where one was made,
follows it."""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def content_type_to_exports(apps, schema_editor):  # type: ignore[no-untyped-def]
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="imports", model="exportjob").update(app_label="exports")


def content_type_to_imports(apps, schema_editor):  # type: ignore[no-untyped-def]
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="exports", model="exportjob").update(app_label="imports")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("imports", "0005_export_heartbeat"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ExportJob",
                    fields=[
                        ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ("table", models.CharField(max_length=16)),
                        ("fmt", models.CharField(max_length=8)),
                        ("criteria_sealed", models.TextField()),
                        ("filters", models.JSONField(blank=True, default=dict)),
                        ("reveal", models.BooleanField(default=False)),
                        ("language", models.CharField(max_length=16)),
                        ("name", models.CharField(max_length=255)),
                        ("state", models.CharField(choices=[("queued", "Queued"), ("running", "Being written"), ("ready", "Ready to download"), ("failed", "Failed"), ("expired", "Deleted after the download period")], default="queued", max_length=16)),
                        ("rows_total", models.PositiveIntegerField(default=0)),
                        ("rows_done", models.PositiveIntegerField(default=0)),
                        ("stored_path", models.CharField(blank=True, max_length=255)),
                        ("size", models.PositiveBigIntegerField(default=0)),
                        ("message", models.TextField(blank=True)),
                        ("message_en", models.TextField(blank=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        ("expires_at", models.DateTimeField()),
                        ("heartbeat_at", models.DateTimeField(blank=True, null=True)),
                        ("downloads", models.PositiveIntegerField(default=0)),
                        ("created_by", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "db_table": "imports_exportjob",
                        "ordering": ["-created_at"],
                        "indexes": [models.Index(fields=["created_by", "-created_at"], name="export_requester_time"), models.Index(fields=["state", "expires_at"], name="export_state_expiry")],
                        "constraints": [models.CheckConstraint(condition=models.Q(("fmt__in", ["csv", "xlsx"])), name="export_job_format"), models.CheckConstraint(condition=models.Q(("table__in", ["records", "roster"])), name="export_job_table"), models.CheckConstraint(condition=models.Q(("state", "ready"), ("stored_path", ""), _connector="OR"), name="export_job_file_only_when_ready")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_to_exports, content_type_to_imports),
    ]
