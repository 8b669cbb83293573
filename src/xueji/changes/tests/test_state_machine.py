"""A Hypothesis state machine drives random sequences of applications (transfers between the
same county, another county and another province, and the other changes), approvals by the right
and the wrong party, rejections, withdrawals, closed periods added and removed, time passing
(the daily tick) and year ends; after every step it checks:

- one open placement per student on roll, none after an exit, the record's school is the open
  placement's school (the child is counted at one school);
- no student is counted in two schools on any date: placements never overlap;
- every state change of a request is logged and audited, in a continuous chain from filing to
  the current state, and every completed change appended its record event;
- one active change per student; 转学中 exactly while a transfer is active;
- a pending request waits for exactly one party, a held one for none.
"""

from __future__ import annotations

import datetime
import itertools
from collections import Counter
from typing import Any

import pytest
from django.db import transaction
from django.db.models import F
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from xueji.access.models import Role
from xueji.audit.models import AuditEntry
from xueji.audit.services import audit_record
from xueji.changes.models import (
    ACTIVE_STATES,
    ChangeKind,
    ChangeLog,
    ChangeRequest,
    ChangeState,
    ClosedPeriod,
    Initiator,
    StepState,
)
from xueji.changes.services import (
    change_decide,
    change_file,
    change_withdraw,
    changes_flag_overdue,
    changes_release_held,
    closed_period_add,
    closed_period_lift,
    transfer_file,
)
from xueji.changes.tests.world import (
    COUNTIES,
    World,
    build_world,
    certificate,
    guardian_request,
)
from xueji.core.errors import ServiceError
from xueji.schools.models import SchoolClass, academic_start_year
from xueji.students.models import (
    ON_ROLL_STATES,
    EventKind,
    Placement,
    RecordEvent,
    RecordState,
    Student,
)
from xueji.students.services import student_register
from xueji.testing.factories import academic_year, member, student_data

GRADES = (1, 2, 3, 4, 5, 6)
LAST_DAY = datetime.date(2029, 6, 30)
YEARS = (2026, 2027, 2028)
NAMES = ["张春铭", "李小红", "王思远", "陈一鸣", "刘佳怡", "赵子涵"]
# Record states of exits: no open placement.
EXITED = {
    RecordState.WITHDRAWN,
    RecordState.DROPPED_OUT,
    RecordState.ABROAD,
    RecordState.DECEASED,
}
# Audit actions that are not state changes of a request.
NOT_STATE_CHANGES = {
    "change.overdue",
    "change.window_add",
    "change.window_remove",
    "change.evidence_open",
}


