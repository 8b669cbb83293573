import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xueji.geo.models import Division

# Grades are 1-12 in primary and secondary school; kindergarten's 小班/中班/大班 are -2..0.
MIN_GRADE = -2
MAX_GRADE = 12


class SchoolKind(models.TextChoices):
    KINDERGARTEN = "kindergarten", _("Kindergarten")
    PRIMARY = "primary", _("Primary school")
    JUNIOR = "junior", _("Junior high school")
    NINE_YEAR = "nine_year", _("Nine-year school")
    SENIOR = "senior", _("Senior high school")
    COMPLETE_SECONDARY = "complete_secondary", _("Complete secondary school")
    TWELVE_YEAR = "twelve_year", _("Twelve-year school")
    SPECIAL = "special", _("Special education school")
    # 小学教学点: a small village site teaching the first grades, managed by a 中心校.
    TEACHING_POINT = "teaching_point", _("Primary teaching point (教学点)")


# The grades each kind of school teaches by default; a school may narrow them (e.g. 5-year primary).
DEFAULT_GRADES: dict[str, tuple[int, int]] = {
    SchoolKind.KINDERGARTEN: (-2, 0),
    SchoolKind.PRIMARY: (1, 6),
    SchoolKind.JUNIOR: (7, 9),
    SchoolKind.NINE_YEAR: (1, 9),
    SchoolKind.SENIOR: (10, 12),
    SchoolKind.COMPLETE_SECONDARY: (7, 12),
    SchoolKind.TWELVE_YEAR: (1, 12),
    SchoolKind.SPECIAL: (1, 9),
    SchoolKind.TEACHING_POINT: (1, 4),
}


class Ownership(models.TextChoices):
    """办学性质: who runs the school."""

    PUBLIC = "public", _("Public (公办)")
    PRIVATE = "private", _("Private (民办)")


class UrbanRural(models.TextChoices):
    """The National Bureau of Statistics' urban–rural classification code (统计用城乡划分代码)
    of the place the school stands in: 1xx urban, 2xx rural."""

    MAIN_URBAN = "111", _("111 Main urban area (主城区)")
    URBAN_FRINGE = "112", _("112 Urban–rural fringe (城乡结合区)")
    TOWN_CENTRE = "121", _("121 Town centre (镇中心区)")
    TOWN_FRINGE = "122", _("122 Town–village fringe (镇乡结合区)")
    SPECIAL_AREA = "123", _("123 Special area (特殊区域)")
    TOWNSHIP_CENTRE = "210", _("210 Township centre (乡中心区)")
    VILLAGE = "220", _("220 Village (村庄)")


GRADE_LABELS = {
    -2: _("Nursery (小班)"),
    -1: _("Middle kindergarten (中班)"),
    0: _("Senior kindergarten (大班)"),
    1: _("Grade 1"),
    2: _("Grade 2"),
    3: _("Grade 3"),
    4: _("Grade 4"),
    5: _("Grade 5"),
    6: _("Grade 6"),
    7: _("Grade 7 (初一)"),
    8: _("Grade 8 (初二)"),
    9: _("Grade 9 (初三)"),
    10: _("Grade 10 (高一)"),
    11: _("Grade 11 (高二)"),
    12: _("Grade 12 (高三)"),
}


def grade_label(grade: int) -> str:
    """A grade's everyday name: 小班 … 大班, 一年级 … 高三."""
    return str(GRADE_LABELS.get(grade, grade))


