"""A large spreadsheet export written in the background, kept for its requester to download until
it expires. The table keeps the name it had when exports were part of the imports app."""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.core.jobs import JobShown

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
    wait; see xueji.exports.services)."""

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
        # Created by the imports app's migration 0004; the model moved here, its rows did not.
        db_table = "imports_exportjob"
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
