"""factory_boy factories for tests: real divisions (from the migration), schools, users."""

from __future__ import annotations

import datetime
import itertools
from typing import Any

import factory
from django.contrib.auth import get_user_model

from xueji.access.models import Membership, Role, ScopeLevel
from xueji.core import codes
from xueji.core.idnumbers import make_resident_id
from xueji.geo.models import Division
from xueji.schools.models import DEFAULT_GRADES, AcademicYear, School, SchoolClass, SchoolKind
from xueji.students.validation import FamilyMemberData, StudentData

_school_codes = itertools.count(1)
_id_sequences = itertools.count(1)


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    code = factory.LazyFunction(lambda: f"{3144000000 + next(_school_codes):010d}")
    name = factory.Sequence(lambda n: f"测试第{n}小学")
    kind = SchoolKind.PRIMARY
    county = factory.LazyFunction(lambda: Division.objects.get(code="440304"))
    # A city without counties (东莞 441900) is its own county: its schools' city is itself.
    city = factory.LazyAttribute(
        lambda o: o.county if o.county.level == "city" else o.county.parent
    )
    province = factory.LazyAttribute(lambda o: o.city.parent)
    first_grade = factory.LazyAttribute(lambda o: DEFAULT_GRADES[o.kind][0])
    last_grade = factory.LazyAttribute(lambda o: DEFAULT_GRADES[o.kind][1])


def academic_year(start_year: int) -> AcademicYear:
    return AcademicYear.objects.get_or_create(start_year=start_year)[0]


class SchoolClassFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SchoolClass

    school = factory.SubFactory(SchoolFactory)
    academic_year = factory.LazyFunction(lambda: academic_year(2026))
    grade = 1
    number = factory.Sequence(lambda n: n + 1)
    name = factory.LazyAttribute(lambda o: f"{o.number}班")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct-horse-battery")


def member(
    role: str = Role.REGISTRAR,
    *,
    school: School | None = None,
    division: Division | None = None,
    level: str | None = None,
    username: str | None = None,
) -> Any:
    """A user with a membership; the scope level follows from what is given."""
    user: Any = UserFactory(**({"username": username} if username else {}))
    if level is None:
        level = ScopeLevel.SCHOOL if school else (division.level if division else ScopeLevel.NATION)
    Membership.objects.create(
        user=user, role=role, scope_level=level, school=school, division=division
    )
    return user


def resident_id(
    area_code: str = "440304",
    birth_date: datetime.date = datetime.date(2020, 3, 5),
    male: bool = True,
) -> str:
    sequence = next(_id_sequences) * 2 % 1000
    return make_resident_id(area_code, birth_date, sequence + (1 if male else 0))


def student_data(**overrides: Any) -> StudentData:
    """Valid data for a boy born 2020-03-05 (age 6 on 1 September 2026: grade 1)."""
    birth_date = overrides.pop("birth_date", datetime.date(2020, 3, 5))
    sex = overrides.pop("sex", codes.Sex.MALE)
    values: dict[str, Any] = {
        "name": "张春铭",
        "sex": sex,
        "birth_date": birth_date,
        "birthplace_code": "440304",
        "ethnicity": "01",
        "id_doc_type": codes.IdDocType.RESIDENT_ID,
        "id_number": resident_id(birth_date=birth_date, male=sex == codes.Sex.MALE),
        "hukou_division_code": "440304",
        "family": [
            FamilyMemberData(
                relation=codes.Relation.FATHER, name="张伟", is_guardian=True, phone="13800138000"
            ),
            FamilyMemberData(relation=codes.Relation.MOTHER, name="李娜"),
        ],
    }
    values.update(overrides)
    return StudentData(**values)
