"""Each way a dropout-control case opens, how it is worked and how (only) it ends."""

import datetime

import pytest

from xueji.attendance.models import (
    CaseStep,
    DropoutCase,
    HollowPeriod,
    ProvinceSettings,
    Reason,
    RollCall,
    Symptom,
    SymptomAlert,
)
from xueji.attendance.services import (
    AbsenceIn,
    case_close,
    case_confirm_dropout,
    case_step_log,
    cases_escalate_overdue,
    roll_take,
)
from xueji.attendance.services.scan import (
    attendance_daily,
    scan_graduates,
    scan_hollow,
    scan_left_nowhere,
    scan_returned,
    scan_unexcused_runs,
    scan_unexcused_term,
)
from xueji.attendance.tests.conftest import MON, day
from xueji.core.errors import FieldErrors
from xueji.students.models import EventKind, Placement, RecordState

pytestmark = pytest.mark.django_db


def _take(att, n, absences, actor=None):
    att["set_today"](day(n))
    roll_take(
        actor=actor or att["teacher"],
        school_class_id=att["class"].pk,
        day=day(n),
        absences=absences,
    )


def _unexcused(student):
    return [AbsenceIn(student.pk, Reason.UNEXCUSED)]


def test_three_unexcused_roll_days_open_a_case_and_a_day_without_roll_does_not_break_the_run(att):
    a = att["pupils"][0]
    _take(att, 0, _unexcused(a))
    _take(att, 1, _unexcused(a))
    # Day 2: no roll taken. Day 3: absent again -> three roll days in a row.
    assert scan_unexcused_runs(on=day(1)) == 0
    _take(att, 3, _unexcused(a))
    assert scan_unexcused_runs(on=day(3)) == 1
    case = DropoutCase.objects.get()
    assert (case.student, case.trigger, case.state, case.school) == (
        a,
        "unexcused_run",
        "open",
        att["school"],
    )
    assert scan_unexcused_runs(on=day(3)) == 0  # idempotent


def test_an_excused_day_breaks_the_run(att):
    a = att["pupils"][0]
    _take(att, 0, _unexcused(a))
    _take(att, 1, [AbsenceIn(a.pk, Reason.SICK, symptom=Symptom.FEVER)])
    _take(att, 2, _unexcused(a))
    _take(att, 3, _unexcused(a))
    assert scan_unexcused_runs(on=day(3)) == 0


def test_more_than_n_unexcused_days_in_a_term(att):
    ProvinceSettings.objects.create(
        province_id="440000", unexcused_run_days=10, unexcused_term_days=2
    )
    a = att["pupils"][0]
    for n in (0, 2, 4):
        _take(att, n, _unexcused(a))
        _take(att, n + 1, [])
    assert scan_unexcused_runs(on=day(5)) == 0
    assert scan_unexcused_term(on=day(5)) == 1
    assert DropoutCase.objects.get().trigger == "unexcused_term"
    assert scan_unexcused_term(on=day(5)) == 0


def _leave(att, student, state, event, on):
    from django.db import transaction

    from xueji.students.record import open_placement_locked, record_leave

    with transaction.atomic():
        record_leave(
            actor=att["registrar"],
            student=student,
            placement=open_placement_locked(student.pk),
            on=on,
            state=state,
            event=event,
        )


@pytest.mark.parametrize(
    "state,event",
    [
        (RecordState.WITHDRAWN, EventKind.WITHDRAWN),
        (RecordState.ABROAD, EventKind.ABROAD),
        (RecordState.LEFT_OTHER, EventKind.INFO_UPDATED),
    ],
)
def test_leaving_a_school_with_nowhere_to_go(att, state, event):
    a = att["pupils"][0]
    _leave(att, a, state, event, MON)
    # Opened at the leaving, in its transaction, not the next morning.
    case = DropoutCase.objects.get()
    assert (case.student, case.trigger, case.opened_on) == (a, "left_nowhere", MON)
    assert (case.school, case.county, case.state) == (att["school"], att["county"], "open")
    # The daily scan, the safety net, opens no second case.
    assert scan_left_nowhere(on=day(1)) == 0
    assert scan_left_nowhere(on=day(2)) == 0
    assert DropoutCase.objects.count() == 1


def test_the_daily_scan_still_opens_a_case_the_leaving_did_not(att, monkeypatch):
    # A record moved by a path that does not tell attendance (no hook registered).
    from xueji.students import record

    monkeypatch.setattr(record, "_AFTER_LEAVE", [])
    a = att["pupils"][0]
    _leave(att, a, RecordState.WITHDRAWN, EventKind.WITHDRAWN, MON)
    assert not DropoutCase.objects.exists()
    assert scan_left_nowhere(on=day(1)) == 1
    assert DropoutCase.objects.get().trigger == "left_nowhere"
    assert scan_left_nowhere(on=day(2)) == 0


