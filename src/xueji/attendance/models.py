"""The attendance app's tables: the school calendar's closure days, the daily roll, guests
(借读), hollow-record periods (空挂), province settings and dropout-control cases (控辍保学).

The roll stores what carries information: one `RollCall` row per class and school day on which
the roll was taken, and one `Absence` row per child absent (whole day, half day) or late. A
child present is no row. On PostgreSQL both tables are partitioned by month on `day`
(declarative partitioning, migration 0002): a month is detached and dropped (or archived) as a
whole — see `xueji.attendance.partitions`.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xueji.geo.models import Division
from xueji.schools.models import School, SchoolClass
from xueji.students.models import Student


class ClosureDay(models.Model):
    """A day a county closes its schools (weather, epidemics), or one school (set by its
    registrar): not a school day there."""

    county = models.ForeignKey(
        Division, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    school = models.ForeignKey(
        School, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    day = models.DateField(_("day"))
    reason = models.CharField(_("reason"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(county__isnull=True, school__isnull=False)
                | models.Q(county__isnull=False, school__isnull=True),
                name="closure_of_county_or_school",
            ),
            models.UniqueConstraint(
                fields=["county", "day"],
                condition=models.Q(county__isnull=False),
                name="one_closure_per_county_day",
            ),
            models.UniqueConstraint(
                fields=["school", "day"],
                condition=models.Q(school__isnull=False),
                name="one_closure_per_school_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.reason}"


class RollCall(models.Model):
    """The roll of one class on one day was taken (one row per class-day, not per child)."""

    id = models.BigAutoField(primary_key=True)
    school_class = models.ForeignKey(
        SchoolClass, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+", db_index=False)
    day = models.DateField()
    # Copied when taken: the children on the class's roll that day and those absent all day.
    enrolled = models.PositiveIntegerField(default=0)
    absent = models.PositiveIntegerField(default=0)
    source = models.CharField(max_length=8, default="page")  # page, api, csv
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    taken_at = models.DateTimeField(auto_now_add=True)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["day", "school_class"]
        constraints = [
            models.UniqueConstraint(fields=["school_class", "day"], name="one_roll_per_class_day"),
        ]
        indexes = [models.Index(fields=["school", "day"], name="roll_school_day")]

    def __str__(self) -> str:
        return f"{self.school_class_id} {self.day}"


class Reason(models.TextChoices):
    SICK = "sick", _("Sick leave (病假)")
    PERSONAL = "personal", _("Personal leave (事假)")
    UNEXCUSED = "unexcused", _("Unexcused (旷课)")
    OTHER = "other", _("Other")


class Symptom(models.TextChoices):
    """The morning and noon checks' (晨午检) symptom categories."""

    FEVER = "fever", _("Fever")
    COUGH = "cough", _("Cough")
    DIARRHOEA = "diarrhoea", _("Diarrhoea")
    VOMITING = "vomiting", _("Vomiting")
    RASH = "rash", _("Rash")
    CONJUNCTIVITIS = "conjunctivitis", _("Red eyes")
    INJURY = "injury", _("Injury")
    OTHER = "other", _("Other illness")


class Portion(models.TextChoices):
    FULL = "full", _("Whole day")
    MORNING = "am", _("Morning")
    AFTERNOON = "pm", _("Afternoon")
    LATE = "late", _("Late arrival")


