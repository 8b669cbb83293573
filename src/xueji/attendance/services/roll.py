"""Taking the daily roll: the class teacher's page, the API and the card system's CSV.

A class-day's roll is the class's complete list of absences (whole day, morning, afternoon, late)
on a school day; everyone else on the class's roll that day (its placements and its guests, 借读)
was present. Taking it again replaces the list: only the difference is written (the same roll, or
the same CSV file, twice changes nothing). The class teacher corrects until the end of the next
school day; later only the registrar, with a reason; every correction is kept (RollCorrection)
and audited.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action, Limit, limit
from xueji.access.scope import may, require
from xueji.attendance.calendar import next_school_day, roll_window
from xueji.attendance.models import (
    Absence,
    Guest,
    Portion,
    Reason,
    RollCall,
    RollCorrection,
    Symptom,
)
from xueji.attendance.services.bus import bus_flags_after_roll
from xueji.audit.services import audit_record
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.schools.models import SchoolClass
from xueji.students.models import Placement


@dataclass(frozen=True)
class AbsenceIn:
    student_id: Any
    reason: str
    portion: str = Portion.FULL
    symptom: str = ""
    note: str = ""

    def key(self) -> tuple[str, str, str, str]:
        return (self.portion, self.reason, self.symptom, self.note)


@dataclass
class RollResult:
    school_class_id: int
    day: datetime.date
    created: bool
    changed: bool
    absent: int
    enrolled: int
    added: int = 0
    removed: int = 0
    updated: int = 0
    alerts: list[Any] = field(default_factory=list)


def _today() -> datetime.date:
    return timezone.localdate()


def class_roll_ids(school_class_id: int, day: datetime.date) -> set[Any]:
    """The children on the class's roll that day: placed in it, or its guests (借读)."""
    placed = list(
        Placement.objects.filter(
            Q(end_date__isnull=True) | Q(end_date__gt=day),
            school_class_id=school_class_id,
            start_date__lte=day,
        ).values_list("student_id", flat=True)
    )
    # Guests of the class are on its roll; a child of the class attending another school as a
    # guest is on that school's.
    guests: set[Any] = set()
    away: set[Any] = set()
    for student_id, guest_class in Guest.objects.filter(
        Q(end_date__isnull=True) | Q(end_date__gt=day),
        Q(school_class_id=school_class_id) | Q(student_id__in=placed),
        start_date__lte=day,
    ).values_list("student_id", "school_class_id"):
        (guests if guest_class == school_class_id else away).add(student_id)
    return (set(placed) - away) | guests


def validate_absence(item: AbsenceIn) -> str | None:
    """The message for an absence that does not hold together, or None."""
    if item.portion not in Portion.values:
        return str(_("Choose whole day, morning, afternoon or late."))
    if item.reason not in Reason.values:
        return str(_("Choose a reason."))
    if item.reason == Reason.SICK and item.symptom not in Symptom.values:
        return str(_("Choose the illness's symptom."))
    if item.reason != Reason.SICK and item.symptom:
        return str(_("A symptom goes with sick leave only."))
    if item.reason == Reason.OTHER and not item.note.strip():
        return str(_("Say what the other reason is."))
    if len(item.note) > 200:
        return str(_("At most 200 characters."))
    return None


def correction_deadline(school_class: SchoolClass, day: datetime.date) -> datetime.date:
    """The last day the class teacher may still change the day's roll: the next school day."""
    return next_school_day(school_class.school, day)


def _class_for(actor: Any, school_class_id: int) -> tuple[Any, SchoolClass]:
    scope = require(actor, Action.ATTENDANCE_TAKE)
    school_class = SchoolClass.objects.select_related("school").filter(pk=school_class_id).first()
    if (
        school_class is None
        or scope.level != ScopeLevel.SCHOOL
        or scope.school_id != school_class.school_id
        or (
            limit(scope.role, Action.ATTENDANCE_TAKE) == Limit.OWN_CLASSES
            and school_class.class_teacher_id != getattr(actor, "pk", None)
        )
    ):
        raise NotFound("not_found", _("No such class."))
    return scope, school_class


