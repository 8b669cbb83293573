"""The child's archive (成长记录 and 电子学籍档案) and the certificates of registration (学籍证明).

Everything here hangs off the student, not the school: it follows the child across schools
(籍随人走). Each row keeps the school that wrote it (`school`), so that the school that wrote a
part keeps reading it after the child has left, and the school holding the record now reads all.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# ---- certificates ------------------------------------------------------------------------------


class SigningKey(models.Model):
    """An Ed25519 key pair that signs certificates. One is active (the newest not retired);
    retired ones keep their public key, published with the others, so that every certificate
    they signed stays verifiable. The private key is sealed like the registry's numbers
    (xueji.core.crypto, moved by `xueji rotate_keys`)."""

    key_id = models.CharField(max_length=32, unique=True)
    algorithm = models.CharField(max_length=16, default="Ed25519")
    public_key = models.CharField(max_length=64)  # base64 of the 32 raw bytes
    private_sealed = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["algorithm"],
                condition=Q(retired_at__isnull=True),
                name="one_active_signing_key",
            ),
        ]

    def __str__(self) -> str:
        return self.key_id


class RevocationCause(models.TextChoices):
    WITHDRAWN = "withdrawn", _("Withdrawn by the registrar")
    CORRECTED = "corrected", _("A key-data correction changed what it states")


class Certificate(models.Model):
    """A 学籍证明 as issued: the facts it states (exactly what was signed), its signature and
    key, and whether it was revoked."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The public page's address: 256 random bits, not derived from anything.
    token = models.CharField(max_length=64, unique=True)
    student = models.ForeignKey(
        "students.Student", on_delete=models.PROTECT, related_name="certificates"
    )
    school = models.ForeignKey(
        "schools.School", on_delete=models.PROTECT, related_name="certificates"
    )
    facts = models.JSONField()
    signature = models.CharField(max_length=128)  # base64 of the 64-byte Ed25519 signature
    key = models.ForeignKey(SigningKey, on_delete=models.PROTECT, related_name="certificates")
    requested_by = models.CharField(_("requested by (guardian)"), max_length=64)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoke_cause = models.CharField(
        max_length=16, choices=RevocationCause.choices, blank=True, default=""
    )
    revoke_reason = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-issued_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True, revoke_cause="")
                | (Q(revoked_at__isnull=False) & ~Q(revoke_cause="")),
                name="certificate_revocation_has_cause",
            ),
        ]
        indexes = [models.Index(fields=["student", "issued_at"], name="certificate_student")]

    def __str__(self) -> str:
        return f"{self.student_id} {self.issued_at:%Y-%m-%d}"

    @property
    def valid(self) -> bool:
        return self.revoked_at is None


# ---- the growth record ------------------------------------------------------------------------


class Level(models.TextChoices):
    """A level of the comprehensive quality evaluation (综合素质评价)."""

    A = "A", _("A (excellent)")
    B = "B", _("B (good)")
    C = "C", _("C (satisfactory)")
    D = "D", _("D (to improve)")


class Dimension(models.TextChoices):
    """The five dimensions of 综合素质评价."""

    MORAL = "moral", _("Moral character")
    ACADEMIC = "academic", _("Academic development")
    HEALTH = "health", _("Physical and mental health")
    ARTS = "arts", _("Arts")
    SOCIAL = "social", _("Social practice")


class TermReport(models.Model):
    """The class teacher's comment and the five levels of a term (one per student and term)."""

    student = models.ForeignKey(
        "students.Student", on_delete=models.PROTECT, related_name="term_reports"
    )
    term = models.ForeignKey("schools.Term", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="+")
    school_class = models.ForeignKey(
        "schools.SchoolClass", on_delete=models.PROTECT, related_name="+"
    )
    comment = models.TextField(_("class teacher's comment"), max_length=500, blank=True)
    moral = models.CharField(max_length=1, choices=Level.choices, blank=True)
    academic = models.CharField(max_length=1, choices=Level.choices, blank=True)
    health = models.CharField(max_length=1, choices=Level.choices, blank=True)
    arts = models.CharField(max_length=1, choices=Level.choices, blank=True)
    social = models.CharField(max_length=1, choices=Level.choices, blank=True)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["student", "term"]
        constraints = [
            models.UniqueConstraint(fields=["student", "term"], name="one_term_report"),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} {self.term_id}"


