"""Class-teacher verification windows (核查窗口) and what class teachers found in them.

A county bureau opens a window of a few days in a term; while it is open, each class teacher
sees the current students of their own classes, and for each confirms that the record is
correct or reports an error. A report becomes a correction request for the school's registrar:
the class teacher changes nothing.
"""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xueji.geo.models import Division


class WindowQuerySet(models.QuerySet["VerificationWindow"]):
    def open_on(self, on: datetime.date) -> WindowQuerySet:
        """Windows open on a date: from the first day to the last, both included, unless
        closed early."""
        return self.filter(opens_on__lte=on, closes_on__gte=on, closed_at__isnull=True)


class VerificationWindow(models.Model):
    county = models.ForeignKey(
        Division,
        on_delete=models.PROTECT,
        related_name="verification_windows",
        db_index=False,  # led by the (county, opens_on) index
        verbose_name=_("county"),
    )
    term = models.ForeignKey(
        "schools.Term", on_delete=models.PROTECT, related_name="+", verbose_name=_("term")
    )
    opens_on = models.DateField(_("first day"))
    closes_on = models.DateField(_("last day"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = WindowQuerySet.as_manager()

    class Meta:
        ordering = ["county", "-opens_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(opens_on__lte=models.F("closes_on")),
                name="window_dates_order",
            ),
            models.CheckConstraint(
                condition=models.Q(closed_at__isnull=True, closed_by__isnull=True)
                | models.Q(closed_at__isnull=False, closed_by__isnull=False),
                name="window_closed_by_someone",
            ),
        ]
        indexes = [models.Index(fields=["county", "opens_on"], name="window_county_opens")]

    def __str__(self) -> str:
        return f"{self.county_id} {self.opens_on}–{self.closes_on}"

    def is_open_on(self, on: datetime.date) -> bool:
        return self.closed_at is None and self.opens_on <= on <= self.closes_on


class CheckOutcome(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed correct")
    REPORTED = "reported", _("Error reported")


class StudentCheck(models.Model):
    """A class teacher's verdict on one student's record in one window: once per window."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    window = models.ForeignKey(VerificationWindow, on_delete=models.PROTECT, related_name="checks")
    student = models.ForeignKey(
        "students.Student", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    school_class = models.ForeignKey(
        "schools.SchoolClass", on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(max_length=16, choices=CheckOutcome.choices)
    note = models.TextField(blank=True)
    correction = models.ForeignKey(
        "corrections.CorrectionRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    checked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["window", "checked_at"]
        constraints = [
            models.UniqueConstraint(fields=["student", "window"], name="one_check_per_window"),
            models.CheckConstraint(
                condition=models.Q(outcome="confirmed", correction__isnull=True)
                | models.Q(outcome="reported", correction__isnull=False),
                name="report_has_correction",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} {self.outcome}"


class GuardianOutcome(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed by the guardian")
    CORRECTED = "corrected", _("Corrections entered")


class GuardianCheck(models.Model):
    """What a guardian's signed record check sheet (核对表) said, as the registrar recorded it:
    confirmed, or the corrections it carried, entered through the record's own services (other
    information and family contacts at once; key data as a correction request, `correction`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    student = models.ForeignKey(
        "students.Student", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    school_class = models.ForeignKey(
        "schools.SchoolClass", on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=GuardianOutcome.choices)
    # The other information and family contacts changed (field names), for the class's list.
    changed_fields = models.JSONField(default=list, blank=True)
    correction = models.ForeignKey(
        "corrections.CorrectionRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    signed_by = models.CharField(_("signed by"), max_length=64, blank=True)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["student", "-recorded_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outcome__in=GuardianOutcome.values),
                name="guardian_check_outcome_known",
            ),
            models.CheckConstraint(
                condition=~models.Q(outcome="confirmed") | models.Q(correction__isnull=True),
                name="guardian_confirmed_carries_no_correction",
            ),
        ]
        indexes = [
            models.Index(fields=["student", "recorded_at"], name="guardian_check_student"),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} {self.outcome}"
