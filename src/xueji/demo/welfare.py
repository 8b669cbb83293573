"""The demo's money that follows the record (issue 23): national and provincial funding rates,
the demo county in the meals programme with the canteen's last school days recorded (who ate:
the children present in the demo's attendance), an aid programme with three children awarded
and put on a payment list, and the consistency checks run once, so that the funding, aid,
meals and checks pages show something on `make run`."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from xueji.access.models import Membership, Role
from xueji.access.scope import scope_of
from xueji.schools.models import AcademicYear, School, Term, academic_start_year
from xueji.students.models import FamilyMember, Placement, Student
from xueji.welfare import aid, checks, meals
from xueji.welfare.models import (
    AidApplication,
    AidProgramme,
    FundingRate,
    MealCounty,
    MealRate,
    NeedAssessment,
    NeedState,
)
from xueji.welfare.presence import is_school_day

RATES = (("primary", 72000), ("junior", 92000), ("senior", 100000))


def _terms(on: datetime.date) -> Term:
    start = academic_start_year(on)
    year = AcademicYear.objects.get_or_create(start_year=start)[0]
    autumn = Term.objects.get_or_create(
        academic_year=year,
        number=1,
        defaults={
            "start_date": datetime.date(start, 9, 1),
            "end_date": datetime.date(start + 1, 1, 31),
        },
    )[0]
    Term.objects.get_or_create(
        academic_year=year,
        number=2,
        defaults={
            "start_date": datetime.date(start + 1, 2, 1),
            "end_date": datetime.date(start + 1, 8, 31),
        },
    )
    return (
        Term.objects.filter(academic_year=year, start_date__lte=on).order_by("-start_date").first()
        or autumn
    )


def welfare_demo(school: School, *, days: int = 10) -> dict[str, Any]:
    today = timezone.localdate()
    term = _terms(today)
    since = datetime.date(2020, 1, 1)
    for stage, fen in RATES:
        FundingRate.objects.get_or_create(
            province=None,
            stage=stage,
            component="benchmark",
            valid_from=since,
            defaults={"yearly_fen": fen},
        )
        FundingRate.objects.get_or_create(
            province_id=school.province_id,
            stage=stage,
            component="topup",
            valid_from=since,
            defaults={"yearly_fen": 8000},
        )
        FundingRate.objects.get_or_create(
            province=None,
            stage=stage,
            component="boarding",
            valid_from=since,
            defaults={"yearly_fen": 20000},
        )
    MealRate.objects.get_or_create(
        valid_from=datetime.date(2021, 9, 1), defaults={"daily_fen": 500}
    )
    MealCounty.objects.get_or_create(
        county_id=school.county_id,
        defaults={"since": datetime.date(2021, 9, 1), "urban_rural": [school.urban_rural or "220"]},
    )
    if not school.urban_rural:
        School.objects.filter(pk=school.pk).update(urban_rural="220")
        school.urban_rural = "220"
    registrar = Membership.objects.filter(role=Role.REGISTRAR, school=school).first()
    approver = Membership.objects.filter(
        role=Role.BUREAU_APPROVER, division_id=school.county_id
    ).first()
    recorded = 0
    if registrar is not None:
        scope = scope_of(registrar.user)
        day = today - datetime.timedelta(days=1)
        while recorded < days and day >= term.start_date:
            if is_school_day(school_id=school.pk, day=day):
                meals.meal_day_record(
                    actor=registrar.user,
                    scope=scope,  # type: ignore[arg-type]
                    day=day,
                    menu=[
                        "米饭、番茄炒蛋、青菜、紫菜汤",
                        "馒头、红烧鸡腿、土豆丝、牛奶",
                        "米饭、清蒸鱼、西兰花、鸡蛋汤",
                    ][recorded % 3],
                    companions="校长、值周教师",
                )
                recorded += 1
            day -= datetime.timedelta(days=1)
    programme = AidProgramme.objects.get_or_create(
        province=None,
        name="义务教育家庭经济困难学生生活补助",
        defaults={
            "stages": ["primary", "junior"],
            "categories": ["dibao", "tekun", "orphan", "disabled", "lifted"],
            "term_fen": 62500,
            "payment_mode": "guardian_account",
        },
    )[0]
    awarded = 0
    if registrar is not None and approver is not None:
        children = Student.objects.filter(
            pk__in=Placement.objects.filter(
                school=school, end_date__isnull=True, grade__gte=1
            ).values("student_id")
        ).order_by("name_pinyin")[:3]
        for n, child in enumerate(children):
            guardian = FamilyMember.objects.filter(student=child, is_guardian=True).first()
            if guardian is None:
                continue
            need = NeedAssessment.objects.create(
                student=child,
                school=school,
                start_year=term.academic_year.start_year,
                category="dibao",
                family_statement="家庭享受最低生活保障",
                assessment="评议小组认定",
                notice_from=today - datetime.timedelta(days=10),
                state=NeedState.APPROVED,
                decided_by=approver.user,
            )
            application = AidApplication.objects.create(
                student=child,
                school=school,
                programme=programme,
                term=term,
                need=need,
                payee=guardian,
                evidence="低保证",
                filed_by=registrar.user,
                **aid.account_fields(f"62220212345678{n:05d}"),
            )
            aid.aid_decide(
                actor=approver.user,
                scope=scope_of(approver.user),  # type: ignore[arg-type]
                application_id=application.pk,
                decision="approve",
            )
            awarded += 1
        aid.payments_make(
            actor=approver.user,
            scope=scope_of(approver.user),  # type: ignore[arg-type]
            programme_id=programme.pk,
            term_id=term.pk,
        )
    run = checks.checks_run(actor=None, scope=None, term=term)
    return {"meal_days": recorded, "awards": awarded, "findings": run.findings}
