"""The suite-wide guard: production code outside xueji.students cannot write where a child is."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import transaction

from xueji.access.models import Role
from xueji.students.models import Placement, RecordEvent, RecordState, Student
from xueji.students.record import record_event_append, record_state_set
from xueji.students.services import student_register
from xueji.testing.factories import SchoolClassFactory, member, student_data
from xueji.testing.record_guard import XUEJI, RecordWrittenOutsideStudents, record_write

pytestmark = pytest.mark.django_db


def _student() -> Student:
    school_class = SchoolClassFactory(grade=1)
    registrar = member(Role.REGISTRAR, school=school_class.school)
    return student_register(
        actor=registrar, school_class_id=school_class.pk, data=student_data()
    ).student


def _as_if_in(app: str, source: str, **names: Any) -> Any:
    """Run `source` (which defines `run`) as code of the module xueji/<app>/pretend.py."""
    scope: dict[str, Any] = dict(names)
    exec(compile(source, str(XUEJI / app / "pretend.py"), "exec"), scope)
    return scope["run"]


def test_the_guard_recognises_each_kind_of_record_write() -> None:
    assert record_write('INSERT INTO "students_placement" ("id") VALUES (%s)') == (
        "students_placement"
    )
    assert record_write("  update students_placement SET end_date = %s") == "students_placement"
    assert record_write('DELETE FROM "students_recordevent" WHERE 1') == "students_recordevent"
    assert record_write(
        'UPDATE "students_student" SET "state" = %s, "updated_at" = %s WHERE 1'
    ) == ("students_student.state")
    assert record_write("UPDATE students_student SET updated_at = %s, state = 'x' WHERE 1") == (
        "students_student.state"
    )
    # Other writes of a student, and reads, are not the record's place or state.
    assert record_write('UPDATE "students_student" SET "phone" = %s WHERE "state" = %s') is None
    assert record_write('SELECT * FROM "students_placement"') is None
    assert record_write('INSERT INTO "students_familymember" ("id") VALUES (%s)') is None


def test_a_placement_written_from_another_app_is_refused() -> None:
    student = _student()
    placement = Placement.objects.get(student=student)
    run = _as_if_in(
        "changes",
        "def run(placement):\n    placement.end_date = placement.start_date\n"
        "    placement.save(update_fields=['end_date'])\n",
    )
    with pytest.raises(RecordWrittenOutsideStudents, match=r"students_placement.*xueji/changes"):
        run(placement)


def test_a_record_state_or_event_written_from_another_app_is_refused() -> None:
    student = _student()
    set_state = _as_if_in(
        "yearend",
        "def run(model, pk, state):\n    model.objects.filter(pk=pk).update(state=state)\n",
    )
    with pytest.raises(RecordWrittenOutsideStudents, match=r"students_student\.state"):
        set_state(Student, student.pk, RecordState.SUSPENDED)
    add_event = _as_if_in(
        "imports",
        "def run(model, student):\n"
        "    model.objects.create(student=student, kind='registered', occurred_on=day)\n",
        day=datetime.date(2026, 9, 1),
    )
    with pytest.raises(RecordWrittenOutsideStudents, match="students_recordevent"):
        add_event(RecordEvent, student)


def test_another_app_moving_the_record_through_the_students_app_passes() -> None:
    student = _student()
    run = _as_if_in(
        "changes",
        "def run(student):\n"
        "    with transaction.atomic():\n"
        "        record_state_set(actor=None, student=student, state=suspended,\n"
        "                         on=day, event='suspended')\n"
        "        record_event_append(student=student, kind='resumed', on=day, actor=None)\n",
        transaction=transaction,
        record_state_set=record_state_set,
        record_event_append=record_event_append,
        suspended=RecordState.SUSPENDED,
        day=datetime.date(2026, 9, 1),
    )
    run(student)
    student.refresh_from_db()
    assert student.state == RecordState.SUSPENDED
    assert RecordEvent.objects.filter(student=student, kind="resumed").exists()
