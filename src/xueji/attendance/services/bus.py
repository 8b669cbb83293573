"""School buses: routes and stops (a school's, set by its registrar, or the county's where the
county runs them, set by its approver), the children assigned (those whose record says they need
the school bus, `Student.needs_school_bus`), the boarding check morning and afternoon (the bus
monitor's phone page, or a card reader through the API: the same taps twice change nothing), and
the flags raised at once when the roll and the bus disagree:

- boarded in the morning but absent (whole day or morning) from the class's roll that day;
- in class (the roll taken, not absent whole day or afternoon) but not boarded home on a route
  whose afternoon check was made.

Who checks: the bus monitor (随车照管人员) is a teacher the school designates for the route (the
校车安全管理条例 makes the school name one for every bus); teachers take turns, so any class or
subject teacher of the school may make the check, and the registrar's account feeds the card
reader. The driver drives and holds no account. A county's route is checked by its approver's
account (its reader). Every check names who made it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.models import Membership, ScopeLevel
from xueji.access.policy import Action, Limit, limit
from xueji.access.scope import classes_visible, division_in_area, require, scope_of
from xueji.attendance.calendar import is_school_day_of
from xueji.attendance.models import (
    Absence,
    Boarding,
    BusCheck,
    BusFlag,
    BusFlagKind,
    BusRider,
    BusRoute,
    BusStop,
    BusTrip,
    RollCall,
)
from xueji.audit.services import audit_record
from xueji.core.errors import FieldErrors, NotFound
from xueji.geo.models import Division
from xueji.schools.models import School, SchoolClass
from xueji.students.models import Placement, RecordState, Student


def _field(field: str, message: Any, code: str = "invalid") -> FieldErrors:
    return FieldErrors({field: [ValidationError(message, code=code)]})


def _no_route() -> NotFound:
    return NotFound("route_not_found", _("No such bus route."))


def route_in_scope(scope: Any, route: BusRoute) -> bool:
    """A school sees its own routes; a bureau the routes of its area (schools' and county's)."""
    if scope is None:
        return False
    if scope.level == ScopeLevel.SCHOOL:
        return route.school_id is not None and route.school_id == scope.school_id
    county = route.county_id or (route.school.county_id if route.school is not None else "")
    return division_in_area(scope, county or "")


def _teacher_classes(actor: Any, scope: Any) -> Q | None:
    """For a teacher limited to some classes (the class teacher's own, the subject teacher's
    assigned), a filter on SchoolClass of those classes; None for a role not so limited."""
    kind = limit(scope.role, Action.BUS_BOARD)
    if kind == Limit.OWN_CLASSES:
        return Q(class_teacher_id=getattr(actor, "pk", None), school_id=scope.school_id or 0)
    if kind == Limit.ASSIGNED_CLASSES:
        return classes_visible(scope, Action.BUS_BOARD)
    return None


def _may_board(actor: Any, scope: Any, route: BusRoute, action: str) -> bool:
    """The boarding check of a teacher: the route's monitor, or a teacher of a class whose
    children ride it (standing in)."""
    if action != Action.BUS_BOARD:
        return True
    classes = _teacher_classes(actor, scope)
    if classes is None or route.monitor_id == getattr(actor, "pk", None):
        return True
    return BusRider.objects.filter(
        route=route,
        end_date__isnull=True,
        student_id__in=Placement.objects.filter(
            end_date__isnull=True, school_class__in=SchoolClass.objects.filter(classes)
        ).values("student_id"),
    ).exists()


def route_for(actor: Any, route_id: Any, action: str, *, lock: bool = False) -> BusRoute:
    scope = require(actor, action)
    query = BusRoute.objects.select_related("school")
    if lock:
        query = query.select_for_update(of=("self",))
    try:
        route = query.get(pk=int(route_id))
    except (BusRoute.DoesNotExist, TypeError, ValueError):
        raise _no_route() from None
    if not route_in_scope(scope, route) or not _may_board(actor, scope, route, action):
        raise _no_route()
    if (
        action == Action.BUS_MANAGE
        and scope.level != ScopeLevel.SCHOOL
        and route.county_id is None
        and scope.level != ScopeLevel.COUNTY
    ):
        raise _no_route()
    return route


def _route_schools(route: BusRoute) -> Any:
    if route.school_id is not None:
        return School.objects.filter(pk=route.school_id)
    return School.objects.filter(county_id=route.county_id)


# ---- routes, stops, riders -------------------------------------------------------------------


def bus_route_save(
    *,
    actor: Any,
    name: str,
    vehicle: str = "",
    driver: str = "",
    monitor_id: Any = None,
    route_id: Any = None,
    active: bool = True,
) -> BusRoute:
    """Create (or edit) a route: a registrar's for the own school, a county approver's for the
    county. The monitor must be a teacher (or the registrar) of the route's school."""
    scope = require(actor, Action.BUS_MANAGE)
    problems: dict[str, list[ValidationError]] = {}
    name = (name or "").strip()
    if not name:
        problems["name"] = [ValidationError(_("Name the route."), code="required")]
    if len(name) > 100:
        problems["name"] = [ValidationError(_("At most 100 characters."), code="too_long")]
    vehicle, driver = (vehicle or "").strip(), (driver or "").strip()
    if len(vehicle) > 20:
        problems["vehicle"] = [ValidationError(_("At most 20 characters."), code="too_long")]
    if len(driver) > 64:
        problems["driver"] = [ValidationError(_("At most 64 characters."), code="too_long")]
    with transaction.atomic():
        if route_id:
            route = route_for(actor, route_id, Action.BUS_MANAGE, lock=True)
            before: dict[str, Any] = {
                "name": route.name,
                "vehicle": route.vehicle,
                "driver": route.driver,
                "monitor": route.monitor_id,
                "active": route.active,
            }
        elif scope.level == ScopeLevel.SCHOOL:
            route, before = BusRoute(school_id=scope.school_id), {}
        elif scope.level == ScopeLevel.COUNTY:
            route, before = BusRoute(county_id=scope.division_code), {}
        else:
            raise NotFound("route_not_found", _("No such bus route."))
        monitor = None
        if monitor_id not in (None, ""):
            staff = Membership.objects.filter(
                user_id=monitor_id if str(monitor_id).isdigit() else 0,
                scope_level=ScopeLevel.SCHOOL,
            )
            staff = (
                staff.filter(school_id=route.school_id)
                if route.school_id
                else staff.filter(school__county_id=route.county_id)
            )
            found = staff.select_related("user").first()
            if found is None:
                problems["monitor_id"] = [
                    ValidationError(
                        _("Choose a teacher of the route's school as its monitor."),
                        code="unknown",
                    )
                ]
            else:
                monitor = found.user
        if problems:
            raise FieldErrors(problems)
        route.name, route.vehicle, route.driver = name, vehicle, driver
        route.monitor = monitor
        route.active = bool(active)
        route.save()
        audit_record(
            actor=actor,
            action="bus_route.save",
            detail={"route": route.pk},
            before=before,
            after={
                "name": route.name,
                "vehicle": route.vehicle,
                "driver": route.driver,
                "monitor": route.monitor_id,
                "active": route.active,
            },
        )
    return route