class Absence(models.Model):
    """A child absent (whole or half day) or late on a day the class took the roll."""

    id = models.BigAutoField(primary_key=True)
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+", db_index=False)
    school_class = models.ForeignKey(
        SchoolClass, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+", db_index=False)
    day = models.DateField()
    portion = models.CharField(max_length=4, choices=Portion.choices, default=Portion.FULL)
    reason = models.CharField(max_length=10, choices=Reason.choices)
    symptom = models.CharField(max_length=16, choices=Symptom.choices, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["day", "school_class", "student"]
        constraints = [
            models.UniqueConstraint(fields=["student", "day"], name="one_absence_per_child_day"),
            models.CheckConstraint(
                condition=models.Q(reason__in=Reason.values), name="absence_reason_known"
            ),
            models.CheckConstraint(
                condition=models.Q(portion__in=Portion.values), name="absence_portion_known"
            ),
            models.CheckConstraint(
                condition=(models.Q(reason="sick") & ~models.Q(symptom=""))
                | (~models.Q(reason="sick") & models.Q(symptom="")),
                name="absence_symptom_when_sick",
            ),
            models.CheckConstraint(
                condition=~models.Q(reason="other") | ~models.Q(note=""),
                name="absence_other_has_note",
            ),
        ]
        indexes = [
            models.Index(fields=["school_class", "day"], name="absence_class_day"),
            models.Index(fields=["school", "day"], name="absence_school_day"),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} {self.day} {self.reason}"


class RollCorrection(models.Model):
    """A change of a class-day's roll after it was first taken: who, when, why (the registrar's
    late corrections need a reason)."""

    school_class = models.ForeignKey(SchoolClass, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=200, blank=True)
    late = models.BooleanField(default=False)
    before = models.JSONField(default=list)
    after = models.JSONField(default=list)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.school_class_id} {self.day} {self.at}"


class Guest(models.Model):
    """借读: a child registered at one school attending a class of another (present in its
    roll as a guest); shown to both counties."""

    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    school_class = models.ForeignKey(SchoolClass, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["student"],
                condition=models.Q(end_date__isnull=True),
                name="one_open_guest_per_student",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} @ {self.school_class_id} {self.start_date}"


class HollowPeriod(models.Model):
    """空挂: a record whose child attended no school day for a while (a setting), with no case
    and no suspension; flagged from `start_date`, cleared (end_date) when the child attends."""

    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["student", "start_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["student"],
                condition=models.Q(end_date__isnull=True),
                name="one_open_hollow_period_per_student",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} {self.start_date}–{self.end_date or ''}"


class ProvinceSettings(models.Model):
    """A province's dropout-control settings; a province without a row has the defaults
    (settings.XUEJI_ATTENDANCE)."""

    province = models.OneToOneField(
        Division, primary_key=True, on_delete=models.PROTECT, related_name="+"
    )
    unexcused_run_days = models.PositiveSmallIntegerField(_("unexcused days in a row"), default=3)
    unexcused_term_days = models.PositiveSmallIntegerField(
        _("unexcused days in a term"), default=10
    )
    returned_after_days = models.PositiveSmallIntegerField(
        _("school days attended in a row to count as returned"), default=10
    )
    hollow_after_days = models.PositiveSmallIntegerField(
        _("school days without attendance before a record is hollow"), default=20
    )
    cluster_children = models.PositiveSmallIntegerField(
        _("children of a class with one symptom to raise an alert"), default=3
    )
    cluster_days = models.PositiveSmallIntegerField(_("within days"), default=3)
    step_deadline_working_days = models.PositiveSmallIntegerField(
        _("working days for each step of a case"), default=10
    )
    graduate_grade = models.PositiveSmallIntegerField(
        _("last grade whose graduates are followed"), default=6
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(graduate_grade__in=[6, 9]), name="graduate_grade_6_or_9"
            ),
        ]

    def __str__(self) -> str:
        return str(self.province_id)


class ProvinceSettingsChange(models.Model):
    """One save of a province's settings on the page or the API: who, when, and each field's
    old → new value (`changes`: {field: [old, new]}). Never rewritten."""

    province = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    changes = models.JSONField(default=dict)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["province", "at"], name="settings_change_province_at")]

    def __str__(self) -> str:
        return f"{self.province_id} {self.at}"


class Trigger(models.TextChoices):
    UNEXCUSED_RUN = "unexcused_run", _("Unexcused days in a row")
    UNEXCUSED_TERM = "unexcused_term", _("Too many unexcused days in a term")
    LEFT_NOWHERE = "left_nowhere", _("Left a school with no receiving school")
    GRADUATE_UNADMITTED = "graduate_unadmitted", _("Graduate admitted nowhere")
    UNRECORDED = "unrecorded", _("In the population roll with no record")
    HOLLOW = "hollow", _("Hollow record (空挂)")


class CaseState(models.TextChoices):
    OPEN = "open", _("Open")
    LOST_CONTACT = "lost_contact", _("Open, contact lost")
    DROPPED_OUT = "dropped_out", _("Dropped out (辍学, confirmed by the county)")
    CLOSED = "closed", _("Closed")


OPEN_CASE_STATES = (CaseState.OPEN, CaseState.LOST_CONTACT, CaseState.DROPPED_OUT)


