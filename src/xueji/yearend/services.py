"""Writes of the school year (DOMAIN §6): year-end runs (promotion, graduation) planned with a
dry run, started once the clearing is empty, executed chunk by chunk (xueji.yearend.engine),
reversed by a bureau within XUEJI_YEAREND_REVERSIBLE_DAYS; the outcomes a school records
before graduation; the intake of graduates of the previous stage (招生/升学).

`actor=None` is the operator on the command line (`xueji yearend ...`), who acts for the
system; pages and the API always pass the signed-in user and are checked against the matrix.
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.policy import Action
from xueji.access.scope import (
    division_in_area,
    may_at_school,
    require,
    school_in_area,
)
from xueji.audit.services import audit_record
from xueji.changes import services as change_services
from xueji.changes.models import YEAREND
from xueji.changes.windows import closure_on, closure_where
from xueji.core.errors import Conflict, FieldErrors, NotFound, ServiceError
from xueji.core.idnumbers import g_number, normalize
from xueji.schools.models import (
    AcademicYear,
    School,
    SchoolClass,
    academic_start_year,
    grade_label,
)
from xueji.schools.services import academic_year_ensure
from xueji.schools.stages import school_ends_stage
from xueji.students import bulk
from xueji.students.identity import number_indexes
from xueji.students.models import (
    EventKind,
    Placement,
    RecordState,
    Student,
    StudentNumberAlias,
)
from xueji.students.record import Admission, records_admit
from xueji.yearend import engine
from xueji.yearend.models import (
    Notice,
    Outcome,
    OutcomeOverride,
    RunKind,
    RunState,
    YearEndChunk,
    YearEndRun,
)
from xueji.yearend.periods import outside_periods, periods_text
from xueji.yearend.selectors import Target, blockers_of, resolve_target
from xueji.yearend.workflow import Event, transition

# Students per chunk (one transaction each): at least CHUNK_STUDENTS, and about TARGET_CHUNKS
# chunks per run. Every chunk dirties most leaf pages of the indexes keyed by student (random
# UUIDs) again, so on a large scope many small chunks write those indexes over and over (measured
# at 200,000 students: 11 chunks wrote twice the WAL of one); a crash loses one chunk's work.
CHUNK_STUDENTS = 50_000
TARGET_CHUNKS = 6

_STUDENT_NUMBER = re.compile(r"^[GJL]\d{17}[\dX]$")
_RESIDENT_ID = re.compile(r"^\d{17}[\dX]$")

Progress = Callable[[YearEndRun], None]


def _no_such_run() -> NotFound:
    return NotFound("run_not_found", _("No such year-end run."))


def _may_act_on(actor: Any, action: str, target: Target) -> None:
    """The operator (actor None) may; a user needs the action and the target in the area."""
    if actor is None:
        return
    scope = require(actor, action)
    inside = (
        school_in_area(scope, target.school)
        if target.school is not None
        else (scope.level == "nation" if not target.code else division_in_area(scope, target.code))
    )
    if not inside:
        raise NotFound("scope_not_found", _("No such school or division in your area."))


def _year(start_year: int) -> AcademicYear:
    year = AcademicYear.objects.filter(start_year=start_year).first()
    if year is None:
        raise NotFound(
            "year_not_found",
            _("The academic year %(year)d-%(next)d does not exist.")
            % {"year": start_year, "next": start_year + 1},
        )
    return year


def _pack(counts: dict[int, int], size: int) -> list[tuple[list[int], int]]:
    """Schools grouped in chunks of about `size` students (a school is never split)."""
    chunks: list[tuple[list[int], int]] = []
    current: list[int] = []
    total = 0
    for school_id in sorted(counts):
        if current and total + counts[school_id] > size:
            chunks.append((current, total))
            current, total = [], 0
        current.append(school_id)
        total += counts[school_id]
    if current:
        chunks.append((current, total))
    return chunks


def _report(
    target: Target, kind: str, from_year: AcademicYear
) -> tuple[dict[str, Any], dict[int, int]]:
    """The dry run: what the run would do, counted per school and grade, and what stops it."""
    area_sql, area_params = target.sql()
    rows = engine.count_by_school(kind, area_sql, area_params, from_year.pk, from_year.start_year)
    per_school: dict[int, dict[str, dict[str, int]]] = defaultdict(dict)
    totals: dict[str, int] = defaultdict(int)
    students: dict[int, int] = defaultdict(int)
    for school_id, grade, outcome, count in rows:
        per_school[school_id].setdefault(str(grade), {})[outcome] = count
        totals[outcome] += count
        students[school_id] += count
    names = dict(School.objects.filter(pk__in=list(per_school)).values_list("pk", "code"))
    school_names = dict(School.objects.filter(pk__in=list(per_school)).values_list("pk", "name"))
    staying = (
        Placement.objects.filter(
            target.q("school__"),
            end_date__isnull=True,
            school_class__academic_year=from_year,
        )
        .exclude(student__state=RecordState.ENROLLED)
        .values("student__state")
        .order_by("student__state")
    )
    stay_counts: dict[str, int] = defaultdict(int)
    for row in staying:
        stay_counts[row["student__state"]] += 1
    blockers, blocker_total = blockers_of(target, kind, from_year.start_year)
    going_on, unplaced = _top_grades(target, from_year)
    report = {
        "kind": kind,
        "scope": target.label,
        "from_year": from_year.start_year,
        "students": sum(totals.values()),
        "totals": dict(totals),
        "schools": [
            {
                "id": school_id,
                "code": names.get(school_id, ""),
                "name": school_names.get(school_id, ""),
                "grades": per_school[school_id],
                "students": students[school_id],
            }
            for school_id in sorted(per_school)
        ],
        # Not moved: suspended students keep their grade, a transfer under way is cleared first.
        "staying": dict(stay_counts),
        "blockers": blockers,
        "blocker_count": blocker_total,
        # The top grades of schools that end no stage (教学点): not graduated; going on to the
        # central school with the promotion, or listed for the registrar to resolve.
        "going_on": going_on,
        "unplaced": unplaced,
    }
    return report, dict(students)


def _top_grades(
    target: Target, from_year: AcademicYear
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The classes of top grades that end no stage: those whose central school takes them on,
    and those with no school to go on to (and why), for the dry run's report."""
    area_sql, area_params = target.sql()
    rows = engine.top_grades_going_on(area_sql, area_params, from_year.pk)
    school_ids = {r.school_id for r in rows} | {
        r.central_school_id for r in rows if r.central_school_id is not None
    }
    schools = {
        pk: (code, name)
        for pk, code, name in School.objects.filter(pk__in=school_ids).values_list(
            "pk", "code", "name"
        )
    }
    classes = dict(
        SchoolClass.objects.filter(pk__in=[r.class_id for r in rows]).values_list("pk", "name")
    )
    going_on: list[dict[str, Any]] = []
    unplaced: list[dict[str, Any]] = []
    for row in rows:
        code, name = schools.get(row.school_id, ("", ""))
        item: dict[str, Any] = {
            "school_id": row.school_id,
            "code": code,
            "name": name,
            "class_id": row.class_id,
            "class": classes.get(row.class_id, ""),
            "grade": row.grade,
            "students": row.students,
        }
        if row.central_school_id is not None:
            central_code, central_name = schools.get(row.central_school_id, ("", ""))
            item["central_school"] = {"code": central_code, "name": central_name}
        if row.goes_on:
            going_on.append(item)
        else:
            item["reason"] = row.reason
            unplaced.append(item)
    return going_on, unplaced


