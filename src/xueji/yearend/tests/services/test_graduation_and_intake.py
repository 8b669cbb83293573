from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from xueji.changes.models import ChangeKind
from xueji.core.errors import Conflict, FieldErrors
from xueji.corrections.models import CorrectionRequest
from xueji.students.models import Placement, RecordEvent, RecordState, Student
from xueji.yearend.models import Diploma, OutcomeOverride, RunKind, RunState
from xueji.yearend.selectors import possible_dropouts
from xueji.yearend.services import (
    intake_admit,
    outcome_set,
    run_execute,
    run_plan,
    run_reverse,
    run_start,
)

from ..conftest import FROM_YEAR, Registry, approve_change, placement_table, suspend

pytestmark = pytest.mark.django_db
NEW_START = datetime.date(FROM_YEAR + 1, 9, 1)


def graduate(actor: Any, scope: str = "440304") -> Any:
    run = run_plan(actor=actor, kind=RunKind.GRADUATE, scope=scope, from_year=FROM_YEAR)
    run_start(actor=actor, run_id=run.pk, enqueue=False)
    return run_execute(run_id=run.pk)


def test_final_grades_graduate_with_diplomas_numbered_per_school(registry: Registry) -> None:
    run = graduate(registry.approver)

    assert run.state == RunState.DONE
    assert run.students_done == 4
    for school_index, school in enumerate(registry.primaries):
        numbers = sorted(Diploma.objects.filter(school=school).values_list("number", flat=True))
        assert numbers == [1, 2]
        for student in registry.students[(school_index, 6)]:
            student.refresh_from_db()
            assert student.state == RecordState.GRADUATED
            assert not Placement.objects.filter(student=student, end_date__isnull=True).exists()
            assert Placement.objects.get(student=student).end_date == NEW_START
            assert RecordEvent.objects.filter(
                student=student, kind="graduated", occurred_on=NEW_START
            ).exists()
    # Other grades are untouched.
    assert registry.student(0, 5).state == RecordState.ENROLLED
    assert graduate(registry.approver).students_done == 0  # idempotent


def test_the_school_records_completion_or_incompletion_and_only_enrolled_students_graduate(
    registry: Registry,
) -> None:
    completed, incomplete = registry.students[(0, 6)]
    suspended = registry.student(1, 6)
    repeater = registry.student(1, 6, 1)
    outcome_set(
        actor=registry.registrars[0],
        student_id=completed.pk,
        outcome="completed",
        from_year=FROM_YEAR,
    )
    outcome_set(
        actor=registry.registrars[0],
        student_id=incomplete.pk,
        outcome="incomplete",
        from_year=FROM_YEAR,
    )
    suspend(suspended)
    approve_change(repeater, ChangeKind.REPEAT)

    graduate(registry.approver)

    states = dict(Student.objects.values_list("pk", "state"))
    assert states[completed.pk] == RecordState.COMPLETED
    assert states[incomplete.pk] == RecordState.INCOMPLETE
    assert states[suspended.pk] == RecordState.SUSPENDED
    assert states[repeater.pk] == RecordState.ENROLLED  # repeats grade 6 at the promotion
    assert Diploma.objects.filter(student=incomplete).count() == 0
    assert Diploma.objects.get(student=completed).kind == "completed"
    assert RecordEvent.objects.filter(student=incomplete, kind="incomplete").exists()


def test_an_outcome_is_only_for_a_final_grade_student_of_the_own_school(registry: Registry) -> None:
    with pytest.raises(FieldErrors):
        outcome_set(
            actor=registry.registrars[0],
            student_id=registry.student(0, 5).pk,
            outcome="completed",
            from_year=FROM_YEAR,
        )
    with pytest.raises(Exception) as refused:
        outcome_set(
            actor=registry.registrars[1],
            student_id=registry.student(0, 6).pk,
            outcome="completed",
            from_year=FROM_YEAR,
        )
    assert getattr(refused.value, "status", None) == 404
    assert not OutcomeOverride.objects.exists()


def test_an_open_correction_of_a_graduating_student_stops_the_graduation(
    registry: Registry,
) -> None:
    student = registry.student(0, 6)
    CorrectionRequest.objects.create(
        student=student,
        school=registry.primaries[0],
        state="reported",
        report_note="姓名有误",
        created_by=registry.registrars[0],
    )

    run = run_plan(
        actor=registry.approver, kind=RunKind.GRADUATE, scope="440304", from_year=FROM_YEAR
    )
    with pytest.raises(Conflict) as refused:
        run_start(actor=registry.approver, run_id=run.pk, enqueue=False)
    assert student.number_masked in str(refused.value.message)


