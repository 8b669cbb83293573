"""Changes of status (学籍异动): a request of one kind for one student, its approval chain as
rows (one per party, in order), its evidence, its log; the closed periods in which new requests
of a kind wait in a queue until the period ends (and in which the year end and the class teachers'
verification do not run), and the versions of each province's rules.

The shared contract with the year-end app is /tmp/xj/changes_contract.md: ChangeKind, ChangeState,
ACTIVE_STATES, ChangeRequest and the constraint "one_active_change_per_student".
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# Evidence files: JPG, PNG or PDF (sniffed from the content), 2 MB each at most, as for
# key-data corrections (xueji.corrections.evidence checks and seals them).
from xueji.corrections.models import EVIDENCE_MAX_BYTES, EVIDENCE_TYPES, SealedEvidence


class ChangeKind(models.TextChoices):
    TRANSFER = "transfer", _("Transfer to another school (转学)")
    SUSPEND = "suspend", _("Suspension (休学)")
    RESUME = "resume", _("Resumption (复学)")
    WITHDRAW = "withdraw", _("Withdrawal (退学)")
    DROPOUT = "dropout", _("Dropout (辍学)")
    REPEAT = "repeat", _("Repeat the grade (留级)")
    SKIP = "skip", _("Skip a grade (跳级)")
    ABROAD = "abroad", _("Going abroad (出国)")
    DEATH = "death", _("Death (死亡)")
    CLASS_CHANGE = "class_change", _("Class change (转班)")


class ChangeState(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    HELD = "held", _("Held: filed in a closed period")
    APPROVED = "approved", _("Approved: applied at the next promotion")
    COMPLETED = "completed", _("Completed")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn by the applicant")


# Unfinished business: at most one such request per student (a database constraint).
ACTIVE_STATES = (ChangeState.PENDING, ChangeState.HELD, ChangeState.APPROVED)
FINAL_STATES = (ChangeState.COMPLETED, ChangeState.REJECTED, ChangeState.WITHDRAWN)


class Initiator(models.TextChoices):
    """Whose decision a change is: in compulsory education a school may not start a withdrawal
    or a repeat on its own (DOMAIN §5); the guardian's written request must be attached."""

    GUARDIAN = "guardian", _("The guardian's request")
    SCHOOL = "school", _("The school's decision")


class PartyLevel(models.TextChoices):
    SCHOOL = "school", _("School")
    COUNTY = "county", _("County bureau")
    PROVINCE = "province", _("Province bureau")


class Side(models.TextChoices):
    RECEIVER = "receiver", _("Receiving side")
    SENDER = "sender", _("Sending side")
    OWN = "own", _("The student's school and its bureau")


class StepState(models.TextChoices):
    WAITING = "waiting", _("Not yet reached")
    PENDING = "pending", _("Waiting for this party")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("No longer needed")


class EvidencePurpose(models.TextChoices):
    GUARDIAN_REQUEST = "guardian_request", _("The guardian's written request")
    SUPPORTING = "supporting", _("Supporting document")


