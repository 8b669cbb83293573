import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from xueji.core import codes
from xueji.geo.models import Division
from xueji.schools.models import MAX_GRADE, MIN_GRADE, School, SchoolClass
from xueji.students.identity import STUDENT_ID_NUMBER, STUDENT_NUMBER, unseal


class RecordState(models.TextChoices):
    """学籍状态 (DOMAIN §4)."""

    ENROLLED = "enrolled", _("Enrolled")
    SUSPENDED = "suspended", _("Suspended")
    TRANSFERRING = "transferring", _("Transfer under way")
    GRADUATED = "graduated", _("Graduated")
    COMPLETED = "completed", _("Completed (结业)")
    INCOMPLETE = "incomplete", _("Left before completing (肄业)")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    DROPPED_OUT = "dropped_out", _("Dropped out")
    ABROAD = "abroad", _("Gone abroad")
    DECEASED = "deceased", _("Deceased")
    LEFT_OTHER = "left_other", _("Left school (other)")
    # One child registered twice (一人多籍): this record was merged into the surviving one
    # (xueji.identity). Neither an exit nor a dropout: the child is counted on the survivor.
    MERGED = "merged", _("Merged into the child's other record")
    # County review of a new registration (县级审核, where the province requires it): the record
    # exists, with no student number and no placement, until the county approves it; a
    # registration the registrar withdraws keeps its history but holds no document any more.
    PENDING_REVIEW = "pending_review", _("Waiting for the county's review")
    REGISTRATION_WITHDRAWN = "reg_withdrawn", _("Registration withdrawn")


# States in which the child is on a school's roll and counted there.
ON_ROLL_STATES = (RecordState.ENROLLED, RecordState.SUSPENDED, RecordState.TRANSFERRING)
# States that are no exit of a child: a merged record is the same child counted on its survivor.
NOT_AN_EXIT_STATES = (RecordState.MERGED,)
# States of a registration that never reached a school's roll: no number, no placement.
UNREGISTERED_STATES = (RecordState.PENDING_REVIEW, RecordState.REGISTRATION_WITHDRAWN)


class NumberKind(models.TextChoices):
    G = "G", _("Formal number (resident ID)")
    L = "L", _("Temporary number")
    J = "J", _("Number for a child without a resident ID")


