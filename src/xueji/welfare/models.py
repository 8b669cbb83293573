"""The welfare app's tables: funding rates and census dates, student aid (programmes, need,
applications, awards, payments, family lists), nutrition meals, and the consistency findings.

Money is integer fen everywhere (`*_fen` columns); nothing is a float.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from xueji.geo.models import Division
from xueji.schools.models import School, Term
from xueji.students.models import FamilyMember, Student

# ---- per-student funding (生均公用经费) ----------------------------------------------------


class Stage(models.TextChoices):
    """The stage a funded pupil is counted in, by grade (1–6 primary, 7–9 junior, 10–12
    senior; kindergarten is not funded per pupil here)."""

    PRIMARY = "primary", _("Primary (小学)")
    JUNIOR = "junior", _("Junior high (初中)")
    SENIOR = "senior", _("Senior high (高中)")


class RateComponent(models.TextChoices):
    BENCHMARK = "benchmark", _("National benchmark (基准定额)")
    TOPUP = "topup", _("Provincial top-up (省级提高部分)")
    BOARDING = "boarding", _("Boarding pupil extra (寄宿生)")
    SPECIAL = "special", _("Special education extra (特殊教育)")


class FundingRate(models.Model):
    """One dated rate per year and pupil, in fen: in force from `valid_from` until the next row
    of the same province, stage and component. Rows are never edited: a change is a new row,
    so that every past census is computed with the rates of its day (history)."""

    province = models.ForeignKey(
        Division,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("province"),
        help_text=_("Empty for the nation (the benchmark, or a national default)."),
    )
    stage = models.CharField(_("stage"), max_length=8, choices=Stage.choices)
    component = models.CharField(_("component"), max_length=12, choices=RateComponent.choices)
    yearly_fen = models.PositiveIntegerField(_("per pupil per year (fen)"))
    valid_from = models.DateField(_("valid from"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["province_id", "stage", "component", "-valid_from"]
        constraints = [
            # One rate a day per province, and one national rate (no province) a day: two
            # partial constraints, which SQLite keeps too (it has no NULLS NOT DISTINCT).
            models.UniqueConstraint(
                fields=["province", "stage", "component", "valid_from"],
                condition=models.Q(province__isnull=False),
                name="welfare_one_rate_per_day",
            ),
            models.UniqueConstraint(
                fields=["stage", "component", "valid_from"],
                condition=models.Q(province__isnull=True),
                name="welfare_one_national_rate_per_day",
            ),
            models.CheckConstraint(
                condition=~models.Q(component="topup") | models.Q(province__isnull=False),
                name="welfare_topup_is_provincial",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.province_id or 'CN'} {self.stage} {self.component} {self.yearly_fen}"


class CensusDate(models.Model):
    """The day a term's allocation counts the enrolled pupils (a setting per term)."""

    term = models.OneToOneField(Term, on_delete=models.PROTECT, related_name="+")
    census_on = models.DateField(_("census date"))

    class Meta:
        ordering = ["census_on"]
        constraints = [
            models.UniqueConstraint(fields=["census_on"], name="welfare_one_term_per_census")
        ]

    def __str__(self) -> str:
        return f"{self.term} {self.census_on}"


# ---- student aid (学生资助) ---------------------------------------------------------------


class AidCategory(models.TextChoices):
    MINIMUM_LIVING = "dibao", _("Minimum living allowance (低保)")
    EXTREME_POVERTY = "tekun", _("Extreme poverty support (特困供养)")
    ORPHAN = "orphan", _("Orphan (孤儿)")
    DISABLED = "disabled", _("Disability (残疾)")
    LIFTED = "lifted", _("Family lifted out of poverty (脱贫家庭)")
    MONITORED = "monitored", _("Monitored for relapse (防返贫监测)")
    OTHER = "other", _("Other hardship (其他困难)")


class PaymentMode(models.TextChoices):
    GUARDIAN_ACCOUNT = "guardian_account", _("Guardian's bank account")
    CHILD_CARD = "child_card", _("Child's own card")
    ONE_CARD = "one_card", _("One-card social benefits account (一卡通)")
    IN_KIND = "in_kind", _("In kind (textbooks, meals)")