def test_a_withdrawal_approved_by_the_county_opens_the_case_in_its_transaction():
    from xueji.changes.services import change_decide, change_file
    from xueji.changes.tests.world import FUTIAN, build_world, enrol, guardian_request

    world = build_world((FUTIAN,))
    child = enrol(world.site(FUTIAN))
    oct12 = datetime.date(2026, 10, 12)
    change = change_file(
        actor=world.site(FUTIAN).registrar,
        student_id=child.pk,
        kind="withdraw",
        reason="家长申请",
        guardian_request=guardian_request(),
        on=oct12,
    )
    assert not DropoutCase.objects.exists()  # filed, not yet approved: still on the roll
    change_decide(actor=world.approvers[FUTIAN], change_id=change.pk, approve=True, on=oct12)
    case = DropoutCase.objects.get()
    assert (case.student_id, case.trigger, case.opened_on) == (child.pk, "left_nowhere", oct12)


def test_a_case_ended_abroad_with_evidence_is_not_reopened_by_its_own_leaving(att):
    a = att["pupils"][0]
    _take(att, 0, _unexcused(a))
    _take(att, 1, _unexcused(a))
    _take(att, 2, _unexcused(a))
    scan_unexcused_runs(on=day(2))
    case = DropoutCase.objects.get()
    case_close(
        actor=att["approver"], case_id=case.pk, end="abroad", evidence="境外学校在读证明", on=day(3)
    )
    a.refresh_from_db()
    assert a.state == RecordState.ABROAD
    # Neither the leaving (the case's own end) nor the next scans open a second case.
    assert scan_left_nowhere(on=day(4)) == 0
    assert list(DropoutCase.objects.values_list("state", "end")) == [("closed", "abroad")]


def test_a_senior_high_child_leaving_opens_no_case(att):
    from xueji.testing.factories import SchoolClassFactory

    a = att["pupils"][0]
    senior = SchoolClassFactory(school=att["school"], grade=10, number=1)
    Placement.objects.filter(student=a, end_date__isnull=True).update(school_class=senior, grade=10)
    _leave(att, a, RecordState.WITHDRAWN, EventKind.WITHDRAWN, MON)
    assert not DropoutCase.objects.exists()
    assert scan_left_nowhere(on=day(1)) == 0


def test_a_deceased_child_opens_no_case(att):
    _leave(att, att["pupils"][0], RecordState.DECEASED, EventKind.DECEASED, MON)
    assert scan_left_nowhere(on=day(1)) == 0


def test_graduates_admitted_nowhere_after_the_intake_deadline(att):
    from xueji.schools.models import AcademicYear, SchoolClass
    from xueji.students.models import Student

    g = att["pupils"][0]
    last_year = AcademicYear.objects.get_or_create(start_year=2025)[0]
    grade6 = SchoolClass.objects.create(
        school=att["school"], academic_year=last_year, grade=6, number=9, name="9班"
    )
    Placement.objects.filter(student=g).update(
        school_class=grade6,
        grade=6,
        start_date=datetime.date(2025, 9, 1),
        end_date=datetime.date(2026, 7, 1),
    )
    Student.objects.filter(pk=g.pk).update(state=RecordState.GRADUATED)
    assert scan_graduates(on=datetime.date(2026, 9, 30)) == 0  # the deadline (09-30)
    assert scan_graduates(on=datetime.date(2026, 10, 8)) == 1
    assert DropoutCase.objects.get().trigger == "graduate_unadmitted"
    assert scan_graduates(on=datetime.date(2026, 10, 9)) == 0


def _case(att):
    a = att["pupils"][0]
    for n in range(3):
        _take(att, n, _unexcused(a))
    scan_unexcused_runs(on=day(2))
    return DropoutCase.objects.get()


def test_lost_contact_is_no_end_it_keeps_the_case_open_and_escalates(att):
    case = _case(att)
    with pytest.raises(FieldErrors) as refused:
        case_close(actor=att["approver"], case_id=case.pk, end="lost_contact")
    assert "end" in refused.value.errors
    case_step_log(actor=att["registrar"], case_id=case.pk, kind="call", outcome="lost_contact")
    case.refresh_from_db()
    assert case.state == "lost_contact" and case.level == "county"
    assert case.closed_on is None
    assert CaseStep.objects.filter(case=case, kind="escalated").count() == 1
    with pytest.raises(FieldErrors):
        case_step_log(actor=att["registrar"], case_id=case.pk, kind="home_visit")  # committee
    case_step_log(
        actor=att["approver"],
        case_id=case.pk,
        kind="home_visit",
        committee="福田村委会",
        outcome="promised",
    )
    case.refresh_from_db()
    assert case.state == "open"


