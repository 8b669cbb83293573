"""The welfare part of the API fuzzer's registry (xueji.core.tests.api.fuzz_world): J's pupils
at each step of need and aid, a programme, a finding of J, the county in the meals programme,
and the files a county loads, so that each welfare operation the fuzzer's accounts may perform
is tried on real situations."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from xueji.access.scope import today
from xueji.schools.models import Term
from xueji.students.models import FamilyMember
from xueji.students.services import student_register
from xueji.testing.factories import resident_id, student_data
from xueji.welfare import aid, presence
from xueji.welfare.models import (
    AidApplication,
    AidProgramme,
    Finding,
    MealCounty,
    MealRate,
    NeedAssessment,
    NeedState,
)
from xueji.welfare.selectors import current_term


def _need(student: Any, school: Any, year: int, state: str) -> NeedAssessment:
    return NeedAssessment.objects.create(
        student=student,
        school=school,
        start_year=year,
        category="dibao",
        family_statement="家庭享受低保",
        state=state,
        notice_from=today() if state in (NeedState.NOTICED, NeedState.APPROVED) else None,
    )


def rows(*, junior: Any, grade8: Any, registrar: Any, pupils: list[Any]) -> list[dict[str, Any]]:
    term = current_term()
    assert term is not None
    year = term.academic_year.start_year
    programme = AidProgramme.objects.create(
        name="义务教育家庭经济困难学生生活补助",
        stages=["primary", "junior"],
        categories=["dibao", "tekun"],
        term_fen=62500,
        payment_mode="guardian_account",
    )
    applied, noticed, filed_child, free_child = pupils[:4]
    applied_need = _need(applied, junior, year, NeedState.APPLIED)
    noticed_need = _need(noticed, junior, year, NeedState.NOTICED)
    filed_need = _need(filed_child, junior, year, NeedState.APPROVED)
    _need(free_child, junior, year, NeedState.APPROVED)
    filed = AidApplication.objects.create(
        student=filed_child,
        school=junior,
        programme=programme,
        term=term,
        need=filed_need,
        payee=FamilyMember.objects.filter(student=filed_child, is_guardian=True).first(),
        evidence="低保证",
        filed_by=registrar,
        **aid.account_fields("6222021234567890123"),
    )
    born = datetime.date(year - 13, 3, 5)
    newcomer = student_register(
        actor=registrar,
        school_class_id=grade8.pk,
        data=student_data(name="钱小乐", birth_date=born, id_number=resident_id(birth_date=born)),
        age_confirmation="fuzz",
    ).student
    finding = Finding.objects.create(
        kind="meal_absent",
        key=f"meal_absent:{junior.pk}:{term.pk}",
        school=junior,
        county_id=junior.county_id,
        term=term,
        student_ids=[str(applied.pk)],
        found_at=timezone.now(),
    )
    MealCounty.objects.create(
        county_id=junior.county_id, since=datetime.date(2020, 9, 1), urban_rural=["", "111", "220"]
    )
    MealRate.objects.create(valid_from=datetime.date(2020, 9, 1), daily_fen=500)
    day = today()
    while not presence.is_school_day(school_id=junior.pk, day=day) and day > term.start_date:
        day -= datetime.timedelta(days=1)
    guardian = FamilyMember.objects.filter(student=free_child, is_guardian=True).first()
    # The carry-forward names a spring term: the year's second term, by its own id (ids of
    # terms depend on what ran before on the database, so none is right by chance).
    spring = Term.objects.filter(academic_year=term.academic_year, number=2).first()
    assert spring is not None
    return [
        {"term_id": spring.pk},
        {"need_id": str(applied_need.pk), "event": "assess", "note": "评议小组认定"},
        {"need_id": str(noticed_need.pk), "decision": "approve"},
        {"application_id": str(filed.pk), "decision": "approve", "reason": ""},
        {
            "student_id": str(free_child.pk),
            "programme_id": programme.pk,
            "term_id": term.pk,
            "evidence": "低保证",
            "payee_id": str(guardian.pk) if guardian else None,
            "account": "6222021234567890123",
        },
        {"student_id": str(newcomer.pk), "category": "dibao", "family_statement": "父母务农"},
        {"programme_id": programme.pk, "term_id": term.pk},
        {"finding_id": str(finding.pk), "reason": "考勤记录有误"},
        {"school_id": junior.pk, "day": day.isoformat(), "year": day.year, "month": day.month},
        {"day": day.isoformat(), "menu": "米饭、番茄炒蛋", "companions": "王老师"},
        {"file": "付款编号,结果,银行流水号,日期,金额(元)\n".encode()},
        {"file": f"姓名,身份证号\n钱大,{resident_id()}\n".encode(), "category": "dibao"},
        {
            "file": f"学校代码,拨款人数,拨款金额(元)\n{junior.code},2,400.00\n".encode(),
            "term_id": term.pk,
        },
    ]


# The settings only a province's or the ministry's approver makes (the fuzzer's accounts are a
# school's registrar, a county's approver and its auditor).
EXCLUDED = {
    f"POST /api/welfare/{path}": "a province's or the ministry's setting (welfare.settings)"
    for path in (
        "funding/rates",
        "funding/census-dates",
        "aid/programmes",
        "meals/counties",
        "meals/rates",
    )
}
