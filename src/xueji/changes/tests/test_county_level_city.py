"""A school in 东莞, a city without counties: its changes of status go to 东莞's bureau as its
county, whose approver (a county-level account at 441900) decides them (issue 18, item 2)."""

from __future__ import annotations

import pytest

from xueji.access.models import Role
from xueji.changes.models import ChangeState
from xueji.changes.services import change_decide, change_file
from xueji.corrections.evidence import Upload
from xueji.geo.models import Division
from xueji.students.services import student_register
from xueji.testing.factories import (
    SchoolClassFactory,
    SchoolFactory,
    member,
    resident_id,
    student_data,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def test_dongguan_decides_as_the_county_of_its_schools(settings):
    settings.XUEJI_CHANGE_CLOSED_PERIODS = {}
    dongguan = Division.objects.get(code="441900")
    assert dongguan.bureau_scope_level == "county"
    school = SchoolFactory(name="东莞一小", county=dongguan)
    school_class = SchoolClassFactory(school=school, grade=1)
    registrar = member(Role.REGISTRAR, school=school)
    child = student_register(
        actor=registrar,
        school_class_id=school_class.pk,
        data=student_data(id_number=resident_id(area_code="441900"), birthplace_code="441900"),
    ).student
    change = change_file(
        actor=registrar,
        student_id=child.pk,
        kind="suspend",
        reason="病休",
        guardian_request=Upload("申请书.pdf", PDF),
    )
    county_step = change.steps.get(ordinal=2)
    assert (county_step.level, county_step.division_id) == ("county", "441900")
    bureau = member(Role.BUREAU_APPROVER, division=dongguan, level=dongguan.bureau_scope_level)
    decided = change_decide(actor=bureau, change_id=change.pk, approve=True)
    assert decided.state == ChangeState.COMPLETED