def test_escalation_on_a_missed_deadline(att):
    case = _case(att)
    assert case.level == "school"
    assert cases_escalate_overdue(on=case.deadline) == 0
    after = case.deadline + datetime.timedelta(days=1)
    assert cases_escalate_overdue(on=after) == 1
    case.refresh_from_db()
    assert case.level == "county" and case.deadline > after
    assert cases_escalate_overdue(on=after) == 0  # the new deadline holds for the day
    assert CaseStep.objects.filter(case=case, kind="escalated").count() == 1


def test_returned_after_n_attended_roll_days_and_a_relapse_opens_a_linked_case(att):
    ProvinceSettings.objects.create(province_id="440000", returned_after_days=2)
    a = att["pupils"][0]
    case = _case(att)
    _take(att, 3, [])
    assert scan_returned(on=day(3)) == 0
    _take(att, 4, [])
    assert scan_returned(on=day(4)) == 1
    case.refresh_from_db()
    assert (case.state, case.end) == ("closed", "returned")
    for n in (5, 6, 7):
        _take(att, n, _unexcused(a))
    scan_unexcused_runs(on=day(7))
    relapse = DropoutCase.objects.exclude(pk=case.pk).get()
    assert relapse.previous == case and relapse.state == "open"


def test_the_county_confirms_dropping_out_through_the_record(att):
    case = _case(att)
    a = att["pupils"][0]
    from xueji.access.scope import PermissionRefused

    with pytest.raises(PermissionRefused):
        case_confirm_dropout(actor=att["registrar"], case_id=case.pk)
    case_confirm_dropout(actor=att["approver"], case_id=case.pk, note="多次劝返无效")
    case.refresh_from_db()
    a.refresh_from_db()
    assert case.state == "dropped_out" and case.closed_on is None
    assert a.state == RecordState.DROPPED_OUT
    assert not Placement.objects.filter(student=a, end_date__isnull=True).exists()
    assert a.events.filter(kind=EventKind.DROPPED_OUT).exists()
    # Still open: the dropped-out child's record does not open a "left nowhere" case too.
    assert scan_left_nowhere(on=day(5)) == 0


@pytest.mark.parametrize(
    "end,extra,ok",
    [
        ("exempted", {"evidence": "医院证明"}, False),
        ("exempted", {"evidence": "医院证明", "decision": "福教〔2026〕12号"}, True),
        ("abroad", {}, False),
        ("abroad", {"evidence": "境外学校在读证明"}, True),
        ("deceased", {"evidence": "死亡证明"}, True),
        ("transferred", {}, False),
        ("special_school", {}, False),
        ("returned", {}, True),
    ],
)
def test_the_ends_and_what_each_needs(att, end, extra, ok):
    case = _case(att)
    if not ok:
        with pytest.raises(FieldErrors):
            case_close(actor=att["approver"], case_id=case.pk, end=end, **extra)
        return
    case_close(actor=att["approver"], case_id=case.pk, end=end, **extra)
    case.refresh_from_db()
    assert (case.state, case.end) == ("closed", end)
    a = att["pupils"][0]
    a.refresh_from_db()
    if end == "deceased":
        assert a.state == RecordState.DECEASED
    if end == "abroad":
        assert a.state == RecordState.ABROAD


def test_hollow_records_are_flagged_and_cleared(att):
    ProvinceSettings.objects.create(province_id="440000", hollow_after_days=3, unexcused_run_days=5)
    b = att["pupils"][1]
    sick = [AbsenceIn(b.pk, Reason.SICK, symptom=Symptom.OTHER)]
    for n in range(3):
        _take(att, n, sick)
    assert scan_hollow(on=day(2)) == {"flagged": 1, "cleared": 0}
    assert HollowPeriod.objects.get().student == b
    _take(att, 3, [])
    assert scan_hollow(on=day(3)) == {"flagged": 0, "cleared": 1}
    assert HollowPeriod.objects.get().end_date == day(3)


def test_a_symptom_cluster_raises_one_alert(att):
    a, b, c, _ = att["pupils"]
    _take(att, 0, [AbsenceIn(a.pk, Reason.SICK, symptom=Symptom.DIARRHOEA)])
    _take(att, 1, [AbsenceIn(b.pk, Reason.SICK, symptom=Symptom.DIARRHOEA)])
    assert not SymptomAlert.objects.exists()
    _take(att, 2, [AbsenceIn(c.pk, Reason.SICK, symptom=Symptom.DIARRHOEA)])
    alert = SymptomAlert.objects.get()
    assert (alert.children, alert.symptom, alert.first_day) == (3, "diarrhoea", day(0))


def test_the_daily_run_is_idempotent(att):
    a = att["pupils"][0]
    for n in range(3):
        _take(att, n, _unexcused(a))
    first = attendance_daily(on=day(2))
    assert first["unexcused_run"] == 1
    again = attendance_daily(on=day(2))
    assert again["unexcused_run"] == 0 and DropoutCase.objects.count() == 1
    assert RollCall.objects.count() == 3
