"""What a certificate of registration (学籍证明) states, computed from the record.

`certificate_facts` is used twice: when the certificate is issued (the facts signed) and when it
is verified (the facts recomputed for the same day: a certificate whose facts the record no
longer bears out — a key-data correction, a placement undone, a period found hollow — is shown
as no longer valid even if nobody revoked it). The current status is the one of the day of
issue and is not compared: a child who changes school after the certificate keeps it valid.
"""

from __future__ import annotations

import datetime
import importlib
from collections.abc import Callable
from typing import Any

from django.utils import translation

from xueji.geo.models import Division
from xueji.schools.models import School
from xueji.students.models import EventKind, Placement, RecordEvent, RecordState, Student

FACTS_VERSION = 1
DAY = datetime.timedelta(days=1)
# The facts a verification recomputes and compares (the rest belong to the act of issuing).
COMPARED = ("name", "id_number_masked", "student_number", "schools", "province_years")
PROVINCE_YEARS_RULE = "不含休学期间及空挂学籍期间"

Interval = tuple[datetime.date, datetime.date]  # [start, end)


def _zh(label: Any) -> str:
    with translation.override("zh-hans"):
        return str(label)


def schools_attended(student_id: Any, as_of: datetime.date) -> list[dict[str, Any]]:
    """The schools the child was placed at up to `as_of`, one entry per continuous stay (class
    changes and promotions inside a school are one stay): school, code, first and last day
    (null while the child is there)."""
    placements = (
        Placement.objects.filter(student_id=student_id, start_date__lte=as_of)
        .select_related("school")
        .order_by("start_date", "end_date")
    )
    stays: list[dict[str, Any]] = []
    last_end: datetime.date | None = None
    for placement in placements:
        end = placement.end_date if placement.end_date and placement.end_date <= as_of else None
        if (
            stays
            and stays[-1]["school_code"] == placement.school.code
            and last_end is not None
            and last_end >= placement.start_date
        ):
            stays[-1]["to"] = None if end is None else (end - DAY).isoformat()
        else:
            stays.append(
                {
                    "school": placement.school.name,
                    "school_code": placement.school.code,
                    "from": placement.start_date.isoformat(),
                    "to": None if end is None else (end - DAY).isoformat(),
                }
            )
        last_end = end
    return stays


def _suspensions(student_id: Any, as_of: datetime.date) -> list[Interval]:
    """The periods the record was suspended (休学 to 复学), from its events."""
    events = RecordEvent.objects.filter(
        student_id=student_id,
        kind__in=[EventKind.SUSPENDED, EventKind.RESUMED],
        occurred_on__lte=as_of,
    ).order_by("occurred_on", "recorded_at")
    found: list[Interval] = []
    start: datetime.date | None = None
    for event in events:
        if event.kind == EventKind.SUSPENDED and start is None:
            start = event.occurred_on
        elif event.kind == EventKind.RESUMED and start is not None:
            found.append((start, event.occurred_on))
            start = None
    if start is not None:
        found.append((start, as_of + DAY))
    return found


def _hollow_source() -> Callable[..., list[tuple[datetime.date, datetime.date | None]]] | None:
    """The attendance capability's hollow periods (空挂), when that app provides them."""
    try:
        module = importlib.import_module("xueji.attendance.selectors")
    except ImportError:
        return None
    found = getattr(module, "hollow_periods", None)
    return found if callable(found) else None


def _hollows(student_id: Any, as_of: datetime.date) -> list[Interval]:
    source = _hollow_source()
    if source is None:
        return []
    return [(start, end or as_of + DAY) for start, end in source(student_id=student_id)]


def _merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _overlap(span: Interval, others: list[Interval]) -> int:
    total = 0
    for start, end in _merge(others):
        low, high = max(span[0], start), min(span[1], end)
        if high > low:
            total += (high - low).days
    return total


def province_years(student_id: Any, province_code: str, as_of: datetime.date) -> dict[str, Any]:
    """The continuous enrolment in a province up to `as_of`: the last unbroken span of
    placements at schools of the province, less the days suspended and the days flagged as a
    hollow record. Whole years are counted on the days left (365 days a year)."""
    spans = _merge(
        [
            (p.start_date, min(p.end_date or as_of + DAY, as_of + DAY))
            for p in Placement.objects.filter(
                student_id=student_id,
                start_date__lte=as_of,
                school__province_id=province_code,
            ).order_by("start_date")
        ]
    )
    province = Division.objects.filter(code=province_code).values_list("name", flat=True).first()
    if not spans:
        return {
            "province": province or province_code,
            "since": None,
            "days": 0,
            "excluded_days": 0,
            "years": 0,
            "rule": PROVINCE_YEARS_RULE,
        }
    last = spans[-1]
    excluded = _overlap(last, _suspensions(student_id, as_of) + _hollows(student_id, as_of))
    days = (last[1] - last[0]).days - excluded
    return {
        "province": province or province_code,
        "since": last[0].isoformat(),
        "days": days,
        "excluded_days": excluded,
        "years": days // 365,
        "rule": PROVINCE_YEARS_RULE,
    }


def status_on(student: Student) -> str:
    return _zh(RecordState(student.state).label)


def certificate_facts(
    *,
    student: Student,
    school: School,
    issued_on: datetime.date,
    certificate_id: str,
    key_id: str,
    with_province_years: bool,
) -> dict[str, Any]:
    """The facts a certificate states (what is signed)."""
    facts: dict[str, Any] = {
        "v": FACTS_VERSION,
        "type": "学籍证明",
        "certificate_id": certificate_id,
        "key_id": key_id,
        "name": student.name,
        "id_number_masked": student.id_number_masked,
        "student_number": student.reveal_student_number(),
        "schools": schools_attended(student.pk, issued_on),
        "status": status_on(student),
        "issued_on": issued_on.isoformat(),
        "issuer": {
            "school": school.name,
            "school_code": school.code,
            "county": school.county.name,
            "county_code": school.county_id,
        },
    }
    if with_province_years:
        facts["province_years"] = province_years(student.pk, school.province_id, issued_on)
    return facts


def facts_still_hold(stored: dict[str, Any], student: Student) -> bool:
    """Does the record, as it is now, still bear out what the certificate states?"""
    issued_on = datetime.date.fromisoformat(stored["issued_on"])
    school = (
        School.objects.select_related("county").filter(code=stored["issuer"]["school_code"]).first()
    )
    if school is None:
        return False
    now = certificate_facts(
        student=student,
        school=school,
        issued_on=issued_on,
        certificate_id=stored["certificate_id"],
        key_id=stored["key_id"],
        with_province_years="province_years" in stored,
    )
    return all(now.get(name) == stored.get(name) for name in COMPARED)
