"""Working days and closed periods; the article's case: two children moving from Zhuhai to
Shenzhen in July wait visibly and complete in September without being entered again."""

import datetime

import pytest
from django.core.management import call_command

from xueji.changes.models import ChangeLog, ChangeState, ClosedPeriod, StepState
from xueji.changes.services import change_decide, closed_period_add, closed_period_lift
from xueji.changes.tests.services.test_transfer import actor_of, file
from xueji.changes.tests.world import FUTIAN, ZHUHAI, build_world, enrol
from xueji.changes.windows import (
    Period,
    add_working_days,
    closed_on,
    is_working_day,
    periods_for,
    reopens_on,
)
from xueji.students.models import Placement, RecordState

D = datetime.date


def test_working_days_follow_the_chinese_calendar():
    # National Day week 2026: 1-7 October off (the calendar's data).
    assert not is_working_day(D(2026, 10, 1))
    assert not is_working_day(D(2026, 10, 7))
    assert is_working_day(D(2026, 10, 9))
    # 30 September (Wed) + 10 working days: 8 Oct is 1 (if a working day) ...
    due = add_working_days(D(2026, 9, 30), 10)
    count = sum(
        is_working_day(D(2026, 9, 30) + datetime.timedelta(days=n))
        for n in range(1, 40)
        if D(2026, 9, 30) + datetime.timedelta(days=n) <= due
    )
    assert count == 10 and is_working_day(due)
    # Plain weekdays would give 14 October: the holidays push it later.
    assert due > D(2026, 10, 14)


def test_years_outside_the_calendar_fall_back_to_weekdays():
    assert is_working_day(D(2031, 6, 2))  # a Monday
    assert not is_working_day(D(2031, 6, 1))  # a Sunday
    assert add_working_days(D(2031, 6, 6), 10) == D(2031, 6, 20)


def test_periods_wrap_the_new_year_and_reopen():
    winter = Period((12, 20), (1, 10))
    assert closed_on(D(2026, 12, 31), [winter]) and closed_on(D(2027, 1, 5), [winter])
    assert not closed_on(D(2027, 1, 11), [winter])
    summer = Period((7, 15), (8, 14))
    assert reopens_on(D(2026, 7, 20), [summer]) == D(2026, 8, 15)
    assert reopens_on(D(2026, 8, 15), [summer]) is None
    # Back-to-back periods: open only when both are over.
    assert reopens_on(D(2026, 7, 20), [summer, Period((8, 15), (8, 31))]) == D(2026, 9, 1)


@pytest.mark.django_db
def test_settings_and_rows_make_the_periods(settings):
    settings.XUEJI_PROVINCE_RULES = {
        "44": {"closed": [{"kind": "transfer", "from": "08-15", "to": "08-31"}]}
    }
    found = periods_for("transfer", ["440000"])
    assert {(p.start, p.end, p.scope) for p in found} == {
        ((7, 15), (8, 14), "nation"),
        ((8, 15), (8, 31), "44"),
    }
    assert periods_for("transfer", ["110000"]) == [Period((7, 15), (8, 14), "nation")]
    ClosedPeriod.objects.create(
        operation="suspend", starts_on=D(2026, 1, 1), ends_on=D(2026, 1, 2), every_year=True
    )
    assert len(periods_for("suspend", [])) == 1


