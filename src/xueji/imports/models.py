"""An import of a spreadsheet: one job per upload, run in the background."""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from xueji.imports.columns import PURPOSE_LABELS, UPDATES


class JobShown:
    """What the pages of a background job show: its progress and its message, which is kept in
    Chinese and in English."""

    state: str
    message: str
    message_en: str
    rows_total: int
    rows_done: int

    @property
    def finished(self) -> bool:
        # Both kinds of job wait as "queued" and work as "running"; every other state is an end.
        return self.state not in ("queued", "running")

    @property
    def message_shown(self) -> str:
        """The message in the language active (English where the reader's is)."""
        english = not (translation.get_language() or "zh").startswith("zh")
        return self.message_en if english and self.message_en else self.message

    @property
    def percent(self) -> int:
        if not self.rows_total:
            return 100 if self.finished else 0
        return min(100, round(100 * self.rows_done / self.rows_total))


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


# The worker saves its progress every half second; ten minutes of silence is a stopped worker.
STALLED_AFTER = datetime.timedelta(minutes=10)


class ExportState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Being written")
    READY = "ready", _("Ready to download")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Deleted after the download period")


class ExportJob(JobShown, models.Model):
    """A large spreadsheet export written in the background, kept for its requester to download
    until it expires (a file of many rows takes minutes to write, longer than a web request may
    wait; see xueji.imports.export_services)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    table = models.CharField(max_length=16)  # "records" or "roster"
    fmt = models.CharField(max_length=8)
    # What the rows are chosen by, as the request gave it (?q=&grade=&class=&school=, or the
    # class of a roster), encrypted: a search may be a full ID number.
    criteria_sealed = models.TextField()
    # The same criteria as the audit entry shows them (a number masked), for the page.
    filters = models.JSONField(default=dict, blank=True)
    reveal = models.BooleanField(default=False)
    language = models.CharField(max_length=16)
    name = models.CharField(max_length=255)  # the file's name without its extension
    state = models.CharField(max_length=16, choices=ExportState.choices, default=ExportState.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    # The written file under XUEJI_EXPORT_DIR until it expires; "" before and after.
    stored_path = models.CharField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    message = models.TextField(blank=True)  # in Chinese
    message_en = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    # When the worker last said it was writing (at its start, then with each progress save).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    downloads = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(fmt__in=["csv", "xlsx"]), name="export_job_format"
            ),
            models.CheckConstraint(
                condition=models.Q(table__in=["records", "roster"]), name="export_job_table"
            ),
            # A file is kept only while the job is ready to download.
            models.CheckConstraint(
                condition=models.Q(state="ready") | models.Q(stored_path=""),
                name="export_job_file_only_when_ready",
            ),
        ]
        indexes = [
            models.Index(fields=["created_by", "-created_at"], name="export_requester_time"),
            models.Index(fields=["state", "expires_at"], name="export_state_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.name}.{self.fmt} ({self.get_state_display()})"

    @property
    def filename(self) -> str:
        return f"{self.name}.{self.fmt}"

    @property
    def stalled(self) -> bool:
        """Queued with no worker taking it, or running with no word from its worker, for
        longer than STALLED_AFTER: the page says so instead of a bar that never moves."""
        since = self.heartbeat_at if self.state == ExportState.RUNNING else self.created_at
        return not self.finished and since is not None and timezone.now() - since > STALLED_AFTER

    @property
    def downloadable(self) -> bool:
        """Written, and within its download period (the purge may not have run yet)."""
        return self.state == ExportState.READY and self.expires_at > timezone.now()