def _time(text: str, field: str, problems: dict[str, list[ValidationError]]) -> Any:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return datetime.time.fromisoformat(text)
    except ValueError:
        problems[field] = [ValidationError(_("A time such as 07:10."), code="invalid")]
        return None


def bus_stop_add(
    *, actor: Any, route_id: Any, name: str, morning_at: str = "", afternoon_at: str = ""
) -> BusStop:
    problems: dict[str, list[ValidationError]] = {}
    name = (name or "").strip()
    if not name or len(name) > 100:
        problems["name"] = [
            ValidationError(_("Name the stop (at most 100 characters)."), code="required")
        ]
    morning = _time(morning_at, "morning_at", problems)
    afternoon = _time(afternoon_at, "afternoon_at", problems)
    with transaction.atomic():
        route = route_for(actor, route_id, Action.BUS_MANAGE, lock=True)
        if problems:
            raise FieldErrors(problems)
        last = route.stops.order_by("-order").values_list("order", flat=True).first() or 0
        stop = BusStop.objects.create(
            route=route, order=last + 1, name=name, morning_at=morning, afternoon_at=afternoon
        )
        audit_record(
            actor=actor,
            action="bus_stop.add",
            detail={"route": route.pk, "stop": stop.pk, "name": name},
        )
    return stop


