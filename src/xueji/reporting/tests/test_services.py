"""A round through its levels by the services: prepare, confirm, return, resubmission; the
snapshot does not move with later corrections; a revision keeps both figures."""

from __future__ import annotations

from typing import Any

import pytest

from xueji.access.scope import PermissionRefused
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.reporting.models import Cell, Revision, UnitState
from xueji.reporting.selectors import figures_of, live_figures, total_of
from xueji.reporting.services import (
    revision_decide,
    revision_request,
    unit_confirm,
    unit_prepare,
    unit_return,
)
from xueji.students.services import student_update_other_info

from .conftest import Province

pytestmark = pytest.mark.django_db


def _confirm_school(province: Province, report_round: Any, school: Any) -> Any:
    unit = province.unit(report_round, school)
    unit_prepare(actor=province.users[f"registrar_{school.code}"], unit_id=unit.pk)
    return unit_confirm(actor=province.users[f"principal_{school.code}"], unit_id=unit.pk)


def test_opening_makes_one_report_per_unit(province: Province) -> None:
    report_round = province.open_round()
    levels = sorted(report_round.units.values_list("level", flat=True))
    # 4 schools, 3 counties, 2 cities, the province.
    assert levels.count("school") == 4
    assert levels.count("county") == 3
    assert levels.count("city") == 2
    assert levels.count("province") == 1
    a = province.unit(report_round, province.a)
    assert a.parent is not None and a.parent.division_id == "440304"
    assert a.parent.parent.division_id == "440300"
    assert a.state == UnitState.NOT_STARTED


def test_school_figures_by_class(province: Province) -> None:
    report_round = province.open_round()
    unit = province.unit(report_round, province.a)
    unit_prepare(actor=province.users[f"registrar_{province.a.code}"], unit_id=unit.pk)
    unit.refresh_from_db()
    assert unit.state == UnitState.PREPARED
    cells = Cell.objects.filter(submission_id=unit.submission_id, table="grade_age_sex")
    by_class = {c.school_class_id: 0 for c in cells}
    for c in cells:
        by_class[c.school_class_id] += c.count
    assert by_class == {province.class_a1.pk: 2, province.class_a2.pk: 1}
    assert {(c.grade, c.age) for c in cells} == {(1, 6)}
    entrants = Cell.objects.filter(
        submission_id=unit.submission_id, table="movement", category="entrants"
    )
    assert sum(c.count for c in entrants) == 3
    # The same figures the registry gives now, as the live preview counts them.
    assert figures_of(unit.submission_id) == live_figures(unit)


def test_registrar_does_not_confirm_and_principal_does(province: Province) -> None:
    report_round = province.open_round()
    unit = province.unit(report_round, province.a)
    registrar = province.users[f"registrar_{province.a.code}"]
    principal = province.users[f"principal_{province.a.code}"]
    with pytest.raises(Conflict):
        unit_confirm(actor=principal, unit_id=unit.pk)  # not prepared: refused by the machine
    unit_prepare(actor=registrar, unit_id=unit.pk)
    with pytest.raises(PermissionRefused):  # the registrar's role has no confirm grant
        unit_confirm(actor=registrar, unit_id=unit.pk)
    with pytest.raises(NotFound):  # another school's report lies outside its principal's area
        unit_confirm(actor=province.users[f"principal_{province.b.code}"], unit_id=unit.pk)
    unit_confirm(actor=principal, unit_id=unit.pk)
    unit.refresh_from_db()
    assert unit.state == UnitState.CONFIRMED
    with pytest.raises(Conflict):
        unit_prepare(actor=registrar, unit_id=unit.pk)  # locked


