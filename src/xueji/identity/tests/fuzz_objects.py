"""The identity part of the API fuzzer's registry (xueji.core.tests.api.fuzz_world): a proposed
pair of two of J's records, a merged pair the county may undo, a child of Futian with no record,
so that each identity operation the fuzzer's accounts may perform is tried on real situations."""

from __future__ import annotations

import datetime
from typing import Any

from xueji.corrections.evidence import Upload
from xueji.identity.models import DuplicatePair, RollEntry, RollLoad, UnrecordedChild
from xueji.identity.services import pair_decide
from xueji.students.services import student_register
from xueji.testing.factories import student_data

# A province's operation: no fuzzer account (a registrar, a county, an auditor) holds it.
EXCLUDED = {
    "POST /api/identity/roll/loads": "a province's load of the roll (identity.roll_load)",
    "GET /api/identity/settings": "a province's identity settings (identity.settings)",
    "POST /api/identity/settings": "a province's identity settings (identity.settings)",
}


def _under_review(registrar: Any, school_class: Any, county: Any) -> list[Any]:
    """Two registrations of J waiting for the county's review (县级审核), the second returned
    to the school with a reason: made with the province's setting on, which is then put back."""
    from xueji.identity.models import ProvinceIdentityRule
    from xueji.students.review import registration_return

    province = school_class.school.province_id
    rule, _created = ProvinceIdentityRule.objects.get_or_create(province_code=province)
    was = rule.county_review
    ProvinceIdentityRule.objects.filter(pk=province).update(county_review=True)
    born = datetime.date(school_class.academic_year.start_year - 13, 6, 9)
    try:
        made = [
            student_register(
                actor=registrar,
                school_class_id=school_class.pk,
                data=student_data(name=name, birth_date=born),
                age_confirmation="补录",
            ).student
            for name in ("周待审", "吴退回")
        ]
    finally:
        ProvinceIdentityRule.objects.filter(pk=province).update(county_review=was)
    registration_return(actor=county, student_id=made[1].pk, reason="出生日期与户口簿不符")
    return made


def _pair(first: Any, second: Any, county: str) -> DuplicatePair:
    a, b = sorted([first.pk, second.pk])
    return DuplicatePair.objects.create(
        student_a_id=a,
        student_b_id=b,
        county_a=county,
        county_b=county,
        score=11.0,
        contributions={"name": 3.0, "birth_date": 3.0, "parent_names": 3.0},
        due_on=datetime.date.today() + datetime.timedelta(days=14),
    )


def _twice(registrar: Any, school_class: Any) -> list[Any]:
    """One child registered twice at J: on an ID number, and without one (a J number)."""
    born = datetime.date(school_class.academic_year.start_year - 13, 4, 2)
    first = student_data(name="孙合并", birth_date=born)
    second = student_data(name="孙合并", birth_date=born, id_doc_type="Z", id_number="")
    return [
        student_register(
            actor=registrar, school_class_id=school_class.pk, data=data, age_confirmation="补录"
        ).student
        for data in (first, second)
    ]


def rows(
    *,
    county: Any,
    county_code: str,
    registrar: Any,
    school_class: Any,
    pupils: list[Any],
    png: bytes,
) -> list[dict[str, Any]]:
    proposed = _pair(pupils[0], pupils[1], county_code)
    merged = _pair(*_twice(registrar, school_class), county_code)
    pair_decide(
        actor=county,
        pair_id=merged.pk,
        decision="same",
        attends="a",
        evidence=[Upload("在读证明.png", png)],
    )
    load = RollLoad.objects.create(
        province_code=county_code[:2] + "0000",
        file_name="roll.csv",
        sha256="0" * 64,
        state="loaded",
        loaded_by=county,
    )
    entry = RollEntry.objects.create(
        province_code=load.province_code,
        id_number_masked=county_code + "********0011",
        id_number_sealed="-",
        id_number_index="fuzz-unrecorded",
        name="钱无籍",
        name_key="钱无籍",
        sex="1",
        birth_date=datetime.date(2016, 5, 1),
        household_division=county_code,
        load=load,
    )
    child = UnrecordedChild.objects.create(roll_entry=entry, county_code=county_code)
    waiting, returned = _under_review(registrar, school_class, county)
    return [
        {"registration_id": str(waiting.pk), "reason": "材料不全"},
        {"registration_id": str(returned.pk), "name": "吴退回"},
        {"pair_id": str(proposed.pk), "decision": "not_same", "attends": "", "evidence": []},
        {"pair_id": str(merged.pk)},
        {"unrecorded_id": str(child.pk), "outcome": "exempted", "reason": "随父母出国"},
        {"county": county_code},
    ]