class AidProgramme(models.Model):
    """A programme of the ministry (province empty) or of a province."""

    name = models.CharField(_("name"), max_length=100)
    province = models.ForeignKey(
        Division,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("province"),
    )
    stages = models.JSONField(_("stages"), default=list)
    categories = models.JSONField(_("eligibility categories"), default=list)
    term_fen = models.PositiveIntegerField(_("amount per term (fen)"))
    payment_mode = models.CharField(_("payment mode"), max_length=20, choices=PaymentMode.choices)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["province_id", "name"]
        constraints = [
            # A name once per province, and once among the ministry's programmes (no province).
            models.UniqueConstraint(
                fields=["province", "name"],
                condition=models.Q(province__isnull=False),
                name="welfare_programme_name",
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(province__isnull=True),
                name="welfare_national_programme_name",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AidQuota(models.Model):
    """How many children of a county a programme may help per term."""

    programme = models.ForeignKey(AidProgramme, on_delete=models.CASCADE, related_name="quotas")
    county = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    places = models.PositiveIntegerField(_("places per term"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["programme", "county"], name="welfare_one_quota")
        ]

    def __str__(self) -> str:
        return f"{self.programme} {self.county_id} {self.places}"


class NeedState(models.TextChoices):
    APPLIED = "applied", _("Family applied")
    ASSESSED = "assessed", _("Assessed by the school")
    NOTICED = "noticed", _("On public notice")
    APPROVED = "approved", _("Approved by the county")
    REJECTED = "rejected", _("Rejected")


class NeedAssessment(models.Model):
    """困难学生认定: the family's application, the school's assessment group, the public notice
    (no private details), the county's approval. Valid for an academic year."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    start_year = models.PositiveSmallIntegerField(_("academic year"))
    category = models.CharField(_("category"), max_length=12, choices=AidCategory.choices)
    family_statement = models.CharField(_("family's application"), max_length=500)
    assessment = models.CharField(_("assessment group's finding"), max_length=500, blank=True)
    notice_from = models.DateField(_("public notice from"), null=True, blank=True)
    state = models.CharField(max_length=10, choices=NeedState.choices, default=NeedState.APPLIED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "start_year"],
                condition=~models.Q(state="rejected"),
                name="welfare_one_need_per_year",
            )
        ]

    def __str__(self) -> str:
        return f"{self.student_id} {self.start_year} {self.state}"


class ApplicationState(models.TextChoices):
    FILED = "filed", _("Filed by the school")
    APPROVED = "approved", _("Approved by the county")
    REJECTED = "rejected", _("Rejected by the county")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class AidApplication(models.Model):
    """The school applies for a child in a programme and term, with evidence."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    programme = models.ForeignKey(AidProgramme, on_delete=models.PROTECT, related_name="+")
    term = models.ForeignKey(Term, on_delete=models.PROTECT, related_name="+")
    need = models.ForeignKey(NeedAssessment, on_delete=models.PROTECT, related_name="+")
    payee = models.ForeignKey(
        FamilyMember, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    account_masked = models.CharField(_("account"), max_length=32, blank=True)
    account_sealed = models.TextField(blank=True)
    account_index = models.CharField(max_length=64, blank=True)
    evidence = models.CharField(_("evidence"), max_length=500)
    state = models.CharField(
        max_length=10, choices=ApplicationState.choices, default=ApplicationState.FILED
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "programme", "term", "school"],
                condition=models.Q(state="filed"),
                name="welfare_one_open_application",
            )
        ]

    def __str__(self) -> str:
        return f"{self.student_id} {self.programme_id} {self.term_id} {self.state}"


class AidAward(models.Model):
    """Aid granted to one child in one programme for one term: at most once in the country
    (this unique constraint, and the national claim taken in the same transaction)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    programme = models.ForeignKey(AidProgramme, on_delete=models.PROTECT, related_name="+")
    term = models.ForeignKey(Term, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    application = models.ForeignKey(
        AidApplication, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    carried_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amount_fen = models.PositiveIntegerField()
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "programme", "term"], name="welfare_one_aid_per_term"
            )
        ]

    def __str__(self) -> str:
        return f"{self.student_id} {self.programme_id} {self.term_id}"


class PaymentState(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent to the bank")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")
    RETURNED = "returned", _("Returned")
    IN_KIND = "in_kind", _("Given in kind")


class AidPayment(models.Model):
    """The payment of an award, to a guardian on the record (or the child's own card)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    award = models.ForeignKey(AidAward, on_delete=models.PROTECT, related_name="payments")
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    programme = models.ForeignKey(AidProgramme, on_delete=models.PROTECT, related_name="+")
    term = models.ForeignKey(Term, on_delete=models.PROTECT, related_name="+")
    county = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    mode = models.CharField(max_length=20, choices=PaymentMode.choices)
    payee = models.ForeignKey(
        FamilyMember, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payee_name = models.CharField(max_length=64, blank=True)
    account_masked = models.CharField(max_length=32, blank=True)
    account_sealed = models.TextField(blank=True)
    amount_fen = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=PaymentState.choices)
    paid_on = models.DateField(null=True, blank=True)
    bank_reference = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["term", "programme"], name="welfare_payment_term")]

    def __str__(self) -> str:
        return f"{self.award_id} {self.state}"