def _check_day(scope: Any, school_class: SchoolClass, day: datetime.date, reason: str) -> bool:
    """Refuse a day that is no school day or still to come; True when it is a late change
    (after the class teacher's window), which only the registrar makes, with a reason."""
    today = _today()
    if day > today:
        raise FieldErrors(
            {
                "day": [
                    ValidationError(_("The roll of a day to come cannot be taken."), code="future")
                ]
            }
        )
    school_day, deadline = roll_window(school_class.school, day)
    if not school_day:
        raise FieldErrors(
            {
                "day": [
                    ValidationError(
                        _("%(day)s is not a school day.") % {"day": day}, code="no_school_day"
                    )
                ]
            }
        )
    late = today > deadline
    if late:
        if not may(scope, Action.ATTENDANCE_CORRECT):
            raise Conflict(
                "correction_window_closed",
                _(
                    "The roll of %(day)s can no longer be changed by the class teacher: ask the "
                    "registrar, who corrects it with a reason."
                )
                % {"day": day},
            )
        if not reason.strip():
            raise FieldErrors(
                {
                    "reason": [
                        ValidationError(
                            _("A correction after the next school day needs a reason."),
                            code="required",
                        )
                    ]
                }
            )
    return late


def _lock_roll(school_class: SchoolClass, day: datetime.date) -> tuple[RollCall, bool]:
    found = RollCall.objects.select_for_update().filter(school_class=school_class, day=day).first()
    if found is not None:
        return found, False
    try:
        with transaction.atomic():
            return (
                RollCall.objects.create(
                    school_class=school_class, school_id=school_class.school_id, day=day
                ),
                True,
            )
    except IntegrityError:
        return RollCall.objects.select_for_update().get(school_class=school_class, day=day), False


def _absence_row(a: Absence) -> dict[str, str]:
    return {
        "student": str(a.student_id),
        "portion": a.portion,
        "reason": a.reason,
        "symptom": a.symptom,
        "note": a.note,
    }


def _apply(
    *,
    actor: Any,
    school_class: SchoolClass,
    day: datetime.date,
    wanted: dict[Any, AbsenceIn],
    roll_ids: set[Any],
    reason: str,
    late: bool,
    source: str,
) -> RollResult:
    """Write the difference between the class-day's absences and `wanted` (in a transaction)."""
    roll, created = _lock_roll(school_class, day)
    existing = {a.student_id: a for a in Absence.objects.filter(school_class=school_class, day=day)}
    removed = [a for sid, a in existing.items() if sid not in wanted]
    added = [item for sid, item in wanted.items() if sid not in existing]
    updated = [
        (existing[sid], item)
        for sid, item in wanted.items()
        if sid in existing
        and (existing[sid].portion, existing[sid].reason, existing[sid].symptom, existing[sid].note)
        != item.key()
    ]
    absent = sum(1 for item in wanted.values() if item.portion == Portion.FULL)
    changed = bool(removed or added or updated)
    result = RollResult(
        school_class.pk,
        day,
        created,
        changed or created,
        absent,
        len(roll_ids),
        len(added),
        len(removed),
        len(updated),
    )
    if not changed and not created:
        return result
    before = [_absence_row(a) for a in existing.values()]
    if removed:
        Absence.objects.filter(
            school_class=school_class, day=day, student_id__in=[a.student_id for a in removed]
        ).delete()
    for row, item in updated:
        Absence.objects.filter(pk=row.pk, day=day).update(
            portion=item.portion, reason=item.reason, symptom=item.symptom, note=item.note
        )
    # A child absent in another class the same day (moved class): that class's row goes.
    if added:
        Absence.objects.filter(day=day, student_id__in=[i.student_id for i in added]).exclude(
            school_class=school_class
        ).delete()
        Absence.objects.bulk_create(
            [
                Absence(
                    student_id=item.student_id,
                    school_class=school_class,
                    school_id=school_class.school_id,
                    day=day,
                    portion=item.portion,
                    reason=item.reason,
                    symptom=item.symptom,
                    note=item.note,
                )
                for item in added
            ]
        )
    RollCall.objects.filter(pk=roll.pk, day=day).update(
        enrolled=len(roll_ids),
        absent=absent,
        source=source,
        changed_at=timezone.now(),
        **({"taken_by": actor} if created else {}),
    )
    after = [
        {
            "student": str(i.student_id),
            "portion": i.portion,
            "reason": i.reason,
            "symptom": i.symptom,
            "note": i.note,
        }
        for i in wanted.values()
    ]
    if any(i.reason == Reason.SICK for i in wanted.values()) or any(
        a.reason == Reason.SICK for a in removed
    ):
        from xueji.attendance.services.alerts import alerts_raise_for_class

        result.alerts = alerts_raise_for_class(school_class=school_class, on=day)
    if not created:
        RollCorrection.objects.create(
            school_class=school_class,
            day=day,
            actor=actor,
            reason=reason.strip()[:200],
            late=late,
            before=before,
            after=after,
        )
    audit_record(
        actor=actor,
        action="attendance.correct" if not created else "attendance.take",
        object_type="school_class",
        detail={
            "class": school_class.pk,
            "day": day.isoformat(),
            "absent": absent,
            "late": late,
            "reason": reason.strip()[:200],
            "source": source,
        },
        before={"absences": before} if not created else None,
        after={"absences": after},
    )
    return result