# Why a top grade has no school to go on to, as the report and the notices say it.
UNPLACED_REASONS: dict[str, Any] = {
    engine.NO_CENTRAL_SCHOOL: _("the school has no central school (中心校)"),
    engine.CENTRAL_SCHOOL_CLOSED: _("its central school is closed"),
    engine.CENTRAL_SCHOOL_LACKS_GRADE: _("its central school does not teach the next grade"),
}


def _notify(
    run: YearEndRun, blockers: list[dict[str, Any]], unplaced: list[dict[str, Any]]
) -> None:
    """Tell each school what it must finish or cancel before the run can start, and which of
    its top-grade children have no school to go on to."""
    existing = set(Notice.objects.filter(run=run).values_list("link", flat=True))
    notices = [
        Notice(
            school_id=item["school_id"],
            run=run,
            message=str(
                _("Before the year-end %(kind)s: finish or cancel “%(what)s” of %(student)s.")
                % {
                    "kind": RunKind(run.kind).label,
                    "what": item["what"],
                    "student": item["student"],
                }
            ),
            link=item["link"],
        )
        for item in blockers
        if item["link"] not in existing
    ]
    for item in unplaced:
        link = reverse("students:roster", args=[item["class_id"]])
        if link in existing:
            continue
        notices.append(
            Notice(
                school_id=item["school_id"],
                run=run,
                message=str(
                    _(
                        "%(count)d children of %(grade)s %(class)s finish your school's last "
                        "grade, which ends no stage, and have no school to go on to "
                        "(%(reason)s): they are not promoted; arrange the school that takes "
                        "them (a transfer)."
                    )
                    % {
                        "count": item["students"],
                        "grade": grade_label(item["grade"]),
                        "class": item["class"],
                        "reason": UNPLACED_REASONS.get(item["reason"], item["reason"]),
                    }
                ),
                link=link,
            )
        )
    Notice.objects.bulk_create(notices)


