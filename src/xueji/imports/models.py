"""An import of a spreadsheet: one job per upload, run in the background."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xueji.core.jobs import JobShown
from xueji.imports.columns import PURPOSE_LABELS, UPDATES


class JobState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Checking and importing")
    IMPORTED = "imported", _("Imported")
    INVALID = "invalid", _("Refused: the file has errors")
    DUPLICATE = "duplicate", _("Refused: this file was already imported")
    FAILED = "failed", _("Failed")


class ImportJob(JobShown, models.Model):
    """One uploaded file of one school for one purpose, its progress and its outcome.

    The file's SHA-256 is unique per school and purpose among imported jobs (a partial unique
    index): a retried upload of the same file can never be written twice, even when both
    uploads run at the same time."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    school = models.ForeignKey(
        "schools.School", on_delete=models.PROTECT, related_name="import_jobs"
    )
    purpose = models.CharField(max_length=16, choices=list(PURPOSE_LABELS.items()))
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.QUEUED)
    sha256 = models.CharField(max_length=64)
    filename = models.CharField(max_length=255)
    kind = models.CharField(max_length=24)
    size = models.PositiveBigIntegerField(default=0)
    # Where the upload is kept until the retention ends (under XUEJI_IMPORT_DIR); "" once purged.
    stored_path = models.CharField(max_length=255, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    # Errors kept compactly: [[row, column index, code, message zh, message en], ...] (capped),
    # plus the file-level message in `message`.
    errors = models.JSONField(default=list, blank=True)
    header = models.JSONField(default=list, blank=True)
    # What an imported job wrote, per class: [[class id, students], ...] (for an updates import,
    # the updated records by the class they sit in). The classes' own rosters are the records;
    # this only links the job to them, so nothing is added to the students' tables.
    classes = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)  # in Chinese
    message_en = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "purpose", "sha256"],
                condition=models.Q(state="imported"),
                name="import_file_once",
            ),
        ]
        indexes = [models.Index(fields=["school", "-created_at"], name="import_school_time")]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_state_display()})"

    @property
    def rows_unchanged(self) -> int:
        """The rows of an imported updates file that changed nothing (they held what was
        recorded already): checked, valid, and not among the records written."""
        if self.state != JobState.IMPORTED or self.purpose != UPDATES:
            return 0
        return max(self.rows_total - self.rows_written, 0)