def bus_stop_remove(*, actor: Any, route_id: Any, stop_id: Any) -> None:
    with transaction.atomic():
        route = route_for(actor, route_id, Action.BUS_MANAGE, lock=True)
        stop = BusStop.objects.filter(pk=stop_id if str(stop_id).isdigit() else 0, route=route)
        found = stop.first()
        if found is None:
            raise _field("stop_id", _("No such stop on this route."), "unknown")
        if BusRider.objects.filter(stop=found).exists():
            raise _field(
                "stop_id",
                _("Children are assigned to this stop: move them to another stop first."),
                "in_use",
            )
        found.delete()
        audit_record(actor=actor, action="bus_stop.remove", detail={"route": route.pk})


def bus_rider_assign(
    *, actor: Any, route_id: Any, student_id: Any, stop_id: Any, on: datetime.date | None = None
) -> BusRider:
    """Assign a child whose record says it needs the school bus to a stop of the route (from
    `on`, default today); a child on another route moves (the old assignment ends)."""
    on = on or timezone.localdate()
    with transaction.atomic():
        route = route_for(actor, route_id, Action.BUS_MANAGE, lock=True)
        stop = BusStop.objects.filter(
            pk=stop_id if str(stop_id).isdigit() else 0, route=route
        ).first()
        problems: dict[str, list[ValidationError]] = {}
        if stop is None:
            problems["stop_id"] = [
                ValidationError(_("Choose a stop of this route."), code="unknown")
            ]
        student = (
            Student.objects.select_for_update()
            .filter(
                pk=student_id,
                state=RecordState.ENROLLED,
                school__in=_route_schools(route),
            )
            .first()
            if _is_uuid(student_id)
            else None
        )
        if student is None:
            problems["student_id"] = [
                ValidationError(
                    _("Choose a child on the roll of the route's school."), code="unknown"
                )
            ]
        elif not student.needs_school_bus:
            problems["student_id"] = [
                ValidationError(
                    _(
                        "The record does not say this child needs the school bus: correct "
                        "the record first."
                    ),
                    code="no_need",
                )
            ]
        if problems:
            raise FieldErrors(problems)
        assert student is not None and stop is not None
        current = BusRider.objects.filter(student=student, end_date__isnull=True).first()
        if current is not None:
            if current.route_id == route.pk and current.stop_id == stop.pk:
                return current
            current.end_date = on
            current.save(update_fields=["end_date"])
        rider = BusRider.objects.create(route=route, stop=stop, student=student, start_date=on)
        audit_record(
            actor=actor,
            action="bus_rider.assign",
            object_type="student",
            object_id=student.pk,
            detail={"route": route.pk, "stop": stop.pk, "from": on.isoformat()},
        )
    return rider


def bus_rider_end(
    *, actor: Any, route_id: Any, rider_id: Any, on: datetime.date | None = None
) -> None:
    on = on or timezone.localdate()
    with transaction.atomic():
        route = route_for(actor, route_id, Action.BUS_MANAGE, lock=True)
        rider = BusRider.objects.filter(
            pk=rider_id if str(rider_id).isdigit() else 0, route=route, end_date__isnull=True
        ).first()
        if rider is None:
            raise _field("rider_id", _("No such child on this route."), "unknown")
        rider.end_date = max(on, rider.start_date)
        rider.save(update_fields=["end_date"])
        audit_record(
            actor=actor,
            action="bus_rider.end",
            object_type="student",
            object_id=rider.student_id,
            detail={"route": route.pk, "until": rider.end_date.isoformat()},
        )


