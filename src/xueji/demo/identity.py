"""The demo's identity (issue 21): the population roll of the demo province's children (of its
four counties), loaded by the province's approver, so that the demo's records are confirmed,
disagree with the roll (a name written otherwise) or are not in it; some children of the roll
with no record anywhere (有人无籍); and four children registered twice, at two schools (one pair
across two counties), of the kinds the duplicate scan must find: a J-numbered record of a
G-numbered child, a homophone name (张春铭 / 张春明), traditional characters (陳偉豪 / 陈伟豪)
and the parents written in each other's place. The nightly scan then proposes the pairs to
福田区's county reviewer.

The second records are made from records of other children of the same grade and sex at another
school (the demo's counts stay as promised: no record is added), rewritten as the second
registration of the child without an ID number (a J number). The demo school's own records are
left as they are. The province's county review of new registrations (县级审核) stays off, so the
demo registrar's registrations get their number at once as before; the province approver turns
it on at /identity/roll/.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import get_user_model

from xueji.core import codes
from xueji.core.idnumbers import make_resident_id
from xueji.identity.models import RollLoadState
from xueji.identity.scan import duplicate_scan
from xueji.identity.services import roll_load
from xueji.schools.models import School
from xueji.students.identity import (
    STUDENT_ID_NUMBER,
    document_fields,
    document_indexes,
    student_number_fields,
    unseal,
)
from xueji.students.models import FamilyMember, Placement, Student
from xueji.students.pinyin import name_initials, name_pinyin
from xueji.students.services import student_number_allocate_j

from . import demo

# (kind, the first record's name, the second record's name, the parents swapped in the second?,
# sex)
TWICE = (
    ("jg", "林子涵", "林子涵", False, codes.Sex.MALE),
    ("homophone", "张春铭", "张春明", False, codes.Sex.MALE),
    ("traditional", "陈伟豪", "陳偉豪", False, codes.Sex.MALE),
    ("swapped_parents", "黄诗琪", "黄诗琪", True, codes.Sex.FEMALE),
)
PARENTS = {
    "jg": ("林国栋", "吴丽华"),
    "homophone": ("张建军", "刘芳"),
    "traditional": ("陈志强", "郑美玲"),
    "swapped_parents": ("黄海涛", "何静"),
}
# Every DISAGREE_EVERY-th child of the roll has another name there; every MISSING_EVERY-th is
# not in it.
DISAGREE_EVERY = 250
MISSING_EVERY = 120
UNRECORDED = 14
ROLL_FILE = "广东省户籍人口-0至18岁-2026.csv"
SEX_LETTER = {codes.Sex.MALE.value: "M", codes.Sex.FEMALE.value: "F"}


def _open_grade(student_ids: list[Any]) -> dict[Any, int]:
    return dict(
        Placement.objects.filter(student_id__in=student_ids, end_date__isnull=True).values_list(
            "student_id", "grade"
        )
    )


def _rename(student: Student, name: str) -> None:
    student.name = name
    student.name_pinyin = name_pinyin(name)
    student.name_initials = name_initials(name)


def _set_parents(student: Student, father: str, mother: str, *, swapped: bool) -> None:
    """The record's father and mother named (in each other's place when `swapped`)."""
    members = list(FamilyMember.objects.filter(student=student).order_by("ordinal"))
    names = (mother, father) if swapped else (father, mother)
    relations = (codes.Relation.FATHER, codes.Relation.MOTHER)
    for member, name, relation in zip(members[:2], names, relations, strict=False):
        member.name = name
        member.relation = relation
        member.missing_reason = ""
        # Neither record knows the parents' ID numbers: their names are what the scan compares.
        member.id_doc_type = ""
        member.id_number_masked = member.id_number_sealed = member.id_number_index = ""
        member.save()


def _twice(school: School) -> list[tuple[str, Any, Any]]:
    """Four children with two records each; (kind, first, second)."""
    county = school.county_id
    others = list(
        School.objects.filter(county_id=county)
        .exclude(pk=school.pk)
        .filter(kind__in=["primary", "nine_year"])
        .order_by("code")
    )
    neighbour = (
        School.objects.filter(county_id=demo.COUNTIES[-1], kind="primary").order_by("code").first()
    )
    made: list[tuple[str, Any, Any]] = []
    used: set[Any] = set()
    for n, (kind, first_name, second_name, swapped, sex) in enumerate(TWICE):
        # The swapped-parents child's first record is in the next county (a pair of two).
        home = neighbour if kind == "swapped_parents" and neighbour else others[n % len(others)]
        away = others[(n + 1) % len(others)]
        first = (
            Student.objects.filter(school=home, state="enrolled", sex=sex)
            .exclude(pk__in=used)
            .order_by("pk")
            .first()
        )
        if first is None:
            continue
        grade = _open_grade([first.pk]).get(first.pk)
        candidates = list(
            Student.objects.filter(school=away, state="enrolled", sex=first.sex)
            .exclude(pk__in=used)
            .order_by("pk")
            .values_list("pk", flat=True)[:400]
        )
        grades = _open_grade(candidates)
        second_id = next((pk for pk in candidates if grades.get(pk) == grade), None)
        if second_id is None:
            continue
        second = Student.objects.get(pk=second_id)
        used.update({first.pk, second.pk})
        father, mother = PARENTS[kind]
        _rename(first, first_name)
        first.save(update_fields=["name", "name_pinyin", "name_initials"])
        _set_parents(first, father, mother, swapped=False)
        # The second record: the same child registered again at another school without an ID
        # number (a J number of that school's county and the child's birth date).
        _rename(second, second_name)
        second.birth_date = first.birth_date
        second.birthplace_id = first.birthplace_id
        second.ethnicity = first.ethnicity
        second.id_doc_type = codes.IdDocType.NONE
        for field, value in document_fields(codes.IdDocType.NONE, "", context="").items():
            setattr(second, field, value)
        number = student_number_allocate_j(away.county_id, first.birth_date)
        for field, value in student_number_fields(number).items():
            setattr(second, field, value)
        second.number_kind = "J"
        second.save(
            update_fields=[
                "name",
                "name_pinyin",
                "name_initials",
                "birth_date",
                "birthplace_id",
                "ethnicity",
                "id_doc_type",
                "id_number_masked",
                "id_number_sealed",
                "id_number_index",
                "number_masked",
                "number_sealed",
                "number_index",
                "number_kind",
            ]
        )
        _set_parents(second, father, mother, swapped=swapped)
        made.append((kind, first, second))
    return made


def _roll_rows() -> tuple[list[str], int, int]:
    """The roll file's lines from the records holding a resident ID in the province's four
    counties (some named otherwise, some left out)."""
    lines = ["id_number,name,sex,birth_date,household_division,household_address,household_type"]
    disagree = missing = 0
    records = (
        Student.objects.filter(
            id_doc_type=codes.IdDocType.RESIDENT_ID, school__county_id__in=demo.COUNTIES
        )
        .order_by("pk")
        .values_list("name", "sex", "birth_date", "id_number_sealed", "hukou_division_id")
        .iterator(chunk_size=2000)
    )
    for n, (name, sex, born, sealed, household) in enumerate(records, start=1):
        if n % MISSING_EVERY == 0:
            missing += 1
            continue
        number = unseal(sealed, context=STUDENT_ID_NUMBER)
        if n % DISAGREE_EVERY == 0:
            # The household register writes the given name otherwise (an old or another name).
            name = name[:-1] + ("华" if not name.endswith("华") else "明")
            disagree += 1
        division = household or number[:6]
        lines.append(
            f"{number},{name},{SEX_LETTER.get(sex, 'M')},{born.isoformat()},{division},"
            f"{division}某街道某路{n % 97 + 1}号,3"
        )
    return lines, disagree, missing


def _unrecorded_rows(today: datetime.date) -> list[str]:
    """Children of compulsory age (6-15) in the roll's households with no record anywhere."""
    given = ("浩然", "梓萱", "宇轩", "欣怡", "子墨", "雨桐", "俊杰")
    surnames = ("李", "王", "刘", "杨", "赵", "周", "吴")
    lines: list[str] = []
    counties = demo.COUNTIES
    for n in range(UNRECORDED):
        county = counties[n % len(counties)]
        born = datetime.date(today.year - 8 - n % 7, 1 + n % 12, 3 + n)
        male = n % 2 == 0
        for sequence in range(880 + n * 2, 999, 2):
            number = make_resident_id(county, born, sequence + (1 if male else 0))
            if not Student.objects.filter(
                id_number_index__in=document_indexes(codes.IdDocType.RESIDENT_ID, number)
            ).exists():
                break
        name = surnames[n % len(surnames)] + given[n % len(given)]
        lines.append(
            f"{number},{name},{'M' if male else 'F'},{born.isoformat()},{county},"
            f"{county}某村{n + 1}组,1"
        )
    return lines


def identity_demo(school: School) -> dict[str, Any]:
    users = get_user_model().objects
    province = users.get(username="province_approver")
    twice = _twice(school)
    lines, disagree, missing = _roll_rows()
    lines += _unrecorded_rows(datetime.date.today())
    load = roll_load(
        actor=province, file_name=ROLL_FILE, content=("\n".join(lines) + "\n").encode()
    )
    if load.state != RollLoadState.LOADED:
        raise RuntimeError(f"the demo's roll was refused: {load.errors[:3]}")
    scan = duplicate_scan(actor=None, area_code=demo.PROVINCE)
    return {
        "roll_rows": load.rows,
        "disagree": disagree,
        "not_in_roll": missing,
        "twice": [kind for kind, _a, _b in twice],
        "pairs": scan.proposed,
    }
