"""Writes of attendance: the roll (roll.py), symptom alerts (alerts.py), dropout-control cases
(cases.py), the calendar's closure days (calendar.py) and the daily scan (scan.py)."""

from xueji.attendance.services.cases import (
    case_assign,
    case_close,
    case_confirm_dropout,
    case_open_for_unrecorded_child,
    case_step_log,
    cases_escalate_overdue,
    cases_open_for_students,
)
from xueji.attendance.services.roll import AbsenceIn, roll_import_csv, roll_take

__all__ = [
    "AbsenceIn",
    "case_assign",
    "case_close",
    "case_confirm_dropout",
    "case_open_for_unrecorded_child",
    "case_step_log",
    "cases_escalate_overdue",
    "cases_open_for_students",
    "roll_import_csv",
    "roll_take",
]