class RecordSource(models.TextChoices):
    PUPIL = "pupil", _("The pupil")
    PARENT = "parent", _("A parent")


class FactualRecord(models.Model):
    """A factual record of an activity (写实记录), brought by the pupil or a parent and entered on
    their behalf by the class teacher (pupils and parents have no accounts). It is noticed to
    the class until `notice_until` and counts only after that, unless withdrawn."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    student = models.ForeignKey(
        "students.Student", on_delete=models.PROTECT, related_name="factual_records"
    )
    term = models.ForeignKey("schools.Term", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="+")
    school_class = models.ForeignKey(
        "schools.SchoolClass", on_delete=models.PROTECT, related_name="+"
    )
    dimension = models.CharField(max_length=16, choices=Dimension.choices)
    title = models.CharField(_("activity"), max_length=100)
    description = models.TextField(_("what was done"), max_length=500, blank=True)
    occurred_on = models.DateField(_("date"))
    source = models.CharField(max_length=8, choices=RecordSource.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField(auto_now_add=True)
    notice_until = models.DateField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdraw_reason = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["student", "occurred_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(dimension__in=Dimension.values), name="factual_dimension_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} {self.title}"


class ConductKind(models.TextChoices):
    AWARD = "award", _("Award")
    SANCTION = "sanction", _("Disciplinary sanction")


class SanctionLevel(models.TextChoices):
    WARNING = "warning", _("Warning (警告)")
    SERIOUS_WARNING = "serious_warning", _("Serious warning (严重警告)")
    DEMERIT = "demerit", _("Demerit (记过)")
    PROBATION = "probation", _("Probation (留校察看)")
    EXPULSION = "expulsion", _("Expulsion (开除)")


# The last grade of compulsory education (九年义务教育): no expulsion up to it.
LAST_COMPULSORY_GRADE = 9


class Conduct(models.Model):
    """An award or a sanction (奖惩), entered by the registrar with its date, issuer and evidence.
    A sanction may be lifted (解除): it then shows neither on certificates nor to the next
    school; the row stays (and the audit trail keeps every step)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    student = models.ForeignKey(
        "students.Student", on_delete=models.PROTECT, related_name="conduct"
    )
    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="+")
    grade = models.SmallIntegerField()  # the child's grade when it was decided
    kind = models.CharField(max_length=8, choices=ConductKind.choices)
    level = models.CharField(max_length=16, choices=SanctionLevel.choices, blank=True)
    title = models.CharField(_("title"), max_length=100)
    decided_on = models.DateField(_("date"))
    issuer = models.CharField(_("issued by"), max_length=100)
    evidence = models.CharField(_("evidence (document number or description)"), max_length=200)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField(auto_now_add=True)
    lifted_on = models.DateField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lift_reason = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["student", "decided_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="award", level="", lifted_on__isnull=True)
                | (Q(kind="sanction") & ~Q(level="")),
                name="conduct_level_for_sanctions_only",
            ),
            # 义务教育阶段不得开除学生.
            models.CheckConstraint(
                condition=~Q(level="expulsion") | Q(grade__gt=LAST_COMPULSORY_GRADE),
                name="no_expulsion_in_compulsory_education",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} {self.kind} {self.title}"


