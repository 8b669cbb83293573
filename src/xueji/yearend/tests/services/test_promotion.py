from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import transaction

from xueji.audit.models import AuditEntry
from xueji.changes.models import ChangeKind, ChangeLog, ChangeState
from xueji.changes.workflow import Event
from xueji.core.errors import Conflict, NotFound
from xueji.schools.models import SchoolClass
from xueji.students.models import Placement, RecordEvent, RecordState
from xueji.yearend.models import RunKind, RunState, YearEndMember, YearEndRun
from xueji.yearend.services import run_execute, run_plan, run_reverse, run_start

from ..conftest import FROM_YEAR, Registry, approve_change, placement_table, suspend

pytestmark = pytest.mark.django_db
NEW_START = datetime.date(FROM_YEAR + 1, 9, 1)


def promote(actor: Any, scope: str, **plan: Any) -> YearEndRun:
    run = run_plan(actor=actor, kind=RunKind.PROMOTE, scope=scope, from_year=FROM_YEAR, **plan)
    run_start(actor=actor, run_id=run.pk, enqueue=False)
    return run_execute(run_id=run.pk)


def open_placement(student: Any) -> Placement:
    return Placement.objects.select_related("school_class__academic_year").get(
        student=student, end_date__isnull=True
    )


def test_every_enrolled_non_final_student_moves_up_into_the_class_of_the_same_name(
    registry: Registry,
) -> None:
    before = open_placement(registry.student(0, 3))
    run = promote(registry.approver, "440304")

    assert run.state == RunState.DONE
    assert run.students_done == 2 * 5 * 2  # two schools, grades 1-5, two students each
    moved = open_placement(registry.student(0, 3))
    assert (moved.grade, moved.school_class.name) == (4, "3年级1班")
    assert moved.school_class.academic_year.start_year == FROM_YEAR + 1
    assert (moved.start_date, moved.reason) == (NEW_START, "promotion")
    before.refresh_from_db()
    assert before.end_date == NEW_START  # half-open: no gap, no overlap
    assert RecordEvent.objects.filter(student=registry.student(0, 3), kind="promoted").exists()
    # The final grade does not move: it graduates.
    final = open_placement(registry.student(1, 6))
    assert final.school_class.academic_year.start_year == FROM_YEAR
    assert SchoolClass.objects.filter(academic_year__start_year=FROM_YEAR + 1, grade=6).count() == 2


def test_suspended_students_stay_repeaters_and_skippers_are_honoured(registry: Registry) -> None:
    suspended = registry.student(0, 2)
    suspend(suspended)
    repeater, skipper, final_repeater = (
        registry.student(0, 4),
        registry.student(0, 3, 1),
        registry.student(1, 6, 1),
    )
    repeat = approve_change(repeater, ChangeKind.REPEAT)
    skip = approve_change(skipper, ChangeKind.SKIP)
    approve_change(final_repeater, ChangeKind.REPEAT)
    untouched = open_placement(suspended)

    promote(registry.approver, "440304")

    assert open_placement(suspended) == untouched
    assert open_placement(suspended).end_date is None
    assert open_placement(repeater).grade == 4
    assert open_placement(repeater).school_class.academic_year.start_year == FROM_YEAR + 1
    assert open_placement(skipper).grade == 5
    assert open_placement(final_repeater).grade == 6
    assert open_placement(final_repeater).school_class.academic_year.start_year == FROM_YEAR + 1
    repeat.refresh_from_db()
    skip.refresh_from_db()
    assert (repeat.state, skip.state) == (ChangeState.COMPLETED, ChangeState.COMPLETED)
    assert RecordEvent.objects.filter(student=repeater, kind="repeated").count() == 1
    assert RecordEvent.objects.filter(student=skipper, kind="skipped").count() == 1


def test_a_second_run_changes_nothing(registry: Registry) -> None:
    promote(registry.approver, "440304")
    after_first = placement_table()
    events = RecordEvent.objects.count()

    second = promote(registry.approver, "440304")

    assert second.students_done == 0
    assert placement_table() == after_first
    assert RecordEvent.objects.count() == events


def _clean_run_table(registry: Registry) -> list[tuple[Any, ...]]:
    """The placement table after an uninterrupted run, rolled back afterwards."""
    with transaction.atomic():
        promote(registry.approver, "440304", chunk_students=1)
        table = placement_table()
        transaction.set_rollback(True)
    return table


def test_a_crash_half_way_then_resume_equals_a_clean_run(registry: Registry) -> None:
    clean = _clean_run_table(registry)
    run = run_plan(
        actor=registry.approver,
        kind=RunKind.PROMOTE,
        scope="440304",
        from_year=FROM_YEAR,
        chunk_students=1,  # one school per chunk: two chunks
    )
    assert run.chunks_total == 2
    run_start(actor=registry.approver, run_id=run.pk, enqueue=False)

    def crash(seq: int) -> None:
        if seq == 2:
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        run_execute(run_id=run.pk, before_commit=crash)
    run.refresh_from_db()
    assert (run.state, run.chunks_done) == (RunState.FAILED, 1)
    assert placement_table() != clean

    run_start(actor=registry.approver, run_id=run.pk, enqueue=False)
    run = run_execute(run_id=run.pk)

    assert run.state == RunState.DONE
    assert placement_table() == clean


def test_a_run_stopped_without_a_trace_resumes_where_it_stopped(registry: Registry) -> None:
    clean = _clean_run_table(registry)
    run = run_plan(
        actor=registry.approver,
        kind=RunKind.PROMOTE,
        scope="440304",
        from_year=FROM_YEAR,
        chunk_students=1,
    )
    run_start(actor=registry.approver, run_id=run.pk, enqueue=False)
    run_execute(run_id=run.pk, max_chunks=1)  # the process dies here: state stays running
    assert YearEndRun.objects.get(pk=run.pk).state == RunState.RUNNING

    # Running the command again finds the unfinished run and resumes it.
    again = run_plan(actor=None, kind=RunKind.PROMOTE, scope="440304", from_year=FROM_YEAR)
    assert again.pk == run.pk
    assert run_execute(run_id=run.pk).state == RunState.DONE
    assert placement_table() == clean