def roll_take(
    *,
    actor: Any,
    school_class_id: int,
    day: datetime.date,
    absences: Sequence[AbsenceIn],
    reason: str = "",
    source: str = "page",
) -> RollResult:
    """Take (or retake) a class's roll for a school day: `absences` is the class's complete
    list; everyone else on its roll was present."""
    scope, school_class = _class_for(actor, school_class_id)
    roll_ids = class_roll_ids(school_class.pk, day)
    problems: dict[str, list[ValidationError]] = {}
    wanted: dict[Any, AbsenceIn] = {}
    for item in absences:
        sid = item.student_id
        key = f"absence-{sid}"
        if not any(str(sid) == str(r) for r in roll_ids):
            problems[key] = [
                ValidationError(_("Not on the class's roll that day."), code="unknown")
            ]
            continue
        sid = next(r for r in roll_ids if str(r) == str(sid))
        message = validate_absence(item)
        if message:
            problems[key] = [ValidationError(message, code="invalid")]
        elif sid in wanted:
            problems[key] = [ValidationError(_("Listed twice."), code="duplicate")]
        else:
            wanted[sid] = AbsenceIn(sid, item.reason, item.portion, item.symptom, item.note.strip())
    late = _check_day(scope, school_class, day, reason)
    if problems:
        raise FieldErrors(problems)
    with transaction.atomic():
        result = _apply(
            actor=actor,
            school_class=school_class,
            day=day,
            wanted=wanted,
            roll_ids=roll_ids,
            reason=reason,
            late=late,
            source=source,
        )
        if result.changed or result.created:
            # The school bus's flags of the day follow the roll (raised at once).
            bus_flags_after_roll(school_class_id=school_class.pk, day=day)
        return result


# ---- the card system's CSV ----------------------------------------------------------------------

CSV_COLUMNS = ("date", "class_id", "student_number", "portion", "reason", "symptom", "note")


@dataclass
class CsvResult:
    class_days: int = 0
    changed: int = 0
    unchanged: int = 0
    absences: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


def _resolve_numbers(numbers: Iterable[str]) -> dict[str, Any]:
    from xueji.students.identity import number_indexes
    from xueji.students.models import Student

    by_index: dict[str, str] = {}
    for number in numbers:
        for index in number_indexes(number):
            by_index[index] = number
    found: dict[str, Any] = {}
    rows = Student.objects.filter(number_index__in=list(by_index)).values_list("number_index", "pk")
    for index, pk in rows:
        found[by_index[index]] = pk
    return found


def class_roll_ids_many(pairs: Iterable[tuple[int, datetime.date]]) -> dict[Any, set[Any]]:
    """class_roll_ids for many class-days at once (two queries): (class, day) → children."""
    wanted = set(pairs)
    if not wanted:
        return {}
    class_ids = {c for c, _d in wanted}
    first = min(d for _c, d in wanted)
    last = max(d for _c, d in wanted)
    placements = Placement.objects.filter(
        Q(end_date__isnull=True) | Q(end_date__gt=first),
        school_class_id__in=class_ids,
        start_date__lte=last,
    )
    placed = list(placements.values_list("student_id", "school_class_id", "start_date", "end_date"))
    guests = list(
        Guest.objects.filter(
            Q(end_date__isnull=True) | Q(end_date__gt=first),
            Q(school_class_id__in=class_ids) | Q(student_id__in=placements.values("student_id")),
            start_date__lte=last,
        ).values_list("student_id", "school_class_id", "start_date", "end_date")
    )
    found: dict[Any, set[Any]] = {pair: set() for pair in wanted}
    days_of: dict[int, list[datetime.date]] = defaultdict(list)
    for c, d in wanted:
        days_of[c].append(d)

    def covers(start: datetime.date, end: datetime.date | None, day: datetime.date) -> bool:
        return start <= day and (end is None or end > day)

    home: dict[tuple[Any, datetime.date], int] = {}
    for sid, cid, start, end in placed:
        for d in days_of[cid]:
            if covers(start, end, d):
                found[(cid, d)].add(sid)
                home[(sid, d)] = cid
    for sid, cid, start, end in guests:
        for d in {d for _c, d in wanted}:
            if not covers(start, end, d):
                continue
            if (cid, d) in found:
                found[(cid, d)].add(sid)
            own = home.get((sid, d))
            if own is not None and own != cid:
                found[(own, d)].discard(sid)
    return found