def _is_uuid(value: Any) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def riders_on(route: BusRoute, day: datetime.date) -> list[BusRider]:
    return list(
        BusRider.objects.filter(route=route, start_date__lte=day)
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=day))
        .select_related("student", "stop")
        .order_by("stop__order", "student__name")
    )


# ---- the boarding check ---------------------------------------------------------------------


def _check_day(route: BusRoute, day: datetime.date, trip: str) -> None:
    if trip not in BusTrip.values:
        raise _field("trip", _("Morning (am) or afternoon (pm)."), "unknown")
    if day > timezone.localdate():
        raise _field("day", _("This day is still to come."), "future")
    school = route.school or School.objects.filter(county_id=route.county_id).first()
    if school is not None and not is_school_day_of(school, day):
        raise _field("day", _("This is no school day."), "not_school_day")


@dataclass
class BoardingResult:
    route_id: int
    day: datetime.date
    trip: str
    boarded: int
    added: int
    removed: int
    flags: int


def bus_check_save(
    *,
    actor: Any,
    route_id: Any,
    day: datetime.date,
    trip: str,
    boarded: Iterable[Any],
) -> BoardingResult:
    """The monitor's check of a trip: `boarded` is the complete list of riders who boarded
    (everyone else assigned did not). The same list again changes nothing."""
    with transaction.atomic():
        route = route_for(actor, route_id, Action.BUS_BOARD, lock=True)
        _check_day(route, day, trip)
        riders = {str(r.student_id): r.student_id for r in riders_on(route, day)}
        wanted: set[Any] = set()
        for sid in boarded:
            if str(sid) not in riders:
                raise _field(f"boarded-{sid}", _("Not assigned to this route that day."), "unknown")
            wanted.add(riders[str(sid)])
        have = set(
            Boarding.objects.filter(route=route, day=day, trip=trip).values_list(
                "student_id", flat=True
            )
        )
        gone = have - wanted
        new = wanted - have
        if gone:
            Boarding.objects.filter(
                route=route, day=day, trip=trip, student_id__in=list(gone)
            ).delete()
        now = timezone.now()
        # A child who boarded another route that trip keeps that row (unique per child-trip).
        Boarding.objects.bulk_create(
            [
                Boarding(route=route, student_id=s, day=day, trip=trip, at=now, source="page")
                for s in new
            ],
            ignore_conflicts=True,
        )
        check, created = BusCheck.objects.get_or_create(
            route=route, day=day, trip=trip, defaults={"checked_by": actor, "source": "page"}
        )
        if (gone or new) and not created:
            check.checked_by = actor
            check.save(update_fields=["checked_by", "checked_at"])
        flags = bus_flags_refresh(student_ids=list(riders.values()), day=day)
        if gone or new or created:
            audit_record(
                actor=actor,
                action="bus_check.save",
                detail={
                    "route": route.pk,
                    "day": day.isoformat(),
                    "trip": trip,
                    "boarded": len(wanted),
                    "added": len(new),
                    "removed": len(gone),
                },
            )
    return BoardingResult(route.pk, day, trip, len(wanted), len(new), len(gone), flags)


@dataclass(frozen=True)
class Tap:
    """One card reader's tap: a child on a route's bus on a day's trip (at a time)."""

    route_id: Any
    day: datetime.date
    trip: str
    student_id: Any = None
    student_number: str = ""
    at: datetime.datetime | None = None


