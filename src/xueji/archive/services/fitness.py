"""The fitness test's results: imported from the school's Excel sheet (python-calamine), checked
all or nothing, scored by the standard's tables; exported in the national upload's layout.

The sheet: a header row, then one row a child, columns named (any order):
学籍号, 姓名, 测试类型 (测试 or 补测; empty: 测试), 免测 (是/否), 免测原因, and the measurements
身高 (cm), 体重 (kg), 肺活量 (ml), 50米跑 (s), 坐位体前屈 (cm), 1分钟跳绳, 1分钟仰卧起坐,
50米×8往返跑 (s or m'ss"), 立定跳远 (cm), 引体向上/仰卧起坐, 耐力跑 (s or m'ss").
A child is one of the school's current pupils, found by the number and the name together.
A retest (补测) is allowed once a school year, for a child with a test of the year.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from xueji.access.policy import Action
from xueji.access.scope import require
from xueji.archive.fitness.scoring import score
from xueji.archive.models import FitnessKind, FitnessResult
from xueji.audit.services import audit_record
from xueji.core.errors import FieldErrors, translated
from xueji.schools.models import SchoolClass
from xueji.students.identity import number_indexes
from xueji.students.models import Placement, Student

MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024

COLUMNS: dict[str, str] = {
    "身高": "height",
    "体重": "weight",
    "肺活量": "vital_capacity",
    "50米跑": "run_50m",
    "坐位体前屈": "sit_and_reach",
    "1分钟跳绳": "rope_skipping",
    "1分钟仰卧起坐": "sit_ups",
    "50米×8往返跑": "shuttle_50x8",
    "立定跳远": "standing_long_jump",
    "引体向上/仰卧起坐": "pull_ups_or_sit_ups",
    "耐力跑": "endurance_run",
}
# Plausible ranges: a value outside is a typing error, refused with the row and the column.
RANGES: dict[str, tuple[Decimal, Decimal]] = {
    "height": (Decimal("50"), Decimal("250")),
    "weight": (Decimal("8"), Decimal("200")),
    "vital_capacity": (Decimal("100"), Decimal("9999")),
    "run_50m": (Decimal("4"), Decimal("30")),
    "sit_and_reach": (Decimal("-40"), Decimal("50")),
    "rope_skipping": (Decimal("0"), Decimal("400")),
    "sit_ups": (Decimal("0"), Decimal("150")),
    "shuttle_50x8": (Decimal("40"), Decimal("400")),
    "standing_long_jump": (Decimal("30"), Decimal("400")),
    "pull_ups_or_sit_ups": (Decimal("0"), Decimal("150")),
    "endurance_run": (Decimal("120"), Decimal("900")),
}
REQUIRED = ("学籍号", "姓名")
_MINUTES = re.compile(r"^(\d{1,2})['′:](\d{1,2}(?:\.\d+)?)[\"″]?$")


def _number(text: str) -> Decimal:
    text = text.strip()
    found = _MINUTES.match(text)
    if found:
        return Decimal(found.group(1)) * 60 + Decimal(found.group(2))
    value = Decimal(text)
    if not value.is_finite():
        raise InvalidOperation
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_sheet(content: bytes) -> list[list[str]]:
    """The first sheet's rows as text (calamine reads .xlsx, .xls and .ods)."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    rows = book.get_sheet_by_index(0).to_python(skip_empty_area=True)
    return [[_cell(value) for value in row] for row in rows]


@dataclass
class _Row:
    line: int
    student: Student
    placement: Placement
    kind: str
    exempt: bool
    reason: str
    measurements: dict[str, Decimal]


def _error(errors: dict[str, list[ValidationError]], line: int, column: str, message: Any) -> None:
    errors.setdefault(f"row {line}", []).append(
        ValidationError(
            translated(
                _("Row %(row)d, %(column)s: %(message)s"),
                {"row": line, "column": column, "message": message},
            ),
            code="invalid_row",
        )
    )