def _csv_refusal(class_id: Any, day: Any, problem: str) -> FieldErrors:
    return FieldErrors(
        {
            "file": [
                ValidationError(
                    _("Class %(class)s on %(day)s: %(problem)s")
                    % {"class": class_id, "day": day, "problem": problem},
                    code="invalid",
                )
            ]
        }
    )


def roll_import_csv(*, actor: Any, rows: Sequence[dict[str, str]], reason: str = "") -> CsvResult:
    """The card or face system's file: one line per child absent or late (a line with no
    student number marks a class's roll taken with everyone present). Each class-day named in
    the file is taken as its complete roll, all of the file or nothing; a file sent twice
    changes nothing the second time.

    Set-based: the file is checked whole (classes, days, each child on its class's roll that
    day) with a few queries, then written in one transaction with a fixed number of statements
    whatever its size: the class-days' rows created or updated, the absences that go deleted,
    the new and changed ones staged (COPY on PostgreSQL) and upserted in one statement, the
    corrections kept, one audit entry for the file."""
    result = CsvResult()
    errors: list[dict[str, Any]] = []
    numbers = {r.get("student_number", "").strip() for r in rows} - {""}
    resolved = _resolve_numbers(numbers)
    grouped: dict[tuple[int, datetime.date], dict[Any, tuple[int, AbsenceIn]]] = {}
    for line, row in enumerate(rows, start=2):
        try:
            day = datetime.date.fromisoformat((row.get("date") or "").strip())
            class_id = int((row.get("class_id") or "").strip())
        except ValueError:
            errors.append({"line": line, "message": str(_("A date (YYYY-MM-DD) and a class id."))})
            continue
        number = (row.get("student_number") or "").strip()
        items = grouped.setdefault((class_id, day), {})
        if not number:
            continue
        if number not in resolved:
            errors.append({"line": line, "message": str(_("No student with this number."))})
            continue
        item = AbsenceIn(
            resolved[number],
            (row.get("reason") or "").strip(),
            (row.get("portion") or Portion.FULL).strip() or Portion.FULL,
            (row.get("symptom") or "").strip(),
            (row.get("note") or "").strip(),
        )
        message = validate_absence(item)
        if message:
            errors.append({"line": line, "message": message})
        elif item.student_id in items:
            errors.append({"line": line, "message": str(_("Listed twice."))})
        else:
            items[item.student_id] = (line, item)
    if errors:
        result.errors = errors
        raise _lines_wrong(errors)
    if not grouped:
        return result
    scope = require(actor, Action.ATTENDANCE_TAKE)
    own_only = limit(scope.role, Action.ATTENDANCE_TAKE) == Limit.OWN_CLASSES
    classes = {
        c.pk: c
        for c in SchoolClass.objects.select_related("school").filter(
            pk__in={c for c, _d in grouped}
        )
    }
    for class_id, _day in grouped:
        school_class = classes.get(class_id)
        if (
            school_class is None
            or scope.level != ScopeLevel.SCHOOL
            or scope.school_id != school_class.school_id
            or (own_only and school_class.class_teacher_id != getattr(actor, "pk", None))
        ):
            raise NotFound("not_found", _("No such class."))
    late_days: dict[tuple[int, datetime.date], bool] = {}
    for class_id, day in sorted(grouped, key=lambda pair: (pair[1], pair[0])):
        school_class = classes[class_id]
        key = (school_class.school_id, day)
        if key in late_days:
            continue
        try:
            late_days[key] = _check_day(scope, school_class, day, reason or "CSV")
        except FieldErrors as problem:
            messages = [str(e.messages[0]) for errs in problem.errors.values() for e in errs]
            raise _csv_refusal(class_id, day, "; ".join(messages)) from None
    roll_of = class_roll_ids_many(grouped)
    seen: set[tuple[Any, datetime.date]] = set()
    for (class_id, day), items in grouped.items():
        for sid, (line, _item) in items.items():
            if sid not in roll_of[(class_id, day)]:
                errors.append(
                    {"line": line, "message": str(_("Not on the class's roll that day."))}
                )
            elif (sid, day) in seen:
                errors.append({"line": line, "message": str(_("Listed twice."))})
            seen.add((sid, day))
    if errors:
        result.errors = errors
        raise _lines_wrong(errors)
    with transaction.atomic():
        _write_csv(
            actor=actor,
            grouped=grouped,
            classes=classes,
            roll_of=roll_of,
            late_days=late_days,
            reason=reason or "CSV",
            result=result,
        )
    return result


