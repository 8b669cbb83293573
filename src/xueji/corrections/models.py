"""Key-data correction requests (关键数据变更): a change of a student's basic information, asked
for with evidence, approved by the school and then the county, with the values before and after.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xueji.corrections.workflow import OPEN_STATES, Event, State

# Evidence files: JPG, PNG or PDF (sniffed from the content), 2 MB each at most.
EVIDENCE_TYPES = ("image/jpeg", "image/png", "application/pdf")
EVIDENCE_MAX_BYTES = 2 * 1024 * 1024


class CorrectionRequest(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    student = models.ForeignKey(
        "students.Student", on_delete=models.PROTECT, related_name="corrections", db_index=False
    )
    # The school holding the record when the request was made: the school approves, its county
    # approves next, and the request is seen in their areas.
    school = models.ForeignKey(
        "schools.School", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices)
    # {basic field: {"before": value, "after": value}}; ID numbers are kept encrypted.
    changes = models.JSONField(default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    report_note = models.TextField(_("what the class teacher reported"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=State.values), name="correction_state_known"
            ),
            # One request under way per student: two could not both apply to the same record.
            models.UniqueConstraint(
                fields=["student"],
                condition=models.Q(state__in=[s.value for s in OPEN_STATES]),
                name="one_open_correction_per_student",
            ),
        ]
        indexes = [
            models.Index(fields=["student", "created_at"], name="correction_student"),
            models.Index(fields=["school", "state"], name="correction_school_state"),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} {self.state}"


class CorrectionStep(models.Model):
    """Who moved the request, from which state to which, when, and why: appended only."""

    correction = models.ForeignKey(
        CorrectionRequest, on_delete=models.PROTECT, related_name="steps"
    )
    event = models.CharField(max_length=16, choices=Event.choices)
    from_state = models.CharField(max_length=16, choices=State.choices, blank=True)
    to_state = models.CharField(max_length=16, choices=State.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    actor_role = models.CharField(max_length=24)
    note = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["correction", "at", "id"]

    def __str__(self) -> str:
        return f"{self.correction_id} {self.from_state or '-'}→{self.to_state}"


class SealedEvidence(models.Model):
    """A scanned document (JPG/PNG/PDF, checked by xueji.corrections.evidence) whose content is
    kept encrypted; each workflow's evidence table adds the request it backs."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    file_name = models.CharField(max_length=128)
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    sealed = models.TextField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.file_name


class Evidence(SealedEvidence):
    """A scanned document backing a key-data correction."""

    correction = models.ForeignKey(
        CorrectionRequest, on_delete=models.PROTECT, related_name="evidence"
    )

    class Meta:
        ordering = ["correction", "uploaded_at", "file_name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(size__gte=1, size__lte=EVIDENCE_MAX_BYTES),
                name="evidence_size_limit",
            ),
            models.CheckConstraint(
                condition=models.Q(content_type__in=EVIDENCE_TYPES), name="evidence_type_allowed"
            ),
        ]
