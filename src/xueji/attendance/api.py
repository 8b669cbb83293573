"""The attendance app's REST endpoints (mounted at /api/attendance/): the roll of a class (for
card and face systems as for apps), its CSV, a school's day, cases and their steps, rates."""

from __future__ import annotations

import csv
import datetime
import io
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Field, File, Query, Router, Schema
from ninja.files import UploadedFile

from xueji.access.decorators import endpoint_requires
from xueji.access.policy import Action
from xueji.attendance import overview
from xueji.attendance.models import CaseEnd, Portion, Reason, StepKind, StepOutcome, Symptom
from xueji.attendance.rates import county_rates
from xueji.attendance.services import (
    AbsenceIn,
    case_close,
    case_step_log,
    roll_import_csv,
    roll_take,
)
from xueji.core.api import COMMON_ERRORS, DatabaseId, ErrorOut, IsoDate, caller
from xueji.core.errors import FieldErrors, NotFound

router = Router(tags=["attendance"])


class AbsenceBody(Schema):
    student_id: uuid.UUID
    reason: Reason
    portion: Portion = Portion.FULL
    symptom: Symptom | None = None
    note: str = Field("", max_length=200)


class RollIn(Schema):
    day: IsoDate
    absences: list[AbsenceBody] = Field(default_factory=list, max_length=200)
    reason: str = Field(
        "", max_length=200, description="Why, for a correction after the next school day."
    )


class RollOut(Schema):
    school_class_id: int
    day: datetime.date
    created: bool
    changed: bool
    enrolled: int
    absent: int


class ChildOut(Schema):
    id: uuid.UUID
    name: str
    guest: bool
    reason: str | None
    portion: str | None
    symptom: str | None


class AttendanceSheetOut(Schema):
    school_class_id: int
    day: datetime.date
    school_day: bool
    taken: bool
    correction_deadline: datetime.date
    children: list[ChildOut]


class DayParams(Schema):
    day: IsoDate | None = None


class CsvOut(Schema):
    class_days: int
    changed: int
    unchanged: int
    absences: int


class MorningOut(Schema):
    school_id: int
    day: datetime.date
    school_day: bool
    enrolled: int
    absent: int
    by_reason: dict[str, int]
    classes_without_roll: list[int]
    absent_children: list[dict[str, Any]]


class CaseOut(Schema):
    id: uuid.UUID
    name: str
    trigger: str
    state: str
    end: str
    level: str
    opened_on: datetime.date
    deadline: datetime.date
    closed_on: datetime.date | None
    school_id: int | None
    county: str
    student_id: uuid.UUID | None


class CaseParams(Schema):
    state: str = Field("open", pattern=r"^(open|lost_contact|dropped_out|closed|all)$")
    trigger: str = ""


class StepIn(Schema):
    kind: StepKind
    on: IsoDate | None = None
    outcome: StepOutcome = StepOutcome.NONE
    committee: str = Field("", max_length=100)
    note: str = Field("", max_length=300)


class CloseIn(Schema):
    end: str = Field(..., max_length=32, description=f"One of {', '.join(CaseEnd.values)}.")
    decision: str = Field("", max_length=200)
    evidence: str = Field("", max_length=200)
    note: str = Field("", max_length=300)


class RatesParams(Schema):
    county: str = Field(
        "", pattern=r"^([0-9]{6})?$", description="The county's code (default: your first)."
    )
    on: IsoDate | None = None


class RatesOut(Schema):
    county: str
    on: datetime.date
    enrolled: int
    absent_long_term: int
    open_cases: int
    returned_in_month: int
    dropped_out_in_year: int
    enrolment_rate: float | None
    dropout_rate: float | None
    consolidation_rate: float | None
    consolidation_note: str


def _no_class() -> NotFound:
    return NotFound("class_not_found", _("No such class."))