class HealthCheck(models.Model):
    """A health check-up (体检) entered by the registrar."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    student = models.ForeignKey(
        "students.Student", on_delete=models.PROTECT, related_name="health_checks"
    )
    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="+")
    checked_on = models.DateField(_("date"))
    height_cm = models.DecimalField(_("height (cm)"), max_digits=4, decimal_places=1)
    weight_kg = models.DecimalField(_("weight (kg)"), max_digits=4, decimal_places=1)
    vision_left = models.DecimalField(max_digits=2, decimal_places=1, null=True, blank=True)
    vision_right = models.DecimalField(max_digits=2, decimal_places=1, null=True, blank=True)
    notes = models.CharField(_("notes"), max_length=200, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["student", "checked_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(height_cm__gt=30, height_cm__lt=250)
                & Q(weight_kg__gt=5, weight_kg__lt=250),
                name="health_check_plausible",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} {self.checked_on}"


class Vaccination(models.Model):
    """A dose of the vaccination record (预防接种)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    student = models.ForeignKey(
        "students.Student", on_delete=models.PROTECT, related_name="vaccinations"
    )
    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="+")
    vaccine = models.CharField(_("vaccine"), max_length=64)
    dose = models.PositiveSmallIntegerField(_("dose"))
    given_on = models.DateField(_("date"))
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["student", "given_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "vaccine", "dose"], name="one_record_per_dose"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} {self.vaccine} {self.dose}"


# ---- the fitness test (国家学生体质健康标准) ---------------------------------------------


class FitnessKind(models.TextChoices):
    TEST = "test", _("Test")
    RETEST = "retest", _("Retest (补测)")


class FitnessResult(models.Model):
    """One child's fitness test of a school year (or its one retest): the measurements as
    imported, and the scores computed from the standard's tables (items without a table are
    kept unscored)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    student = models.ForeignKey(
        "students.Student", on_delete=models.PROTECT, related_name="fitness_results"
    )
    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="+")
    start_year = models.PositiveSmallIntegerField()  # the school year, by its first year
    grade = models.SmallIntegerField()
    sex = models.CharField(max_length=1)
    kind = models.CharField(max_length=8, choices=FitnessKind.choices, default=FitnessKind.TEST)
    exempt = models.BooleanField(default=False)
    exempt_reason = models.CharField(max_length=200, blank=True)
    measurements = models.JSONField(default=dict)
    item_scores = models.JSONField(default=dict)  # item -> score, or null when not scored
    standard_score = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    bonus = models.DecimalField(max_digits=3, decimal_places=1, default=0)
    total = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    level = models.CharField(max_length=8, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["student", "start_year", "kind"]
        constraints = [
            # One test and at most one retest (补测) a school year.
            models.UniqueConstraint(
                fields=["student", "start_year", "kind"], name="one_fitness_test_per_kind_year"
            ),
            models.CheckConstraint(
                condition=Q(bonus__gte=0, bonus__lte=20), name="fitness_bonus_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} {self.start_year} {self.kind}"


# ---- electronic files (background jobs) --------------------------------------------------------


class FileJobState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class FileJob(models.Model):
    """The electronic file (电子学籍档案) of one child or of a class, made in the background."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    student = models.ForeignKey(
        "students.Student", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    school_class = models.ForeignKey(
        "schools.SchoolClass", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    state = models.CharField(
        max_length=8, choices=FileJobState.choices, default=FileJobState.QUEUED
    )
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    pages = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    message_en = models.TextField(blank=True)
    # The PDF, encrypted at rest (xueji.core.filecrypt), under XUEJI_ARCHIVE_DIR.
    stored_path = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(student__isnull=False, school_class__isnull=True)
                | Q(student__isnull=True, school_class__isnull=False),
                name="file_job_one_child_or_a_class",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pk} {self.state}"

    @property
    def finished(self) -> bool:
        return self.state in (FileJobState.DONE, FileJobState.FAILED)

    @property
    def percent(self) -> int:
        if not self.rows_total:
            return 100 if self.finished else 0
        return min(100, round(100 * self.rows_done / self.rows_total))