class ChangeRequest(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    student = models.ForeignKey(
        "students.Student", on_delete=models.PROTECT, related_name="changes", db_index=False
    )
    kind = models.CharField(_("kind of change"), max_length=16, choices=ChangeKind.choices)
    state = models.CharField(_("state"), max_length=16, choices=ChangeState.choices)
    initiator = models.CharField(
        _("initiated by"), max_length=16, choices=Initiator.choices, default=Initiator.GUARDIAN
    )
    # The school holding the record when the request was filed (the sender of a transfer).
    from_school = models.ForeignKey(
        "schools.School", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    from_grade = models.SmallIntegerField(_("grade"))
    to_school = models.ForeignKey(
        "schools.School",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,
    )
    to_class = models.ForeignKey(
        "schools.SchoolClass", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    academic_year = models.ForeignKey(
        "schools.AcademicYear", on_delete=models.PROTECT, related_name="+"
    )
    # 休学 only: the days the child is to be away, as the guardian and the school give them.
    suspended_from = models.DateField(_("suspended from"), null=True, blank=True)
    suspended_until = models.DateField(_("suspended until"), null=True, blank=True)
    # The date the effect took (or will take) place; set on completion.
    effective_date = models.DateField(_("effective date"), null=True, blank=True)
    reason = models.TextField(_("reason"))
    # HELD: the date the closed period ends and the request proceeds by itself.
    resumes_on = models.DateField(_("resumes on"), null=True, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    filed_on = models.DateField(_("filed on"))
    filed_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-filed_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=ChangeState.values), name="change_state_known"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=ChangeKind.values), name="change_kind_known"
            ),
            # Unfinished business is one request per student: two schools cannot both take
            # the same child, and no second change can overtake the first.
            models.UniqueConstraint(
                fields=["student"],
                condition=models.Q(state__in=[s.value for s in ACTIVE_STATES]),
                name="one_active_change_per_student",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="held") | models.Q(resumes_on__isnull=False),
                name="held_change_resumes_on_a_date",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="transfer")
                | (models.Q(to_school__isnull=False) & models.Q(to_class__isnull=False)),
                name="transfer_has_destination",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="class_change") | models.Q(to_class__isnull=False),
                name="class_change_has_class",
            ),
            # The days of a suspension belong to a suspension, and end after they start.
            models.CheckConstraint(
                condition=models.Q(kind="suspend")
                | models.Q(suspended_from__isnull=True, suspended_until__isnull=True),
                name="suspension_days_of_a_suspension",
            ),
            models.CheckConstraint(
                condition=models.Q(suspended_from__isnull=True)
                | models.Q(suspended_until__isnull=True)
                | models.Q(suspended_from__lt=models.F("suspended_until")),
                name="suspension_days_in_order",
            ),
        ]
        indexes = [
            models.Index(fields=["student", "filed_at"], name="change_student"),
            models.Index(fields=["from_school", "state"], name="change_from_school"),
            models.Index(fields=["to_school", "state"], name="change_to_school"),
            models.Index(fields=["state", "resumes_on"], name="change_state_resumes"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.student_id} {self.state}"


class ApprovalStep(models.Model):
    """One party's step in a request's approval chain, in order. The party is a school (its
    registrar or principal decides) or a division (that bureau's approver decides). The step
    waiting for its party is PENDING with a deadline of 10 working days from the day it became
    current; one past its deadline is flagged to the level above."""

    request = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="steps")
    ordinal = models.PositiveSmallIntegerField()
    level = models.CharField(max_length=8, choices=PartyLevel.choices)
    side = models.CharField(max_length=8, choices=Side.choices)
    school = models.ForeignKey(
        "schools.School", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    division = models.ForeignKey(
        "geo.Division", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    state = models.CharField(max_length=10, choices=StepState.choices)
    current_since = models.DateField(null=True, blank=True)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)
    # Past its deadline: reported to the level above (a division code; blank = the ministry).
    overdue_flagged_at = models.DateTimeField(null=True, blank=True)
    escalated_to_level = models.CharField(max_length=8, blank=True)
    escalated_to_division = models.ForeignKey(
        "geo.Division",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,
    )

    class Meta:
        ordering = ["request", "ordinal"]
        constraints = [
            models.UniqueConstraint(fields=["request", "ordinal"], name="one_step_per_ordinal"),
            # A request waits for one party at a time.
            models.UniqueConstraint(
                fields=["request"],
                condition=models.Q(state="pending"),
                name="one_current_step_per_change",
            ),
            models.CheckConstraint(
                condition=(models.Q(level="school") & models.Q(school__isnull=False))
                | (~models.Q(level="school") & models.Q(division__isnull=False)),
                name="step_party_named",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="pending") | models.Q(due_on__isnull=False),
                name="pending_step_has_deadline",
            ),
        ]
        indexes = [
            models.Index(fields=["school", "state"], name="step_school_queue"),
            models.Index(fields=["division", "state"], name="step_division_queue"),
            models.Index(fields=["state", "due_on"], name="step_state_due"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} #{self.ordinal} {self.level} {self.state}"


class ChangeLog(models.Model):
    """What happened to a request, by whom, when: appended only (the applicant's progress)."""

    request = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="log")
    event = models.CharField(max_length=16)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16)
    step_ordinal = models.PositiveSmallIntegerField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    actor_role = models.CharField(max_length=24, blank=True)
    note = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["request", "at", "id"]

    def __str__(self) -> str:
        return f"{self.request_id} {self.event} {self.from_state or '-'}→{self.to_state}"