class ChangesMachine(RuleBasedStateMachine):
    world: World
    ministry: Any

    def __init__(self) -> None:
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.day = datetime.date(2026, 7, 1)
        self.students: list[Student] = []
        self.refusals: Counter[str] = Counter()
        for index, name in enumerate(NAMES):
            site = self.world.site(COUNTIES[index % len(COUNTIES)])
            grade = 1 + index % 3
            self.students.append(
                student_register(
                    actor=site.registrar,
                    school_class_id=site.klass(grade, 1, 2026).pk,
                    data=student_data(
                        name=name, birth_date=datetime.date(2020 - (grade - 1), 3, 5)
                    ),
                    start_date=datetime.date(2026, 3, 1),
                ).student
            )

    def teardown(self) -> None:
        import os

        if os.environ.get("XUEJI_MACHINE_STATS"):
            print(
                dict(Counter(ChangeRequest.objects.values_list("kind", "state"))),
                dict(self.refusals),
                self.day,
            )
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    # ---- helpers ----------------------------------------------------------------------------

    def _try(self, action: Any) -> Any:
        try:
            with transaction.atomic():
                return action()
        except ServiceError as refused:
            # A refusal is an answer, not a failure: it must leave nothing behind.
            self.refusals[refused.code] += 1
            return None

    def _site_of_school(self, school_id: int) -> Any:
        return next(s for s in self.world.sites.values() if s.school.pk == school_id)

    def _party_actor(self, step: Any) -> Any:
        if step.level == "school":
            site = self._site_of_school(step.school_id)
            return site.registrar if step.ordinal % 2 else site.principal
        return self.world.approvers[step.division_id]

    def _pending(self) -> list[ChangeRequest]:
        return list(ChangeRequest.objects.filter(state=ChangeState.PENDING).order_by("filed_at"))

    def _active(self) -> list[ChangeRequest]:
        return list(ChangeRequest.objects.filter(state__in=ACTIVE_STATES).order_by("filed_at"))

    # ---- rules --------------------------------------------------------------------------------

    @rule(
        student=st.integers(0, len(NAMES) - 1),
        county=st.sampled_from(COUNTIES),
        number=st.integers(1, 2),
    )
    def apply_for_transfer(self, student: int, county: str, number: int) -> None:
        child = Student.objects.get(pk=self.students[student].pk)
        receiver = self.world.site(county)
        placement = Placement.objects.filter(student=child, end_date__isnull=True).first()
        grade = placement.grade if placement else 1
        year = academic_start_year(self.day)
        klass = receiver.classes.get((year, grade, number))
        if klass is None:
            return
        self._try(
            lambda: transfer_file(
                actor=receiver.registrar,
                student_number=child.reveal_student_number(),
                name=child.name,
                to_class_id=klass.pk,
                reason="随父母工作调动",
                guardian_request=guardian_request(),
                on=self.day,
            )
        )

    @rule(
        student=st.integers(0, len(NAMES) - 1),
        kind=st.sampled_from([k for k in ChangeKind.values if k != ChangeKind.TRANSFER]),
        by_school=st.booleans(),
    )
    def apply_for_change(self, student: int, kind: str, by_school: bool) -> None:
        child = Student.objects.get(pk=self.students[student].pk)
        site = self._site_of_school(child.school_id)
        placement = Placement.objects.filter(student=child, end_date__isnull=True).first()
        other_class = None
        if placement is not None:
            other_class = (
                SchoolClass.objects.filter(
                    school_id=placement.school_id,
                    grade=placement.grade,
                    academic_year__start_year=placement.school_class.academic_year.start_year,
                )
                .exclude(pk=placement.school_class_id)
                .first()
            )
        self._try(
            lambda: change_file(
                actor=site.registrar,
                student_id=child.pk,
                kind=kind,
                reason="申请",
                initiator=Initiator.SCHOOL if by_school else Initiator.GUARDIAN,
                to_class_id=other_class.pk if other_class else None,
                guardian_request=None if by_school else guardian_request(),
                evidence=[certificate()],
                on=self.day,
            )
        )

    @precondition(lambda self: ChangeRequest.objects.filter(state=ChangeState.PENDING).exists())
    @rule(
        which=st.integers(0, 20),
        approve=st.booleans(),
        right_party=st.booleans(),
        stale=st.booleans(),
    )
    def decide(self, which: int, approve: bool, right_party: bool, stale: bool) -> None:
        pending = self._pending()
        change = pending[which % len(pending)]
        step = change.steps.get(state=StepState.PENDING)
        actor = self._party_actor(step)
        if not right_party:
            # Someone else: the sending school before its turn, or another county.
            actor = self.world.site(COUNTIES[which % len(COUNTIES)]).principal
        before = step.ordinal
        result = self._try(
            lambda: change_decide(
                actor=actor,
                change_id=change.pk,
                approve=approve,
                reason="" if approve else "材料不全",
                step_ordinal=before - 1 if stale else before,
                on=self.day,
            )
        )
        if stale or (not right_party and not self._may(actor, step)):
            assert result is None
            step.refresh_from_db()
            assert step.state == StepState.PENDING

    @precondition(lambda self: ChangeRequest.objects.filter(state=ChangeState.PENDING).exists())
    @rule(which=st.integers(0, 20))
    def approve_by_the_party(self, which: int) -> None:
        pending = self._pending()
        change = pending[which % len(pending)]
        step = change.steps.get(state=StepState.PENDING)
        result = self._try(
            lambda: change_decide(
                actor=self._party_actor(step),
                change_id=change.pk,
                approve=True,
                step_ordinal=step.ordinal,
                on=self.day,
            )
        )
        step.refresh_from_db()
        assert (result is not None) is (step.state == StepState.APPROVED)

    def _may(self, actor: Any, step: Any) -> bool:
        from xueji.access.scope import scope_of
        from xueji.changes.policy import may_decide

        return may_decide(
            scope_of(actor),
            level=step.level,
            school_id=step.school_id,
            division_code=step.division_id,
        )

    @precondition(
        lambda self: ChangeRequest.objects.filter(
            state__in=[ChangeState.PENDING, ChangeState.HELD]
        ).exists()
    )
    @rule(which=st.integers(0, 20), applicant=st.booleans())
    def withdraw(self, which: int, applicant: bool) -> None:
        active = list(
            ChangeRequest.objects.filter(
                state__in=[ChangeState.PENDING, ChangeState.HELD]
            ).order_by("filed_at")
        )
        change = active[which % len(active)]
        school = (
            change.to_school_id if change.kind == ChangeKind.TRANSFER else change.from_school_id
        )
        site = self._site_of_school(school)
        actor = site.registrar if applicant else site.principal
        result = self._try(lambda: change_withdraw(actor=actor, change_id=change.pk, on=self.day))
        assert (result is not None) is applicant

    @rule(
        kind=st.sampled_from([ChangeKind.TRANSFER, ChangeKind.SUSPEND, ChangeKind.CLASS_CHANGE]),
        start=st.tuples(st.integers(1, 12), st.integers(1, 28)),
        length=st.integers(0, 60),
        national=st.booleans(),
    )
    def add_window(self, kind: str, start: tuple[int, int], length: int, national: bool) -> None:
        first = datetime.date(2026, *start)
        last = first + datetime.timedelta(days=length)
        actor = self.ministry if national else self.world.approvers["440000"]
        closed_period_add(
            actor=actor,
            operation=kind,
            starts_on=first,
            ends_on=last,
            every_year=True,
            on=self.day,
        )

    @precondition(lambda self: ClosedPeriod.objects.filter(lifted_at__isnull=True).exists())
    @rule(which=st.integers(0, 10))
    def remove_window(self, which: int) -> None:
        windows = list(ClosedPeriod.objects.filter(lifted_at__isnull=True).order_by("pk"))
        window = windows[which % len(windows)]
        actor = self.ministry if window.division_id is None else self.world.approvers["440000"]
        closed_period_lift(actor=actor, period_id=window.pk, reason="提前开放", on=self.day)

    @precondition(lambda self: self.day < LAST_DAY)
    @rule(days=st.integers(1, 45))
    def time_passes(self, days: int) -> None:
        """Days go by; the daily tick runs (release held requests, flag overdue steps)."""
        target = self.day + datetime.timedelta(days=days)
        boundary = datetime.date(self.day.year if self.day.month < 9 else self.day.year + 1, 9, 1)
        if target >= boundary and self.day < boundary:
            self.day = boundary - datetime.timedelta(days=1)
            changes_release_held(on=self.day)
            changes_flag_overdue(on=self.day)
            self.year_end(boundary)
        self.day = target
        changes_release_held(on=self.day)
        changes_flag_overdue(on=self.day)

    def year_end(self, boundary: datetime.date) -> None:
        """The academic year turns (a stand-in for the yearend app's promotion): every record on
        roll moves one grade up on 1 September (a repeat stays, a skip goes two up), and the
        approved repeats and skips are completed in the same transaction, as the contract
        between the apps says."""
        year = boundary.year
        deferred = {
            c.student_id: c for c in ChangeRequest.objects.filter(state=ChangeState.APPROVED)
        }
        with transaction.atomic():
            for placement in Placement.objects.filter(end_date__isnull=True).select_related(
                "student"
            ):
                change = deferred.get(placement.student_id)
                step = 1
                if change is not None:
                    step = 0 if change.kind == ChangeKind.REPEAT else 2
                grade = min(placement.grade + step, GRADES[-1])
                klass = SchoolClass.objects.get(
                    school_id=placement.school_id,
                    academic_year__start_year=year,
                    grade=grade,
                    number=1,
                )
                placement.end_date = boundary
                placement.save(update_fields=["end_date"])
                Placement.objects.create(
                    student_id=placement.student_id,
                    school_id=placement.school_id,
                    school_class=klass,
                    grade=grade,
                    start_date=boundary,
                    reason="promotion",
                )
                if change is not None:
                    change.state = ChangeState.COMPLETED
                    change.effective_date = boundary
                    change.save(update_fields=["state", "effective_date"])
                    ChangeLog.objects.create(
                        request=change,
                        event="apply",
                        from_state=ChangeState.APPROVED,
                        to_state=ChangeState.COMPLETED,
                    )
                    RecordEvent.objects.create(
                        student_id=placement.student_id,
                        kind=EventKind.REPEATED
                        if change.kind == ChangeKind.REPEAT
                        else EventKind.SKIPPED,
                        occurred_on=boundary,
                        detail={"change": str(change.pk)},
                    )
                    audit_record(
                        actor=None,
                        action="change.apply",
                        object_type="student",
                        object_id=change.student_id,
                        detail={"change": str(change.pk)},
                    )

    # ---- invariants ---------------------------------------------------------------------------

    @invariant()
    def one_open_placement_and_counted_at_one_school(self) -> None:
        for student in Student.objects.all():
            # Two changes on one day leave a placement of no length, [d, d), before the one
            # opened on d: ends first, then the open one (a UUID pk is no order at all).
            placements = list(
                Placement.objects.filter(student=student).order_by(
                    "start_date", F("end_date").asc(nulls_last=True), "pk"
                )
            )
            open_ones = [p for p in placements if p.end_date is None]
            if student.state in ON_ROLL_STATES:
                assert len(open_ones) == 1, student.state
                assert open_ones[0].school_id == student.school_id
            else:
                assert student.state in EXITED
                assert not open_ones
            # Half-open intervals in order, never overlapping: on any date one school at most.
            for earlier, later in itertools.pairwise(placements):
                assert earlier.end_date is not None and earlier.end_date <= later.start_date

    @invariant()
    def every_state_change_is_logged_and_audited(self) -> None:
        logged: Counter[tuple[str, str]] = Counter()
        for change in ChangeRequest.objects.all():
            entries = list(change.log.order_by("at", "pk"))
            state = ""
            for entry in entries:
                assert entry.from_state == state, (change.kind, [e.event for e in entries])
                state = entry.to_state
                logged[(str(change.pk), f"change.{entry.event}")] += 1
            assert state == change.state
            if change.state == ChangeState.COMPLETED:
                events = RecordEvent.objects.filter(
                    student_id=change.student_id, detail__change=str(change.pk)
                )
                assert events.count() == 1
        audited: Counter[tuple[str, str]] = Counter(
            (entry.detail.get("change", ""), entry.action)
            for entry in AuditEntry.objects.filter(action__startswith="change.").exclude(
                action__in=NOT_STATE_CHANGES
            )
        )
        assert audited == logged

    @invariant()
    def one_active_change_and_transferring_flag(self) -> None:
        for student in Student.objects.all():
            active = list(student.changes.filter(state__in=ACTIVE_STATES))
            assert len(active) <= 1
            transferring = any(
                c.kind == ChangeKind.TRANSFER and c.state != ChangeState.APPROVED for c in active
            )
            assert (student.state == RecordState.TRANSFERRING) is transferring
            for change in active:
                if change.kind == ChangeKind.TRANSFER:
                    # Still counted at the sender until completion.
                    assert student.school_id == change.from_school_id

    @invariant()
    def pending_waits_for_one_party_held_for_none(self) -> None:
        for change in ChangeRequest.objects.all():
            current = change.steps.filter(state=StepState.PENDING).count()
            assert current == (1 if change.state == ChangeState.PENDING else 0)
            if change.state == ChangeState.HELD:
                assert change.resumes_on is not None and change.resumes_on >= self.day


@pytest.mark.django_db
def test_changes_state_machine():
    world = build_world(grades=GRADES, years=YEARS)
    ChangesMachine.world = world
    ChangesMachine.ministry = member(Role.BUREAU_APPROVER)
    for year in YEARS:
        academic_year(year)
    run_state_machine_as_test(
        ChangesMachine,
        settings=settings(
            max_examples=15,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
