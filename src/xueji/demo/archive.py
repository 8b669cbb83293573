"""The demo's archive (issue 24): for a few children of the demo school's first class, a term
report with its 综合素质评价, a factual record under notice, an award, a health check-up and a
vaccination, and one 学籍证明 issued, so that the growth record, the certificates and the public
verification page show something on `make run`."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from xueji.access.models import Membership, Role
from xueji.archive.services.certificates import certificate_issue
from xueji.archive.services.growth import (
    conduct_add,
    factual_record_add,
    health_check_add,
    term_report_save,
    vaccination_add,
)
from xueji.schools.models import School, SchoolClass, Term
from xueji.students.models import Placement


def archive_demo(school: School, *, children: int = 5) -> dict[str, Any]:
    registrar = Membership.objects.filter(role=Role.REGISTRAR, school=school).first()
    school_class = (
        SchoolClass.objects.filter(school=school, class_teacher__isnull=False)
        .order_by("-academic_year__start_year", "grade", "number")
        .first()
    )
    today = timezone.localdate()
    term = Term.objects.filter(start_date__lte=today).order_by("-start_date").first()
    if registrar is None or school_class is None or term is None:
        return {"children": 0}
    teacher = school_class.class_teacher
    pupils = list(
        Placement.objects.filter(school_class=school_class, end_date__isnull=True)
        .order_by("student__name_pinyin")
        .values_list("student_id", flat=True)[:children]
    )
    past = (today - datetime.timedelta(days=7)).isoformat()
    for index, student_id in enumerate(pupils):
        term_report_save(
            actor=teacher,
            student_id=student_id,
            data={
                "term": term.pk,
                "comment": "热爱集体，学习认真，乐于帮助同学。",
                "moral": "A",
                "academic": "AB"[index % 2],
                "health": "A",
                "arts": "B",
                "social": "A",
            },
        )
        factual_record_add(
            actor=teacher,
            student_id=student_id,
            data={
                "term": term.pk,
                "dimension": "social",
                "title": "社区垃圾分类志愿服务",
                "occurred_on": past,
                "source": "parent",
            },
        )
        conduct_add(
            actor=registrar.user,
            student_id=student_id,
            data={
                "kind": "award",
                "title": "校级三好学生",
                "decided_on": past,
                "issuer": school.name,
                "evidence": "校发〔2026〕12号",
            },
        )
        health_check_add(
            actor=registrar.user,
            student_id=student_id,
            data={"checked_on": past, "height_cm": "128.5", "weight_kg": "26.0"},
        )
        vaccination_add(
            actor=registrar.user,
            student_id=student_id,
            data={"vaccine": "麻腮风联合减毒活疫苗", "dose": "2", "given_on": past},
        )
    if pupils:
        certificate_issue(actor=registrar.user, student_id=pupils[0], requested_by="监护人")
    return {"children": len(pupils)}