def fitness_import(
    *, actor: Any, content: bytes, start_year: int, rows: list[list[str]] | None = None
) -> list[FitnessResult]:
    """Import a school's results of a school year: every row checked, nothing written unless
    every row is right (the errors name the row and the column)."""
    scope = require(actor, Action.FITNESS_IMPORT)
    errors: dict[str, list[ValidationError]] = {}
    if rows is None:
        if len(content) > MAX_BYTES:
            raise FieldErrors(
                {"file": [ValidationError(_("The file is larger than 5 MB."), code="too_large")]}
            )
        try:
            rows = read_sheet(content)
        except Exception:  # calamine raises its own kinds for a file it cannot read
            raise FieldErrors(
                {"file": [ValidationError(_("This is not a spreadsheet."), code="unreadable")]}
            ) from None
    if not rows:
        raise FieldErrors({"file": [ValidationError(_("The sheet is empty."), code="empty")]})
    header = [cell.strip() for cell in rows[0]]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise FieldErrors(
            {
                "file": [
                    ValidationError(
                        translated(_("Columns missing: %(names)s."), {"names": "、".join(missing)}),
                        code="columns_missing",
                    )
                ]
            }
        )
    if len(rows) - 1 > MAX_ROWS:
        raise FieldErrors(
            {"file": [ValidationError(_("At most 5000 rows a file."), code="too_many_rows")]}
        )
    at = {name: index for index, name in enumerate(header)}
    on_roll = {
        p.student_id: p
        for p in Placement.objects.filter(
            school_id=scope.school_id or 0, end_date__isnull=True
        ).select_related("school_class", "student")
    }
    parsed: list[_Row] = []
    seen: set[tuple[Any, str]] = set()
    for line, row in enumerate(rows[1:], start=2):

        def get(name: str, row: list[str] = row) -> str:
            index = at.get(name)
            return row[index].strip() if index is not None and index < len(row) else ""

        number, name = get("学籍号"), get("姓名")
        student = (
            Student.objects.filter(number_index__in=number_indexes(number), name=name).first()
            if number and name
            else None
        )
        placement = on_roll.get(student.pk) if student is not None else None
        if student is None or placement is None:
            _error(errors, line, "学籍号", _("no pupil of the school with this number and name"))
            continue
        kind_text = get("测试类型") or "测试"
        kind = {"测试": FitnessKind.TEST, "补测": FitnessKind.RETEST}.get(kind_text)
        if kind is None:
            _error(errors, line, "测试类型", _("测试 or 补测"))
            continue
        if (student.pk, kind) in seen:
            _error(errors, line, "学籍号", _("the child appears twice"))
            continue
        seen.add((student.pk, kind))
        exempt = get("免测") in ("是", "Y", "y", "1")
        reason = get("免测原因")
        if exempt and not reason:
            _error(errors, line, "免测原因", _("an exemption gives its reason"))
        measurements: dict[str, Decimal] = {}
        for column, item in COLUMNS.items():
            text = get(column)
            if not text:
                continue
            try:
                value = _number(text)
            except (InvalidOperation, ValueError):
                _error(errors, line, column, _("not a number"))
                continue
            low, high = RANGES[item]
            if not low <= value <= high:
                _error(errors, line, column, _("outside the plausible range"))
                continue
            measurements[item] = value
        parsed.append(_Row(line, student, placement, kind, exempt, reason[:200], measurements))
    # One test and one retest a year; a retest follows a test.
    existing = set(
        FitnessResult.objects.filter(
            student_id__in=[entry.student.pk for entry in parsed], start_year=start_year
        ).values_list("student_id", "kind")
    )
    tested = {sid for sid, kind in existing if kind == FitnessKind.TEST} | {
        entry.student.pk for entry in parsed if entry.kind == FitnessKind.TEST
    }
    for entry in parsed:
        if (entry.student.pk, entry.kind) in existing:
            _error(errors, entry.line, "测试类型", _("already imported for this school year"))
        elif entry.kind == FitnessKind.RETEST and entry.student.pk not in tested:
            _error(errors, entry.line, "测试类型", _("a retest (补测) follows a test of the year"))
    if errors:
        raise FieldErrors(errors)
    results = []
    for entry in parsed:
        scored = score(entry.placement.grade, entry.student.sex, entry.measurements)
        results.append(
            FitnessResult(
                student=entry.student,
                school_id=entry.placement.school_id,
                start_year=start_year,
                grade=entry.placement.grade,
                sex=entry.student.sex,
                kind=entry.kind,
                exempt=entry.exempt,
                exempt_reason=entry.reason if entry.exempt else "",
                measurements={k: str(v) for k, v in entry.measurements.items()},
                item_scores={} if entry.exempt else scored.item_scores,
                standard_score=None if entry.exempt else scored.standard_score,
                bonus=0 if entry.exempt else scored.bonus,
                total=None if entry.exempt else scored.total,
                level="" if entry.exempt else scored.level,
                imported_by=actor,
            )
        )
    with transaction.atomic():
        FitnessResult.objects.bulk_create(results)
        audit_record(
            actor=actor,
            action="fitness.import",
            object_type="school",
            detail={"school_year": start_year, "rows": len(results)},
        )
    return results


