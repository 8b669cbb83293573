"""A registry spread over the levels of the permission matrix, for the permission tests.

Schools: A and B in 福田区 (440304, 深圳市), C in 南山区 (440305, 深圳市), D in 天河区 (440106,
广州市), E in 朝阳区 (110105, 北京市). School A has class A1 (class teacher `class_teacher`,
mathematics taught by `subject_teacher`) and class A2 (another class teacher); every other school
has one class. Each class has one student. Users hold every role at every level it is held at;
`nobody` has no membership. The class-teacher window of 福田区 is open today.

For each user, `inside` is what lies in its area (school A's things, which every area holding
school A contains) and `outside` the nearest things that do not (another school of the county,
the next county, the next city, the next province; for a class teacher also the other class of
the school; the nation has no outside).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.test import override_settings
from django.utils import timezone

from xueji.access.models import Role, ScopeLevel
from xueji.geo.models import Division
from xueji.schools.models import SchoolClass
from xueji.scores.models import Subject, TeachingAssignment
from xueji.students.models import Student
from xueji.students.services import student_register
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, UserFactory, member
from xueji.testing.factories import student_data as make_student_data
from xueji.verification.models import VerificationWindow

FAST_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"


@dataclass
class Place:
    """The things of one school: its class, its student, a correction and a window."""

    key: str
    school: Any
    school_class: SchoolClass
    student: Student
    county: Division
    correction: Any = None
    evidence: Any = None
    window: Any = None
    assignment: Any = None
    change: Any = None
    change_evidence: Any = None


@dataclass
class Actor:
    name: str
    user: Any
    role: str | None
    level: str | None
    inside: Place | None
    outside: list[Place] = field(default_factory=list)


def ensure_terms(start_year: int) -> None:
    """The two terms of an academic year (the factories make years without them)."""
    from xueji.schools.models import AcademicYear, Term

    year = AcademicYear.objects.get_or_create(start_year=start_year)[0]
    Term.objects.get_or_create(
        academic_year=year,
        number=1,
        defaults={
            "start_date": datetime.date(start_year, 9, 1),
            "end_date": datetime.date(start_year + 1, 1, 31),
        },
    )
    Term.objects.get_or_create(
        academic_year=year,
        number=2,
        defaults={
            "start_date": datetime.date(start_year + 1, 2, 1),
            "end_date": datetime.date(start_year + 1, 8, 31),
        },
    )


def _term_of_today() -> Any:
    from xueji.schools.models import Term, academic_start_year

    today = timezone.localdate()
    ensure_terms(academic_start_year(today))
    return Term.objects.get(start_date__lte=today, end_date__gte=today)


def window_open_today(county_id: str, opened_by: Any, *, days: int = 1) -> VerificationWindow:
    """A verification window of the county, open from `days` ago to `days` ahead, in today's
    term: while one is open, class teachers may see their classes."""
    today = timezone.localdate()
    return VerificationWindow.objects.create(
        county_id=county_id,
        term=_term_of_today(),
        opens_on=today - datetime.timedelta(days=days),
        closes_on=today + datetime.timedelta(days=days),
        opened_by=opened_by,
    )


PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def _correction(place: Place, registrar: Any) -> tuple[Any, Any]:
    """A request waiting for the school's approval, with one evidence file."""
    from xueji.corrections.evidence import seal
    from xueji.corrections.models import CorrectionRequest, Evidence
    from xueji.corrections.workflow import State

    correction = CorrectionRequest.objects.create(
        student=place.student,
        school=place.school,
        state=State.PENDING_SCHOOL,
        changes={"name": {"before": place.student.name, "after": place.student.name + "明"}},
        reason="户口簿",
        created_by=registrar,
    )
    evidence = Evidence.objects.create(
        correction=correction,
        file_name="hukou.pdf",
        content_type="application/pdf",
        size=len(PDF),
        sha256="0" * 64,
        sealed=seal(PDF),
        uploaded_by=registrar,
    )
    return correction, evidence


def _change(place: Place, registrar: Any) -> tuple[Any, Any]:
    """A suspension filed by the school, waiting for its county bureau, with the guardian's
    request as evidence."""
    from xueji.changes.services import change_file
    from xueji.corrections.evidence import Upload

    change = change_file(
        actor=registrar,
        student_id=place.student.pk,
        kind="suspend",
        reason="病休",
        guardian_request=Upload("申请书.pdf", PDF),
    )
    return change, change.evidence.get()