class Student(models.Model):
    """A child's status record (学籍): the person's basic information under one lifelong number."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The lifelong number, sealed; see xueji.students.identity.
    number_masked = models.CharField(_("student number"), max_length=19)
    number_sealed = models.TextField()
    number_index = models.CharField(max_length=32)
    # Empty while a registration waits for the county's review (县级审核): no number yet.
    number_kind = models.CharField(max_length=1, choices=NumberKind.choices, blank=True)

    # Basic information (基础学籍信息): national, changed only through a key-data correction.
    name = models.CharField(_("name"), max_length=64)
    name_pinyin = models.CharField(max_length=256)
    name_initials = models.CharField(max_length=64)
    sex = models.CharField(_("sex"), max_length=1, choices=codes.Sex.choices)
    birth_date = models.DateField(_("birth date"))
    birthplace = models.ForeignKey(
        Division,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("birthplace"),
    )
    native_place = models.ForeignKey(
        Division,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,
        verbose_name=_("native place"),
    )
    ethnicity = models.CharField(_("ethnicity"), max_length=2, choices=codes.ETHNICITY_CHOICES)
    nationality = models.CharField(_("nationality or region"), max_length=3, default="CHN")
    id_doc_type = models.CharField(
        _("identity document type"), max_length=1, choices=codes.IdDocType.choices
    )
    id_number_masked = models.CharField(_("identity document number"), max_length=32, blank=True)
    id_number_sealed = models.TextField(blank=True)
    id_number_index = models.CharField(max_length=32, blank=True)
    overseas_status = models.CharField(
        _("Hong Kong, Macao, Taiwan, overseas Chinese or foreign"),
        max_length=2,
        choices=codes.OverseasStatus.choices,
        default=codes.OverseasStatus.NO,
    )
    health = models.CharField(
        _("health"), max_length=2, choices=codes.Health.choices, default=codes.Health.GOOD
    )
    hukou_division = models.ForeignKey(
        Division,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,
        verbose_name=_("household registration place"),
    )
    hukou_nature = models.CharField(
        _("household registration type"), max_length=1, choices=codes.HukouNature.choices
    )

    # Other information (非基础), set per province; the registrar may edit it directly.
    former_name = models.CharField(_("former name"), max_length=64, blank=True)
    address = models.CharField(_("home address"), max_length=200, blank=True)
    phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    attendance_mode = models.CharField(
        _("attendance"),
        max_length=1,
        choices=codes.AttendanceMode.choices,
        default=codes.AttendanceMode.DAY,
    )
    entry_method = models.CharField(
        _("entry method"),
        max_length=1,
        choices=codes.EntryMethod.choices,
        default=codes.EntryMethod.NEARBY,
    )
    only_child = models.BooleanField(_("only child"), default=False)
    attended_preschool = models.BooleanField(_("attended preschool"), default=True)
    left_behind = models.CharField(
        _("left-behind child"),
        max_length=1,
        choices=codes.LeftBehind.choices,
        default=codes.LeftBehind.NO,
    )
    migrant_child = models.BooleanField(_("child of a migrant worker"), default=False)
    orphan = models.BooleanField(_("orphan"), default=False)
    martyr_family = models.BooleanField(_("child of a martyr or veteran family"), default=False)
    inclusive_education = models.BooleanField(_("learning in a regular class"), default=False)
    disability_type = models.CharField(
        _("disability"),
        max_length=1,
        choices=codes.DisabilityType.choices,
        default=codes.DisabilityType.NONE,
    )
    needs_aid = models.BooleanField(_("needs financial aid"), default=False)
    needs_school_bus = models.BooleanField(_("needs the school bus"), default=False)

    # The record (学籍) itself.
    state = models.CharField(
        _("status"), max_length=16, choices=RecordState.choices, default=RecordState.ENROLLED
    )
    # The school that holds the record now (the open placement's school, or the last one).
    # A copy kept by the placement services, so that scope checks are one indexed equality.
    school = models.ForeignKey(
        School,
        on_delete=models.PROTECT,
        related_name="students",
        db_index=False,  # led by the (school, state) index
        verbose_name=_("school"),
    )
    # The record this one was merged into (一人多籍, xueji.identity); null otherwise.
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_records"
    )
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name_pinyin", "id"]
        constraints = [
            # A registration waiting for the county's review has no number yet (empty).
            models.UniqueConstraint(
                fields=["number_index"],
                condition=~models.Q(number_index=""),
                name="one_record_per_number",
            ),
            # One person, one record: a document number is held by one record nationally.
            models.UniqueConstraint(
                fields=["id_doc_type", "id_number_index"],
                condition=~models.Q(id_number_index=""),
                name="one_record_per_document",
            ),
            models.CheckConstraint(
                condition=models.Q(number_masked__regex=r"^[GJL][0-9]{6}[*]{8}[0-9]{3}[0-9X]$")
                | models.Q(
                    number_masked="",
                    number_index="",
                    number_kind="",
                    state__in=["pending_review", "reg_withdrawn"],
                ),
                name="student_number_format",
            ),
            models.CheckConstraint(
                condition=models.Q(number_kind="G", id_doc_type="1")
                | (models.Q(number_kind="J") & ~models.Q(id_doc_type="1"))
                | models.Q(number_kind="L")
                | models.Q(number_kind=""),
                name="number_kind_matches_document",
            ),
            models.CheckConstraint(
                condition=~models.Q(id_doc_type="Z") | models.Q(id_number_index=""),
                name="no_document_no_number",
            ),
        ]
        # Pattern-ops indexes serve both equality and prefix (LIKE 'abc%') search on PostgreSQL;
        # elsewhere they are plain indexes.
        indexes = [
            models.Index(fields=["school", "state"], name="student_school_state"),
            models.Index(fields=["name"], opclasses=["varchar_pattern_ops"], name="student_name"),
            models.Index(
                fields=["name_pinyin"], opclasses=["varchar_pattern_ops"], name="student_pinyin"
            ),
            models.Index(
                fields=["name_initials"],
                opclasses=["varchar_pattern_ops"],
                name="student_initials",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.number_masked})"

    def reveal_student_number(self) -> str:
        """The plain number. Callers showing it to a person must audit it (selectors do)."""
        return unseal(self.number_sealed, context=STUDENT_NUMBER)

    def reveal_id_number(self) -> str:
        return unseal(self.id_number_sealed, context=STUDENT_ID_NUMBER)


class StudentNumberAlias(models.Model):
    """A number the student held before; it keeps resolving to the same record (终身不变)."""

    number_index = models.CharField(max_length=32, unique=True)
    # The former number sealed, so that its index can be recomputed under another suite
    # (xueji.students.sealing). Empty for aliases made before it was kept: `xueji rotate_keys`
    # recovers those from the masked number, the birth date and the index itself.
    number_sealed = models.TextField(blank=True, default="")
    number_masked = models.CharField(max_length=19)
    kind = models.CharField(max_length=1, choices=NumberKind.choices)
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="former_numbers")
    retired_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.number_masked


class NumberSequence(models.Model):
    """The last sequence handed out for a J-number prefix (area code + birth date), or for an
    L-number prefix ("L" + area code + birth date: four digits)."""

    prefix = models.CharField(max_length=15, primary_key=True)
    last_value = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last_value__lte=999)
                | models.Q(prefix__startswith="L", last_value__lte=9999),
                name="sequence_digits",
            )
        ]

    def __str__(self) -> str:
        return f"{self.prefix}: {self.last_value}"


class FamilyMember(models.Model):
    """A family member or guardian; a member who is missing is recorded with the reason."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    student = models.ForeignKey(
        Student,
        on_delete=models.CASCADE,
        related_name="family",
        db_index=False,  # led by the (student, ordinal) unique index
    )
    ordinal = models.PositiveSmallIntegerField()
    relation = models.CharField(_("relation"), max_length=2, choices=codes.Relation.choices)
    name = models.CharField(_("name"), max_length=64, blank=True)
    id_doc_type = models.CharField(
        _("identity document type"), max_length=1, choices=codes.IdDocType.choices, blank=True
    )
    id_number_masked = models.CharField(_("identity document number"), max_length=32, blank=True)
    id_number_sealed = models.TextField(blank=True)
    id_number_index = models.CharField(max_length=32, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    employer = models.CharField(_("employer"), max_length=128, blank=True)
    is_guardian = models.BooleanField(_("guardian"), default=False)
    missing_reason = models.CharField(
        _("reason missing"), max_length=16, choices=codes.MissingReason.choices, blank=True
    )

    class Meta:
        ordering = ["student", "ordinal"]
        constraints = [
            models.UniqueConstraint(fields=["student", "ordinal"], name="family_member_ordinal"),
            models.CheckConstraint(
                condition=(~models.Q(name="") & models.Q(missing_reason=""))
                | (models.Q(name="") & ~models.Q(missing_reason="") & models.Q(is_guardian=False)),
                name="family_member_named_or_missing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_relation_display()} {self.name or self.get_missing_reason_display()}"


class PlacementReason(models.TextChoices):
    """Why a placement opened: the one list every writer and every statistic reads."""

    REGISTRATION = "registration", _("New registration")
    INTAKE = "intake", _("Admission to the next stage")
    TRANSFER = "transfer", _("Transfer")
    CLASS_CHANGE = "class_change", _("Class change")
    PROMOTION = "promotion", _("Promotion to the next grade")
    # The whole school merged into another (整体并入): the child stays where it sits, only the
    # school's name changes; neither a transfer nor an exit, nor a new entrant.
    SCHOOL_MERGE = "school_merge", _("School merged into another")
    # Two records of one child merged (一人多籍, xueji.identity): the child's place at the school
    # it really attends, carried onto the surviving record; neither a transfer, an exit, a
    # dropout nor a new entrant.
    DUPLICATE_MERGE = "duplicate_merge", _("Two records of one child merged")


# Placements that bring a child into the registry or into a new stage: the new entrants (新生).
ENTRY_REASONS = (PlacementReason.REGISTRATION, PlacementReason.INTAKE)


class Placement(models.Model):
    """Where the record sat from `start_date` until the day before `end_date` (open if null)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    student = models.ForeignKey(
        Student, on_delete=models.PROTECT, related_name="placements", db_index=False
    )
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="placements", db_index=False
    )
    school_class = models.ForeignKey(
        SchoolClass, on_delete=models.PROTECT, related_name="placements"
    )
    grade = models.SmallIntegerField()
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=32, choices=PlacementReason.choices)

    class Meta:
        ordering = ["student", "start_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["student"],
                condition=models.Q(end_date__isnull=True),
                name="one_open_placement_per_student",
            ),
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="placement_dates_order",
            ),
            models.CheckConstraint(
                condition=models.Q(grade__gte=MIN_GRADE, grade__lte=MAX_GRADE),
                name="placement_grade_range",
            ),
            models.CheckConstraint(
                condition=models.Q(reason__in=PlacementReason.values),
                name="placement_reason_known",
            ),
        ]
        indexes = [
            models.Index(fields=["student", "start_date"], name="placement_student_start"),
            models.Index(fields=["school", "start_date"], name="placement_school_start"),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} @ {self.school_id} {self.start_date}–{self.end_date or ''}"


class EventKind(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    NUMBER_CHANGED = "number_changed", _("Student number changed")
    INFO_UPDATED = "info_updated", _("Other information updated")
    KEY_DATA_CORRECTED = "key_data_corrected", _("Basic information corrected")
    # Changes of status (学籍异动). An exit event is named as the state it leaves the record in,
    # so that statistics date an exit by the event of the record's current state.
    TRANSFERRED = "transferred", _("Transferred to another school")
    CLASS_CHANGED = "class_changed", _("Moved to another class")
    SUSPENDED = "suspended", _("Suspended")
    RESUMED = "resumed", _("Resumed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    DROPPED_OUT = "dropped_out", _("Dropped out")
    ABROAD = "abroad", _("Gone abroad")
    DECEASED = "deceased", _("Deceased")
    REPEATED = "repeated", _("Repeats the grade")
    SKIPPED = "skipped", _("Skipped a grade")
    # The school year (DOMAIN §6).
    PROMOTED = "promoted", _("Promoted to the next grade")
    PROMOTION_REVERSED = "promotion_reversed", _("Promotion reversed")
    GRADUATED = "graduated", _("Graduated")
    COMPLETED = "completed", _("Completed (结业)")
    INCOMPLETE = "incomplete", _("Left before completing (肄业)")
    ADMITTED = "admitted", _("Admitted to the next stage")
    SCHOOL_MERGED = "school_merged", _("School merged into another (整体并入)")
    # 一人多籍 (xueji.identity): on the survivor and on the record merged into it.
    DUPLICATE_MERGED = "duplicate_merged", _("Another record of the child merged into this one")
    MERGED_AWAY = "merged_away", _("Merged into the child's other record")
    MERGE_UNDONE = "merge_undone", _("Merge of two records undone")
    # County review of a new registration (县级审核).
    REGISTRATION_SUBMITTED = (
        "registration_submitted",
        _("Registration sent for the county's review"),
    )
    REGISTRATION_RETURNED = "registration_returned", _("Registration returned by the county")
    REGISTRATION_RESUBMITTED = "registration_resubmitted", _("Registration corrected and resent")
    REGISTRATION_WITHDRAWN = "registration_withdrawn", _("Registration withdrawn")


class RecordEvent(models.Model):
    """The record's own history: appended, never rewritten."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    student = models.ForeignKey(
        Student, on_delete=models.PROTECT, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    occurred_on = models.DateField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["student", "recorded_at"]
        indexes = [models.Index(fields=["student", "recorded_at"], name="event_student_time")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_on}"


class NationalClaim(models.Model):
    """A fact that may hold only once in the country (one aid payment per child and term),
    claimed through the national interface (xueji.students.national); kept here while this
    database answers for the nation."""

    purpose = models.CharField(max_length=32)
    key = models.CharField(max_length=128)
    holder = models.CharField(max_length=128)
    claimed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["purpose", "key"], name="one_national_claim_per_key")
        ]

    def __str__(self) -> str:
        return f"{self.purpose}:{self.key}"


class ReviewState(models.TextChoices):
    WAITING = "waiting", _("Waiting for the county")
    RETURNED = "returned", _("Returned to the school")
    APPROVED = "approved", _("Approved: number issued")
    WITHDRAWN = "withdrawn", _("Withdrawn by the school")


class RegistrationReview(models.Model):
    """The county's review of a new registration (县级审核) where the province requires it: the
    class and start date the registrar chose (the placement opens on approval), the county that
    reviews, and where the review stands. Its history is the record's events and the audit."""

    student = models.OneToOneField(
        Student, on_delete=models.PROTECT, primary_key=True, related_name="registration_review"
    )
    county_code = models.CharField(max_length=6)
    school_class = models.ForeignKey(SchoolClass, on_delete=models.PROTECT, related_name="+")
    start_date = models.DateField()
    age_note = models.CharField(max_length=500, blank=True)
    state = models.CharField(
        _("review"), max_length=16, choices=ReviewState.choices, default=ReviewState.WAITING
    )
    # The county's reason when it returns the registration (or the registrar's on withdrawal).
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    rounds = models.PositiveSmallIntegerField(default=1)
    submitted_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["submitted_at"]
        indexes = [models.Index(fields=["county_code", "state"], name="review_county_state")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(state="returned") | ~models.Q(reason=""),
                name="returned_review_has_reason",
            )
        ]

    def __str__(self) -> str:
        return f"{self.student_id}: {self.state}"