def bus_taps_record(*, actor: Any, taps: Sequence[Tap]) -> dict[str, int]:
    """A card reader's taps, all or nothing: each names a route, a day, a trip and a child (by
    id or student number) assigned to the route. A tap already recorded changes nothing (the
    same batch twice is harmless); the trip's check is marked made (by the reader)."""
    from xueji.attendance.services.roll import _resolve_numbers

    problems: dict[str, list[ValidationError]] = {}
    if not taps:
        raise _field("taps", _("Send at least one tap."), "required")
    routes: dict[int, BusRoute] = {}
    rows: list[tuple[BusRoute, Any, Tap]] = []
    numbers = _resolve_numbers(
        {t.student_number.strip() for t in taps if t.student_number and not t.student_id}
    )
    with transaction.atomic():
        for n, tap in enumerate(taps):
            key = f"taps[{n}]"
            try:
                rid = int(tap.route_id)
            except (TypeError, ValueError):
                rid = 0
            if rid not in routes:
                routes[rid] = route_for(actor, rid, Action.BUS_BOARD)
            route = routes[rid]
            try:
                _check_day(route, tap.day, tap.trip)
            except FieldErrors as refused:
                problems[key] = list(next(iter(refused.errors.values())))
                continue
            riders = {str(r.student_id): r for r in riders_on(route, tap.day)}
            sid = str(tap.student_id or "")
            if not sid and tap.student_number:
                sid = str(numbers.get(tap.student_number.strip(), ""))
            if sid not in riders:
                problems[key] = [
                    ValidationError(
                        _("This child is not assigned to the route that day."), code="unknown"
                    )
                ]
                continue
            rows.append((route, riders[sid].student_id, tap))
        if problems:
            raise FieldErrors(problems)
        before = Boarding.objects.count()
        Boarding.objects.bulk_create(
            [
                Boarding(
                    route=route,
                    student_id=sid,
                    day=tap.day,
                    trip=tap.trip,
                    at=tap.at or timezone.now(),
                    source="reader",
                )
                for route, sid, tap in rows
            ],
            ignore_conflicts=True,
        )
        added = Boarding.objects.count() - before
        trips = {(route.pk, tap.day, tap.trip) for route, _sid, tap in rows}
        for rid, day, trip in trips:
            BusCheck.objects.get_or_create(
                route_id=rid, day=day, trip=trip, defaults={"checked_by": actor, "source": "reader"}
            )
        flags = 0
        for day in {tap.day for _r, _s, tap in rows}:
            flags += bus_flags_refresh(
                student_ids=[
                    r.student_id
                    for rid in {route.pk for route, _s, t in rows if t.day == day}
                    for r in riders_on(routes[rid], day)
                ],
                day=day,
            )
        if added:
            audit_record(
                actor=actor,
                action="bus_taps.record",
                detail={"taps": len(rows), "added": added, "trips": len(trips)},
            )
    return {"taps": len(rows), "added": added, "unchanged": len(rows) - added, "flags": flags}


# ---- flags ---------------------------------------------------------------------------------


def bus_flags_refresh(*, student_ids: Sequence[Any], day: datetime.date) -> int:
    """Recompute the day's flags of these riders from the roll and the boarding checks (raised
    at once by the check, the taps and the roll; a correction clears its flag). Returns how
    many flags the children have that day."""
    ids = list(dict.fromkeys(student_ids))
    if not ids:
        return 0
    placements = {
        p.student_id: p
        for p in Placement.objects.filter(
            Q(end_date__isnull=True) | Q(end_date__gt=day),
            student_id__in=ids,
            start_date__lte=day,
        ).only("student_id", "school_id", "school_class_id")
    }
    classes = {p.school_class_id for p in placements.values()}
    taken = set(
        RollCall.objects.filter(school_class_id__in=classes, day=day).values_list(
            "school_class_id", flat=True
        )
    )
    absent = dict(
        Absence.objects.filter(student_id__in=ids, day=day).values_list("student_id", "portion")
    )
    boarded = set(
        Boarding.objects.filter(student_id__in=ids, day=day).values_list("student_id", "trip")
    )
    riders = {
        r.student_id: r.route_id
        for r in BusRider.objects.filter(student_id__in=ids, start_date__lte=day).filter(
            Q(end_date__isnull=True) | Q(end_date__gt=day)
        )
    }
    checked_pm = set(
        BusCheck.objects.filter(
            route_id__in=set(riders.values()), day=day, trip=BusTrip.AFTERNOON
        ).values_list("route_id", flat=True)
    )
    wanted: dict[tuple[Any, str], Any] = {}
    for sid in ids:
        placement = placements.get(sid)
        if placement is None or placement.school_class_id not in taken:
            continue  # no roll taken: nothing to compare with
        portion = absent.get(sid)
        route = riders.get(sid)
        if (sid, BusTrip.MORNING) in boarded and portion in ("full", "am"):
            wanted[(sid, BusFlagKind.BOARDED_ABSENT)] = placement
        if (
            route in checked_pm
            and portion not in ("full", "pm")
            and (sid, BusTrip.AFTERNOON) not in boarded
        ):
            wanted[(sid, BusFlagKind.MISSED_HOME)] = placement
    existing = {
        (f.student_id, f.kind): f.pk for f in BusFlag.objects.filter(student_id__in=ids, day=day)
    }
    stale = [pk for key, pk in existing.items() if key not in wanted]
    if stale:
        BusFlag.objects.filter(pk__in=stale).delete()
    BusFlag.objects.bulk_create(
        [
            BusFlag(
                student_id=sid,
                school_id=placement.school_id,
                school_class_id=placement.school_class_id,
                route_id=riders.get(sid) or _boarded_route(sid, day),
                day=day,
                kind=kind,
            )
            for (sid, kind), placement in wanted.items()
            if (sid, kind) not in existing
        ],
        ignore_conflicts=True,
    )
    return len(wanted)


