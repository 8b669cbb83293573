"""Two people moving one request at the same moment: the row lock lets one through; the other
finds the new state and is refused, so the record changes once."""

import threading

import pytest
from django.db import connection

from xueji.access.models import Role
from xueji.core.errors import ServiceError
from xueji.corrections.evidence import Upload
from xueji.corrections.models import CorrectionRequest, CorrectionStep
from xueji.corrections.services import (
    correction_county_decision,
    correction_school_decision,
    correction_submit,
    correction_withdraw,
)
from xueji.corrections.workflow import State
from xueji.geo.models import Division
from xueji.students.models import RecordEvent
from xueji.testing.factories import member

from ..files import PDF

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(*calls):
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []

    def run(call):
        try:
            barrier.wait()
            call()
            outcomes.append("done")
        except ServiceError as refused:
            outcomes.append(refused.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def submitted(school):
    return correction_submit(
        actor=school["registrar"],
        student_id=school["pupil"].pk,
        changes={"name": "张春明"},
        reason="户口簿",
        evidence=[Upload("a.pdf", PDF)],
    )


def test_the_principal_approving_while_the_registrar_withdraws(school):
    correction = submitted(school)
    outcomes = race(
        lambda: correction_school_decision(
            actor=school["principal"], correction_id=correction.pk, approve=True
        ),
        lambda: correction_withdraw(actor=school["registrar"], correction_id=correction.pk),
    )
    assert outcomes == ["done", "invalid_transition"]
    final = CorrectionRequest.objects.get(pk=correction.pk)
    assert final.state in (State.PENDING_COUNTY, State.WITHDRAWN)
    assert CorrectionStep.objects.filter(correction=correction).count() == 2


def test_two_county_approvers_at_once_change_the_record_once(school):
    correction = submitted(school)
    correction_school_decision(actor=school["principal"], correction_id=correction.pk, approve=True)
    second = member(Role.BUREAU_APPROVER, division=Division.objects.get(code="440304"))
    outcomes = race(
        lambda: correction_county_decision(
            actor=school["approver"], correction_id=correction.pk, approve=True
        ),
        lambda: correction_county_decision(actor=second, correction_id=correction.pk, approve=True),
    )
    assert outcomes == ["done", "invalid_transition"]
    assert CorrectionRequest.objects.get(pk=correction.pk).state == State.APPROVED
    assert (
        RecordEvent.objects.filter(
            student=school["pupil"], detail__correction=str(correction.pk)
        ).count()
        == 1
    )