def test_a_graduate_admitted_to_junior_high_keeps_number_and_history(registry: Registry) -> None:
    graduate(registry.approver)
    child = registry.student(0, 6)
    number = child.reveal_student_number()
    history = list(Placement.objects.filter(student=child).values_list("pk", flat=True))

    result = intake_admit(
        actor=registry.registrars[2],
        school_class_id=registry.junior_class.pk,
        student_numbers=[number],
    )

    assert result.admitted == 1 and result.student_ids == [child.pk]
    child.refresh_from_db()
    assert child.reveal_student_number() == number
    assert Student.objects.count() == 24  # the same record, no new one
    assert (child.state, child.school_id) == (RecordState.ENROLLED, registry.junior.pk)
    placements = list(Placement.objects.filter(student=child).order_by("start_date"))
    assert [p.pk for p in placements[:-1]] == history
    new = placements[-1]
    assert (new.grade, new.school_id, new.start_date, new.end_date) == (
        7,
        registry.junior.pk,
        NEW_START,
        None,
    )
    assert list(
        RecordEvent.objects.filter(student=child)
        .order_by("recorded_at")
        .values_list("kind", flat=True)
    ) == ["registered", "graduated", "admitted"]
    assert child not in possible_dropouts(registry.approver, from_year=FROM_YEAR).students


def test_intake_is_all_or_nothing_and_names_every_problem(registry: Registry) -> None:
    graduate(registry.approver)
    graduate_number = registry.student(0, 6).reveal_student_number()
    enrolled_number = registry.student(0, 5).reveal_student_number()
    table = placement_table()

    with pytest.raises(FieldErrors) as refused:
        intake_admit(
            actor=registry.registrars[2],
            school_class_id=registry.junior_class.pk,
            student_numbers=[
                graduate_number,
                enrolled_number,
                "G440304201003050000",
                graduate_number,
                "not a number",
            ],
        )

    problems: list[ValidationError] = refused.value.errors["student_numbers"]
    assert [(p.code, p.params["line"]) for p in problems] == [
        ("number_format", 5),
        ("duplicate_number", 4),
        ("unknown_number", 3),
        ("not_a_graduate", 2),
    ] or sorted((p.code, p.params["line"]) for p in problems) == [
        ("duplicate_number", 4),
        ("not_a_graduate", 2),
        ("number_format", 5),
        ("unknown_number", 3),
    ]
    assert placement_table() == table


def test_graduates_admitted_nowhere_are_possible_dropouts_of_their_county(
    registry: Registry,
) -> None:
    graduate(registry.approver)
    intake_admit(
        actor=registry.registrars[2],
        school_class_id=registry.junior_class.pk,
        student_numbers=[registry.student(0, 6).reveal_student_number()],
    )

    found = possible_dropouts(registry.approver, from_year=FROM_YEAR)

    assert [(c.code, c.count) for c in found.counties] == [("440304", 3)]
    assert {s.pk for s in found.students} == {
        registry.student(0, 6, 1).pk,
        registry.student(1, 6).pk,
        registry.student(1, 6, 1).pk,
    }
    assert found.deadline == datetime.date(FROM_YEAR + 1, 9, 30)
    assert possible_dropouts(registry.registrars[0], from_year=FROM_YEAR).students == []


def test_a_graduation_reversed_enrols_the_students_again(registry: Registry) -> None:
    table = placement_table()
    run = graduate(registry.approver)

    run_reverse(actor=registry.approver, run_id=run.pk)

    assert placement_table() == table
    assert not Diploma.objects.exists()
    assert Student.objects.filter(state=RecordState.GRADUATED).count() == 0


def test_a_graduation_is_not_reversed_once_a_graduate_was_admitted(registry: Registry) -> None:
    run = graduate(registry.approver)
    child = registry.student(0, 6)
    intake_admit(
        actor=registry.registrars[2],
        school_class_id=registry.junior_class.pk,
        student_numbers=[child.reveal_student_number()],
    )
    with pytest.raises(Conflict) as refused:
        run_reverse(actor=registry.approver, run_id=run.pk)
    assert refused.value.code == "records_changed"
    assert child.number_masked in str(refused.value.message)
