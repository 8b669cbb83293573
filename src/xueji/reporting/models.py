"""The term's statistics report (事业统计上报): rounds, each unit's report, its snapshots.

A round (ReportRound) is opened by the ministry or a province: a census date, the tables asked
for, a deadline per level. Each unit of the round's area (every school, county, city, province,
and the nation for a national round) has one UnitReport, whose state moves level by level
(xueji.reporting.workflow). Each submission of a unit stores its figures (Submission and its
Cells): a school's cells are by class (the class-by-class breakdown behind every cell), a
division's are the sum of its units' confirmed submissions. A confirmed submission never
changes: a correction after confirmation is a Revision (a new submission with a reason),
approved by the level above; both submissions are kept.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xueji.geo.models import Division


class ReportTable(models.TextChoices):
    GRADE_AGE_SEX = "grade_age_sex", _("Students by grade, age and sex")
    ETHNICITY = "ethnicity", _("Students by ethnicity")
    LEFT_BEHIND = "left_behind", _("Left-behind children (留守儿童)")
    MIGRANT_CHILD = "migrant_child", _("Children of migrant workers (随迁子女)")
    DISABILITY = "disability", _("Students with a disability")
    BOARDING = "boarding", _("Day students and boarders")
    MOVEMENT = "movement", _("Entrants and leavers")
    ANNUAL = "annual", _("Annual statistics: kind of school, grade, age and sex")


class UnitLevel(models.TextChoices):
    SCHOOL = "school", _("School")
    COUNTY = "county", _("County")
    CITY = "city", _("City")
    PROVINCE = "province", _("Province")
    NATION = "nation", _("Nation")


# From the bottom up: a unit's report is confirmed after those of the level below.
LEVELS: tuple[str, ...] = tuple(UnitLevel.values)


class UnitState(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    PREPARED = "prepared", _("Prepared, awaiting confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    RETURNED = "returned", _("Returned")


class ReportRound(models.Model):
    title = models.CharField(_("title"), max_length=100)
    # "nation" (the ministry's round: every province) or "province" (one province's round).
    level = models.CharField(_("opened by"), max_length=8)
    division = models.ForeignKey(
        Division,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("province"),
    )
    census_date = models.DateField(_("census date"))
    tables = models.JSONField(_("tables"), default=list)
    deadline_school = models.DateField(_("deadline for schools"))
    deadline_county = models.DateField(_("deadline for counties"))
    deadline_city = models.DateField(_("deadline for cities"))
    deadline_province = models.DateField(_("deadline for provinces"))
    deadline_nation = models.DateField(_("deadline for the nation"), null=True, blank=True)
    # A cell that moved by more than this share since the previous round is pointed out.
    threshold_percent = models.PositiveSmallIntegerField(_("change threshold (%)"), default=10)
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-census_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level="nation", division__isnull=True)
                | models.Q(level="province", division__isnull=False),
                name="report_round_level_division",
            ),
            models.CheckConstraint(
                condition=models.Q(deadline_school__lte=models.F("deadline_county"))
                & models.Q(deadline_county__lte=models.F("deadline_city"))
                & models.Q(deadline_city__lte=models.F("deadline_province")),
                name="report_round_deadlines_order",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def deadline(self, level: str) -> object:
        return getattr(self, f"deadline_{level}", None)


class UnitReport(models.Model):
    """One unit's report in a round: a school, a county, a city, a province or the nation."""

    round = models.ForeignKey(ReportRound, on_delete=models.CASCADE, related_name="units")
    level = models.CharField(_("level"), max_length=8, choices=UnitLevel.choices)
    school = models.ForeignKey(
        "schools.School", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    division = models.ForeignKey(
        Division, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    state = models.CharField(
        _("state"), max_length=12, choices=UnitState.choices, default=UnitState.NOT_STARTED
    )
    # The submission in force (the latest prepared one; after confirmation, the confirmed one
    # or an approved revision).
    submission = models.ForeignKey(
        "Submission", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    prepared_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    returned_at = models.DateTimeField(null=True, blank=True)
    return_reason = models.TextField(_("reason for the return"), blank=True)

    class Meta:
        ordering = ["round", "level", "division", "school"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "school"],
                condition=models.Q(school__isnull=False),
                name="one_report_per_school",
            ),
            models.UniqueConstraint(
                fields=["round", "level", "division"],
                condition=models.Q(division__isnull=False),
                name="one_report_per_division",
            ),
            models.UniqueConstraint(
                fields=["round"],
                condition=models.Q(level="nation"),
                name="one_report_for_the_nation",
            ),
            models.CheckConstraint(
                condition=models.Q(level="school", school__isnull=False, division__isnull=True)
                | models.Q(
                    level__in=["county", "city", "province"],
                    school__isnull=True,
                    division__isnull=False,
                )
                | models.Q(level="nation", school__isnull=True, division__isnull=True),
                name="report_unit_is_school_or_division",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=UnitState.values), name="report_unit_state_known"
            ),
            models.CheckConstraint(
                condition=~models.Q(state="confirmed")
                | models.Q(submission__isnull=False, confirmed_by__isnull=False),
                name="report_confirmed_has_figures",
            ),
        ]
        indexes = [models.Index(fields=["parent", "state"], name="report_unit_parent_state")]

    def __str__(self) -> str:
        return f"{self.round_id} {self.level} {self.school_id or self.division_id or ''}"