@router.get(
    "/classes/{class_id}/roll", response={200: AttendanceSheetOut, 404: ErrorOut, **COMMON_ERRORS}
)
@endpoint_requires(Action.ATTENDANCE_TAKE)
def get_roll(request: HttpRequest, class_id: DatabaseId, params: Query[DayParams]) -> object:
    """The class's children on a day (default today) with the absences recorded; `taken` says
    whether the roll was taken at all (a day without one is never "all present")."""
    school_class = overview.class_for_roll(caller(request), class_id)
    if school_class is None:
        raise _no_class()
    sheet = overview.roll_sheet(caller(request), school_class, params.day or timezone.localdate())
    return {
        "school_class_id": school_class.pk,
        "day": sheet.day,
        "school_day": sheet.school_day,
        "taken": sheet.taken,
        "correction_deadline": sheet.deadline,
        "children": [
            {
                "id": c["id"],
                "name": c["name"],
                "guest": c["guest"],
                "reason": c["absence"].reason if c["absence"] else None,
                "portion": c["absence"].portion if c["absence"] else None,
                "symptom": (c["absence"].symptom or None) if c["absence"] else None,
            }
            for c in sheet.children
        ],
    }


@router.post(
    "/classes/{class_id}/roll",
    response={200: RollOut, 404: ErrorOut, 409: ErrorOut, **COMMON_ERRORS},
)
@endpoint_requires(Action.ATTENDANCE_TAKE)
def post_roll(request: HttpRequest, class_id: DatabaseId, payload: RollIn) -> object:
    """Take the class's roll of a school day: `absences` is the complete list (everyone else
    was present). Sending the same roll again changes nothing (`changed: false`); a different
    one is a correction (until the end of the next school day; later only the registrar, with
    a `reason`: 409 `correction_window_closed` otherwise)."""
    result = roll_take(
        actor=caller(request),
        school_class_id=class_id,
        day=payload.day,
        absences=[
            AbsenceIn(a.student_id, a.reason, a.portion, a.symptom or "", a.note)
            for a in payload.absences
        ],
        reason=payload.reason,
        source="api",
    )
    return {
        "school_class_id": result.school_class_id,
        "day": result.day,
        "created": result.created,
        "changed": result.changed,
        "enrolled": result.enrolled,
        "absent": result.absent,
    }


@router.post("/rolls/csv", response={200: CsvOut, 404: ErrorOut, 409: ErrorOut, **COMMON_ERRORS})
@endpoint_requires(Action.ATTENDANCE_TAKE)
def post_roll_csv(request: HttpRequest, file: File[UploadedFile]) -> object:
    """A card or face system's CSV in UTF-8 (columns date, class_id, student_number, portion,
    reason, symptom, note; a line without a student number marks a class all present). All or
    nothing; the same file twice changes nothing the second time."""
    try:
        text = file.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FieldErrors.from_validation_error(
            ValidationError(_("The file is not UTF-8 text."), code="encoding"), "file"
        ) from None
    rows = list(csv.DictReader(io.StringIO(text)))
    result = roll_import_csv(actor=caller(request), rows=rows)
    return {
        "class_days": result.class_days,
        "changed": result.changed,
        "unchanged": result.unchanged,
        "absences": result.absences,
    }


@router.get("/schools/{school_id}/day", response={200: MorningOut, 404: ErrorOut, **COMMON_ERRORS})
@endpoint_requires(Action.ATTENDANCE_VIEW)
def school_day(request: HttpRequest, school_id: DatabaseId, params: Query[DayParams]) -> object:
    """The principal's morning as data: who is absent on a day (default today) and why."""
    school = overview.school_for_view(caller(request), school_id)
    if school is None or school.pk != school_id:
        raise NotFound("school_not_found", _("No such school."))
    data = overview.morning(school, params.day or timezone.localdate())
    return {
        "school_id": school.pk,
        "day": data.day,
        "school_day": data.school_day,
        "enrolled": data.enrolled,
        "absent": data.totals.get("absent", 0),
        "by_reason": {r: data.totals.get(r, 0) for r in overview.REASONS},
        "classes_without_roll": [c.pk for c in data.not_taken],
        "absent_children": [
            {
                "name": a["name"],
                "class_id": a["class"].pk,
                "reason": a["reason_code"],
                "portion": a["portion"],
            }
            for a in data.absent
        ],
    }