def run_plan(
    *,
    actor: Any,
    kind: str,
    scope: str,
    from_year: int | None = None,
    chunk_students: int | None = None,
    outside_period_confirmed: bool = False,
) -> YearEndRun:
    """The dry run of a promotion or graduation over a scope: counts per school and grade,
    problems, and the clearing's unfinished business (each school is notified of its own);
    the run waits, planned, to be started. An unfinished run of the same kind, scope and year
    is refreshed (planned) or returned. Outside the promotion period it is refused unless
    `outside_period_confirmed`: a dry run in December tells every school to clear its business
    for a year end that is months away."""
    if kind not in RunKind.values:
        raise FieldErrors(
            {"kind": [ValidationError(_("Choose promotion or graduation."), code="invalid")]}
        )
    target = resolve_target(scope)
    _may_act_on(actor, Action.YEAREND_RUN, target)
    start_year = academic_start_year(timezone.localdate()) if from_year is None else from_year
    year = _year(start_year)
    with transaction.atomic():
        run = (
            YearEndRun.objects.select_for_update()
            .filter(
                kind=kind,
                scope_level=target.level,
                scope_code=target.code,
                from_year=start_year,
                state__in=[RunState.PLANNED, RunState.RUNNING, RunState.FAILED],
            )
            .first()
        )
        if run is not None and run.state != RunState.PLANNED:
            return run  # started before: it resumes, it is not planned again
        state = transition(None if run is None else run.state, Event.PLAN)
        outside_period = _confirm_outside_period(target, outside_period_confirmed)
        report, counts = _report(target, kind, year)
        if run is None:
            run = YearEndRun(
                kind=kind,
                scope_level=target.level,
                scope_code=target.code,
                scope_name=target.label,
                from_year=start_year,
                created_by=actor,
            )
        else:
            run.chunks.all().delete()
        run.state = state
        run.report = report
        size = chunk_students or max(CHUNK_STUDENTS, -(-report["students"] // TARGET_CHUNKS))
        chunks = _pack(counts, max(1, size))
        run.chunks_total = len(chunks)
        run.chunks_done = 0
        run.students_total = report["students"]
        run.students_done = 0
        run.save()
        YearEndChunk.objects.bulk_create(
            YearEndChunk(run=run, seq=seq, school_ids=ids, planned=planned)
            for seq, (ids, planned) in enumerate(chunks, start=1)
        )
        _notify(run, report["blockers"], report["unplaced"])
        audit_record(
            actor=actor,
            action="yearend.plan",
            object_type="yearend_run",
            object_id=run.pk,
            detail={
                "kind": kind,
                "scope": target.label,
                "year": start_year,
                "students": report["students"],
                "blockers": report["blocker_count"],
                **({"outside_period_confirmed": outside_period} if outside_period else {}),
            },
        )
    return run


def _visible_run(actor: Any, run_id: Any, action: str, *, lock: bool = False) -> YearEndRun:
    runs = YearEndRun.objects.select_for_update() if lock else YearEndRun.objects.all()
    run = runs.filter(pk=run_id).first()
    if run is None:
        raise _no_such_run()
    if actor is not None:
        try:
            _may_act_on(actor, action, resolve_target(run.scope_code))
        except NotFound:
            raise _no_such_run() from None
    return run


def _refuse_in_closed_period(target: Target) -> None:
    """No run starts while the ministry or the province has closed promotion and graduation
    (a closed period of the operation "yearend", xueji.changes.windows); a national run
    waits for every province."""
    if target.level == "nation":
        provinces = None
    elif target.school is not None:
        provinces = [target.school.province_id]
    else:
        provinces = [target.code]
    closure = closure_on(YEAREND, provinces, timezone.localdate())
    if closure is not None:
        raise Conflict(
            "yearend_closed",
            _(
                "Promotion and graduation are closed (%(where)s, %(first)s to %(last)s): a "
                "run can start from %(reopens)s."
            )
            % {
                "where": closure_where(closure),
                "first": closure.first.isoformat(),
                "last": closure.last.isoformat(),
                "reopens": closure.reopens_on.isoformat(),
            },
        )


# The refusal of a run outside the promotion period without the confirmation (its field is
# confirm_outside_period, on the pages and in the API).
OUTSIDE_PERIOD = "outside_promotion_period"


def _confirm_outside_period(target: Target, confirmed: bool) -> list[dict[str, str]]:
    """Outside the promotion period (xueji.yearend.periods) a run is planned or started only
    when the caller confirms it: refused otherwise, naming the period and saying why. Returns
    the periods confirmed past (for the audit entry; empty inside the period)."""
    today = timezone.localdate()
    outside = outside_periods(target, today)
    if not outside:
        return []
    named = [
        {"where": period.where(), "from": period.first, "to": period.last} for period in outside
    ]
    if not confirmed:
        raise ServiceError(
            OUTSIDE_PERIOD,
            _(
                "Today (%(today)s) is outside the promotion period (%(periods)s). Promotion and "
                "graduation are done between two school years: a run now changes the "
                "children's grades and record states in the middle of one. To go on anyway, "
                "confirm that the run is done outside the promotion period."
            )
            % {
                "today": today.isoformat(),
                "periods": periods_text(outside),
            },
            field="confirm_outside_period",
            periods=named,
        )
    return named


def run_start(
    *, actor: Any, run_id: Any, enqueue: bool = True, outside_period_confirmed: bool = False
) -> YearEndRun:
    """Start a planned run (or resume a failed one); refused, naming each item, while the
    clearing has unfinished business, in a closed period, and outside the promotion period
    unless `outside_period_confirmed`. The work is done by a background task."""
    with transaction.atomic():
        run = _visible_run(actor, run_id, Action.YEAREND_RUN, lock=True)
        state = transition(run.state, Event.START)
        target = resolve_target(run.scope_code)
        _refuse_in_closed_period(target)
        outside_period = _confirm_outside_period(target, outside_period_confirmed)
        blockers, total = blockers_of(target, run.kind, run.from_year)
        if blockers:
            named = "; ".join(f"{b['what']} ({b['student']}, {b['school']})" for b in blockers[:5])
            raise Conflict(
                "clearing_unfinished",
                _("%(count)d items must be finished or cancelled first: %(items)s")
                % {"count": total, "items": named},
                blockers=blockers,
            )
        run.state = state
        run.error = ""
        run.started_at = run.started_at or timezone.now()
        if run.created_by_id is None and actor is not None:
            run.created_by = actor
        run.save(update_fields=["state", "error", "started_at", "created_by"])
        audit_record(
            actor=actor,
            action="yearend.start",
            object_type="yearend_run",
            object_id=run.pk,
            detail={
                "kind": run.kind,
                "scope": run.scope_name,
                "year": run.from_year,
                **({"outside_period_confirmed": outside_period} if outside_period else {}),
            },
        )
        if enqueue:
            # Not at the top: the task module imports this one to run the job.
            from xueji.yearend.tasks import yearend_run_task

            run_id_text = str(run.pk)
            transaction.on_commit(lambda: yearend_run_task.enqueue(run_id_text))
    return run


def run_resume(*, actor: Any, run_id: Any, outside_period_confirmed: bool = False) -> YearEndRun:
    """Enqueue a run again: a failed one is started again (clearing checked), a running one
    whose worker died is picked up where it stopped (chunks done are skipped; two workers on
    one run take turns chunk by chunk)."""
    with transaction.atomic():
        run = _visible_run(actor, run_id, Action.YEAREND_RUN, lock=True)
        if run.state != RunState.RUNNING:
            return run_start(
                actor=actor, run_id=run_id, outside_period_confirmed=outside_period_confirmed
            )
        audit_record(
            actor=actor,
            action="yearend.resume",
            object_type="yearend_run",
            object_id=run.pk,
            detail={"chunks_done": run.chunks_done, "chunks": run.chunks_total},
        )
        # Not at the top: the task module imports this one to run the job.
        from xueji.yearend.tasks import yearend_run_task

        run_id_text = str(run.pk)
        transaction.on_commit(lambda: yearend_run_task.enqueue(run_id_text))
    return run


def run_execute(
    *,
    run_id: Any,
    progress: Progress | None = None,
    max_chunks: int | None = None,
    before_commit: Callable[[int], None] | None = None,
) -> YearEndRun:
    """Do the chunks of a running run not yet done, each in its own transaction with its
    progress; `max_chunks` stops early (a resumable pause), `before_commit(seq)` is a test hook
    called inside each chunk's transaction after its writes."""
    run = YearEndRun.objects.get(pk=run_id)
    if run.state != RunState.RUNNING:
        raise Conflict(
            "run_not_running",
            _("The run is “%(state)s”, not running.") % {"state": RunState(run.state).label},
        )
    from_year = _year(run.from_year)
    to_year = academic_year_ensure(actor=run.created_by, start_year=run.to_year)
    done_now = 0
    try:
        for seq in run.chunks.filter(done=False).order_by("seq").values_list("seq", flat=True):
            if max_chunks is not None and done_now >= max_chunks:
                break
            with transaction.atomic():
                chunk = YearEndChunk.objects.select_for_update().filter(run=run, seq=seq).first()
                if chunk is None or chunk.done:
                    continue
                moved = engine.move_chunk(
                    engine.ChunkJob(
                        run_id=run.pk,
                        kind=run.kind,
                        chunk=seq,
                        school_ids=chunk.school_ids,
                        from_start=from_year.start_year,
                        from_year_id=from_year.pk,
                        to_year_id=to_year.pk,
                        start_date=to_year.start_date,
                        actor_id=run.created_by_id,
                    )
                )
                chunk.done = True
                chunk.moved = moved
                chunk.done_at = timezone.now()
                chunk.save(update_fields=["done", "moved", "done_at"])
                # One entry per chunk with its counts, not one per student: a batch takes one
                # place in the trail (and one turn on its chain) whatever its size.
                audit_record(
                    actor=run.created_by,
                    action="yearend.chunk",
                    object_type="yearend_run",
                    object_id=run.pk,
                    detail={
                        "kind": run.kind,
                        "chunk": seq,
                        "schools": len(chunk.school_ids),
                        "students": moved,
                    },
                )
                YearEndRun.objects.filter(pk=run.pk).update(
                    chunks_done=F("chunks_done") + 1, students_done=F("students_done") + moved
                )
                if before_commit is not None:
                    before_commit(seq)
            done_now += 1
            if progress is not None:
                run.refresh_from_db()
                progress(run)
    except Exception as error:
        with transaction.atomic():
            failed = YearEndRun.objects.select_for_update().get(pk=run.pk)
            if failed.state == RunState.RUNNING:
                failed.state = transition(failed.state, Event.FAIL)
                failed.error = f"{type(error).__name__}: {error}"[:2000]
                failed.save(update_fields=["state", "error"])
        raise
    with transaction.atomic():
        run = YearEndRun.objects.select_for_update().get(pk=run.pk)
        if run.state == RunState.RUNNING and not run.chunks.filter(done=False).exists():
            run.state = transition(run.state, Event.FINISH)
            run.finished_at = timezone.now()
            run.save(update_fields=["state", "finished_at"])
            audit_record(
                actor=run.created_by,
                action="yearend.finish",
                object_type="yearend_run",
                object_id=run.pk,
                detail={"students": run.students_done, "chunks": run.chunks_done},
            )
    return run


def reversible_until(run: YearEndRun) -> datetime.datetime | None:
    """The moment after which the run can no longer be reversed."""
    since = run.finished_at or run.started_at
    if since is None:
        return None
    return since + datetime.timedelta(days=settings.XUEJI_YEAREND_REVERSIBLE_DAYS)


def run_reverse(*, actor: Any, run_id: Any, note: str = "") -> YearEndRun:
    """A bureau puts back what a run did, within the allowed period: the placements it opened
    are removed, the ones it closed reopened, graduates enrolled again and their diplomas
    withdrawn, repeats and skips approved again; each record gets a "promotion_reversed"
    event. Refused, naming them, when records have changed since."""
    with transaction.atomic():
        run = _visible_run(actor, run_id, Action.YEAREND_REVERSE, lock=True)
        state = transition(run.state, Event.REVERSE)
        until = reversible_until(run)
        if until is not None and timezone.now() > until:
            raise Conflict(
                "reversal_period_over",
                _("The run can only be reversed within %(days)d days.")
                % {"days": settings.XUEJI_YEAREND_REVERSIBLE_DAYS},
            )
        changed = _changed_since(run)
        if changed:
            raise Conflict(
                "records_changed",
                _("Records have changed since the run: %(students)s.")
                % {"students": ", ".join(changed)},
                students=changed,
            )
        day = AcademicYear(start_year=run.to_year).start_date
        d = engine.dialect()
        params = {
            "run": d.uuid(run.pk),
            "day": d.date(day),
            "now": d.now(),
            "actor": getattr(actor, "pk", None),
            "detail": json.dumps({"run": str(run.pk)}),
        }
        members = "SELECT m.{column} FROM yearend_yearendmember m WHERE m.run_id = %(run)s"
        bulk.events_append(
            rows=f"""SELECT {d.new_uuid()}, m.student_id, '{EventKind.PROMOTION_REVERSED}',
                %(day)s, %(now)s, %(actor)s, {d.json("%(detail)s")}
                FROM yearend_yearendmember m WHERE m.run_id = %(run)s""",
            params=params,
        )
        bulk.placements_remove(
            placement_ids=members.format(column="new_placement_id")
            + " AND m.new_placement_id IS NOT NULL",
            params=params,
        )
        bulk.placements_reopen(
            placement_ids=members.format(column="old_placement_id"), params=params
        )
        if run.kind == RunKind.PROMOTE:
            # Those gone on to a central school are back on their teaching point's roll.
            bulk.records_follow_placements(
                students=members.format(column="student_id")
                + f" AND m.outcome = '{Outcome.TO_CENTRAL}'",
                params=params,
            )
        if run.kind == RunKind.GRADUATE:
            bulk.states_set(
                students=members.format(column="student_id"),
                params=params,
                state=RecordState.ENROLLED,
            )
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM yearend_diploma WHERE run_id = %(run)s", params)
        else:
            change_services.deferred_changes_reopen(
                students=members.format(column="student_id")
                + f" AND m.outcome IN ('{Outcome.REPEATED}', '{Outcome.SKIPPED}')",
                params=params,
                actor=actor,
            )
        run.state = state
        run.reversed_by = actor
        run.reversed_at = timezone.now()
        run.save(update_fields=["state", "reversed_by", "reversed_at"])
        audit_record(
            actor=actor,
            action="yearend.reverse",
            object_type="yearend_run",
            object_id=run.pk,
            detail={"students": run.students_done, "note": note},
        )
    return run


def _changed_since(run: YearEndRun, limit: int = 10) -> list[str]:
    """Masked numbers of records the run moved that have moved again since."""
    d = engine.dialect()
    if run.kind == RunKind.PROMOTE:
        condition = """NOT EXISTS (SELECT 1 FROM students_placement np
                        WHERE np.id = m.new_placement_id AND np.end_date IS NULL)"""
    else:
        condition = """(s.state <> m.outcome OR EXISTS (SELECT 1 FROM students_placement np
                         WHERE np.student_id = m.student_id AND np.end_date IS NULL))"""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT s.number_masked FROM yearend_yearendmember m
                JOIN students_student s ON s.id = m.student_id
                WHERE m.run_id = %s AND {condition} ORDER BY s.number_masked LIMIT {int(limit)}""",
            [d.uuid(run.pk)],
        )
        return [row[0] for row in cursor.fetchall()]


# ---- outcomes recorded by the school before graduation ----------------------------------------


def outcome_set(
    *, actor: Any, student_id: Any, outcome: str, from_year: int | None = None
) -> OutcomeOverride | None:
    """The school records that a final-grade student leaves with 结业 or 肄业 (or, with an
    empty outcome, with 毕业 again) at the coming graduation."""
    scope = require(actor, Action.YEAREND_OUTCOME)
    start_year = academic_start_year(timezone.localdate()) if from_year is None else from_year
    if outcome not in ("", Outcome.COMPLETED, Outcome.INCOMPLETE):
        raise FieldErrors(
            {"outcome": [ValidationError(_("Choose 毕业, 结业 or 肄业."), code="invalid")]}
        )
    with transaction.atomic():
        placement = (
            Placement.objects.select_related("school", "student")
            .filter(
                student_id=student_id,
                end_date__isnull=True,
                school_class__academic_year__start_year=start_year,
            )
            .first()
        )
        if placement is None or not may_at_school(
            scope, Action.YEAREND_OUTCOME, placement.school_id
        ):
            raise NotFound("student_not_found", _("No such student."))
        if placement.grade != placement.school.last_grade or not school_ends_stage(
            placement.school
        ):
            raise FieldErrors(
                {
                    "outcome": [
                        ValidationError(
                            _(
                                "Only a student of the final grade of a stage (小学, 初中, "
                                "高中) graduates; the top grade of a teaching point goes on to "
                                "its central school."
                            ),
                            code="not_final_grade",
                        )
                    ]
                }
            )
        OutcomeOverride.objects.filter(student_id=student_id, from_year=start_year).delete()
        override = None
        if outcome:
            override = OutcomeOverride.objects.create(
                student_id=student_id, from_year=start_year, outcome=outcome, set_by=actor
            )
        audit_record(
            actor=actor,
            action="yearend.outcome_set",
            object_type="student",
            object_id=student_id,
            after={"outcome": outcome or Outcome.GRADUATED},
        )
    return override


# ---- intake of graduates of the previous stage (招生/升学) --------------------------------------


@dataclass
class IntakeResult:
    school_class_id: int
    admitted: int = 0
    student_ids: list[uuid.UUID] = field(default_factory=list)


def _line_error(line: int, number: str, message: Any, code: str) -> ValidationError:
    return ValidationError(
        _("Line %(line)d (%(number)s): %(reason)s"),
        code=code,
        params={"line": line, "number": number, "reason": message},
    )


def _mask(number: str) -> str:
    return number[:7] + "********" + number[15:] if len(number) == 19 else "*" * len(number)


def _resolve_numbers(numbers: list[str]) -> dict[str, Student]:
    """Students by plain number (current or former), looked up by the sealed index in batches:
    each number's index under every suite held, so that a record not yet re-indexed by a change
    of suite is found too."""
    by_index = {index: number for number in numbers for index in number_indexes(number)}
    found: dict[str, Student] = {}
    indexes = list(by_index)
    for start in range(0, len(indexes), 1000):
        batch = indexes[start : start + 1000]
        for student in Student.objects.filter(number_index__in=batch):
            found[by_index[student.number_index]] = student
        missing = [i for i in batch if by_index[i] not in found]
        aliases = dict(
            StudentNumberAlias.objects.filter(number_index__in=missing).values_list(
                "number_index", "student_id"
            )
        )
        for student in Student.objects.filter(pk__in=set(aliases.values())):
            for index, owner in aliases.items():
                if owner == student.pk:
                    found[by_index[index]] = student
    return found


def intake_admit(
    *,
    actor: Any,
    school_class_id: int,
    student_numbers: Sequence[str],
    start_date: datetime.date | None = None,
) -> IntakeResult:
    """A junior or senior high school admits graduates of the previous stage into a class of
    its first grade: the same records under the same numbers, basic information reused. All
    or nothing; every problem is named by its line."""
    scope = require(actor, Action.INTAKE_ADMIT)
    school_class = (
        SchoolClass.objects.select_related("school", "academic_year")
        .filter(pk=school_class_id)
        .first()
    )
    if school_class is None or not may_at_school(
        scope, Action.INTAKE_ADMIT, school_class.school_id
    ):
        raise NotFound("class_not_found", _("No such class."))
    school = school_class.school
    if school_class.grade != school.first_grade or school.first_grade <= 1:
        raise FieldErrors(
            {
                "school_class_id": [
                    ValidationError(
                        _(
                            "Graduates are admitted into the first grade of a junior or senior "
                            "high school."
                        ),
                        code="not_an_entry_grade",
                    )
                ]
            }
        )
    day = start_date or school_class.academic_year.start_date
    lines = [(i, normalize(n)) for i, n in enumerate(student_numbers, start=1) if (n or "").strip()]
    problems: list[ValidationError] = []
    if not lines:
        problems.append(ValidationError(_("Give at least one student number."), code="empty_list"))
    seen: dict[str, int] = {}
    valid: list[tuple[int, str]] = []
    for line, number in lines:
        if _RESIDENT_ID.match(number):
            number = g_number(number)  # the formal number is G + the resident ID
        if not engine_number_ok(number):
            problems.append(
                _line_error(line, _mask(number), _("not a student number"), "number_format")
            )
        elif number in seen:
            problems.append(_line_error(line, _mask(number), _("listed twice"), "duplicate_number"))
        else:
            seen[number] = line
            valid.append((line, number))
    with transaction.atomic():
        students = _resolve_numbers([n for _l, n in valid])
        ids = [s.pk for s in students.values()]
        # Lock the records: two schools admitting the same child take turns, the second finds
        # the child admitted.
        list(Student.objects.select_for_update().filter(pk__in=ids).values_list("pk", flat=True))
        last = {
            p.student_id: p
            for p in Placement.objects.filter(student_id__in=ids)
            .select_related("school_class")
            .order_by("student_id", "start_date")
        }
        open_ids = set(
            Placement.objects.filter(student_id__in=ids, end_date__isnull=True).values_list(
                "student_id", flat=True
            )
        )
        states = dict(Student.objects.filter(pk__in=ids).values_list("pk", "state"))
        admitted: list[tuple[Student, Placement]] = []
        for line, number in valid:
            student = students.get(number)
            if student is None:
                problems.append(
                    _line_error(line, _mask(number), _("no such student"), "unknown_number")
                )
                continue
            masked = student.number_masked
            previous = last.get(student.pk)
            if student.pk in open_ids or states[student.pk] in (
                RecordState.ENROLLED,
                RecordState.SUSPENDED,
                RecordState.TRANSFERRING,
            ):
                code, reason = (
                    ("already_admitted", _("already enrolled at a school"))
                    if previous is not None
                    and previous.school_class.academic_year_id == school_class.academic_year_id
                    else ("not_a_graduate", _("still on a school's roll, not a graduate"))
                )
                problems.append(_line_error(line, masked, reason, code))
            elif states[student.pk] != RecordState.GRADUATED or previous is None:
                problems.append(
                    _line_error(line, masked, _("has not graduated (毕业)"), "not_a_graduate")
                )
            elif previous.grade != school_class.grade - 1:
                problems.append(
                    _line_error(
                        line,
                        masked,
                        _("graduated from grade %(grade)d, not from the stage before")
                        % {"grade": previous.grade},
                        "wrong_stage",
                    )
                )
            else:
                admitted.append((student, previous))
        if problems:
            raise FieldErrors({"student_numbers": problems})
        records_admit(
            actor=actor,
            school_class=school_class,
            admissions=[
                Admission(
                    student_id=student.pk,
                    on=max(day, previous.end_date or day),
                    detail={
                        "school": school.code,
                        "class": school_class.pk,
                        "grade": school_class.grade,
                        "from_school": previous.school_id,
                    },
                )
                for student, previous in admitted
            ],
            occurred_on=day,
        )
        audit_record(
            actor=actor,
            action="intake.admit",
            object_type="class",
            detail={"school": school.code, "class": school_class.pk, "admitted": len(admitted)},
        )
    return IntakeResult(
        school_class_id=school_class.pk,
        admitted=len(admitted),
        student_ids=[s.pk for s, _p in admitted],
    )


def engine_number_ok(number: str) -> bool:
    """A student number (G/J/L + 18) in its written form."""
    return bool(_STUDENT_NUMBER.match(number))
