"""Graduation is at the end of a stage, not at any school's last grade (xueji.schools.stages):
the grade-4 children of a 1–4 teaching point (小学教学点) are not marked 毕业; the promotion moves
them on to grade 5 at the teaching point's central school (中心校), set-based, their records
following; where no school takes them (an incomplete primary of grades 1–4 with no central
school) they stay and the dry run lists them, and their school is told."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from xueji.access.models import Role
from xueji.core.errors import FieldErrors
from xueji.schools.models import SchoolClass, SchoolKind
from xueji.schools.stages import ends_stage
from xueji.students.models import Placement, PlacementReason, RecordEvent, RecordState, Student
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member
from xueji.yearend.models import Diploma, Notice, Outcome, RunKind, RunState
from xueji.yearend.selectors import final_grade_students
from xueji.yearend.services import outcome_set, run_execute, run_plan, run_reverse, run_start

from ..conftest import FROM_YEAR, Registry, register

pytestmark = pytest.mark.django_db
NEW_START = datetime.date(FROM_YEAR + 1, 9, 1)


@pytest.fixture
def points(registry: Registry) -> dict[str, Any]:
    """A 1–4 teaching point of 福田第1小学 (grade 4: two children in class 1; grade 3: one), and
    an incomplete primary of grades 1–4 with no central school (grade 4: one child)."""
    central = registry.primaries[0]
    point = SchoolFactory(
        name="福田第1小学新村教学点", kind=SchoolKind.TEACHING_POINT, central_school=central
    )
    incomplete = SchoolFactory(name="福田初级小学", kind=SchoolKind.PRIMARY, last_grade=4)
    point_registrar = member(Role.REGISTRAR, school=point)
    incomplete_registrar = member(Role.REGISTRAR, school=incomplete)
    top = SchoolClassFactory(school=point, grade=4, number=1, name="新村4年级")
    below = SchoolClassFactory(school=point, grade=3, number=1, name="新村3年级")
    stuck = SchoolClassFactory(school=incomplete, grade=4, number=1, name="初小4年级")
    return {
        "central": central,
        "point": point,
        "incomplete": incomplete,
        "point_registrar": point_registrar,
        "incomplete_registrar": incomplete_registrar,
        "top": [register(point_registrar, top, 4, n) for n in (0, 1)],
        "below": register(point_registrar, below, 3, 2),
        "stuck": register(incomplete_registrar, stuck, 4, 3),
        "top_class": top,
        "stuck_class": stuck,
    }


def run(actor: Any, kind: str, scope: str = "440304") -> Any:
    planned = run_plan(actor=actor, kind=kind, scope=scope, from_year=FROM_YEAR)
    run_start(actor=actor, run_id=planned.pk, enqueue=False)
    return run_execute(run_id=planned.pk)


def open_placement(student: Student) -> Placement:
    return Placement.objects.select_related("school_class").get(
        student=student, end_date__isnull=True
    )


def test_the_stages_end_at_6_9_12_and_a_five_year_primary_at_5() -> None:
    assert [g for g in range(-2, 13) if ends_stage(SchoolKind.NINE_YEAR, g)] == [0, 6, 9, 12]
    assert ends_stage(SchoolKind.PRIMARY, 5)  # 五四制
    assert not ends_stage(SchoolKind.TEACHING_POINT, 4)
    assert not ends_stage(SchoolKind.TEACHING_POINT, 5)
    assert not ends_stage(SchoolKind.PRIMARY, 4)


def test_the_top_grade_of_a_teaching_point_does_not_graduate(
    registry: Registry, points: dict[str, Any]
) -> None:
    done = run(registry.approver, RunKind.GRADUATE)

    assert done.students_done == 4  # the two primaries' grade 6, nobody else
    for child in [*points["top"], points["stuck"]]:
        child.refresh_from_db()
        assert child.state == RecordState.ENROLLED
        assert open_placement(child).school_class_id in (
            points["top_class"].pk,
            points["stuck_class"].pk,
        )
        assert not RecordEvent.objects.filter(student=child, kind="graduated").exists()
    assert not Diploma.objects.filter(school__in=[points["point"], points["incomplete"]]).exists()
    report = done.report
    assert {(item["name"], item["students"]) for item in report["going_on"]} == {
        ("福田第1小学新村教学点", 2)
    }
    assert [(item["name"], item["reason"]) for item in report["unplaced"]] == [
        ("福田初级小学", "no_central_school")
    ]


def test_the_promotion_moves_the_top_grade_on_to_the_central_school(
    registry: Registry, points: dict[str, Any]
) -> None:
    central, point = points["central"], points["point"]
    planned = run_plan(
        actor=registry.approver, kind=RunKind.PROMOTE, scope="440304", from_year=FROM_YEAR
    )
    assert planned.report["totals"][Outcome.TO_CENTRAL] == 2
    run_start(actor=registry.approver, run_id=planned.pk, enqueue=False)
    done = run_execute(run_id=planned.pk)
    assert done.state == RunState.DONE

    for child in points["top"]:
        child.refresh_from_db()
        placement = open_placement(child)
        assert (placement.school_id, placement.grade) == (central.pk, 5)
        assert placement.school_class.academic_year.start_year == FROM_YEAR + 1
        assert placement.school_class.number == 1  # the central school's class 1 of grade 5
        assert placement.reason == PlacementReason.PROMOTION
        assert placement.start_date == NEW_START
        assert child.school_id == central.pk and child.state == RecordState.ENROLLED
        left = Placement.objects.get(student=child, school=point)
        assert left.end_date == NEW_START
        event = RecordEvent.objects.get(student=child, kind="promoted")
        assert event.detail["on_to"] == "central_school"
    # The central school's own grade-4 children share that class; one class, not two.
    assert (
        SchoolClass.objects.filter(
            school=central, academic_year__start_year=FROM_YEAR + 1, grade=5, number=1
        ).count()
        == 1
    )
    assert (
        open_placement(registry.student(0, 4)).school_class_id
        == open_placement(points["top"][0]).school_class_id
    )
    # Below the top grade, the teaching point promotes in place.
    below = open_placement(points["below"])
    assert (below.school_id, below.grade) == (point.pk, 4)
    # No school takes the incomplete primary's grade 4: it stays where it is, listed.
    stuck = open_placement(points["stuck"])
    assert stuck.school_class_id == points["stuck_class"].pk and stuck.end_date is None
    assert [item["students"] for item in done.report["unplaced"]] == [1]
    # Nobody is moved twice.
    assert run(registry.approver, RunKind.PROMOTE).students_done == 0


def test_the_school_with_no_school_to_go_on_to_is_told(
    registry: Registry, points: dict[str, Any]
) -> None:
    run_plan(actor=registry.approver, kind=RunKind.PROMOTE, scope="440304", from_year=FROM_YEAR)
    [notice] = Notice.objects.filter(school=points["incomplete"])
    assert "初小4年级" in notice.message and "本校没有中心校" in notice.message
    assert notice.link == f"/classes/{points['stuck_class'].pk}/"
    assert not Notice.objects.filter(school=points["point"]).exists()


def test_a_reversed_promotion_puts_them_back_on_the_teaching_points_roll(
    registry: Registry, points: dict[str, Any]
) -> None:
    done = run(registry.approver, RunKind.PROMOTE)
    run_reverse(actor=registry.approver, run_id=done.pk)
    for child in points["top"]:
        child.refresh_from_db()
        placement = open_placement(child)
        assert placement.school_class_id == points["top_class"].pk
        assert child.school_id == points["point"].pk
        assert not Placement.objects.filter(student=child, school=points["central"]).exists()


def test_a_teaching_point_whose_central_school_is_closed_keeps_its_top_grade(
    registry: Registry, points: dict[str, Any]
) -> None:
    central = points["central"]
    central.closed_on = datetime.date(FROM_YEAR + 1, 6, 30)
    central.save(update_fields=["closed_on"])
    done = run(registry.approver, RunKind.PROMOTE, scope=points["point"].code)
    assert done.students_done == 1  # grade 3 only
    assert {item["reason"] for item in done.report["unplaced"]} == {"central_school_closed"}
    for child in points["top"]:
        assert open_placement(child).school_class_id == points["top_class"].pk


def test_no_outcome_is_recorded_for_a_top_grade_that_ends_no_stage(
    registry: Registry, points: dict[str, Any]
) -> None:
    with pytest.raises(FieldErrors) as refused:
        outcome_set(
            actor=points["point_registrar"],
            student_id=points["top"][0].pk,
            outcome="completed",
            from_year=FROM_YEAR,
        )
    assert "教学点最高年级的学生升入中心校" in str(refused.value.errors["outcome"][0].messages[0])
    assert final_grade_students(points["point_registrar"], from_year=FROM_YEAR) == []