class School(models.Model):
    """A school with its 10-digit national school code (学校标识码)."""

    code = models.CharField(_("school code"), max_length=10, unique=True)
    name = models.CharField(_("name"), max_length=128)
    kind = models.CharField(_("kind"), max_length=24, choices=SchoolKind.choices)
    county = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="schools", verbose_name=_("county")
    )
    # City and province are copies of the county's ancestors so that a bureau's scope is one
    # indexed equality, not a walk up the tree, on tables of hundreds of millions of rows.
    city = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    province = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    first_grade = models.SmallIntegerField(_("first grade"))
    last_grade = models.SmallIntegerField(_("last grade"))

    address = models.CharField(_("address"), max_length=200, blank=True)
    ownership = models.CharField(
        _("public or private"), max_length=8, choices=Ownership.choices, default=Ownership.PUBLIC
    )
    # Blank only for schools registered before the code was asked (the demo's, the synthetic).
    urban_rural = models.CharField(
        _("urban–rural classification code"), max_length=3, choices=UrbanRural.choices, blank=True
    )
    boarding = models.BooleanField(_("boarding school"), default=False)
    # A teaching point's central school (中心校): a school of the same county that manages it.
    central_school = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="teaching_points",
        verbose_name=_("central school"),
    )
    # A closed school keeps its code, its classes and its pupils' history; it takes no one new.
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    # Merged as a whole (整体并入) into another school, which took over all its pupils.
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_schools",
        verbose_name=_("merged into"),
    )

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[0-9]{10}$"), name="school_code_10_digits"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=SchoolKind.values), name="school_kind_known"
            ),
            models.CheckConstraint(
                condition=models.Q(ownership__in=Ownership.values), name="school_ownership_known"
            ),
            models.CheckConstraint(
                condition=models.Q(urban_rural__in=["", *UrbanRural.values]),
                name="school_urban_rural_known",
            ),
            models.CheckConstraint(
                condition=models.Q(kind=SchoolKind.TEACHING_POINT, central_school__isnull=False)
                | (
                    ~models.Q(kind=SchoolKind.TEACHING_POINT)
                    & models.Q(central_school__isnull=True)
                ),
                name="central_school_of_teaching_points_only",
            ),
            models.CheckConstraint(
                condition=~models.Q(central_school=models.F("pk")),
                name="school_not_its_own_central_school",
            ),
            models.CheckConstraint(
                condition=models.Q(merged_into__isnull=True)
                | (models.Q(closed_on__isnull=False) & ~models.Q(merged_into=models.F("pk"))),
                name="school_merged_when_closed_into_another",
            ),
            models.CheckConstraint(
                condition=models.Q(first_grade__gte=MIN_GRADE)
                & models.Q(last_grade__lte=MAX_GRADE)
                & models.Q(first_grade__lte=models.F("last_grade")),
                name="school_grade_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def grades(self) -> range:
        return range(self.first_grade, self.last_grade + 1)

    @property
    def is_open(self) -> bool:
        return self.closed_on is None


class AcademicYear(models.Model):
    """A school year, from 1 September to 31 August; named by the year it starts."""

    start_year = models.PositiveSmallIntegerField(unique=True)

    class Meta:
        ordering = ["-start_year"]

    def __str__(self) -> str:
        return f"{self.start_year}-{self.start_year + 1}"

    @property
    def start_date(self) -> datetime.date:
        return datetime.date(self.start_year, 9, 1)

    @property
    def end_date(self) -> datetime.date:
        return datetime.date(self.start_year + 1, 8, 31)


def academic_start_year(on: datetime.date) -> int:
    """The academic year a date falls in, named by its starting year."""
    return on.year if on.month >= 9 else on.year - 1


class Term(models.Model):
    academic_year = models.ForeignKey(AcademicYear, on_delete=models.CASCADE, related_name="terms")
    number = models.PositiveSmallIntegerField()
    start_date = models.DateField()
    end_date = models.DateField()

    class Meta:
        ordering = ["academic_year", "number"]
        constraints = [
            models.UniqueConstraint(fields=["academic_year", "number"], name="one_term_number"),
            models.CheckConstraint(
                condition=models.Q(number__in=[1, 2]), name="term_number_1_or_2"
            ),
            models.CheckConstraint(
                condition=models.Q(start_date__lt=models.F("end_date")), name="term_dates_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.academic_year} {self.number}"


class SchoolClass(models.Model):
    """A class (班级) of one grade of one school in one academic year."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="classes")
    academic_year = models.ForeignKey(AcademicYear, on_delete=models.PROTECT, related_name="+")
    grade = models.SmallIntegerField(_("grade"))
    number = models.PositiveSmallIntegerField(_("class number"))
    name = models.CharField(_("class name"), max_length=32)
    class_teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="classes_taught",
        verbose_name=_("class teacher"),
    )

    class Meta:
        ordering = ["school", "academic_year", "grade", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "academic_year", "grade", "number"], name="one_class_number"
            ),
            models.CheckConstraint(
                condition=models.Q(grade__gte=MIN_GRADE, grade__lte=MAX_GRADE),
                name="class_grade_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{grade_label(self.grade)} {self.name}"