def _case_out(case: Any) -> dict[str, Any]:
    return {
        "id": case.pk,
        "name": case.name,
        "trigger": case.trigger,
        "state": case.state,
        "end": case.end,
        "level": case.level,
        "opened_on": case.opened_on,
        "deadline": case.deadline,
        "closed_on": case.closed_on,
        "school_id": case.school_id,
        "county": case.county_id,
        "student_id": case.student_id,
    }


@router.get("/cases", response={200: list[CaseOut], **COMMON_ERRORS})
@endpoint_requires(Action.CASE_VIEW)
def list_cases(request: HttpRequest, params: Query[CaseParams]) -> object:
    """Dropout-control cases of your area (the first 200, soonest deadline first)."""
    found, _total = overview.cases_list(caller(request), state=params.state, trigger=params.trigger)
    return [_case_out(c) for c in found]


@router.get("/cases/{case_id}", response={200: CaseOut, 404: ErrorOut, **COMMON_ERRORS})
@endpoint_requires(Action.CASE_VIEW)
def get_case(request: HttpRequest, case_id: uuid.UUID) -> object:
    found = overview.case_get(caller(request), case_id)
    if found is None:
        raise NotFound("not_found", _("No such case."))
    return _case_out(found)


@router.post(
    "/cases/{case_id}/steps", response={200: CaseOut, 404: ErrorOut, 409: ErrorOut, **COMMON_ERRORS}
)
@endpoint_requires(Action.CASE_STEP)
def post_step(request: HttpRequest, case_id: uuid.UUID, payload: StepIn) -> object:
    """Log a step (call, home visit with the committee, letter …); outcome `lost_contact` keeps
    the case open and escalates it."""
    user = caller(request)
    if overview.case_get(user, case_id) is None:
        raise NotFound("not_found", _("No such case."))
    step = case_step_log(
        actor=user,
        case_id=case_id,
        kind=payload.kind,
        on=payload.on,
        outcome=payload.outcome,
        committee=payload.committee,
        note=payload.note,
    )
    return _case_out(step.case)


@router.post(
    "/cases/{case_id}/close", response={200: CaseOut, 404: ErrorOut, 409: ErrorOut, **COMMON_ERRORS}
)
@endpoint_requires(Action.CASE_MANAGE)
def post_close(request: HttpRequest, case_id: uuid.UUID, payload: CloseIn) -> object:
    """Close a case with one of its ends (returned, transferred, special_school, home_teaching,
    exempted, abroad, deceased); anything else, "lost contact" included, is refused (400)."""
    user = caller(request)
    if overview.case_get(user, case_id) is None:
        raise NotFound("not_found", _("No such case."))
    return _case_out(
        case_close(
            actor=user,
            case_id=case_id,
            end=payload.end,
            decision=payload.decision,
            evidence=payload.evidence,
            note=payload.note,
        )
    )


@router.get("/rates", response={200: RatesOut, 404: ErrorOut, **COMMON_ERRORS})
@endpoint_requires(Action.ATTENDANCE_VIEW)
def get_rates(request: HttpRequest, params: Query[RatesParams]) -> object:
    """A county's counts and rates on a date (default today), the same whenever asked."""
    user = caller(request)
    codes = [c.code for c in overview.counties_visible(user)]
    county = params.county or (codes[0] if codes else "")
    if county not in codes:
        raise NotFound("county_not_found", _("No such county."))
    r = county_rates(county, params.on or timezone.localdate())
    return {
        "county": r.county,
        "on": r.on,
        "enrolled": r.enrolled,
        "absent_long_term": r.absent_long_term,
        "open_cases": r.open_cases,
        "returned_in_month": r.returned_in_month,
        "dropped_out_in_year": r.dropped_out_in_year,
        "enrolment_rate": r.enrolment_rate,
        "dropout_rate": r.dropout_rate,
        "consolidation_rate": r.consolidation_rate,
        "consolidation_note": r.consolidation_note,
    }