class CaseEnd(models.TextChoices):
    """The only ways a case ends (lost contact is none of them)."""

    RETURNED = "returned", _("Returned to school")
    TRANSFERRED = "transferred", _("Transferred (a receiving school accepted)")
    SPECIAL_SCHOOL = "special_school", _("Placed in a special-education school")
    HOME_TEACHING = "home_teaching", _("Taught at home by visiting teachers (送教上门)")
    EXEMPTED = "exempted", _("Exempted or deferred by the county (health)")
    ABROAD = "abroad", _("Moved abroad with evidence")
    DECEASED = "deceased", _("Deceased")


class Level(models.TextChoices):
    SCHOOL = "school", _("School")
    COUNTY = "county", _("County")
    CITY = "city", _("City")
    PROVINCE = "province", _("Province")


class DropoutCase(models.Model):
    """A dropout-control case (控辍保学): a child of compulsory age who is not in school."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    student = models.ForeignKey(
        Student, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The child of the population roll with no record (identity's roll entry id).
    reference = models.CharField(max_length=64, blank=True)
    name = models.CharField(_("name"), max_length=64)
    sex = models.CharField(_("sex"), max_length=1, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    school = models.ForeignKey(
        School, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    county = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    trigger = models.CharField(_("opened because"), max_length=24, choices=Trigger.choices)
    opened_on = models.DateField(_("opened on"))
    state = models.CharField(max_length=16, choices=CaseState.choices, default=CaseState.OPEN)
    end = models.CharField(max_length=16, choices=CaseEnd.choices, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deadline = models.DateField(_("next step due"))
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.SCHOOL)
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="relapses"
    )
    dropout_confirmed_on = models.DateField(null=True, blank=True)
    decision = models.CharField(_("county decision"), max_length=200, blank=True)
    evidence = models.CharField(_("evidence"), max_length=200, blank=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-opened_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["student"],
                condition=models.Q(student__isnull=False)
                & models.Q(state__in=["open", "lost_contact", "dropped_out"]),
                name="one_open_case_per_student",
            ),
            models.UniqueConstraint(
                fields=["reference"],
                condition=~models.Q(reference="")
                & models.Q(state__in=["open", "lost_contact", "dropped_out"]),
                name="one_open_case_per_roll_entry",
            ),
            models.CheckConstraint(
                condition=models.Q(student__isnull=False) | ~models.Q(reference=""),
                name="case_of_student_or_roll_entry",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(state="closed") & ~models.Q(end="") & models.Q(closed_on__isnull=False)
                )
                | (~models.Q(state="closed") & models.Q(end="") & models.Q(closed_on__isnull=True)),
                name="case_closed_with_an_end",
            ),
            models.CheckConstraint(
                condition=models.Q(end__in=["", *CaseEnd.values]), name="case_end_known"
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=CaseState.values), name="case_state_known"
            ),
        ]
        indexes = [
            models.Index(fields=["county", "state"], name="case_county_state"),
            models.Index(fields=["school", "state"], name="case_school_state"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.get_trigger_display()} {self.opened_on}"


class StepKind(models.TextChoices):
    CALL = "call", _("Phone call")
    HOME_VISIT = "home_visit", _("Home visit with the village or community committee")
    LETTER = "letter", _("Letter to the guardian")
    MEETING = "meeting", _("Meeting at school")
    ESCALATED = "escalated", _("Escalated to the level above")
    NOTE = "note", _("Note")


class StepOutcome(models.TextChoices):
    REACHED = "reached", _("Reached the family")
    PROMISED = "promised", _("Promised to return")
    REFUSED = "refused", _("Refused")
    LOST_CONTACT = "lost_contact", _("Contact lost")
    NONE = "none", _("No outcome")


class CaseStep(models.Model):
    case = models.ForeignKey(DropoutCase, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(max_length=12, choices=StepKind.choices)
    on = models.DateField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=16, choices=StepOutcome.choices, default=StepOutcome.NONE)
    committee = models.CharField(_("village or community committee"), max_length=100, blank=True)
    note = models.CharField(max_length=300, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case", "recorded_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.on}"


class SymptomAlert(models.Model):
    """Several children of one class with the same symptom within a few days."""

    school_class = models.ForeignKey(SchoolClass, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    symptom = models.CharField(max_length=16, choices=Symptom.choices)
    first_day = models.DateField()
    last_day = models.DateField()
    children = models.PositiveIntegerField()
    raised_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-last_day"]
        constraints = [
            models.UniqueConstraint(
                fields=["school_class", "symptom", "first_day"], name="one_alert_per_cluster"
            )
        ]

    def __str__(self) -> str:
        return f"{self.school_class_id} {self.symptom} {self.first_day}–{self.last_day}"


# ---- school buses ----------------------------------------------------------------------------


class BusRoute(models.Model):
    """A school bus route: a school's, or the county's where the county runs the buses (its
    children may come from any school of the county). The monitor (随车照管人员) is the teacher
    the school designates; any teacher of the school may stand in, and every check names who
    made it. The driver is named, not an account."""

    school = models.ForeignKey(
        School, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    county = models.ForeignKey(
        Division, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("route"), max_length=100)
    vehicle = models.CharField(_("vehicle plate"), max_length=20, blank=True)
    driver = models.CharField(_("driver"), max_length=64, blank=True)
    monitor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("bus monitor"),
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(county__isnull=True, school__isnull=False)
                | models.Q(county__isnull=False, school__isnull=True),
                name="bus_route_of_school_or_county",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class BusStop(models.Model):
    route = models.ForeignKey(BusRoute, on_delete=models.CASCADE, related_name="stops")
    order = models.PositiveSmallIntegerField(_("order"))
    name = models.CharField(_("stop"), max_length=100)
    morning_at = models.TimeField(_("morning pick-up"), null=True, blank=True)
    afternoon_at = models.TimeField(_("afternoon drop-off"), null=True, blank=True)

    class Meta:
        ordering = ["route", "order"]
        constraints = [
            models.UniqueConstraint(fields=["route", "order"], name="one_stop_per_route_order")
        ]

    def __str__(self) -> str:
        return self.name


class BusRider(models.Model):
    """A child assigned to a route and stop from `start_date` (until `end_date`)."""

    route = models.ForeignKey(BusRoute, on_delete=models.PROTECT, related_name="riders")
    stop = models.ForeignKey(BusStop, on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["route", "stop__order", "student"]
        constraints = [
            models.UniqueConstraint(
                fields=["student"],
                condition=models.Q(end_date__isnull=True),
                name="one_open_bus_rider_per_student",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} @ {self.route_id}"


class BusTrip(models.TextChoices):
    MORNING = "am", _("Morning, to school")
    AFTERNOON = "pm", _("Afternoon, home")


class BusCheck(models.Model):
    """The boarding check of a route's trip on a day was made (a child not boarded is then
    known not to have boarded, as a class-day's roll says who is present)."""

    route = models.ForeignKey(BusRoute, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    trip = models.CharField(max_length=2, choices=BusTrip.choices)
    source = models.CharField(max_length=8, default="page")  # page, reader
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-day", "route", "trip"]
        constraints = [
            models.UniqueConstraint(fields=["route", "day", "trip"], name="one_bus_check_per_trip"),
            models.CheckConstraint(
                condition=models.Q(trip__in=BusTrip.values), name="bus_check_trip_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.route_id} {self.day} {self.trip}"


class Boarding(models.Model):
    """A child boarded a route's bus on a trip (one row per child, day and trip)."""

    id = models.BigAutoField(primary_key=True)
    route = models.ForeignKey(BusRoute, on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    trip = models.CharField(max_length=2, choices=BusTrip.choices)
    at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=8, default="page")

    class Meta:
        ordering = ["day", "trip", "route", "student"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "day", "trip"], name="one_boarding_per_child_trip"
            ),
            models.CheckConstraint(
                condition=models.Q(trip__in=BusTrip.values), name="boarding_trip_known"
            ),
        ]
        indexes = [models.Index(fields=["route", "day"], name="boarding_route_day")]

    def __str__(self) -> str:
        return f"{self.student_id} {self.day} {self.trip}"


class BusFlagKind(models.TextChoices):
    BOARDED_ABSENT = "boarded_absent", _("Boarded in the morning, not in class")
    MISSED_HOME = "missed_home", _("In class, did not board home")


class BusFlag(models.Model):
    """Raised at once when the roll and the boarding check disagree; shown to the class
    teacher and the principal; gone when a correction of either clears it."""

    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    school_class = models.ForeignKey(SchoolClass, on_delete=models.PROTECT, related_name="+")
    route = models.ForeignKey(BusRoute, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    kind = models.CharField(max_length=16, choices=BusFlagKind.choices)
    raised_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "school_class", "student"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "day", "kind"], name="one_bus_flag_per_child_day_kind"
            ),
        ]
        indexes = [models.Index(fields=["school", "day"], name="bus_flag_school_day")]

    def __str__(self) -> str:
        return f"{self.student_id} {self.day} {self.kind}"
