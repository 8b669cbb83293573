"""Who writes which part of the growth record, beyond the matrix's doors: a class teacher only
for the own class, 开除 refused in compulsory education, a factual record counting only after its
notice period, the old school reading what it wrote after the child has left."""

from __future__ import annotations

import datetime

import pytest

from xueji.archive.models import FactualRecord
from xueji.archive.selectors import archive_of
from xueji.archive.services.growth import (
    conduct_add,
    counts,
    factual_record_add,
    health_check_add,
    term_report_save,
    vaccination_add,
)
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.schools.models import Term

pytestmark = pytest.mark.django_db


def _term():
    return Term.objects.get(academic_year__start_year=2026, number=1)


def test_a_class_teacher_writes_for_the_own_class_only(school):
    data = {"term": _term().pk, "comment": "认真", "moral": "A"}
    report = term_report_save(actor=school["teacher"], student_id=school["pupil"].pk, data=data)
    assert report.moral == "A" and report.school == school["school"]
    with pytest.raises(NotFound):
        term_report_save(actor=school["teacher"], student_id=school["other"].pk, data=data)
    with pytest.raises(FieldErrors):
        term_report_save(
            actor=school["teacher"],
            student_id=school["pupil"].pk,
            data={"term": _term().pk, "moral": "Z"},
        )


def test_expulsion_does_not_exist_in_compulsory_education(school):
    data = {
        "kind": "sanction",
        "level": "expulsion",
        "title": "严重违纪",
        "decided_on": "2026-09-01",
        "issuer": "学校",
        "evidence": "校发〔2026〕9号",
    }
    with pytest.raises(FieldErrors) as refused:
        conduct_add(actor=school["registrar"], student_id=school["pupil"].pk, data=data)
    assert refused.value.errors["level"][0].code == "no_expulsion_in_compulsory_education"
    award = conduct_add(
        actor=school["registrar"],
        student_id=school["pupil"].pk,
        data={**data, "kind": "award", "level": "", "title": "三好学生"},
    )
    assert award.kind == "award"


def test_a_factual_record_counts_after_its_notice(school, today):
    record = factual_record_add(
        actor=school["teacher"],
        student_id=school["pupil"].pk,
        data={
            "term": _term().pk,
            "dimension": "social",
            "title": "社区志愿服务",
            "occurred_on": "2026-08-30",
            "source": "parent",
        },
    )
    assert record.notice_until == datetime.date(2026, 9, 6)
    assert not counts(record, datetime.date(2026, 9, 6))
    assert counts(record, datetime.date(2026, 9, 7))


def test_health_and_vaccination_are_the_registrars(school):
    from xueji.access.scope import PermissionRefused

    with pytest.raises(PermissionRefused):
        health_check_add(actor=school["teacher"], student_id=school["pupil"].pk, data={})
    check = health_check_add(
        actor=school["registrar"],
        student_id=school["pupil"].pk,
        data={"checked_on": "2026-09-01", "height_cm": "121.5", "weight_kg": "23"},
    )
    assert str(check.height_cm) == "121.5"
    data = {"vaccine": "麻腮风", "dose": "2", "given_on": "2026-08-01"}
    vaccination_add(actor=school["registrar"], student_id=school["pupil"].pk, data=data)
    with pytest.raises(Conflict):
        vaccination_add(actor=school["registrar"], student_id=school["pupil"].pk, data=data)


def test_the_record_follows_the_child_and_the_old_school_keeps_its_part(school):
    from xueji.access.models import Role
    from xueji.students.models import Placement
    from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member

    term_report_save(
        actor=school["teacher"],
        student_id=school["pupil"].pk,
        data={"term": _term().pk, "comment": "第一小学写的"},
    )
    # The child moves to another school (as a transfer would: the placement closes, a new one
    # opens; written here directly, as the students app's guard allows in tests).
    other_school = SchoolFactory(county=school["school"].county)
    other_class = SchoolClassFactory(school=other_school, grade=1, number=1)
    Placement.objects.filter(student=school["pupil"], end_date__isnull=True).update(
        end_date=datetime.date(2026, 10, 1)
    )
    Placement.objects.create(
        student=school["pupil"],
        school=other_school,
        school_class=other_class,
        grade=1,
        start_date=datetime.date(2026, 10, 1),
        reason="transfer",
    )
    type(school["pupil"]).objects.filter(pk=school["pupil"].pk).update(school=other_school)
    new_registrar = member(Role.REGISTRAR, school=other_school)
    seen_next = archive_of(new_registrar, school["pupil"].pk)
    assert seen_next is not None and seen_next.whole
    assert [r.comment for r in seen_next.term_reports] == ["第一小学写的"]
    seen_old = archive_of(school["registrar"], school["pupil"].pk)
    assert seen_old is not None and not seen_old.whole
    assert [r.comment for r in seen_old.term_reports] == ["第一小学写的"]
    assert not FactualRecord.objects.exists()
