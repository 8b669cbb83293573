"""The school year's batches (DOMAIN §6): promotion and graduation runs over a scope, done in
chunks of schools whose progress is committed with their writes (a crash resumes at the next
chunk), the students each run moved (so that a bureau can reverse it), diplomas, the outcomes a
school records before graduation, and the notices the clearing sends to schools.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RunKind(models.TextChoices):
    PROMOTE = "promote", _("Promotion (升级)")
    GRADUATE = "graduate", _("Graduation (毕业)")


class RunState(models.TextChoices):
    PLANNED = "planned", _("Planned (dry run done)")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Stopped by an error (can be resumed)")
    REVERSED = "reversed", _("Reversed")


# A run that has not finished: at most one per kind, scope and year.
UNFINISHED_STATES = (RunState.PLANNED, RunState.RUNNING, RunState.FAILED)


class Outcome(models.TextChoices):
    """What the run did to one student; the graduation outcomes are record states."""

    PROMOTED = "promoted", _("Promoted")
    REPEATED = "repeated", _("Repeats the grade")
    SKIPPED = "skipped", _("Skipped a grade")
    GRADUATED = "graduated", _("Graduated (毕业)")
    COMPLETED = "completed", _("Completed (结业)")
    INCOMPLETE = "incomplete", _("Left before completing (肄业)")
    # The top grade of a school that ends no stage (a 教学点) goes on to the next grade at its
    # central school (中心校): a promotion to another school, not a graduation.
    TO_CENTRAL = "to_central", _("Goes on at the central school (升入中心校)")


# The outcomes of a graduation run: the record states a final-grade student leaves with.
GRADUATION_OUTCOMES = (Outcome.GRADUATED, Outcome.COMPLETED, Outcome.INCOMPLETE)


class YearEndRun(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=RunKind.choices)
    # school: a 10-digit school code; county/city/province: a division code; nation: "".
    scope_level = models.CharField(_("scope"), max_length=16)
    scope_code = models.CharField(max_length=10, blank=True)
    scope_name = models.CharField(max_length=128, blank=True)
    # The academic year left (named by its start year); the students arrive in the next one.
    from_year = models.PositiveSmallIntegerField(_("academic year"))
    state = models.CharField(_("state"), max_length=16, choices=RunState.choices)
    report = models.JSONField(default=dict, blank=True)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    students_total = models.PositiveIntegerField(default=0)
    students_done = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reversed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=RunState.values), name="yearend_run_state_known"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=RunKind.values), name="yearend_run_kind_known"
            ),
            models.UniqueConstraint(
                fields=["kind", "scope_level", "scope_code", "from_year"],
                condition=models.Q(state__in=[s.value for s in UNFINISHED_STATES]),
                name="one_unfinished_run_per_scope",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.scope_level} {self.scope_code} {self.from_year}"

    @property
    def to_year(self) -> int:
        return self.from_year + 1

    @property
    def percent(self) -> int:
        if not self.chunks_total:
            return 100 if self.state == RunState.DONE else 0
        return int(100 * self.chunks_done / self.chunks_total)


class YearEndChunk(models.Model):
    """A group of schools moved in one transaction; `done` is committed with the chunk's writes."""

    run = models.ForeignKey(YearEndRun, on_delete=models.CASCADE, related_name="chunks")
    seq = models.PositiveIntegerField()
    school_ids = models.JSONField(default=list)
    planned = models.PositiveIntegerField(default=0)
    moved = models.PositiveIntegerField(default=0)
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="one_chunk_seq")]

    def __str__(self) -> str:
        return f"{self.run_id} #{self.seq}"