@pytest.mark.django_db
def test_the_articles_case_zhuhai_to_shenzhen_in_july():
    world = build_world((ZHUHAI, FUTIAN))
    guangdong = world.approvers["440000"]
    # The province keeps transfers closed after the national period, until term starts.
    closed_period_add(
        actor=guangdong,
        operation="transfer",
        starts_on=D(2026, 8, 15),
        ends_on=D(2026, 8, 31),
        note="新学期准备",
        on=D(2026, 7, 1),
    )
    zhuhai = world.site(ZHUHAI)
    children = [
        enrol(zhuhai, name="陈思远", grade=2, on=D(2025, 9, 1)),
        enrol(zhuhai, name="陈思琪", grade=1, on=D(2025, 9, 1)),
    ]
    changes = [
        file(world, children[0], FUTIAN, on=D(2026, 7, 20), grade=2),
        file(world, children[1], FUTIAN, on=D(2026, 7, 21), grade=1),
    ]
    for change, child in zip(changes, children, strict=True):
        assert change.state == ChangeState.HELD
        assert change.resumes_on == D(2026, 9, 1)  # visible: the date it resumes
        assert not change.steps.filter(state=StepState.PENDING).exists()
        child.refresh_from_db()
        assert child.state == RecordState.TRANSFERRING and child.school_id == zhuhai.school.pk
    # Nothing happens while closed, however often the tick runs.
    call_command("changes", "tick", "--date", "2026-08-20")
    assert all(c.state == ChangeState.HELD for c in type(changes[0]).objects.all())
    call_command("changes", "tick", "--date", "2026-09-01")
    call_command("changes", "tick", "--date", "2026-09-01")  # idempotent
    for change in changes:
        change.refresh_from_db()
        assert change.state == ChangeState.PENDING
        step = change.steps.get(state=StepState.PENDING)
        assert step.ordinal == 2 and step.current_since == D(2026, 9, 1)
        assert step.due_on == add_working_days(D(2026, 9, 1), 10)
        assert ChangeLog.objects.filter(request=change, event="release").count() == 1
    # The parties approve in September; nobody enters the children again.
    day = D(2026, 9, 3)
    for change in changes:
        while change.state == ChangeState.PENDING:
            step = change.steps.get(state=StepState.PENDING)
            change = change_decide(
                actor=actor_of(world, step), change_id=change.pk, approve=True, on=day
            )
            day += datetime.timedelta(days=1)
        assert change.state == ChangeState.COMPLETED
        assert change.effective_date.month == 9
    for child, _grade in zip(children, (3, 2), strict=True):
        child.refresh_from_db()
        assert child.state == RecordState.ENROLLED
        assert child.school_id == world.site(FUTIAN).school.pk
        # No promotion ran in this test: the receiving class is the filed one's grade.
        placement = Placement.objects.get(student=child, end_date__isnull=True)
        assert placement.reason == "transfer"


@pytest.mark.django_db
def test_lifting_a_period_lets_held_requests_go_on_the_next_tick():
    world = build_world((ZHUHAI, FUTIAN))
    nation = world.approvers  # not a nation member: make one
    from xueji.access.models import Role
    from xueji.testing.factories import member

    ministry = member(Role.BUREAU_APPROVER)
    period = closed_period_add(
        actor=ministry,
        operation="transfer",
        starts_on=D(2026, 10, 1),
        ends_on=D(2026, 10, 31),
        every_year=True,
        on=D(2026, 9, 20),
    )
    child = enrol(world.site(ZHUHAI))
    change = file(world, child, FUTIAN, on=D(2026, 10, 12))
    assert change.state == ChangeState.HELD and change.resumes_on == D(2026, 11, 1)
    closed_period_lift(actor=ministry, period_id=period.pk, reason="提前开放", on=D(2026, 10, 13))
    change.refresh_from_db()
    assert change.resumes_on == D(2026, 10, 13)
    call_command("changes", "tick", "--date", "2026-10-13")
    change.refresh_from_db()
    assert change.state == ChangeState.PENDING
    assert nation


@pytest.mark.django_db
def test_the_daily_task_releases_and_flags():
    from xueji.changes.tasks import changes_tick

    world = build_world((ZHUHAI, FUTIAN))
    change = file(world, enrol(world.site(ZHUHAI)), FUTIAN, on=D(2026, 7, 20))
    assert changes_tick.call("2026-08-15") == {"released": 1, "flagged": 0}
    change.refresh_from_db()
    due = change.steps.get(state=StepState.PENDING).due_on
    assert changes_tick.call((due + datetime.timedelta(days=1)).isoformat()) == {
        "released": 0,
        "flagged": 1,
    }