# ---- the province's settings ---------------------------------------------------------------


class AttendanceSettingsIn(Schema):
    """Every setting; a missing or out-of-bounds one is a 400 naming the field."""

    unexcused_run_days: int | None = None
    unexcused_term_days: int | None = None
    returned_after_days: int | None = None
    hollow_after_days: int | None = None
    cluster_children: int | None = None
    cluster_days: int | None = None
    step_deadline_working_days: int | None = None
    graduate_grade: int | None = None


class AttendanceSettingsChangeOut(Schema):
    at: datetime.datetime
    actor_id: int | None
    changes: dict[str, list[int]]


class AttendanceSettingsOut(Schema):
    province: str
    saved: bool
    values: dict[str, int]
    defaults: dict[str, int]
    history: list[AttendanceSettingsChangeOut]


def _settings_out(province: Any) -> dict[str, Any]:
    from xueji.attendance.models import ProvinceSettings, ProvinceSettingsChange
    from xueji.attendance.rules import FIELDS, installation_defaults, settings_for

    current = settings_for(province.code)
    return {
        "province": province.code,
        "saved": ProvinceSettings.objects.filter(province=province).exists(),
        "values": {name: getattr(current, name) for name in FIELDS},
        "defaults": installation_defaults(),
        "history": [
            {"at": h.at, "actor_id": h.actor_id, "changes": h.changes}
            for h in ProvinceSettingsChange.objects.filter(province=province)[:50]
        ],
    }


@router.get(
    "/settings/{province_code}",
    response={200: AttendanceSettingsOut, 404: ErrorOut, **COMMON_ERRORS},
)
@endpoint_requires(Action.ATTENDANCE_SETTINGS)
def get_attendance_settings(request: HttpRequest, province_code: str) -> object:
    """A province's dropout-control settings (its own row, or the installation's defaults),
    the defaults and the last 50 saves (who, when, {field: [old, new]})."""
    from xueji.attendance.services.settings import province_of

    return _settings_out(province_of(caller(request), province_code))


@router.post(
    "/settings/{province_code}",
    response={200: AttendanceSettingsOut, 404: ErrorOut, **COMMON_ERRORS},
)
@endpoint_requires(Action.ATTENDANCE_SETTINGS)
def post_attendance_settings(
    request: HttpRequest, province_code: str, payload: AttendanceSettingsIn
) -> object:
    """Save every setting of the province (the province's bureau, or the ministry for any):
    400 naming the field when one is missing or out of its bounds; saving the same values
    again adds no history."""
    from xueji.attendance.services.settings import province_of, province_settings_save

    province = province_of(caller(request), province_code)
    province_settings_save(
        actor=caller(request),
        province_code=province.code,
        values={k: v for k, v in payload.dict().items() if v is not None},
    )
    return _settings_out(province)


# ---- school buses ----------------------------------------------------------------------------


class BusRiderOut(Schema):
    student_id: uuid.UUID
    name: str
    stop: str
    stop_order: int


class BusTapIn(Schema):
    route_id: int = Field(..., ge=1, le=2**63 - 1)
    day: IsoDate
    trip: str = Field(..., pattern=r"^(am|pm)$", description="am: to school; pm: home")
    student_id: uuid.UUID | None = None
    student_number: str = Field("", max_length=32)
    at: datetime.datetime | None = None


class BusTapsIn(Schema):
    taps: list[BusTapIn] = Field(default_factory=list, max_length=2000)


class BusTapsOut(Schema):
    taps: int
    added: int
    unchanged: int
    flags: int