class ChangeEvidence(SealedEvidence):
    """A scanned document backing a request (the guardian's request, a certificate)."""

    request = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="evidence")
    purpose = models.CharField(max_length=16, choices=EvidencePurpose.choices)

    class Meta:
        ordering = ["request", "uploaded_at", "file_name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(size__gte=1, size__lte=EVIDENCE_MAX_BYTES),
                name="change_evidence_size_limit",
            ),
            models.CheckConstraint(
                condition=models.Q(content_type__in=EVIDENCE_TYPES),
                name="change_evidence_type_allowed",
            ),
        ]


# What a closed period closes (XUEJI_CHANGE_CLOSED_PERIODS, XUEJI_PROVINCE_RULES and the rows
# below): a kind of change of status (new requests are held until it ends), the year end's
# promotion and graduation runs (not started in it), or the class teachers' verification (no
# window on its days, no check made in it).
YEAREND = "yearend"
VERIFICATION = "verification"
OPERATION_CHOICES: list[tuple[str, Any]] = [
    *ChangeKind.choices,
    (YEAREND, _("Promotion and graduation (升级、毕业)")),
    (VERIFICATION, _("Class teachers' verification (核查)")),
]
OPERATIONS: tuple[str, ...] = tuple(value for value, _label in OPERATION_CHOICES)


def operation_label(operation: str) -> Any:
    return dict(OPERATION_CHOICES).get(operation, operation)


class ClosedPeriod(models.Model):
    """A closed period of one operation, set at run time by the ministry (division null: the
    whole nation) or a province (division = the province): from `starts_on` to `ends_on`, both
    included, once, or every year from then on (`every_year`; it may run over the new year).

    Where a level has no row for an operation (lifted ones included), the settings' periods
    are its defaults (xueji.changes.windows); the first row it adds takes them over as rows.
    Lifted periods are kept, with who lifted them and why: the history of the page."""

    operation = models.CharField(_("operation"), max_length=16, choices=OPERATION_CHOICES)
    division = models.ForeignKey(
        "geo.Division",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,  # led by the (operation, division) index
        verbose_name=_("province"),
    )
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))
    every_year = models.BooleanField(_("every year"), default=False)
    note = models.CharField(_("note"), max_length=200, blank=True)
    # Taken over from the settings' defaults when the level first set a period of its own.
    from_settings = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    changed_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lift_reason = models.TextField(_("reason"), blank=True)

    class Meta:
        # By the division's code, not the division: no join (FOR UPDATE takes this table only).
        ordering = ["operation", "division_id", "starts_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(operation__in=OPERATIONS), name="closed_period_operation_known"
            ),
            models.CheckConstraint(
                condition=models.Q(starts_on__lte=models.F("ends_on")),
                name="closed_period_dates_order",
            ),
            models.CheckConstraint(
                condition=models.Q(lifted_at__isnull=True, lifted_by__isnull=True)
                | models.Q(lifted_at__isnull=False, lifted_by__isnull=False),
                name="closed_period_lifted_by_someone",
            ),
        ]
        indexes = [
            models.Index(fields=["operation", "division"], name="closed_period_operation"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.operation} {self.division_id or 'nation'} {self.starts_on}–{self.ends_on}"
            f"{' yearly' if self.every_year else ''}"
        )


class ProvinceRuleVersion(models.Model):
    """One version of a province's rules of transfers (xueji.changes.rules.ProvinceRule, closed
    periods apart): every change is a new version, with who made it, when and why; the latest
    is in force. A province without a version has the settings' rules (XUEJI_PROVINCE_RULES)."""

    province = models.ForeignKey(
        "geo.Division",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # led by the (province, version) unique index
        verbose_name=_("province"),
    )
    version = models.PositiveIntegerField(_("version"))
    # {rule name: value}, checked with province_rules_validate (xueji.changes.rules).
    rules = models.JSONField(default=dict)
    reason = models.TextField(_("reason"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["province", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["province", "version"], name="one_province_rule_version"
            ),
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="province_rule_version_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.province_id} v{self.version}"