def test_level_by_level_with_a_return_and_a_resubmission(province: Province) -> None:
    report_round = province.open_round()
    futian = province.unit(report_round, "440304")
    county = province.users["futian"]
    _confirm_school(province, report_round, province.a)
    with pytest.raises(Conflict) as refused:
        unit_confirm(actor=county, unit_id=futian.pk)
    assert refused.value.code == "units_not_confirmed"
    assert "福田第二小学" in str(refused.value.message)
    _confirm_school(province, report_round, province.b)

    a = province.unit(report_round, province.a)
    with pytest.raises(FieldErrors):
        unit_return(actor=county, unit_id=a.pk, reason="")
    with pytest.raises(Conflict):  # another county does not return it
        unit_return(actor=province.users["shenzhen"], unit_id=a.pk, reason="x")
    unit_return(actor=county, unit_id=a.pk, reason="一年级2班人数与花名册不符")
    a.refresh_from_db()
    assert a.state == UnitState.RETURNED
    assert a.return_reason == "一年级2班人数与花名册不符"
    with pytest.raises(Conflict):
        unit_confirm(actor=county, unit_id=futian.pk)

    # The school corrects and submits again: a second submission, the first kept.
    province.register(province.class_a2, "孙小明")
    resubmitted = _confirm_school(province, report_round, province.a)
    assert resubmitted.submissions.count() == 2
    assert total_of(figures_of(resubmitted.submission_id)) == 4

    unit_confirm(actor=county, unit_id=futian.pk)
    futian.refresh_from_db()
    assert futian.state == UnitState.CONFIRMED
    assert total_of(figures_of(futian.submission_id)) == 5  # 4 at A, 1 at B
    with pytest.raises(Conflict) as late:
        unit_return(actor=county, unit_id=a.pk, reason="again")
    assert late.value.code in ("above_confirmed", "invalid_transition")

    # The city and the province, once every unit below is confirmed.
    _confirm_school(province, report_round, province.c)
    unit_confirm(actor=province.users["nanshan"], unit_id=province.unit(report_round, "440305").pk)
    shenzhen = province.unit(report_round, "440300")
    unit_confirm(actor=province.users["shenzhen"], unit_id=shenzhen.pk)
    _confirm_school(province, report_round, province.d)
    unit_confirm(actor=province.users["tianhe"], unit_id=province.unit(report_round, "440106").pk)
    unit_confirm(
        actor=province.users["guangzhou"], unit_id=province.unit(report_round, "440100").pk
    )
    top = province.unit(report_round, "440000")
    unit_confirm(actor=province.users["province"], unit_id=top.pk)
    top.refresh_from_db()
    assert top.state == UnitState.CONFIRMED
    assert total_of(figures_of(top.submission_id)) == 7


def test_correction_after_confirmation_needs_a_revision_keeping_both(
    province: Province,
) -> None:
    report_round = province.open_round()
    unit = _confirm_school(province, report_round, province.a)
    confirmed = unit.submission_id
    before = figures_of(confirmed)
    boarders = [k for k in before if k[0] == "boarding"]
    assert boarders

    # A record corrected after confirmation: the snapshot does not move.
    child = province.children["张春铭"]
    registrar = province.users[f"registrar_{province.a.code}"]
    student_update_other_info(
        actor=registrar, student_id=child.pk, changes={"attendance_mode": "2"}
    )
    unit.refresh_from_db()
    assert unit.submission_id == confirmed
    assert figures_of(unit.submission_id) == before

    with pytest.raises(FieldErrors):
        revision_request(actor=registrar, unit_id=unit.pk, reason="  ")
    revision = revision_request(actor=registrar, unit_id=unit.pk, reason="张春铭实为寄宿生")
    unit.refresh_from_db()
    assert unit.submission_id == confirmed  # in force until approved
    after = figures_of(revision.submission_id)
    assert after != before
    assert after[("boarding", 1, None, "1", "2")] == 1

    with pytest.raises(Conflict):  # the school's own principal is not the level above
        revision_decide(
            actor=province.users[f"principal_{province.a.code}"], unit_id=unit.pk, approve=True
        )
    with pytest.raises(NotFound):  # 南山 is not the county above: the report is outside it
        revision_decide(actor=province.users["nanshan"], unit_id=unit.pk, approve=True)
    revision_decide(actor=province.users["futian"], unit_id=unit.pk, approve=True)
    unit.refresh_from_db()
    assert unit.submission_id == revision.submission_id
    revision = Revision.objects.get(pk=revision.pk)
    assert revision.state == "approved"
    # Both kept.
    assert figures_of(revision.previous_id) == before
    assert figures_of(revision.submission_id) == after


def test_prefill_prepares_every_school_at_once(province: Province) -> None:
    report_round = province.open_round(prefill=True)
    schools = report_round.units.filter(level="school")
    assert set(schools.values_list("state", flat=True)) == {UnitState.PREPARED}
    totals = {u.school_id: total_of(figures_of(u.submission_id)) for u in schools}
    assert totals == {province.a.pk: 3, province.b.pk: 1, province.c.pk: 1, province.d.pk: 1}