def _lines_wrong(errors: list[dict[str, Any]]) -> FieldErrors:
    return FieldErrors(
        {
            "file": [
                ValidationError(
                    _("%(count)s lines are wrong.") % {"count": len(errors)},
                    code="invalid",
                    params={"lines": errors},
                )
            ]
        }
    )


_STAGE = "attendance_csv_stage"
_STAGE_COLUMNS = (
    "student_id",
    "school_class_id",
    "school_id",
    "day",
    "portion",
    "reason",
    "symptom",
    "note",
)


def _copy_text(value: Any) -> str:
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _stage_and_upsert(rows: list[tuple[Any, ...]]) -> None:
    """New and changed absences: staged (COPY on PostgreSQL) and upserted in one statement (a
    child's row of the day in another class moves to this one)."""
    from django.db import connection

    if not rows:
        return
    postgres = connection.vendor == "postgresql"
    columns = ", ".join(_STAGE_COLUMNS)
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (student_id uuid, "
                "school_class_id bigint, school_id bigint, day date, portion varchar(4), "
                "reason varchar(10), symptom varchar(16), note varchar(200)) ON COMMIT DELETE ROWS"
            )
            # Empty whatever an earlier file of the same transaction left (ON COMMIT DELETE ROWS
            # empties it only at the commit).
            cursor.execute(f"DELETE FROM {_STAGE}")
            with cursor.cursor.copy(f"COPY {_STAGE} ({columns}) FROM STDIN") as copy:
                copy.write("".join("\t".join(_copy_text(v) for v in row) + "\n" for row in rows))
        else:
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (student_id char(32), "
                "school_class_id integer, school_id integer, day date, portion varchar(4), "
                "reason varchar(10), symptom varchar(16), note varchar(200))"
            )
            cursor.execute(f"DELETE FROM {_STAGE}")
            cursor.executemany(
                f"INSERT INTO {_STAGE} ({columns}) VALUES ({', '.join(['%s'] * 8)})",
                [(row[0].hex, *row[1:3], row[3].isoformat(), *row[4:]) for row in rows],
            )
        cursor.execute(
            f"INSERT INTO attendance_absence ({columns}) SELECT {columns} FROM {_STAGE} "
            "WHERE true ON CONFLICT (student_id, day) DO UPDATE SET "
            "school_class_id = excluded.school_class_id, school_id = excluded.school_id, "
            "portion = excluded.portion, reason = excluded.reason, "
            "symptom = excluded.symptom, note = excluded.note"
        )
        cursor.execute(f"DELETE FROM {_STAGE}")


