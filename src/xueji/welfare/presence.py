"""Who was in school: asked of the attendance capability through its selectors only
(xueji.attendance.selectors: is_school_day, roll_taken, absent_student_ids, hollow_student_ids,
hollow_periods). Imported when called, so that this app loads whatever attendance has built."""

from __future__ import annotations

import datetime
import uuid
from typing import Any


def _selectors() -> Any:
    from xueji.attendance import selectors

    return selectors


def is_school_day(*, school_id: int, day: datetime.date) -> bool:
    return bool(_selectors().is_school_day(school_id=school_id, day=day))


def roll_taken(*, school_class_id: int, day: datetime.date) -> bool:
    return bool(_selectors().roll_taken(school_class_id=school_class_id, day=day))


def absent_student_ids(*, school_class_id: int, day: datetime.date) -> set[uuid.UUID]:
    return set(_selectors().absent_student_ids(school_class_id=school_class_id, day=day))


def full_day_absences_between(
    *, start: datetime.date, end: datetime.date, school_ids: Any
) -> set[tuple[uuid.UUID, datetime.date]]:
    return set(_selectors().full_day_absences_between(start=start, end=end, school_ids=school_ids))


def hollow_student_ids(*, on: datetime.date) -> set[uuid.UUID]:
    return set(_selectors().hollow_student_ids(on=on))


def hollow_periods(*, student_id: uuid.UUID) -> list[tuple[datetime.date, datetime.date | None]]:
    return list(_selectors().hollow_periods(student_id=student_id))