class YearEndMember(models.Model):
    """One student moved by a run: the placement it closed and the one it opened (none for a
    graduation). Written set-based, millions of rows: one index (the key), no foreign keys."""

    pk = models.CompositePrimaryKey("run_id", "chunk", "student_id")
    run_id = models.UUIDField()
    chunk = models.PositiveIntegerField()
    student_id = models.UUIDField()
    school_id = models.IntegerField()
    from_grade = models.SmallIntegerField()
    to_grade = models.SmallIntegerField(null=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    old_placement_id = models.UUIDField()
    new_placement_id = models.UUIDField(null=True)
    new_class_id = models.IntegerField(null=True)

    def __str__(self) -> str:
        return f"{self.run_id} {self.student_id} {self.outcome}"


class OutcomeOverride(models.Model):
    """The school records, before graduation, that a final-grade student leaves with 结业 or
    肄业 instead of 毕业."""

    student = models.ForeignKey(
        "students.Student", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    from_year = models.PositiveSmallIntegerField()
    outcome = models.CharField(
        _("outcome"),
        max_length=16,
        choices=[
            (Outcome.COMPLETED, Outcome.COMPLETED.label),
            (Outcome.INCOMPLETE, Outcome.INCOMPLETE.label),
        ],
    )
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["student", "from_year"], name="one_outcome_per_year"),
            models.CheckConstraint(
                condition=models.Q(outcome__in=["completed", "incomplete"]),
                name="outcome_override_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} {self.outcome}"


class Diploma(models.Model):
    """A graduation (毕业) or completion (结业) certificate, numbered per school and year."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    student = models.ForeignKey(
        "students.Student", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="+")
    from_year = models.PositiveSmallIntegerField()
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=Outcome.choices)
    run = models.ForeignKey(
        YearEndRun, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["school", "from_year", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "from_year", "number"], name="diploma_number_per_school"
            ),
            models.UniqueConstraint(fields=["student", "from_year"], name="one_diploma_per_year"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def code(self) -> str:
        """The printed number: school code, graduation year, sequence."""
        return f"{self.school.code}{self.from_year + 1}{self.number:05d}"


class Notice(models.Model):
    """A message to a school from the year-end clearing (an item to finish, or one cancelled)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(YearEndRun, null=True, on_delete=models.SET_NULL, related_name="+")
    message = models.TextField()
    link = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["school", "created_at"], name="notice_school_time")]

    def __str__(self) -> str:
        return self.message[:40]


# Whose promotion period: the nation's, or one province's by its 2-digit code.
PERIOD_NATION = "nation"


class PromotionPeriod(models.Model):
    """The promotion period (升级毕业时间) of the nation or of one province: every year from
    (start_month, start_day) to (end_month, end_day), both included (it may run over the new
    year), the days when the year-end runs are done. A run planned or started outside the period
    of its province needs an explicit confirmation that names the period (xueji.yearend.periods);
    a closed period of the operation "yearend" (xueji.changes.windows) refuses it outright.

    A province's own period replaces the nation's for its schools; where neither has a row,
    the settings' XUEJI_YEAREND_PROMOTION_PERIODS apply. Set on the year end's period page by
    the ministry (the nation's and any province's) and by each province (its own); every change
    is audited with what it was before."""

    scope = models.CharField(_("whose"), max_length=6, unique=True)
    start_month = models.PositiveSmallIntegerField()
    start_day = models.PositiveSmallIntegerField()
    end_month = models.PositiveSmallIntegerField()
    end_day = models.PositiveSmallIntegerField()
    note = models.CharField(_("note"), max_length=200, blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    set_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["scope"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope=PERIOD_NATION) | models.Q(scope__regex=r"^[0-9]{2}$"),
                name="promotion_period_scope_known",
            ),
            models.CheckConstraint(
                condition=models.Q(start_month__gte=1, start_month__lte=12)
                & models.Q(end_month__gte=1, end_month__lte=12)
                & models.Q(start_day__gte=1, start_day__lte=31)
                & models.Q(end_day__gte=1, end_day__lte=31),
                name="promotion_period_days_of_the_year",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.scope} {self.start_month:02d}-{self.start_day:02d}"
            f"–{self.end_month:02d}-{self.end_day:02d}"
        )