class FamilyListEntry(models.Model):
    """One person of a civil-affairs or rural-revitalisation list a county loaded (应助尽助):
    the ID number kept only as the blind index and the masked form."""

    county = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    category = models.CharField(max_length=12, choices=AidCategory.choices)
    name = models.CharField(max_length=64)
    id_number_masked = models.CharField(max_length=32)
    id_number_index = models.CharField(max_length=64)
    loaded_at = models.DateTimeField(db_default=Now())
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["county", "category", "id_number_index"], name="welfare_one_list_entry"
            )
        ]
        indexes = [models.Index(fields=["id_number_index"], name="welfare_list_index")]

    def __str__(self) -> str:
        return f"{self.county_id} {self.category} {self.id_number_masked}"


# ---- nutrition meals (营养改善计划) -------------------------------------------------------


class MealCounty(models.Model):
    """A county in the nutrition programme: its compulsory schools of the listed urban–rural
    classifications are programme schools from `since`."""

    county = models.OneToOneField(Division, on_delete=models.PROTECT, related_name="+")
    since = models.DateField()
    urban_rural = models.JSONField(default=list)

    def __str__(self) -> str:
        return self.county_id


class MealRate(models.Model):
    """The subsidy per child per school day, in fen (a dated national setting)."""

    daily_fen = models.PositiveIntegerField()
    valid_from = models.DateField(unique=True)

    class Meta:
        ordering = ["-valid_from"]

    def __str__(self) -> str:
        return f"{self.valid_from} {self.daily_fen}"


class MealDay(models.Model):
    """One school's canteen on one day: what was served, who ate, who ate with the pupils."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    menu = models.CharField(_("menu"), max_length=300)
    companions = models.CharField(_("teachers eating with the pupils (陪餐)"), max_length=200)
    daily_fen = models.PositiveIntegerField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["school", "day"], name="welfare_one_meal_day")
        ]

    def __str__(self) -> str:
        return f"{self.school_id} {self.day}"


class MealServed(models.Model):
    """A child who ate the subsidised meal that day."""

    meal_day = models.ForeignKey(MealDay, on_delete=models.CASCADE, related_name="+")
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+", db_index=False)
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+", db_index=False)
    school_class_id = models.BigIntegerField()
    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["student", "day"], name="welfare_one_meal_a_day")
        ]
        indexes = [models.Index(fields=["school", "day"], name="welfare_meal_school_day")]

    def __str__(self) -> str:
        return f"{self.student_id} {self.day}"


# ---- consistency checks ------------------------------------------------------------------


class FinanceFigure(models.Model):
    """What the finance system paid a school for a term: head count and amount (imported)."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    term = models.ForeignKey(Term, on_delete=models.PROTECT, related_name="+")
    head_count = models.PositiveIntegerField()
    amount_fen = models.PositiveBigIntegerField()
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    loaded_at = models.DateTimeField(db_default=Now())

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school", "term"], name="welfare_one_figure")
        ]

    def __str__(self) -> str:
        return f"{self.school_id} {self.term_id} {self.head_count}"


class FindingKind(models.TextChoices):
    FINANCE_MISMATCH = "finance_mismatch", _("Finance figures differ from the registry's census")
    AID_NOT_ON_ROLL = "aid_not_on_roll", _("Aid to a child with no open placement or suspended")
    AID_TWICE = "aid_twice", _("The same programme paid twice to one child")
    PAYEE_NOT_GUARDIAN = "payee_not_guardian", _("Payee is not a guardian on the record")
    MEAL_ABSENT = "meal_absent", _("Meals claimed for a child absent that day")
    MEAL_NOT_ENROLLED = "meal_not_enrolled", _("Meals claimed for a child not enrolled")
    MEAL_NO_SCHOOL_DAY = "meal_no_school_day", _("Meals claimed on a day that is not a school day")
    HOLLOW_DREW_MONEY = "hollow_drew_money", _("A hollow record drew funding, aid or meals")


class Finding(models.Model):
    """One inconsistency found, per school and term, with the children behind it; found again
    by its key at every refresh, so that the county's explanation stays."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=24, choices=FindingKind.choices)
    key = models.CharField(max_length=160)
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    county = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    term = models.ForeignKey(Term, on_delete=models.PROTECT, related_name="+")
    detail = models.JSONField(default=dict)
    student_ids = models.JSONField(default=list)
    found_at = models.DateTimeField()
    still_found = models.BooleanField(default=True)
    explanation = models.CharField(max_length=500, blank=True)
    explained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    explained_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["county_id", "kind", "school_id"]
        constraints = [models.UniqueConstraint(fields=["key"], name="welfare_one_finding")]
        indexes = [models.Index(fields=["county", "term"], name="welfare_finding_area")]

    def __str__(self) -> str:
        return self.key


class CheckRun(models.Model):
    """A refresh of the consistency checks of a term (nightly or on demand)."""

    term = models.ForeignKey(Term, on_delete=models.PROTECT, related_name="+")
    area = models.CharField(max_length=10)
    started_at = models.DateTimeField(db_default=Now())
    findings = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.term_id} {self.area} {self.started_at}"