def test_the_dry_run_counts_per_school_and_grade_and_changes_nothing(registry: Registry) -> None:
    suspend(registry.student(0, 1))
    table = placement_table()
    run = run_plan(
        actor=registry.approver, kind=RunKind.PROMOTE, scope="440304", from_year=FROM_YEAR
    )

    assert placement_table() == table
    assert run.state == RunState.PLANNED
    assert run.report["totals"] == {"promoted": 19}
    first = next(s for s in run.report["schools"] if s["id"] == registry.primaries[0].pk)
    assert first["grades"]["1"] == {"promoted": 1}
    assert first["grades"]["5"] == {"promoted": 2}
    assert "6" not in first["grades"]
    assert run.report["staying"] == {"suspended": 1}


def test_a_transfer_under_way_stops_the_start_naming_it(registry: Registry) -> None:
    student = registry.student(0, 2)
    change = approve_change(
        student,
        ChangeKind.TRANSFER,
        state=ChangeState.PENDING,
        to_school=registry.primaries[1],
        to_class=SchoolClass.objects.filter(school=registry.primaries[1], grade=2).first(),
    )
    run = run_plan(
        actor=registry.approver, kind=RunKind.PROMOTE, scope="440304", from_year=FROM_YEAR
    )
    assert run.report["blocker_count"] == 1

    with pytest.raises(Conflict) as refused:
        run_start(actor=registry.approver, run_id=run.pk, enqueue=False)

    assert refused.value.code == "clearing_unfinished"
    assert student.number_masked in str(refused.value.message)
    assert refused.value.details["blockers"][0]["id"] == str(change.pk)


def test_reversal_puts_every_placement_back(registry: Registry) -> None:
    repeater = registry.student(0, 4)
    repeat = approve_change(repeater, ChangeKind.REPEAT)
    table = placement_table()
    run = promote(registry.approver, "440304")

    run_reverse(actor=registry.approver, run_id=run.pk)

    assert placement_table() == table
    repeat.refresh_from_db()
    assert repeat.state == ChangeState.APPROVED
    assert RecordEvent.objects.filter(kind="promotion_reversed").count() == run.students_done
    assert YearEndRun.objects.get(pk=run.pk).state == RunState.REVERSED
    # Promoting again after a reversal gives the same table as the first time.
    promote(registry.approver, "440304")
    assert YearEndMember.objects.filter(outcome="repeated").count() == 2


def test_reversal_is_refused_after_the_period(registry: Registry, settings: Any) -> None:
    run = promote(registry.approver, "440304")
    settings.XUEJI_YEAREND_REVERSIBLE_DAYS = 0
    YearEndRun.objects.filter(pk=run.pk).update(
        finished_at=run.finished_at - datetime.timedelta(seconds=1)
    )
    with pytest.raises(Conflict) as refused:
        run_reverse(actor=registry.approver, run_id=run.pk)
    assert refused.value.code == "reversal_period_over"


def test_a_county_approver_cannot_run_the_province_nor_a_registrar_at_all(
    registry: Registry,
) -> None:
    with pytest.raises(NotFound):
        run_plan(actor=registry.approver, kind=RunKind.PROMOTE, scope="44", from_year=FROM_YEAR)
    with pytest.raises(Exception) as refused:
        run_plan(
            actor=registry.registrars[0],
            kind=RunKind.PROMOTE,
            scope=registry.primaries[0].code,
            from_year=FROM_YEAR,
        )
    assert getattr(refused.value, "status", None) == 403
    assert RecordState.ENROLLED  # the registry is untouched
    assert not YearEndRun.objects.exists()


def test_the_year_promoted_into_has_its_terms(registry: Registry) -> None:
    """The year promoted into is made (or completed) the one way years are made: with terms."""
    from xueji.schools.models import AcademicYear

    assert not AcademicYear.objects.get(start_year=FROM_YEAR + 1).terms.exists()
    promote(registry.approver, "440304")
    assert AcademicYear.objects.get(start_year=FROM_YEAR + 1).terms.count() == 2


def test_the_promotion_completes_repeats_and_skips_through_their_workflow_logged(
    registry: Registry,
) -> None:
    repeat = approve_change(registry.student(0, 4), ChangeKind.REPEAT)
    skip = approve_change(registry.student(0, 3, 1), ChangeKind.SKIP)

    run = promote(registry.approver, "440304")

    for change in (repeat, skip):
        applied = ChangeLog.objects.get(request=change, event=Event.APPLY)
        assert (applied.from_state, applied.to_state) == (
            ChangeState.APPROVED,
            ChangeState.COMPLETED,
        )
        assert applied.actor == registry.approver
    run_reverse(actor=registry.approver, run_id=run.pk)
    reopened = ChangeLog.objects.get(request=repeat, event=Event.REOPEN)
    assert (reopened.from_state, reopened.to_state) == (
        ChangeState.COMPLETED,
        ChangeState.APPROVED,
    )


def test_each_chunk_is_one_audit_entry_with_its_counts(registry: Registry) -> None:
    run = promote(registry.approver, "440304")

    chunks = AuditEntry.objects.filter(action="yearend.chunk", object_id=run.pk)
    assert chunks.count() == run.chunks_done
    assert sum(entry.detail["students"] for entry in chunks) == run.students_done
    assert not AuditEntry.objects.filter(object_type="student", action__startswith="yearend")