def _boarded_route(student_id: Any, day: datetime.date) -> Any:
    return (
        Boarding.objects.filter(student_id=student_id, day=day)
        .values_list("route_id", flat=True)
        .first()
    )


def bus_flags_after_roll(*, school_class_id: int, day: datetime.date) -> None:
    """The roll of a class was taken or corrected: its riders' flags of the day follow."""
    riders = list(
        BusRider.objects.filter(
            student_id__in=Placement.objects.filter(
                Q(end_date__isnull=True) | Q(end_date__gt=day),
                school_class_id=school_class_id,
                start_date__lte=day,
            ).values("student_id"),
            start_date__lte=day,
        )
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=day))
        .values_list("student_id", flat=True)
    )
    if riders:
        bus_flags_refresh(student_ids=riders, day=day)


def bus_flags_after_rolls(*, pairs: Iterable[tuple[int, datetime.date]]) -> int:
    """bus_flags_after_roll for many class-days (a card system's file): one query a day finds
    the riders among their children."""
    by_day: dict[datetime.date, set[int]] = {}
    for class_id, day in pairs:
        by_day.setdefault(day, set()).add(class_id)
    flags = 0
    for day, class_ids in by_day.items():
        riders = list(
            BusRider.objects.filter(
                student_id__in=Placement.objects.filter(
                    Q(end_date__isnull=True) | Q(end_date__gt=day),
                    school_class_id__in=class_ids,
                    start_date__lte=day,
                ).values("student_id"),
                start_date__lte=day,
            )
            .filter(Q(end_date__isnull=True) | Q(end_date__gt=day))
            .values_list("student_id", flat=True)
        )
        if riders:
            flags += bus_flags_refresh(student_ids=riders, day=day)
    return flags


def routes_for_check(actor: Any) -> list[BusRoute]:
    """The routes the user may check: the school's (those the user monitors first), or the
    county's."""
    scope = scope_of(actor)
    if scope is None:
        return []
    if scope.level == ScopeLevel.SCHOOL:
        found = BusRoute.objects.filter(school_id=scope.school_id or 0, active=True)
    else:
        found = BusRoute.objects.filter(county_id=scope.division_code, active=True)
    mine = getattr(actor, "pk", None)
    classes = _teacher_classes(actor, scope)
    if classes is not None:
        found = found.filter(
            Q(monitor_id=mine)
            | Q(
                riders__end_date__isnull=True,
                riders__student_id__in=Placement.objects.filter(
                    end_date__isnull=True, school_class__in=SchoolClass.objects.filter(classes)
                ).values("student_id"),
            )
        ).distinct()
    return sorted(found, key=lambda r: (r.monitor_id != mine, r.name))


def county_of(route: BusRoute) -> Division | None:
    return Division.objects.filter(
        code=route.county_id or (route.school.county_id if route.school else "")
    ).first()
