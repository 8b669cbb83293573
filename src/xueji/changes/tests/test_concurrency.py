"""On PostgreSQL, with real threads: 8 approvers deciding the same step at once move it exactly
once; two schools filing a transfer for the same child at once: one gets it, the other a clear
refusal; two ticks releasing the same held requests release each once."""

import datetime
import threading

import pytest
from django.db import connection

from xueji.access.models import Role
from xueji.audit.models import AuditEntry
from xueji.changes.models import ChangeLog, ChangeRequest, ChangeState, StepState
from xueji.changes.services import change_decide, changes_release_held, transfer_file
from xueji.changes.tests.world import FUTIAN, NANSHAN, ZHUHAI, build_world, enrol, guardian_request
from xueji.core.errors import ServiceError
from xueji.geo.models import Division
from xueji.students.models import Placement, RecordEvent, RecordState
from xueji.testing.factories import member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
OCT = datetime.date(2026, 10, 12)


def race(*calls):
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(call):
        try:
            barrier.wait()
            result = call()
            outcome = "done" if result is None or not isinstance(result, int) else str(result)
        except ServiceError as refused:
            outcome = refused.code
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def transfer(world, student, county, on=OCT):
    site = world.site(county)
    return lambda: transfer_file(
        actor=site.registrar,
        student_number=student.reveal_student_number(),
        name=student.name,
        to_class_id=site.klass(1).pk,
        reason="随迁",
        guardian_request=guardian_request(),
        on=on,
    )


def test_eight_approvers_at_once_move_the_step_exactly_once():
    world = build_world((ZHUHAI, FUTIAN))
    student = enrol(world.site(ZHUHAI))
    change = transfer(world, student, FUTIAN)()
    futian = Division.objects.get(code=FUTIAN)
    approvers = [world.approvers[FUTIAN]] + [
        member(Role.BUREAU_APPROVER, division=futian) for _ in range(7)
    ]
    outcomes = race(
        *[
            (
                lambda actor=actor: (
                    change_decide(
                        actor=actor, change_id=change.pk, approve=True, step_ordinal=2, on=OCT
                    )
                    and None
                )
            )
            for actor in approvers
        ]
    )
    assert outcomes == ["done"] + ["step_decided"] * 7
    steps = {s.ordinal: s.state for s in change.steps.all()}
    assert steps == {1: "approved", 2: "approved", 3: "pending", 4: "waiting"}
    assert ChangeLog.objects.filter(request=change, event="approve").count() == 1
    assert AuditEntry.objects.filter(action="change.approve").count() == 1


def test_eight_final_approvals_at_once_move_the_child_once():
    world = build_world((FUTIAN,))
    from xueji.changes.tests.world import build_site

    other = build_site(FUTIAN)
    world.sites["other"] = other
    student = enrol(world.site(FUTIAN))
    change = transfer_file(
        actor=other.registrar,
        student_number=student.reveal_student_number(),
        name=student.name,
        to_class_id=other.klass(1).pk,
        reason="就近",
        guardian_request=guardian_request(),
        on=OCT,
    )
    change_decide(actor=world.site(FUTIAN).registrar, change_id=change.pk, approve=True, on=OCT)
    futian = Division.objects.get(code=FUTIAN)
    approvers = [world.approvers[FUTIAN]] + [
        member(Role.BUREAU_APPROVER, division=futian) for _ in range(7)
    ]
    outcomes = race(
        *[
            (
                lambda actor=actor: (
                    change_decide(actor=actor, change_id=change.pk, approve=True, on=OCT) and None
                )
            )
            for actor in approvers
        ]
    )
    assert outcomes.count("done") == 1 and len(outcomes) == 8
    assert set(outcomes) - {"done"} == {"invalid_transition"}
    assert ChangeRequest.objects.get(pk=change.pk).state == ChangeState.COMPLETED
    assert Placement.objects.filter(student=student).count() == 2
    assert (
        Placement.objects.get(student=student, end_date__isnull=True).school_id == other.school.pk
    )
    assert RecordEvent.objects.filter(student=student, kind="transferred").count() == 1


def test_two_schools_applying_for_the_same_child_at_once():
    world = build_world((ZHUHAI, FUTIAN, NANSHAN))
    student = enrol(world.site(ZHUHAI))
    outcomes = race(
        lambda: transfer(world, student, FUTIAN)() and None,
        lambda: transfer(world, student, NANSHAN)() and None,
    )
    assert outcomes == ["change_active", "done"]
    assert ChangeRequest.objects.filter(student=student).count() == 1
    student.refresh_from_db()
    assert student.state == RecordState.TRANSFERRING


def test_concurrent_ticks_release_each_held_request_once():
    world = build_world((ZHUHAI, FUTIAN))
    july = datetime.date(2026, 7, 20)
    children = [enrol(world.site(ZHUHAI), name=f"张{n}铭") for n in "一二三四五六"]
    for child in children:
        assert transfer(world, child, FUTIAN, on=july)().state == ChangeState.HELD
    day = datetime.date(2026, 8, 17)
    outcomes = race(*[lambda: changes_release_held(on=day, batch_size=2) for _ in range(4)])
    assert sum(int(o) for o in outcomes) == len(children)
    assert ChangeRequest.objects.filter(state=ChangeState.PENDING).count() == len(children)
    assert ChangeLog.objects.filter(event="release").count() == len(children)
    assert ChangeRequest.objects.filter(
        steps__state=StepState.PENDING, steps__ordinal=2
    ).count() == len(children)