class Submission(models.Model):
    """One set of figures of a unit: a submission (prepared, then confirmed) or a revision."""

    unit = models.ForeignKey(UnitReport, on_delete=models.CASCADE, related_name="submissions")
    number = models.PositiveIntegerField()
    is_revision = models.BooleanField(default=False)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    taken_at = models.DateTimeField()
    # The set-based snapshot of many schools at once finds each school's submission by these.
    batch = models.UUIDField(null=True, blank=True)
    school = models.ForeignKey(
        "schools.School", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["unit", "number"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "number"], name="one_submission_number"),
        ]
        indexes = [models.Index(fields=["batch", "school"], name="report_submission_batch")]

    def __str__(self) -> str:
        return f"{self.unit_id} #{self.number}"


class Cell(models.Model):
    """One figure of a submission: children of a table's cell (grade, age, sex, category),
    for a school in one class."""

    id = models.BigAutoField(primary_key=True)
    # Written set-based, by the thousands, from submissions and classes read in the same
    # statement: no foreign-key trigger per cell (a province's snapshot is hundreds of thousands).
    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="cells", db_constraint=False
    )
    table = models.CharField(max_length=16, choices=ReportTable.choices)
    school_class = models.ForeignKey(
        "schools.SchoolClass",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    grade = models.SmallIntegerField(null=True)
    age = models.SmallIntegerField(null=True)
    sex = models.CharField(max_length=1, blank=True)
    category = models.CharField(max_length=32, blank=True)
    count = models.IntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(count__gte=0), name="report_cell_count"),
        ]
        indexes = [models.Index(fields=["submission", "table"], name="report_cell_submission")]

    def __str__(self) -> str:
        return f"{self.submission_id} {self.table} {self.count}"


class RevisionState(models.TextChoices):
    REQUESTED = "requested", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Revision(models.Model):
    """A correction of a confirmed report: the new figures with a reason, approved (or not) by
    the level above. The confirmed figures stay as they were beside it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    unit = models.ForeignKey(UnitReport, on_delete=models.CASCADE, related_name="revisions")
    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="+")
    previous = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    state = models.CharField(
        max_length=10, choices=RevisionState.choices, default=RevisionState.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["unit", "-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit"],
                condition=models.Q(state="requested"),
                name="one_open_revision_per_unit",
            ),
            models.CheckConstraint(condition=~models.Q(reason=""), name="revision_has_a_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.state}"