# ---- the national upload's layout ---------------------------------------------------------

# The 21 columns of the national fitness system's import («体测成绩导入»)
# as a public tool transcribes them; not checked against the ministry's own template.
EXPORT_COLUMNS = [
    "年级编号", "班级编号", "班级名称", "学籍号", "民族代码", "姓名", "性别", "出生日期",
    "家庭住址", "身高", "体重", "肺活量", "50米跑", "坐位体前屈", "一分钟跳绳",
    "一分钟仰卧起坐", "50米×8往返跑", "立定跳远", "800米跑", "1000米跑", "引体向上",
]  # fmt: skip
# 年级编号: 11–16 primary, 21–23 junior, 31–33 senior secondary.
GRADE_CODES = (
    {g: 10 + g for g in range(1, 7)}
    | {g: 14 + g for g in range(7, 10)}
    | {g: 21 + g for g in range(10, 13)}
)


def _minutes(value: str) -> str:
    seconds = Decimal(value)
    return f"{int(seconds // 60)}'{int(seconds % 60):02d}\""


def fitness_export_rows(*, actor: Any, start_year: int) -> list[list[str]]:
    """The school's results of a school year in the national upload's layout (the test, or the
    retest where there is one)."""
    scope = require(actor, Action.FITNESS_IMPORT)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="fitness.export",
            object_type="school",
            detail={"school_year": start_year},
        )
    results = FitnessResult.objects.filter(school_id=scope.school_id or 0, start_year=start_year)
    chosen: dict[Any, FitnessResult] = {}
    for result in sorted(results, key=lambda r: r.kind == FitnessKind.RETEST):
        chosen[result.student_id] = result  # the retest, where there is one, replaces the test
    classes = {
        p.student_id: p.school_class
        for p in Placement.objects.filter(student_id__in=list(chosen))
        .select_related("school_class")
        .order_by("start_date")
    }
    students = Student.objects.in_bulk(list(chosen))
    rows = [EXPORT_COLUMNS]
    for student_id, result in chosen.items():
        student = students[student_id]
        school_class: SchoolClass | None = classes.get(student_id)
        m = result.measurements
        male = result.sex == "1"
        grade_code = GRADE_CODES.get(result.grade, "")
        rows.append(
            [
                str(grade_code),
                f"{grade_code}{school_class.number:02d}" if school_class else "",
                school_class.name if school_class else "",
                student.reveal_student_number(),
                student.ethnicity,
                student.name,
                student.sex,
                student.birth_date.isoformat(),
                "",
                m.get("height", ""),
                m.get("weight", ""),
                m.get("vital_capacity", ""),
                m.get("run_50m", ""),
                m.get("sit_and_reach", ""),
                m.get("rope_skipping", ""),
                m.get("sit_ups", "") or ("" if male else m.get("pull_ups_or_sit_ups", "")),
                m.get("shuttle_50x8", ""),
                m.get("standing_long_jump", ""),
                _minutes(m["endurance_run"]) if "endurance_run" in m and not male else "",
                _minutes(m["endurance_run"]) if "endurance_run" in m and male else "",
                m.get("pull_ups_or_sit_ups", "") if male else "",
            ]
        )
    return rows


_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def _safe(cell: str) -> str:
    """A cell a spreadsheet will not take for a formula (numbers stay numbers)."""
    if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.match(cell):
        return "'" + cell
    return cell


def as_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([_safe(str(cell)) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
