"""A guard over every test: only the students app writes where a child is.

Every statement the database is sent in a test passes through `RecordWriteGuard` (Django's
`execute_wrapper`, on every connection, threads included). A write to placements or record events,
or an UPDATE that sets a student's state, is refused unless the innermost frame of production code
that sent it lies in `xueji/students/`. Test code (tests/, conftest, xueji/testing) builds its
worlds as it likes and is passed over; a statement with no production frame at all (a test
fixture writing directly, Django's own flush) is let through.

COPY is the driver's own call, which Django's wrapper does not see; `xueji.students.bulk` is the
only module that issues one into the record's tables.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

XUEJI = Path(__file__).resolve().parent.parent
STUDENTS = XUEJI / "students"
_TEST_PARTS = ("tests", "testing")

_ROW_WRITE = re.compile(
    r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(students_placement|students_recordevent)"?',
    re.IGNORECASE,
)
_STUDENT_UPDATE = re.compile(
    r'^\s*UPDATE\s+"?students_student"?\s+SET\s+(.*?)(?:\s+WHERE\s|$)', re.IGNORECASE | re.DOTALL
)
_STATE_SET = re.compile(r'(?:^|[\s,])"?state"?\s*=', re.IGNORECASE)


class RecordWrittenOutsideStudents(AssertionError):
    """Production code outside xueji.students wrote a placement, an event or a record's state."""


def record_write(sql: str) -> str | None:
    """What the statement writes of the record ("students_placement", "students_recordevent",
    "students_student.state"), or None."""
    found = _ROW_WRITE.match(sql)
    if found:
        return found.group(1).lower()
    update = _STUDENT_UPDATE.match(sql)
    if update and _STATE_SET.search(update.group(1)):
        return "students_student.state"
    return None


def _production_file(filename: str) -> Path | None:
    try:
        path = Path(filename).resolve()
        relative = path.relative_to(XUEJI)
    except (ValueError, OSError):
        return None
    if any(part in _TEST_PARTS for part in relative.parts) or path.name == "conftest.py":
        return None
    return path


def innermost_production_frame() -> Path | None:
    frame = sys._getframe(1)
    while frame is not None:
        path = _production_file(frame.f_code.co_filename)
        if path is not None:
            return path
        frame = frame.f_back  # type: ignore[assignment]
    return None


class RecordWriteGuard:
    """The execute wrapper; `refused` keeps what it refused for the test's report."""

    def __init__(self) -> None:
        self.refused: list[str] = []

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        written = record_write(sql) if isinstance(sql, str) else None
        if written is not None:
            origin = innermost_production_frame()
            if origin is not None and not origin.is_relative_to(STUDENTS):
                where = origin.relative_to(XUEJI)
                self.refused.append(f"{written} from {where}")
                raise RecordWrittenOutsideStudents(
                    f"{written} written by xueji/{where}: only xueji.students writes the record "
                    "(see xueji.students.record and xueji.students.bulk)"
                )
        return execute(sql, params, many, context)