class BusCheckIn(Schema):
    day: IsoDate
    trip: str = Field(..., pattern=r"^(am|pm)$")
    boarded: list[uuid.UUID] = Field(default_factory=list, max_length=200)


class BusCheckOut(Schema):
    route_id: int
    day: datetime.date
    trip: str
    boarded: int
    added: int
    removed: int
    flags: int


class BusFlagOut(Schema):
    student_id: uuid.UUID
    name: str
    school_id: int
    school_class_id: int
    route_id: int
    day: datetime.date
    kind: str


@router.get(
    "/buses/{bus_route_id}/riders",
    response={200: list[BusRiderOut], 404: ErrorOut, **COMMON_ERRORS},
)
@endpoint_requires(Action.BUS_BOARD)
def get_bus_riders(
    request: HttpRequest, bus_route_id: DatabaseId, params: Query[DayParams]
) -> object:
    """The children assigned to a route on a day (default today), by stop: what a card reader
    or the monitor's app checks against."""
    from xueji.attendance.services.bus import riders_on, route_for

    route = route_for(caller(request), bus_route_id, Action.BUS_BOARD)
    return [
        {
            "student_id": r.student_id,
            "name": r.student.name,
            "stop": r.stop.name,
            "stop_order": r.stop.order,
        }
        for r in riders_on(route, params.day or timezone.localdate())
    ]


@router.post(
    "/buses/{bus_route_id}/check",
    response={200: BusCheckOut, 404: ErrorOut, **COMMON_ERRORS},
)
@endpoint_requires(Action.BUS_BOARD)
def post_bus_check(request: HttpRequest, bus_route_id: DatabaseId, payload: BusCheckIn) -> object:
    """The monitor's complete check of a trip: `boarded` lists every child who boarded
    (everyone else assigned did not). The same check again changes nothing."""
    from xueji.attendance.services.bus import bus_check_save

    result = bus_check_save(
        actor=caller(request),
        route_id=bus_route_id,
        day=payload.day,
        trip=payload.trip,
        boarded=payload.boarded,
    )
    return result.__dict__


@router.post("/buses/taps", response={200: BusTapsOut, 404: ErrorOut, **COMMON_ERRORS})
@endpoint_requires(Action.BUS_BOARD)
def post_bus_taps(request: HttpRequest, payload: BusTapsIn) -> object:
    """A card reader's taps (a child by id or student number, a route, a day, a trip): all or
    nothing, 400 naming each wrong tap (`taps[n]`); a tap sent again changes nothing."""
    from xueji.attendance.services.bus import Tap, bus_taps_record

    return bus_taps_record(
        actor=caller(request),
        taps=[
            Tap(t.route_id, t.day, t.trip, t.student_id, t.student_number, t.at)
            for t in payload.taps
        ],
    )


@router.get("/buses/flags", response={200: list[BusFlagOut], **COMMON_ERRORS})
@endpoint_requires(Action.ATTENDANCE_VIEW)
def get_bus_flags(request: HttpRequest, params: Query[DayParams]) -> object:
    """The day's school-bus flags (boarded but not in class; in class but not boarded home) of
    the schools the user sees."""
    from xueji.access.scope import scope_of
    from xueji.attendance.models import BusFlag

    user = caller(request)
    scope = scope_of(user)
    day = params.day or timezone.localdate()
    flags = BusFlag.objects.filter(day=day).select_related("student")
    if scope is None:
        flags = flags.none()
    elif scope.level == "school":
        flags = flags.filter(school_id=scope.school_id or 0)
    elif scope.level != "nation":
        flags = flags.filter(**{f"school__{scope.level}_id": scope.division_code})
    return [
        {
            "student_id": f.student_id,
            "name": f.student.name,
            "school_id": f.school_id,
            "school_class_id": f.school_class_id,
            "route_id": f.route_id,
            "day": f.day,
            "kind": f.kind,
        }
        for f in flags[:1000]
    ]