class World:
    def __init__(self) -> None:
        with override_settings(PASSWORD_HASHERS=[FAST_HASHER]):
            self._build()

    def _place(self, key: str, county_code: str, name: str) -> Place:
        county = Division.objects.get(code=county_code)
        school = SchoolFactory(name=f"{name}学校", county=county)
        school_class = SchoolClassFactory(school=school, grade=1, number=1, name="1班")
        registrar = member(Role.REGISTRAR, school=school, username=f"registrar_{key}")
        student = student_register(
            actor=registrar,
            school_class_id=school_class.pk,
            data=make_student_data(name=name, birthplace_code=county_code),
        ).student
        self.registrars[key] = registrar
        return Place(key, school, school_class, student, county)

    def _build(self) -> None:
        self.registrars: dict[str, Any] = {}
        self.a = self._place("a", "440304", "张春铭")
        self.b = self._place("b", "440304", "李小红")
        self.c = self._place("c", "440305", "王大山")
        self.d = self._place("d", "440106", "赵小燕")
        self.e = self._place("e", "110105", "刘一鸣")
        self.places = [self.a, self.b, self.c, self.d, self.e]
        futian, shenzhen = self.a.county, self.a.county.parent
        assert shenzhen is not None and shenzhen.parent is not None
        guangdong = shenzhen.parent

        # A second class at school A with its own class teacher and student.
        self.class_teacher = member(
            Role.CLASS_TEACHER, school=self.a.school, username="class_teacher"
        )
        self.other_class_teacher = member(
            Role.CLASS_TEACHER, school=self.a.school, username="other_class_teacher"
        )
        SchoolClass.objects.filter(pk=self.a.school_class.pk).update(
            class_teacher=self.class_teacher
        )
        a2_class = SchoolClassFactory(
            school=self.a.school,
            grade=1,
            number=2,
            name="2班",
            class_teacher=self.other_class_teacher,
        )
        a2_student = student_register(
            actor=self.registrars["a"],
            school_class_id=a2_class.pk,
            data=make_student_data(name="陈思远", birthplace_code="440304"),
        ).student
        self.a2 = Place("a2", self.a.school, a2_class, a2_student, futian)

        self.subject_teacher = member(
            Role.SUBJECT_TEACHER, school=self.a.school, username="subject_teacher"
        )
        self.a.assignment = TeachingAssignment.objects.create(
            teacher=self.subject_teacher,
            school_class=self.a.school_class,
            subject=Subject.MATH,
            assigned_by=self.registrars["a"],
        )
        # Another subject teacher's assignment in class A2: outside for `subject_teacher`.
        self.a2.assignment = TeachingAssignment.objects.create(
            teacher=member(Role.SUBJECT_TEACHER, school=self.a.school, username="other_teacher"),
            school_class=a2_class,
            subject=Subject.MATH,
            assigned_by=self.registrars["a"],
        )
        for place in (self.b, self.c, self.d, self.e):
            place.assignment = TeachingAssignment.objects.create(
                teacher=member(
                    Role.SUBJECT_TEACHER, school=place.school, username=f"teacher_{place.key}"
                ),
                school_class=place.school_class,
                subject=Subject.MATH,
                assigned_by=self.registrars[place.key],
            )
        self.principal = member(Role.PRINCIPAL, school=self.a.school, username="principal")

        levels = {
            ScopeLevel.COUNTY: futian,
            ScopeLevel.CITY: shenzhen,
            ScopeLevel.PROVINCE: guangdong,
            ScopeLevel.NATION: None,
        }
        outside_of_level = {
            ScopeLevel.COUNTY: [self.c],
            ScopeLevel.CITY: [self.d],
            ScopeLevel.PROVINCE: [self.e],
            ScopeLevel.NATION: [],
        }
        self.actors: list[Actor] = [
            Actor("registrar", self.registrars["a"], Role.REGISTRAR, "school", self.a, [self.b]),
            Actor("principal", self.principal, Role.PRINCIPAL, "school", self.a, [self.b]),
            Actor(
                "class_teacher",
                self.class_teacher,
                Role.CLASS_TEACHER,
                "school",
                self.a,
                [self.a2, self.b],
            ),
            Actor(
                "subject_teacher",
                self.subject_teacher,
                Role.SUBJECT_TEACHER,
                "school",
                self.a,
                [self.a2, self.b],
            ),
        ]
        self.by_level: dict[tuple[str, str], Any] = {}
        for role in (
            Role.BUREAU_VIEWER,
            Role.BUREAU_APPROVER,
            Role.AUDITOR,
            Role.ADMIN,
            Role.SECURITY_ADMIN,
        ):
            for level, division in levels.items():
                user = member(
                    role, division=division, level=level, username=f"{role.value}_{level}"
                )
                self.by_level[(role.value, level)] = user
                self.actors.append(
                    Actor(
                        f"{role.value}@{level}",
                        user,
                        role,
                        level,
                        self.a,
                        list(outside_of_level[level]),
                    )
                )
        self.nobody = UserFactory(username="nobody")
        self.actors.append(Actor("nobody", self.nobody, None, None, None, [self.a, self.b]))
        self.county_approver = self.by_level[(Role.BUREAU_APPROVER.value, ScopeLevel.COUNTY)]

        for place in [*self.places, self.a2]:
            place.window = VerificationWindow.objects.filter(county=place.county).first() or (
                window_open_today(place.county.pk, self.county_approver)
            )
            place.correction, place.evidence = _correction(place, self.registrars["a"])
            place.change, place.change_evidence = _change(
                place, self.registrars[place.key if place.key in self.registrars else "a"]
            )

    def actor(self, name: str) -> Actor:
        return next(actor for actor in self.actors if actor.name == name)