def _write_csv(
    *,
    actor: Any,
    grouped: dict[tuple[int, datetime.date], dict[Any, tuple[int, AbsenceIn]]],
    classes: dict[int, SchoolClass],
    roll_of: dict[Any, set[Any]],
    late_days: dict[tuple[int, datetime.date], bool],
    reason: str,
    result: CsvResult,
) -> None:
    class_ids = {c for c, _d in grouped}
    days = {d for _c, d in grouped}
    rolls = {
        (r.school_class_id, r.day): r
        for r in RollCall.objects.select_for_update().filter(
            school_class_id__in=class_ids, day__in=days
        )
        if (r.school_class_id, r.day) in grouped
    }
    existing: dict[tuple[int, datetime.date], dict[Any, Absence]] = defaultdict(dict)
    for a in Absence.objects.filter(school_class_id__in=class_ids, day__in=days):
        if (a.school_class_id, a.day) in grouped:
            existing[(a.school_class_id, a.day)][a.student_id] = a
    now = timezone.now()
    to_create: list[RollCall] = []
    to_update: list[RollCall] = []
    corrections: list[RollCorrection] = []
    gone: list[Any] = []
    staged: list[tuple[Any, ...]] = []
    sick_classes: set[tuple[int, datetime.date]] = set()
    taken: list[str] = []
    changed_pairs: list[tuple[int, datetime.date]] = []
    for (class_id, day), items in sorted(grouped.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        school_class = classes[class_id]
        have = existing.get((class_id, day), {})
        wanted = {sid: item for sid, (_line, item) in items.items()}
        removed = [a for sid, a in have.items() if sid not in wanted]
        changed_items = [
            item
            for sid, item in wanted.items()
            if sid not in have
            or (have[sid].portion, have[sid].reason, have[sid].symptom, have[sid].note)
            != item.key()
        ]
        absent = sum(1 for item in wanted.values() if item.portion == Portion.FULL)
        roll = rolls.get((class_id, day))
        result.class_days += 1
        result.absences += len(wanted)
        if roll is not None and not removed and not changed_items:
            result.unchanged += 1
            continue
        result.changed += 1
        taken.append(f"{class_id}:{day.isoformat()}")
        changed_pairs.append((class_id, day))
        gone += [a.pk for a in removed]
        staged += [
            (
                item.student_id,
                class_id,
                school_class.school_id,
                day,
                item.portion,
                item.reason,
                item.symptom,
                item.note,
            )
            for item in changed_items
        ]
        if any(i.reason == Reason.SICK for i in changed_items) or any(
            a.reason == Reason.SICK for a in removed
        ):
            sick_classes.add((class_id, day))
        enrolled = len(roll_of[(class_id, day)])
        if roll is None:
            to_create.append(
                RollCall(
                    school_class_id=class_id,
                    school_id=school_class.school_id,
                    day=day,
                    enrolled=enrolled,
                    absent=absent,
                    source="csv",
                    taken_by=actor if getattr(actor, "pk", None) else None,
                )
            )
            continue
        roll.enrolled, roll.absent, roll.source, roll.changed_at = enrolled, absent, "csv", now
        to_update.append(roll)
        corrections.append(
            RollCorrection(
                school_class_id=class_id,
                day=day,
                actor=actor if getattr(actor, "pk", None) else None,
                reason=reason.strip()[:200],
                late=late_days.get((school_class.school_id, day), False),
                before=[_absence_row(a) for a in have.values()],
                after=[
                    {
                        "student": str(i.student_id),
                        "portion": i.portion,
                        "reason": i.reason,
                        "symptom": i.symptom,
                        "note": i.note,
                    }
                    for i in wanted.values()
                ],
            )
        )
    if not taken:
        return
    if to_create:
        RollCall.objects.bulk_create(to_create, batch_size=2000)
    if to_update:
        RollCall.objects.bulk_update(
            to_update, ["enrolled", "absent", "source", "changed_at"], batch_size=2000
        )
    if gone:
        Absence.objects.filter(day__in=days, pk__in=gone).delete()
    _stage_and_upsert(staged)
    if corrections:
        RollCorrection.objects.bulk_create(corrections, batch_size=2000)
    if sick_classes:
        from xueji.attendance.services.alerts import alerts_raise_for_classes

        alerts_raise_for_classes(pairs=sick_classes, classes=classes)
    from xueji.attendance.services.bus import bus_flags_after_rolls

    bus_flags_after_rolls(
        pairs=[(int(t.split(":")[0]), datetime.date.fromisoformat(t.split(":")[1])) for t in taken]
    )
    audit_record(
        actor=actor,
        action="attendance.import",
        object_type="school",
        detail={
            "source": "csv",
            "class_days": result.class_days,
            "changed": result.changed,
            "created": len(to_create),
            "corrected": len(to_update),
            "absences": result.absences,
            "late": any(late_days.values()),
            "reason": reason.strip()[:200],
            "taken": taken[:2000],
        },
    )
